// The optimizer base: parameter groups with their own options (learning rate first), per-parameter
// state, and the update loop. Each update runs under noGrad inside tidy and replaces the parameter's
// values with assign(); state tensors are replaced the same way and kept out of tidy scopes, so the
// live-tensor count stays flat however many steps run.
import { keep, noGrad, tidy } from '../graph/engine';
import { isTensor, Tensor } from '../graph/tensor';
import { fmtShape, sameShape } from '../ops/registry';

/** Options every optimizer has. */
export interface BaseOptions {
  lr: number;
}

/** A parameter group as given to a constructor: its tensors, and options that override the defaults. */
export type GroupSpec<O> = { params: Iterable<Tensor> } & Partial<O>;

/** Parameters as given to a constructor: a list of tensors, or groups with their own options. */
export type ParamsArg<O> = Iterable<Tensor> | readonly GroupSpec<O>[];

/** A parameter group: its tensors and its (resolved, changeable) options. */
export type ParamGroup<O> = { params: Tensor[] } & O;

/** Per-parameter state: a step count and named tensors. */
export interface ParamState {
  step: number;
  tensors: Record<string, Tensor>;
}

/** An optimizer's state as plain data: group options, and per-parameter state by flat index. */
export interface OptimizerState {
  groups: { options: Record<string, unknown>; params: number[] }[];
  state: Record<number, { step: number; tensors: Record<string, Tensor> }>;
}

function isGroupList<O>(p: ParamsArg<O>): p is readonly GroupSpec<O>[] {
  return Array.isArray(p) && p.length > 0 && !isTensor(p[0]) && typeof p[0] === 'object' && 'params' in (p[0] as object);
}

/**
 * Base class of SGD, Momentum and Adam.
 *
 * @example
 * const opt = new SGD(net.parameters(), { lr: 0.1 });
 * net.forward(x).sub(y).square().mean().backward();
 * opt.step();
 * opt.zeroGrad();
 */
export abstract class Optimizer<O extends BaseOptions = BaseOptions> {
  /** The parameter groups; change `groups[i].lr` (or other options) between steps as needed. */
  readonly groups: ParamGroup<O>[];
  readonly #state = new Map<Tensor, ParamState>();

  protected constructor(
    readonly name: string,
    params: ParamsArg<O>,
    defaults: O,
  ) {
    const specs: GroupSpec<O>[] = isGroupList(params) ? [...params] : [{ params } as GroupSpec<O>];
    const seen = new Set<Tensor>();
    this.groups = specs.map((spec, gi) => {
      const { params: ps, ...over } = spec;
      if (ps === undefined || ps === null || typeof (ps as Iterable<Tensor>)[Symbol.iterator] !== 'function') {
        throw new Error(`${name}: group ${gi}: params must be a list of tensors`);
      }
      const list = [...ps];
      list.forEach((p, i) => {
        const where = `${specs.length > 1 ? `group ${gi}, ` : ''}parameter ${i}`;
        if (!isTensor(p)) throw new Error(`${name}: ${where} is not a Tensor`);
        if (!p.isLeaf) throw new Error(`${name}: ${where} (shape ${fmtShape(p.shape)}) is an op result, not a leaf; optimize leaves only`);
        if (!p.requiresGrad) throw new Error(`${name}: ${where} (shape ${fmtShape(p.shape)}) does not require grad`);
        if (seen.has(p)) throw new Error(`${name}: ${where} (shape ${fmtShape(p.shape)}) appears twice`);
        seen.add(p);
      });
      const g = { ...defaults, ...over, params: list } as ParamGroup<O>;
      this.validate(g, gi);
      return g;
    });
    if (seen.size === 0) throw new Error(`${name}: no parameters to optimize (got an empty list)`);
  }

  /** Throw on bad options (called per group at construction). */
  protected validate(g: ParamGroup<O>, gi: number): void {
    if (!(Number.isFinite(g.lr) && g.lr >= 0)) throw new Error(`${this.name}: group ${gi}: lr must be a non-negative number, got ${g.lr}`);
  }

  /** The learning rate of the first group. Setting it sets every group's lr. */
  get lr(): number {
    return this.groups[0]!.lr;
  }
  set lr(v: number) {
    if (!(Number.isFinite(v) && v >= 0)) throw new Error(`${this.name}: lr must be a non-negative number, got ${v}`);
    for (const g of this.groups) g.lr = v;
  }

  /** Every parameter, in group order. */
  get params(): Tensor[] {
    return this.groups.flatMap((g) => g.params);
  }

