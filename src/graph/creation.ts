// Creating tensors from data and by formula.
import { getBackend, sizeOf, typedArray, type Backend, type DType, type Device, type TypedArray } from '../backends/backend';
import { fmtShape } from '../ops/registry';
import { finiteArg, numberArg, optionsArg, shapeArg, show, sizeArg, tensorArg } from './args';
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

/** What a new tensor needs, checked before anything is allocated or drawn. */
interface Target {
  dtype: DType;
  device: Device;
  backend: Backend;
  /** the element count */
  n: number;
}

/** Check the dtype, the device and the size for a tensor of `shape` (already checked by shapeArg). */
function target(op: string, shape: readonly number[], opts: TensorOptions): Target {
  const dtype = opts.dtype ?? 'float32';
  const device = opts.device ?? getDefaultDevice();
  if (dtype !== 'float32' && dtype !== 'float64' && dtype !== 'int32') throw new TypeError(`${op}: unknown dtype '${String(dtype)}'`);
  if (dtype === 'int32' && opts.requiresGrad) {
    throw new TypeError(`${op}: an int32 tensor cannot require grad (no gradient flows into integers); use a float dtype`);
  }
  const backend = getBackend(device);
  if (!backend.dtypes.includes(dtype)) {
    throw new Error(`${op}: dtype ${dtype} is not supported on ${device} (supported: ${backend.dtypes.join(', ')})`);
  }
  const n = sizeOf(shape);
  sizeArg(op, shape, n, dtype);
  return { dtype, device, backend, n };
}

function make(values: ArrayLike<number>, shape: readonly number[], to: Target, opts: TensorOptions): Tensor {
  if (to.dtype === 'int32' && !(values instanceof Int32Array)) intValues(values);
  const t = new Tensor(to.backend.upload(values, [...shape], to.dtype), shape, to.dtype, to.device);
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

/** int32 data must be integers in [−2³¹, 2³¹ − 1]: anything else would be silently truncated or wrapped. */
function intValues(values: ArrayLike<number>): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
      throw new RangeError(`tensor: int32 values must be integers in [-2^31, 2^31 - 1]; element ${i} is ${String(v)} (use cast() to truncate floats)`);
    }
  }
}

/** n zeros of the dtype, in a typed array (never a JS Array: 2^26 boxed elements took 31 s and 5 GB). */
const zeroed = (dtype: DType, n: number): TypedArray => typedArray(dtype, n);

/** Shape of a nested array (ragged nesting is found by flattenChecked). */
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
  const from = `(shape ${fmtShape(shape)} from the first elements)`;
  const walk = (v: NestedArray, axis: number, path: number[]) => {
    if (axis === shape.length) {
      if (typeof v !== 'number') {
        throw new Error(`tensor: ragged nested array: element at [${path.join(',')}] is ${show(v)}, expected a number ${from}`);
      }
      out.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[axis]) {
      const got = Array.isArray(v) ? `length ${v.length}` : typeof v === 'number' ? 'a number' : show(v);
      throw new Error(`tensor: ragged nested array: at [${path.join(',')}] got ${got}, expected length ${shape[axis]} ${from}`);
    }
    // an index loop, not forEach: forEach skips the holes of a sparse array, which left the
    // buffer shorter than the shape (kernels then read past it)
    for (let i = 0; i < v.length; i++) {
      if (!(i in v)) throw new TypeError(`tensor: element at [${[...path, i].join(',')}] is a hole (a sparse array), expected a number`);
      walk(v[i]!, axis + 1, [...path, i]);
    }
  };
  walk(data, 0, []);
  return out;
}

const EXPECTED_DATA = 'expected a number, a (nested) array of numbers or a typed array';

/** Flat data: an array, a numeric typed array, or another array-like with a length. */
function flatData(data: unknown): ArrayLike<number> {
  const bad = () => new TypeError(`tensor: data is ${show(data)}; ${EXPECTED_DATA}`);
  if (Array.isArray(data)) return data;
  if (ArrayBuffer.isView(data)) {
    if (data instanceof DataView || data instanceof BigInt64Array || data instanceof BigUint64Array) throw bad();
    return data as unknown as ArrayLike<number>;
  }
  if (data === null || typeof data !== 'object') throw bad();
  const n = (data as { length?: unknown }).length;
  if (!Number.isSafeInteger(n) || (n as number) < 0) throw bad();
  return data as ArrayLike<number>;
}

