// Creating tensors from data and by formula.
import { getBackend, sizeOf, type DType, type Device } from '../backends/backend';
import { fmtShape } from '../ops/registry';
import { random, randomNormal } from './random';
import { isTensor, Tensor, type NestedArray } from './tensor';
import { getDefaultDevice } from './defaults';

export interface TensorOptions {
  dtype?: DType;
  device?: Device;
  requiresGrad?: boolean;
}

export interface DataOptions extends TensorOptions {
  /** the shape of flat data (a typed array or flat list); nested arrays carry their own */
  shape?: readonly number[];
}

function checkShape(op: string, shape: readonly number[]): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`${op}: invalid shape ${fmtShape(shape)} (dims must be non-negative integers)`);
  }
}

function make(values: ArrayLike<number>, shape: readonly number[], opts: TensorOptions = {}): Tensor {
  const dtype = opts.dtype ?? 'float32';
  const device = opts.device ?? getDefaultDevice();
  if (dtype !== 'float32' && dtype !== 'float64') throw new Error(`tensor: unknown dtype '${String(dtype)}'`);
  checkShape('tensor', shape);
  const backend = getBackend(device);
  if (!backend.dtypes.includes(dtype)) {
    throw new Error(`tensor: dtype ${dtype} is not supported on ${device} (supported: ${backend.dtypes.join(', ')})`);
  }
  const t = new Tensor(backend.upload(values, [...shape], dtype), shape, dtype, device);
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

/** Shape of a nested array; throws on ragged nesting. */
function nestedShape(data: NestedArray): number[] {
  const shape: number[] = [];
  let level: NestedArray = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    if (level.length === 0) break;
    level = level[0]!;
  }
  return shape;
}

function flattenChecked(data: NestedArray, shape: number[]): number[] {
  const out: number[] = [];
  const walk = (v: NestedArray, axis: number, path: number[]) => {
    if (axis === shape.length) {
      if (typeof v !== 'number') {
        throw new Error(`tensor: ragged nested array: element at [${path.join(',')}] is ${Array.isArray(v) ? 'an array' : typeof v}, expected a number (shape ${fmtShape(shape)} from the first elements)`);
      }
      out.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[axis]) {
      const got = Array.isArray(v) ? `length ${v.length}` : 'a number';
      throw new Error(`tensor: ragged nested array: at [${path.join(',')}] got ${got}, expected length ${shape[axis]} (shape ${fmtShape(shape)} from the first elements)`);
    }
    v.forEach((c, i) => walk(c, axis + 1, [...path, i]));
  };
  walk(data, 0, []);
  return out;
}

/**
 * A tensor from nested arrays, a number (a scalar), or flat data (a typed array or a flat list)
 * with `shape`. The data is copied.
 *
 * @example
 * tensor([[1, 2], [3, 4]]);                          // float32 [2, 2]
 * tensor(new Float64Array(6), { shape: [2, 3] });     // flat data with a shape (float32 by default)
 * tensor(3, { dtype: 'float64', requiresGrad: true }); // a scalar leaf
 */
export function tensor(data: NestedArray | ArrayLike<number> | Tensor, opts: DataOptions = {}): Tensor {
  if (isTensor(data)) {
    // a copy, also of a tensor from another copy of the package (read through its own methods)
    const t = data as Tensor;
    if (opts.shape) throw new Error(`tensor: a Tensor argument carries its own shape ${fmtShape(t.shape)}; drop the shape option`);
    if (!getBackend(t.device).readSync && t.device !== 'cpu') {
      throw new Error(`tensor: reading a tensor on ${t.device} is asynchronous; use await x.toAsync('cpu') first`);
    }
    return make(t.dataSync(), t.shape, { dtype: t.dtype, ...opts });
  }
  if (typeof data === 'number') return make([data], opts.shape ?? [], opts);
  const isNested = Array.isArray(data) && !opts.shape;
  if (isNested) {
    const shape = nestedShape(data as NestedArray);
    return make(flattenChecked(data as NestedArray, shape), shape, opts);
  }
  const flat = data as ArrayLike<number>;
  const shape = opts.shape ?? [flat.length];
  if (sizeOf(shape) !== flat.length) {
    throw new Error(`tensor: ${flat.length} values do not fill shape ${fmtShape(shape)} (${sizeOf(shape)} elements)`);
  }
  for (let i = 0; i < flat.length; i++) {
    if (typeof flat[i] !== 'number') throw new Error(`tensor: element ${i} is ${typeof flat[i]}, expected a number`);
  }
  return make(flat, shape, opts);
}