  /**
   * The new value of `p` given its gradient `g`, the group's options and the parameter's state
   * (whose tensors the method may replace; the base class keeps and frees them).
   */
  protected abstract update(p: Tensor, g: Tensor, opts: ParamGroup<O>, state: ParamState): Tensor;

  /** Apply one update to every parameter that has a gradient. */
  step(): void {
    for (const group of this.groups) {
      for (const p of group.params) {
        const g = p.grad;
        if (!g) continue;
        const prev = this.#state.get(p) ?? { step: 0, tensors: {} };
        // work on a copy: if the update throws, the old state stays intact
        const next: ParamState = { step: prev.step + 1, tensors: { ...prev.tensors } };
        tidy(() =>
          noGrad(() => {
            p.assign(this.update(p, g, group, next));
            for (const t of Object.values(next.tensors)) keep(t);
          }),
        );
        for (const [k, t] of Object.entries(prev.tensors)) if (next.tensors[k] !== t) t.dispose();
        this.#state.set(p, next);
      }
    }
  }

  /** Drop every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.params) p.zeroGrad();
  }

  /** Options and per-parameter state (snapshot tensors: dispose them when done). */
  stateDict(): OptimizerState {
    const params = this.params;
    const state: OptimizerState['state'] = {};
    params.forEach((p, i) => {
      const s = this.#state.get(p);
      if (!s) return;
      const tensors: Record<string, Tensor> = {};
      for (const [k, t] of Object.entries(s.tensors)) tensors[k] = t.detach();
      state[i] = { step: s.step, tensors };
    });
    let at = 0;
    const groups = this.groups.map(({ params: ps, ...options }) => ({
      options: structuredClone(options) as Record<string, unknown>,
      params: ps.map(() => at++),
    }));
    return { groups, state };
  }

  /**
   * Restore options and state from `stateDict()`'s output (of an optimizer over parameters of the
   * same shapes, in the same groups). Everything is checked before anything changes.
   */
  loadStateDict(dict: OptimizerState): void {
    const fail = (why: string): never => {
      throw new Error(`${this.name}.loadStateDict: ${why}; nothing was loaded`);
    };
    const params = this.params;
    if (!dict || !Array.isArray(dict.groups) || typeof dict.state !== 'object') fail('expected { groups, state }');
    if (dict.groups.length !== this.groups.length) fail(`${dict.groups.length} groups given, this optimizer has ${this.groups.length}`);
    dict.groups.forEach((g, gi) => {
      const n = this.groups[gi]!.params.length;
      if (!Array.isArray(g.params) || g.params.length !== n) fail(`group ${gi} has ${g.params?.length} parameters, expected ${n}`);
    });
    const incoming = new Map<Tensor, ParamState>();
    for (const [key, s] of Object.entries(dict.state)) {
      const i = Number(key);
      const p = params[i];
      if (!p) fail(`state for parameter ${key}, but there are ${params.length}`);
      if (!Number.isInteger(s.step) || s.step < 0) fail(`parameter ${i}: step ${s.step} is not a count`);
      for (const [k, t] of Object.entries(s.tensors)) {
        if (!isTensor(t) || t.isDisposed) fail(`parameter ${i}: state '${k}' is not a live tensor`);
        if (!sameShape(t.shape, p!.shape)) fail(`parameter ${i}: state '${k}' has shape ${fmtShape(t.shape)}, expected ${fmtShape(p!.shape)}`);
      }
      incoming.set(p!, s);
    }
    // all checked: copy (converted to each parameter's dtype and device) and swap in
    const next = new Map<Tensor, ParamState>();
    for (const [p, s] of incoming) {
      const tensors: Record<string, Tensor> = {};
      for (const [k, t] of Object.entries(s.tensors)) {
        const v = noGrad(() => (t.device === p.device ? t : t.to(p.device)));
        tensors[k] = keep(noGrad(() => (v.dtype === p.dtype ? v.detach() : v.cast(p.dtype))));
        if (v !== t) v.dispose();
      }
      next.set(p, { step: s.step, tensors });
    }
    for (const s of this.#state.values()) for (const t of Object.values(s.tensors)) t.dispose();
    this.#state.clear();
    for (const [p, s] of next) this.#state.set(p, s);
    dict.groups.forEach((g, gi) => Object.assign(this.groups[gi]!, structuredClone(g.options), { params: this.groups[gi]!.params }));
  }

  /** Free the optimizer's state tensors. */
  dispose(): void {
    for (const s of this.#state.values()) for (const t of Object.values(s.tensors)) t.dispose();
    this.#state.clear();
  }
}