/**
 * A tensor from nested arrays, a number, or flat data (a typed array or a flat list) with
 * `shape`. The data is copied. A number is a scalar; a number with `shape` fills that shape
 * (`tensor(5, { shape: [3] })` is [5, 5, 5], as tfjs). Any other value count that does not match
 * the shape, a ragged nesting, or an array with holes is an error. A Tensor (also one from another
 * copy of the package) is copied.
 *
 * @example
 * tensor([[1, 2], [3, 4]]);                          // float32 [2, 2]
 * tensor(new Float64Array(6), { shape: [2, 3] });     // flat data with a shape (float32 by default)
 * tensor(3, { dtype: 'float64', requiresGrad: true }); // a scalar leaf
 */
export function tensor(data: NestedArray | ArrayLike<number> | Tensor, opts?: DataOptions): Tensor {
  const o = optionsArg('tensor', opts);
  if (isTensor(data)) {
    // a copy, also of a tensor from another copy of the package (read through its own methods)
    const t = data as Tensor;
    if (o.shape !== undefined) {
      throw new Error(`tensor: a Tensor argument carries its own shape ${fmtShape(t.shape)}; drop the shape option`);
    }
    if (!getBackend(t.device).readSync && t.device !== 'cpu') {
      throw new Error(`tensor: reading a tensor on ${t.device} is asynchronous; use await x.toAsync('cpu') first`);
    }
    const s = [...t.shape];
    const opts2 = { dtype: t.dtype, ...o };
    return make(t.dataSync(), s, target('tensor', s, opts2), opts2);
  }
  const shape = o.shape === undefined ? undefined : shapeArg('tensor', o.shape);
  if (typeof data === 'number') {
    const s = shape ?? [];
    const to = target('tensor', s, o);
    if (to.dtype === 'int32') intValues([data]);
    return make(zeroed(to.dtype, to.n).fill(data), s, to, o);
  }
  if (Array.isArray(data) && shape === undefined) {
    const s = nestedShape(data);
    const values = flattenChecked(data, s);
    return make(values, s, target('tensor', s, o), o);
  }
  const flat = flatData(data);
  const s = shape ?? [flat.length];
  if (sizeOf(s) !== flat.length) {
    throw new Error(`tensor: ${flat.length} values do not fill shape ${fmtShape(s)} (${sizeOf(s)} elements)`);
  }
  const to = target('tensor', s, o);
  // a numeric typed array holds numbers only; anything else is checked element by element
  if (!ArrayBuffer.isView(flat)) {
    for (let i = 0; i < flat.length; i++) {
      if (typeof flat[i] === 'number') continue;
      if (!(i in flat)) throw new TypeError(`tensor: element ${i} is a hole (a sparse array), expected a number`);
      const hint = Array.isArray(flat[i]) ? ' (nested arrays carry their own shape: leave out `shape`)' : '';
      throw new TypeError(`tensor: element ${i} is ${show(flat[i])}, expected a number${hint}`);
    }
  }
  return make(flat, s, to, o);
}

function filled(op: string, shape: readonly number[], value: number, opts?: TensorOptions): Tensor {
  const s = shapeArg(op, shape);
  numberArg(op, 'value', value);
  const o = optionsArg(op, opts);
  const to = target(op, s, o);
  if (to.dtype === 'int32') intValues([value]);
  const values = zeroed(to.dtype, to.n);
  if (!Object.is(value, 0)) values.fill(value);
  return make(values, s, to, o);
}

/**
 * A tensor of `shape` filled with `value`.
 *
 * @example
 * full([2, 3], 7);   // [[7, 7, 7], [7, 7, 7]]
 */
export const full = (shape: readonly number[], value: number, opts?: TensorOptions) => filled('full', shape, value, opts);
/**
 * A tensor of `shape` filled with 0.
 *
 * @example
 * zeros([3], { dtype: 'float64' });
 */
export const zeros = (shape: readonly number[], opts?: TensorOptions) => filled('zeros', shape, 0, opts);
/**
 * A tensor of `shape` filled with 1.
 *
 * @example
 * ones([2, 2], { requiresGrad: true });
 */
