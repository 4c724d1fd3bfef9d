import { Module, type Dim } from './module';
import type { Tensor } from './util';

const fmtDims = (s: readonly Dim[]) => `[${s.join(', ')}]`;

/**
 * Modules applied in order. Children are named by position ('0', '1', ...), so parameters are
 * `0.weight`, `0.bias`, ...; `net[i]` or `net.at(i)` gives a layer.
 *
 * @example
 * const net = new Sequential(new Linear(1, 100), new ReLU(), new Linear(100, 1));
 * console.log(net.summary());   // layers, output shapes, 301 parameters
 */
export class Sequential extends Module {
  readonly [index: number]: Module;
  #layers: Module[] = [];

  constructor(...modules: Module[]) {
    super();
    this.#rebuild(modules);
  }

  #rebuild(layers: Module[]): void {
    layers.forEach((m, i) => {
      if (!(m instanceof Module)) throw new Error(`Sequential: layer ${i} is not a Module (got ${String(m)})`);
    });
    for (let i = layers.length; i < this.#layers.length; i++) delete (this as Record<number, unknown>)[i];
    this.#layers = layers;
    this.resetModules(layers.map((m, i) => [String(i), m]));
    layers.forEach((m, i) => Object.defineProperty(this, i, { value: m, configurable: true, enumerable: false, writable: false }));
  }

  /** Number of layers. */
  get length(): number {
    return this.#layers.length;
  }

  /** The layer at `i` (negative counts from the end). */
  at(i: number): Module {
    const j = i < 0 ? i + this.#layers.length : i;
    const m = this.#layers[j];
    if (!m) throw new Error(`Sequential: index ${i} is out of range for ${this.#layers.length} layers`);
    return m;
  }

  /** Add a layer at the end (chainable). */
  append(m: Module): this {
    this.#rebuild([...this.#layers, m]);
    return this;
  }

  /** Insert a layer before position `i` (i = length appends; negative counts from the end). */
  insert(i: number, m: Module): this {
    const n = this.#layers.length;
    const j = i < 0 ? i + n : i;
    if (!Number.isInteger(j) || j < 0 || j > n) throw new Error(`Sequential.insert: index ${i} is out of range for ${n} layers`);
    const layers = [...this.#layers];
    layers.splice(j, 0, m);
    this.#rebuild(layers);
    return this;
  }

  [Symbol.iterator](): Iterator<Module> {
    return this.#layers[Symbol.iterator]();
  }

  forward(x: Tensor): Tensor {
    let y = x;
    for (const m of this.#layers) y = m.forward(y);
    return y;
  }

  override outputShape(input: readonly Dim[]): Dim[] {
    return this.#layers.reduce<Dim[]>((s, m) => m.outputShape(s), [...input]);
  }

  override describe(): string {
    return 'Sequential';
  }

  /**
   * A table of the layers with their output shapes and parameter counts. `inputShape` defaults to
   * ['*', n] when the first layer has a known input size n (a Linear); '*' stands for the batch.
   */
  summary(inputShape?: readonly Dim[]): string {
    const first = this.#layers[0] as { inSize?: unknown } | undefined;
    let shape: Dim[] | null = inputShape ? [...inputShape] : typeof first?.inSize === 'number' ? ['*', first.inSize] : null;
    const rows: string[][] = [['#', 'layer', 'output', 'params']];
    this.#layers.forEach((m, i) => {
      if (shape) shape = m.outputShape(shape);
      const kids = m.namedChildren().length;
      const name = kids ? `${m.describe()} (${kids} layer${kids === 1 ? '' : 's'})` : m.describe();
      rows.push([String(i), name, shape ? fmtDims(shape) : '?', m.numParameters().toLocaleString('en-US')]);
    });
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    const line = (r: string[]) => '  ' + r.map((v, c) => (c === 3 ? v.padStart(widths[c]!) : v.padEnd(widths[c]!))).join('  ');
    const n = this.#layers.length;
    const head = `Sequential: ${n} layer${n === 1 ? '' : 's'}, ${this.numParameters().toLocaleString('en-US')} parameters`;
    return [head, ...rows.map(line)].join('\n').replace(/ +$/gm, '');
  }

  override toString(): string {
    return this.summary();
  }
}