/**
 * A tensor of `shape` with every element `value`.
 *
 * @example
 * full([2, 3], 7);   // [[7, 7, 7], [7, 7, 7]]
 */
export function full(shape: readonly number[], value: number, opts?: TensorOptions): Tensor {
  // checked before allocating: a negative dim made `new Array` throw a bare RangeError
  checkShape('full', shape);
  return make(new Array<number>(sizeOf(shape)).fill(value), shape, opts);
}
/**
 * A tensor of zeros.
 *
 * @example
 * zeros([3], { dtype: 'float64' });
 */
export const zeros = (shape: readonly number[], opts?: TensorOptions) => full(shape, 0, opts);
/**
 * A tensor of ones.
 *
 * @example
 * ones([2, 2], { requiresGrad: true });
 */
export const ones = (shape: readonly number[], opts?: TensorOptions) => full(shape, 1, opts);
/**
 * Zeros with `t`'s shape, dtype and device (each overridable).
 *
 * @example
 * const g = zerosLike(w);
 */
export const zerosLike = (t: Tensor, opts?: TensorOptions) => full(t.shape, 0, { dtype: t.dtype, device: t.device, ...opts });
/**
 * Ones with `t`'s shape, dtype and device (each overridable).
 *
 * @example
 * y.backward(onesLike(y));   // the vector of a vector-Jacobian product
 */
export const onesLike = (t: Tensor, opts?: TensorOptions) => full(t.shape, 1, { dtype: t.dtype, device: t.device, ...opts });

function fill(op: string, shape: readonly number[], f: () => number, opts?: TensorOptions): Tensor {
  checkShape(op, shape);
  const n = sizeOf(shape);
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = f();
  return make(v, shape, opts);
}

export interface RandnOptions extends TensorOptions {
  mean?: number;
  std?: number;
}
/**
 * Normal draws from the seeded generator (see manualSeed).
 *
 * @example
 * manualSeed(0);
 * const w = randn([3, 2], { std: 0.1, requiresGrad: true });
 */
export function randn(shape: readonly number[], opts: RandnOptions = {}): Tensor {
  const { mean = 0, std = 1 } = opts;
  return fill('randn', shape, () => mean + std * randomNormal(), opts);
}

export interface RandOptions extends TensorOptions {
  low?: number;
  high?: number;
}
/**
 * Uniform draws in [low, high) from the seeded generator.
 *
 * @example
 * rand([4], { low: -1, high: 1 });
 */
export function rand(shape: readonly number[], opts: RandOptions = {}): Tensor {
  const { low = 0, high = 1 } = opts;
  return fill('rand', shape, () => low + (high - low) * random(), opts);
}

/**
 * start, start+step, ... below stop (numpy's arange); arange(n) is 0..n-1.
 *
 * @example
 * arange(4);           // [0, 1, 2, 3]
 * arange(1, 2, 0.25);  // [1, 1.25, 1.5, 1.75]
 */
export function arange(start: number, stop?: number, step = 1, opts?: TensorOptions): Tensor {
  if (stop === undefined) [start, stop] = [0, start];
  if (step === 0) throw new Error('arange: step must not be 0');
  if (![start, stop, step].every(Number.isFinite)) throw new Error(`arange: start ${start}, stop ${stop} and step ${step} must be finite`);
  const n = Math.max(0, Math.ceil((stop - start) / step));
  return make(Array.from({ length: n }, (_, i) => start + i * step), [n], opts);
}

/**
 * n evenly spaced points from start to stop, both included.
 *
 * @example
 * linspace(0, 1, 5);   // [0, 0.25, 0.5, 0.75, 1]
 */
export function linspace(start: number, stop: number, n: number, opts?: TensorOptions): Tensor {
  if (!Number.isInteger(n) || n < 0) throw new Error(`linspace: count ${n} must be a non-negative integer`);
  const step = n > 1 ? (stop - start) / (n - 1) : 0;
  return make(Array.from({ length: n }, (_, i) => (i === n - 1 && n > 1 ? stop : start + i * step)), [n], opts);
}

/**
 * The n×m identity (m defaults to n).
 *
 * @example
 * eye(2);   // [[1, 0], [0, 1]]
 */
export function eye(n: number, m = n, opts?: TensorOptions): Tensor {
  checkShape('eye', [n, m]);
  const v = new Float64Array(n * m);
  for (let i = 0; i < Math.min(n, m); i++) v[i * m + i] = 1;
  return make(v, [n, m], opts);
}
