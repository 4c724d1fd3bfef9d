// Module: the container contract of the nn layer. Parameters and children are registered by
// name, so dotted names (`0.weight`), recursion (train/eval, zeroGrad) and state dicts all come
// from one walk over that tree.
import { convertLike, fmtShapeOf, noGrad, sameShapeOf, Tensor } from './util';
import { readSafetensors, writeSafetensors } from './safetensors';
import { readSourceBytes, writeFileBytes, type WeightsSource } from './io';
import { getBackend, type Device } from '../backends/backend';
import { INSPECT } from '../graph/tensor';

/** A dimension in a symbolic shape: a size, or a name such as '*' for the batch. */
export type Dim = number | string;

/** A map from dotted parameter names to tensors, as returned by `Module.stateDict()`. */
export type StateDict = Record<string, Tensor>;

/**
 * The base class of layers and nets: owns named parameters (tensors that require grad) and named
 * child modules. Subclasses register them with `registerParameter` / `registerModule` and define
 * `forward`.
 *
 * @example
 * class Affine extends Module {
 *   readonly w = this.registerParameter('w', randn([3, 2]))!;
 *   forward(x: Tensor) { return x.matmul(this.w); }
 * }
 * new Affine().namedParameters();   // [['w', tensor]]
 */
export abstract class Module {
  /** Training mode (true) or evaluation mode (false); set recursively by train() / eval(). */
  training = true;
  readonly #params = new Map<string, Tensor | null>();
  readonly #children = new Map<string, Module>();

  constructor() {
    // What Node's console.log and util.inspect show: toString(), not the private fields. Put on
    // the prototype by the first construction, not as a class member: a computed key (the
    // symbol) makes bundlers keep the whole class in bundles that never use it.
    if (!Object.prototype.hasOwnProperty.call(Module.prototype, INSPECT)) {
      Object.defineProperty(Module.prototype, INSPECT, {
        value(this: Module) {
          return this.toString();
        },
      });
    }
  }

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