export const ones = (shape: readonly number[], opts?: TensorOptions) => filled('ones', shape, 1, opts);
/**
 * Zeros of t's shape, dtype and device (options override the last two).
 *
 * @example
 * const g = zerosLike(w);
 */
export const zerosLike = (t: Tensor, opts?: TensorOptions) =>
  filled('zerosLike', tensorArg('zerosLike', t, 1).shape, 0, { dtype: t.dtype, device: t.device, ...optionsArg('zerosLike', opts) });
/**
 * Ones of t's shape, dtype and device (options override the last two).
 *
 * @example
 * y.backward(onesLike(y));   // the vector of a vector-Jacobian product
 */
export const onesLike = (t: Tensor, opts?: TensorOptions) =>
  filled('onesLike', tensorArg('onesLike', t, 1).shape, 1, { dtype: t.dtype, device: t.device, ...optionsArg('onesLike', opts) });

/** Values drawn by f, in the tensor's own dtype (float32 rounds each draw as an upload would). */
function draw(op: string, shape: readonly number[], f: () => number, opts: TensorOptions): Tensor {
  const s = shapeArg(op, shape);
  const to = target(op, s, opts);
  if (to.dtype === 'int32') throw new TypeError(`${op}: dtype int32 is not supported (its draws are real numbers); cast the result`);
  const v = zeroed(to.dtype, to.n);
  for (let i = 0; i < to.n; i++) v[i] = f();
  return make(v, s, to, opts);
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
export function randn(shape: readonly number[], opts?: RandnOptions): Tensor {
  const o = optionsArg('randn', opts);
  const mean = finiteArg('randn', 'mean', o.mean ?? 0);
  const std = finiteArg('randn', 'std', o.std ?? 1);
  if (std < 0) throw new RangeError(`randn: std ${std} must be a finite number ≥ 0`);
  return draw('randn', shape, () => mean + std * randomNormal(), o);
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
export function rand(shape: readonly number[], opts?: RandOptions): Tensor {
  const o = optionsArg('rand', opts);
  const low = finiteArg('rand', 'low', o.low ?? 0);
  const high = finiteArg('rand', 'high', o.high ?? 1);
  if (low > high) throw new RangeError(`rand: low ${low} must not exceed high ${high}`);
  return draw('rand', shape, () => low + (high - low) * random(), o);
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
  if (step === 0) throw new RangeError('arange: step must not be 0');
  if (![start, stop, step].every(Number.isFinite)) {
    throw new RangeError(`arange: start ${start}, stop ${stop} and step ${step} must be finite`);
  }
  const o = optionsArg('arange', opts);
  // the count is checked against the size limit before the values are made (it may be huge or
  // even infinite: (stop − start) / step overflows for a tiny step)
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const to = target('arange', [n], o);
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = start + i * step;
  return make(v, [n], to, o);
}

/**
 * n evenly spaced points from start to stop, both included.
 *
 * @example
 * linspace(0, 1, 5);   // [0, 0.25, 0.5, 0.75, 1]
 */
export function linspace(start: number, stop: number, n: number, opts?: TensorOptions): Tensor {
  if (typeof n !== 'number') throw new TypeError(`linspace: count must be a number, got ${show(n)}`);
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`linspace: count ${n} must be a non-negative integer`);
  if (!Number.isFinite(start) || !Number.isFinite(stop)) {
    throw new RangeError(`linspace: start ${String(start)} and stop ${String(stop)} must be finite`);
  }
  const o = optionsArg('linspace', opts);
  const to = target('linspace', [n], o);
  const step = n > 1 ? (stop - start) / (n - 1) : 0;
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = i === n - 1 && n > 1 ? stop : start + i * step;
  return make(v, [n], to, o);
}

/**
 * The n×m identity (m defaults to n).
 *
 * @example
 * eye(2);   // [[1, 0], [0, 1]]
 */
export function eye(n: number, m = n, opts?: TensorOptions): Tensor {
  const s = shapeArg('eye', [n, m]);
  const o = optionsArg('eye', opts);
  const to = target('eye', s, o);
  const v = zeroed(to.dtype, to.n);
  for (let i = 0; i < Math.min(n, m); i++) v[i * m + i] = 1;
  return make(v, s, to, o);
}
