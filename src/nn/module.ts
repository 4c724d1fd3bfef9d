// Module: the container contract of the nn layer. Parameters and children are registered by
// name, so dotted names (`0.weight`), recursion (train/eval, zeroGrad) and state dicts all come
// from one walk over that tree.
import { convertLike, fmtShapeOf, noGrad, sameShapeOf, Tensor } from './util';
import { readSafetensors, writeSafetensors } from './safetensors';

/** A dimension in a symbolic shape: a size, or a name such as '*' for the batch. */
export type Dim = number | string;

/** A map from dotted parameter names to tensors, as returned by `Module.stateDict()`. */
export type StateDict = Record<string, Tensor>;

/**
 * How parameters are laid out in a state dict or file: tapegrad's own, or PyTorch's, where a
 * Linear's weight is (out, in) (it is (in, out) here). The names are the same in both: a
 * Sequential's `0.weight` is PyTorch's nn.Sequential `0.weight`.
 */
export type Layout = 'tapegrad' | 'torch';

/**
 * The base class of layers and nets: owns named parameters (tensors that require grad) and named
 * child modules. Subclasses register them with `registerParameter` / `registerModule` and define
 * `forward`.
 */
export abstract class Module {
  /** Training mode (true) or evaluation mode (false); set recursively by train() / eval(). */
  training = true;
  readonly #params = new Map<string, Tensor | null>();
  readonly #buffers = new Map<string, Tensor | null>();
  readonly #children = new Map<string, Module>();

  /** The layer's computation. */
  abstract forward(x: Tensor): Tensor;

  /** A short description of this layer alone (its children are listed by `toString`). */
  describe(): string {
    return this.constructor.name;
  }

  /**
   * The output shape for an input of shape `input` (symbolic dims allowed), without computing;
   * throws if the input does not fit. Default: unchanged (elementwise layers).
   */
  outputShape(input: readonly Dim[]): Dim[] {
    return [...input];
  }

  /**
   * This layer's parameters that PyTorch stores transposed (2-D, axes swapped): Linear's `weight`.
   * Layers whose layout differs from PyTorch's override it; the default is none.
   */
  protected torchTransposed(): readonly string[] {
    return [];
  }