  /** Register (or replace) a parameter; null keeps the slot (e.g. a disabled bias). */
  protected registerParameter(name: string, t: Tensor | null): Tensor | null {
    if (name.includes('.') || name === '') throw new Error(`${this.describe()}: invalid parameter name '${name}'`);
    if (t && !t.requiresGrad) t.requireGrad();
    this.#params.set(name, t);
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
   * A snapshot of the parameters by dotted name. The tensors are detached handles that share
   * memory with the parameters until the next update (optimizers replace values, never write
   * into them), so the snapshot does not change as training goes on. Dispose them when done.
   */
  stateDict(): StateDict {
    const out: StateDict = {};
    for (const [k, t] of this.namedParameters()) out[k] = t.detach();
    return out;
  }

  /**
   * Replace parameter values with `dict`'s (same names and shapes; dtype and device are converted).
   * Every entry is checked before anything is written: on any error no parameter has changed.
   * With `strict` (default) extra entries are an error too.
   */
  loadStateDict(dict: StateDict, { strict = true }: { strict?: boolean } = {}): void {
    const params = this.namedParameters();
    const names = new Set(params.map(([k]) => k));
    const missing = params.filter(([k]) => !(k in dict)).map(([k]) => k);
    const extra = Object.keys(dict).filter((k) => !names.has(k));
    const problems: string[] = [];
    if (missing.length) problems.push(`missing ${missing.join(', ')}`);
    if (strict && extra.length) problems.push(`unexpected ${extra.join(', ')}`);
    for (const [k, p] of params) {
      const v = dict[k];
      if (!v) continue;
      if (!(v instanceof Tensor)) problems.push(`${k} is not a Tensor`);
      else if (v.isDisposed) problems.push(`${k} was disposed`);
      else if (!sameShapeOf(v, p)) problems.push(`${k} has shape ${fmtShapeOf(v)}, expected ${fmtShapeOf(p)}`);
    }
    if (problems.length) throw new Error(`${this.describe()}.loadStateDict: ${problems.join('; ')}; nothing was loaded`);
    // convert first (may throw, e.g. a device that cannot be read synchronously), then write
    const values = noGrad(() => params.map(([k, p]) => [p, dict[k]!, convertLike(dict[k]!, p)] as const));
    for (const [p, given, v] of values) {
      p.assign(v);
      if (v !== given) v.dispose();
    }
  }

  /**
   * Move every parameter (and its gradient) to `device`, keeping the tensor objects, so layers and
   * anything else holding them see the move. Create optimizers after moving: their state stays
   * where it was made. Reading from a device that cannot be read synchronously (WebGPU) needs
   * `await net.toAsync('cpu')`.
   *
   * @example
   * await initWebGPU();
   * const net = new Sequential(new Linear(2, 8), new ReLU(), new Linear(8, 1)).to('webgpu');
   */
  to(device: Device): this {
    getBackend(device); // an unknown or uninitialised device fails here, before anything moved
    const params = this.parameters();
    for (const p of params) {
      if (p.device !== device && !getBackend(p.device).readSync) {
        throw new Error(`${this.describe()}.to('${device}'): parameters on ${p.device} are read asynchronously; use await net.toAsync('${device}')`);
      }
    }
    for (const p of params) {
      if (p.device !== device) p._relocate(device, p.dataSync(), p.grad?.dataSync() ?? null);
    }
    return this;
  }

  /** `to(device)` from any device (reads WebGPU parameters asynchronously). */
  async toAsync(device: Device): Promise<this> {
    getBackend(device);
    const params = this.parameters();
    const moving = params.filter((p) => p.device !== device);
    const values = await Promise.all(moving.map((p) => Promise.all([p.data(), p.grad?.data() ?? null])));
    moving.forEach((p, i) => p._relocate(device, values[i]![0], values[i]![1]));
    return this;
  }

  /**
   * The parameters as safetensors bytes (8-byte little-endian header length, a JSON header,
   * then the raw little-endian values): what `save` writes, for browsers (download them as a
   * Blob, put them in IndexedDB) or any other store.
   *
   * @example
   * const bytes = await net.saveBytes();
   * const url = URL.createObjectURL(new Blob([bytes]));   // a download link in a browser
   */
  async saveBytes(metadata?: Record<string, string>): Promise<Uint8Array<ArrayBuffer>> {
    const dict = this.stateDict();
    try {
      return await writeSafetensors(dict, metadata);
    } finally {
      for (const t of Object.values(dict)) t.dispose();
    }
  }

  /**
   * Write the parameters to a safetensors file (Node), readable by the `safetensors` Python
   * package. In a browser use `saveBytes()`.
   *
   * @example
   * await net.save('net.safetensors', { epochs: '100' });
   */
  async save(path: string, metadata?: Record<string, string>): Promise<void> {
    await writeFileBytes(`${this.describe()}.save`, path, await this.saveBytes(metadata));
  }

  /**
   * Load parameters written by `save`/`saveBytes` (or any safetensors data with these names and
   * shapes) from a file path (Node), a URL (fetched; a string is a URL in browsers), bytes, a
   * Blob/File or a fetch Response.
   *
   * @example
   * await net.load('net.safetensors');                       // Node
   * await net.load(new URL('net.safetensors', location.href)); // browser
   * await net.load(fileInput.files[0]);                      // a File from an <input>
   */
  async load(source: WeightsSource, opts?: { strict?: boolean }): Promise<this> {
    const { bytes, name } = await readSourceBytes(`${this.describe()}.load`, source);
    const dict = readSafetensors(bytes, name);
    try {
      this.loadStateDict(dict, opts);
    } finally {
      for (const t of Object.values(dict)) t.dispose();
    }
    return this;
  }

  /**
   * Build a module with `make` and load its parameters from `source`: the file holds values, not
   * the architecture, so the caller supplies it (`Module.load(path, () => makeNet())`).
   */
  static async load<M extends Module>(source: WeightsSource, make: () => M, opts?: { strict?: boolean }): Promise<M> {
    return make().load(source, opts);
  }

  /** Module name and, for containers, one line per child. */
  toString(): string {
    const kids = this.namedChildren();
    if (!kids.length) return this.describe();
    const body = kids.map(([k, m]) => `  (${k}): ${m.toString().split('\n').join('\n  ')}`).join('\n');
    return `${this.describe()}(\n${body}\n)`;
  }


}
