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

  /**
   * Throw on bad options. Called per group at construction, by loadStateDict before anything
   * changes, and by step() before any update, since options may be set through `groups[i]`.
   */
  protected validate(g: ParamGroup<O>, gi: number): void {
    if (!(Number.isFinite(g.lr) && g.lr >= 0)) throw new Error(`${this.name}: group ${gi}: lr must be a non-negative number, got ${g.lr}`);
  }

  /** The names of the state tensors update() keeps (loadStateDict refuses others); null: any. */
  protected get stateNames(): readonly string[] | null {
    return null;
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

  /**
   * Apply one update to every parameter that has a gradient. Options and gradients (shape, dtype,
   * device) are all checked first: on an error no parameter or state has changed.
   */
  step(): void {
    const work = this.#check('step', true);
    for (const [group, p, g] of work) {
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

  /**
   * Check every group's options and parameters (which `groups[i]` lets users change) and, with
   * `grads`, every gradient; return the (group, parameter, gradient) triples step() updates.
   */
  #check(op: string, grads: boolean): [ParamGroup<O>, Tensor, Tensor][] {
    const work: [ParamGroup<O>, Tensor, Tensor][] = [];
    const seen = new Set<Tensor>();
    const fail = (where: string, why: string): never => {
      throw new Error(`${this.name}.${op}: ${where}${why}; nothing was changed`);
    };
    this.groups.forEach((group, gi) => {
      const at = this.groups.length > 1 ? `group ${gi}, ` : '';
      if (!Array.isArray(group?.params)) fail(`group ${gi}: `, 'params is not a list of tensors');
      if (grads) this.validate(group, gi);
      group.params.forEach((p, i) => {
        if (!(p instanceof Tensor)) fail(`${at}parameter ${i}: `, 'not a Tensor');
        const where = `${at}parameter ${i} (shape ${fmtShape(p.shape)}): `;
        if (seen.has(p)) fail(where, 'appears twice');
        seen.add(p);
        const g = p.grad;
        if (!grads || g === null || g === undefined) return;
        if (p.isDisposed) fail(where, 'was disposed');
        if (!p.isLeaf && p.requiresGrad) fail(where, 'is an op result, not a leaf');
        if (!(g instanceof Tensor)) fail(where, `its grad is ${typeof g}, not a Tensor`);
        if (g.isDisposed) fail(where, 'its gradient was disposed');
        if (!sameShape(g.shape, p.shape)) fail(where, `its gradient has shape ${fmtShape(g.shape)}`);
        if (g.dtype !== p.dtype || g.device !== p.device) {
          fail(where, `its gradient is ${g.dtype} on ${g.device}, the parameter ${p.dtype} on ${p.device}`);
        }
        work.push([group, p, g]);
      });
    });
    return work;
  }

  /** Drop every parameter's gradient. */
  zeroGrad(): void {
    this.#check('zeroGrad', false);
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
   * same shapes, in the same groups). Everything is checked, and every state tensor copied
   * (converted to its parameter's dtype and device), before anything changes: on an error the
   * optimizer is as it was and no copy is left alive.
   */
  loadStateDict(dict: OptimizerState): void {
    const fail = (why: string): never => {
      throw new Error(`${this.name}.loadStateDict: ${why}; nothing was loaded`);
    };
    const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object';
    const params = this.params;
    if (!isObject(dict) || !Array.isArray(dict.groups) || !isObject(dict.state)) {
      throw new TypeError(`${this.name}.loadStateDict: expected { groups, state } as stateDict() returns, got ${dict === null ? 'null' : typeof dict}`);
    }
    if (dict.groups.length !== this.groups.length) fail(`${dict.groups.length} groups given, this optimizer has ${this.groups.length}`);
    // the options each group will have, checked by the same rules as at construction
    const options = dict.groups.map((g, gi) => {
      const n = this.groups[gi]!.params.length;
      if (!isObject(g) || !isObject(g.options)) fail(`group ${gi} is not { options, params }`);
      if (!Array.isArray(g.params) || g.params.length !== n) fail(`group ${gi} has ${g.params?.length} parameters, expected ${n}`);
      let loaded: Record<string, unknown>;
      try {
        loaded = structuredClone(g.options);
      } catch (e) {
        return fail(`group ${gi}: options cannot be copied (${(e as Error).message})`);
      }
      const merged = { ...this.groups[gi]!, ...loaded, params: this.groups[gi]!.params } as ParamGroup<O>;
      try {
        this.validate(merged, gi);
      } catch (e) {
        fail((e as Error).message);
      }
      return loaded;
    });
    const names = this.stateNames;
    const incoming = new Map<Tensor, ParamState>();
    for (const [key, s] of Object.entries(dict.state)) {
      const i = Number(key);
      const p = String(i) === key ? params[i] : undefined;
      if (!p) fail(`state for parameter '${key}', but there are ${params.length} (indices 0 to ${params.length - 1})`);
      if (!isObject(s) || !isObject(s.tensors)) fail(`parameter ${key}: state is not { step, tensors }`);
      if (!Number.isSafeInteger(s.step) || s.step < 0) fail(`parameter ${i}: step ${s.step} is not a count`);
      for (const [k, t] of Object.entries(s.tensors)) {
        if (names && !names.includes(k)) fail(`parameter ${i}: unknown state '${k}' (${this.name} keeps ${names.join(', ') || 'none'})`);
        if (!isTensor(t) || t.isDisposed) fail(`parameter ${i}: state '${k}' is not a live tensor`);
        if (!sameShape(t.shape, p!.shape)) fail(`parameter ${i}: state '${k}' has shape ${fmtShape(t.shape)}, expected ${fmtShape(p!.shape)}`);
      }
      incoming.set(p!, s);
    }
    // all checked: copy (converted to each parameter's dtype and device), then swap in. A copy
    // can still fail (reading a WebGPU tensor synchronously, say): free the copies made so far.
    const next = new Map<Tensor, ParamState>();
    const copies: Tensor[] = [];
    try {
      for (const [p, s] of incoming) {
        const tensors: Record<string, Tensor> = {};
        for (const [k, t] of Object.entries(s.tensors)) {
          try {
            const v = noGrad(() => (t.device === p.device ? t : t.to(p.device)));
            try {
              tensors[k] = keep(noGrad(() => (v.dtype === p.dtype ? v.detach() : v.cast(p.dtype))));
            } finally {
              if (v !== t) v.dispose();
            }
          } catch (e) {
            fail(`parameter ${params.indexOf(p)}: state '${k}' cannot be converted to ${p.dtype} on ${p.device} (${(e as Error).message})`);
          }
          copies.push(tensors[k]!);
        }
        next.set(p, { step: s.step, tensors });
      }
    } catch (e) {
      for (const t of copies) t.dispose();
      throw e;
    }
    for (const s of this.#state.values()) for (const t of Object.values(s.tensors)) t.dispose();
    this.#state.clear();
    for (const [p, s] of next) this.#state.set(p, s);
    options.forEach((o, gi) => Object.assign(this.groups[gi]!, o, { params: this.groups[gi]!.params }));
  }

  /** Free the optimizer's state tensors. */
  dispose(): void {
    for (const s of this.#state.values()) for (const t of Object.values(s.tensors)) t.dispose();
    this.#state.clear();
  }
}