  /** Dotted names of the parameters that the torch layout transposes. */
  #transposedNames(): Set<string> {
    const out = new Set<string>();
    for (const [path, m] of this.namedModules()) for (const k of m.torchTransposed()) out.add(path ? `${path}.${k}` : k);
    return out;
  }

  /** Register (or replace) a parameter; null keeps the slot (e.g. a disabled bias). */
  protected registerParameter(name: string, t: Tensor | null): Tensor | null {
    if (name.includes('.') || name === '') throw new Error(`${this.describe()}: invalid parameter name '${name}'`);
    if (t && !t.requiresGrad) t.requireGrad();
    this.#params.set(name, t);
    return t;
  }

  /**
   * Register (or replace) a buffer: state that is saved and loaded with the parameters but is not
   * trained (BatchNorm's `running_mean`, `running_var`, `num_batches_tracked`, as PyTorch names
   * them); null keeps the slot (e.g. running statistics turned off). A buffer never requires grad;
   * a layer changes it in place with `assign`, so the registered tensor stays the same object.
   */
  protected registerBuffer(name: string, t: Tensor | null): Tensor | null {
    if (name.includes('.') || name === '') throw new Error(`${this.describe()}: invalid buffer name '${name}'`);
    if (t && t.requiresGrad) throw new Error(`${this.describe()}: buffer '${name}' must not require grad`);
    if (this.#params.has(name)) throw new Error(`${this.describe()}: '${name}' is already a parameter`);
    this.#buffers.set(name, t);
    return t;
  }

  /** Register (or replace) a child module under `name`. */
  protected registerModule<M extends Module>(name: string, m: M): M {
    if (name.includes('.') || name === '') throw new Error(`${this.describe()}: invalid module name '${name}'`);
    if (!(m instanceof Module)) throw new Error(`${this.describe()}: child '${name}' is not a Module`);
    this.#children.set(name, m);
    return m;
  }

  /** @internal rebuild the child list (Sequential insert/remove) */
  protected resetModules(entries: [string, Module][]): void {
    this.#children.clear();
    for (const [k, m] of entries) this.registerModule(k, m);
  }

  /** Direct children, with their names. */
  namedChildren(): [string, Module][] {
    return [...this.#children];
  }

  /** This module and every descendant, with dotted names ('' for this one), depth first. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [k, m] of this.#children) out.push(...m.namedModules(prefix ? `${prefix}.${k}` : k));
    return out;
  }

  /** Every parameter with its dotted name (`0.weight`), each tensor once even if shared. */
  namedParameters(prefix = ''): [string, Tensor][] {
    const seen = new Set<Tensor>();
    const out: [string, Tensor][] = [];
    for (const [path, m] of this.namedModules(prefix)) {
      for (const [k, t] of m.#params) {
        if (!t || seen.has(t)) continue;
        seen.add(t);
        out.push([path ? `${path}.${k}` : k, t]);
      }
    }
    return out;
  }

  /** Every buffer with its dotted name (`1.running_mean`), each tensor once even if shared. */
  namedBuffers(prefix = ''): [string, Tensor][] {
    const seen = new Set<Tensor>();
    const out: [string, Tensor][] = [];
    for (const [path, m] of this.namedModules(prefix)) {
      for (const [k, t] of m.#buffers) {
        if (!t || seen.has(t)) continue;
        seen.add(t);
        out.push([path ? `${path}.${k}` : k, t]);
      }
    }
    return out;
  }

  /** Every buffer, each once. */
  buffers(): Tensor[] {
    return this.namedBuffers().map(([, t]) => t);
  }

  /**
   * What a state dict holds, in PyTorch's order: per module (depth first) its parameters, then its
   * buffers; each tensor once.
   */
  #stateEntries(): [string, Tensor][] {
    const seen = new Set<Tensor>();
    const out: [string, Tensor][] = [];
    for (const [path, m] of this.namedModules()) {
      for (const [k, t] of [...m.#params, ...m.#buffers]) {
        if (!t || seen.has(t)) continue;
        seen.add(t);
        out.push([path ? `${path}.${k}` : k, t]);
      }
    }
    return out;
  }

  /** Every parameter, each once. */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Total number of parameter elements. */
  numParameters(): number {
    return this.parameters().reduce((n, t) => n + t.size, 0);
  }

  /** Drop every parameter's accumulated gradient. */
  zeroGrad(): void {
    for (const t of this.parameters()) t.zeroGrad();
  }

  /** Set training mode on this module and every descendant. */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  /** Set evaluation mode on this module and every descendant. */
  eval(): this {
    return this.train(false);
  }

  /**
   * A snapshot of the parameters and buffers by dotted name. The tensors are detached handles that
   * share memory with the parameters until the next update (optimizers and layers replace values,
   * never write into them), so the snapshot does not change as training goes on. Dispose them
   * when done. With `layout: 'torch'` the parameters PyTorch stores transposed (Linear weights)
   * are transposed views, ready for `writeSafetensors` and PyTorch's `load_state_dict`.
   */
  stateDict({ layout = 'tapegrad' }: { layout?: Layout } = {}): StateDict {
    checkLayout(this.describe(), 'stateDict', layout);
    const flip = layout === 'torch' ? this.#transposedNames() : new Set<string>();
    const out: StateDict = {};
    for (const [k, t] of this.#stateEntries()) out[k] = flip.has(k) ? noGrad(() => t.transpose()) : t.detach();
    return out;
  }

  /**
   * Replace parameter and buffer values with `dict`'s (same names and shapes; dtype and device are
   * converted). Every entry is checked, and every conversion made, before anything is written: on
   * any error no parameter has changed and no converted copy is left alive. With `strict` (default)
   * extra entries are an error too. With `layout: 'torch'` the entries PyTorch stores transposed
   * (Linear weights, (out, in)) are transposed back as they are read.
   */
  loadStateDict(dict: StateDict, opts: { strict?: boolean; layout?: Layout } = {}): void {
    const where = `${this.describe()}.loadStateDict`;
    if (opts === null || typeof opts !== 'object') {
      throw new TypeError(`${where}: options must be an object such as { strict: false }, got ${opts === null ? 'null' : typeof opts}`);
    }
    const strict = opts.strict ?? true;
    const layout = opts.layout ?? 'tapegrad';
    if (dict === null || typeof dict !== 'object' || Array.isArray(dict) || dict instanceof Tensor || dict instanceof Map) {
      const got = dict === null ? 'null' : Array.isArray(dict) ? 'an array' : dict instanceof Map ? 'a Map' : dict instanceof Tensor ? 'a Tensor' : typeof dict;
      throw new TypeError(`${where}: expected an object of parameter name → Tensor (as stateDict() returns), got ${got}`);
    }
    checkLayout(this.describe(), 'loadStateDict', layout);
    if (layout === 'torch') {
      // contiguous copies in tapegrad's layout; the caller's dict is left as it was
      const flipped: [string, Tensor][] = [];
      for (const k of this.#transposedNames()) {
        const v = Object.prototype.hasOwnProperty.call(dict, k) ? dict[k] : undefined;
        if (v instanceof Tensor && !v.isDisposed && v.rank === 2) flipped.push([k, noGrad(() => v.transpose().clone())]);
      }
      try {
        return this.loadStateDict({ ...dict, ...Object.fromEntries(flipped) }, { strict });
      } catch (e) {
        throw new Error(`${(e as Error).message} (torch layout: Linear weights are compared after transposing)`);
      } finally {
        for (const [, t] of flipped) t.dispose();
      }
    }
    const params = this.#stateEntries();
    const names = new Set(params.map(([k]) => k));
    // own properties only: 'constructor' or 'toString' must not be found on Object.prototype
    const has = (k: string) => Object.prototype.hasOwnProperty.call(dict, k);
    const missing = params.filter(([k]) => !has(k)).map(([k]) => k);
    const extra = Object.keys(dict).filter((k) => !names.has(k));
    const problems: string[] = [];
    if (missing.length) problems.push(`missing ${missing.join(', ')}`);
    if (strict && extra.length) problems.push(`unexpected ${extra.join(', ')}`);
    for (const [k, p] of params) {
      if (p.isDisposed) problems.push(`parameter ${k} was disposed`);
      else if (!p.isLeaf) problems.push(`parameter ${k} is an op result, not a leaf`);
      if (!has(k)) continue;
      const v: unknown = dict[k];
      if (!(v instanceof Tensor)) problems.push(`${k} is ${v === null ? 'null' : typeof v}, not a Tensor`);
      else if (v.isDisposed) problems.push(`${k} was disposed`);
      else if (!sameShapeOf(v, p)) problems.push(`${k} has shape ${fmtShapeOf(v)}, expected ${fmtShapeOf(p)}`);
    }
    if (problems.length) throw new Error(`${where}: ${problems.join('; ')}; nothing was loaded`);
    // convert first (may throw, e.g. a device that cannot be read synchronously), then write; on a
    // failure free the copies already made (nothing else owns them)
    const values: [Tensor, Tensor, Tensor][] = [];
    try {
      noGrad(() => {
        for (const [k, p] of params) {
          const given = dict[k]!;
          try {
            values.push([p, given, convertLike(given, p)]);
          } catch (e) {
            throw new Error(
              `${where}: ${k} (${given.dtype} on ${given.device}) cannot be converted to ${p.dtype} on ${p.device}: ${(e as Error).message}; nothing was loaded`,
              { cause: e },
            );
          }
        }
      });
    } catch (e) {
      for (const [, given, v] of values) if (v !== given) v.dispose();
      throw e;
    }
    for (const [p, given, v] of values) {
      p.assign(v);
      if (v !== given) v.dispose();
    }
  }

  /**
   * Write the parameters to a safetensors file (8-byte little-endian header length, a JSON
   * header, then the raw little-endian values), readable by the `safetensors` Python package.
   * With `layout: 'torch'` the file is in PyTorch's layout (see `stateDict`) and its metadata says
   * `format: pt` (as PyTorch's writers do) unless `metadata` sets a format.
   */
  async save(path: string, metadata?: Record<string, string>, { layout = 'tapegrad' }: { layout?: Layout } = {}): Promise<void> {
    const dict = this.stateDict({ layout });
    if (layout === 'torch') metadata = { format: 'pt', ...metadata };
    try {
      const bytes = await writeSafetensors(dict, metadata);
      const fs = await import('node:fs/promises');
      await fs.writeFile(path, bytes);
    } finally {
      for (const t of Object.values(dict)) t.dispose();
    }
  }

  /** Load parameters from a file written by `save` (or any safetensors file with these names and shapes). */
  async load(path: string, opts?: { strict?: boolean; layout?: Layout }): Promise<this> {
    const fs = await import('node:fs/promises');
    const bytes = await fs.readFile(path);
    const dict = readSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
    try {
      this.loadStateDict(dict, opts);
    } finally {
      for (const t of Object.values(dict)) t.dispose();
    }
    return this;
  }

  /**
   * Build a module with `make` and load its parameters from `path`: the file holds values, not the
   * architecture, so the caller supplies it (`Module.load(path, () => makeNet())`).
   */
  static async load<M extends Module>(path: string, make: () => M, opts?: { strict?: boolean; layout?: Layout }): Promise<M> {
    return make().load(path, opts);
  }

  /** Module name and, for containers, one line per child. */
  toString(): string {
    const kids = this.namedChildren();
    if (!kids.length) return this.describe();
    const body = kids.map(([k, m]) => `  (${k}): ${m.toString().split('\n').join('\n  ')}`).join('\n');
    return `${this.describe()}(\n${body}\n)`;
  }
}

function checkLayout(who: string, what: string, layout: unknown): void {
  if (layout !== 'tapegrad' && layout !== 'torch') {
    throw new Error(`${who}.${what}: unknown layout ${JSON.stringify(layout)} (known: 'tapegrad', 'torch')`);
  }
}
