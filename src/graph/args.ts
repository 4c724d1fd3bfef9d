// Argument checks at the public boundary (the creation functions and the op frontend). A bad
// argument is refused here, with the op's name and the argument, before anything is allocated,
// drawn or recorded: past this point a fractional size becomes an impossible shape, a string
// becomes a number by coercion, and a short buffer becomes a read of another tensor's memory.
// Wrong types are TypeErrors, values out of range RangeErrors.
import { bytesPerElement, type DType } from '../backends/backend';
import { fmtShape, normAxis } from '../ops/registry';
import { isTensor, type Tensor } from './tensor';

/**
 * The most bytes one tensor may hold, on any device. The CPU backend's wasm heap is 2 GiB and its
 * kernels take Int32 addresses and counts; WebGPU bindings are 2 GiB at most on the adapters we
 * know (and the device's own limit is checked at upload). Refusing up front turns what would be a
 * fatal out-of-memory (no `catch` can intercept it) into an error.
 */
export const MAX_TENSOR_BYTES = 2 ** 31 - 1;

/** A short description of any value for an error message: `a string ('1')`, `null`, `an array`. */
export function show(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (isTensor(v)) return 'a Tensor';
  if (Array.isArray(v)) return 'an array';
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
  switch (typeof v) {
    case 'string':
      return `a string ('${v.length > 20 ? `${v.slice(0, 20)}…` : v}')`;
    case 'number':
      return Number.isNaN(v) ? 'NaN' : `a number (${v})`;
    case 'bigint':
      return `a bigint (${v}n)`;
    case 'boolean':
      return `a boolean (${v})`;
    case 'function':
      return 'a function';
    case 'symbol':
      return 'a symbol';
    default:
      return 'an object';
  }
}

/** The value as an entry of a list in a message: numbers plainly, anything else described. */
export const entry = (v: unknown) => (typeof v === 'number' ? String(v) : show(v));

/** An array argument (a shape, a permutation, begin/end, widths), or a TypeError saying what it holds. */
export function arrayArg(op: string, name: string, v: unknown, holds: string): readonly unknown[] {
  if (!Array.isArray(v)) throw new TypeError(`${op}: ${name} must be an array of ${holds}, got ${show(v)}`);
  return v;
}

/** x must be a Tensor: `op: argument 2 must be a Tensor, got a number (3)`. */
export function tensorArg(op: string, x: unknown, pos: number): Tensor {
  if (!isTensor(x)) throw new TypeError(`${op}: argument ${pos} must be a Tensor, got ${show(x)}`);
  return x;
}

/** x must be a Tensor or a JS number (any number, NaN and ±Infinity included). */
export function likeArg(op: string, x: unknown, pos: number): void {
  if (typeof x === 'number' || isTensor(x)) return;
  const hint = Array.isArray(x) ? ' (wrap it: tensor([...]))' : '';
  throw new TypeError(`${op}: argument ${pos} must be a Tensor or a number, got ${show(x)}${hint}`);
}

/** A number argument other than a tensor operand (a slope, a fill value, a bound). */
export function numberArg(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number') throw new TypeError(`${op}: ${name} must be a number, got ${show(v)}`);
  return v;
}

/** A finite number: a mean, a std, the ends of a range. */
export function finiteArg(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`${op}: ${name} must be a finite number, got ${show(v)}`);
  return v;
}

export function booleanArg(op: string, name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new TypeError(`${op}: ${name} must be a boolean, got ${show(v)}`);
  return v;
}

/** The list of tensors that concat and stack take. */
export function tensorList(op: string, list: unknown): Tensor[] {
  if (!Array.isArray(list)) throw new TypeError(`${op}: tensors must be an array of Tensors, got ${show(list)}`);
  list.forEach((t, i) => {
    if (!isTensor(t)) throw new TypeError(`${op}: tensors[${i}] must be a Tensor, got ${show(t)}`);
  });
  return list as Tensor[];
}

/**
 * A shape: an array of non-negative safe integers whose element count is a safe integer (an
 * empty dim makes the count 0, but the other dims still enter strides, so they are bounded too).
 */
export function shapeArg(op: string, shape: unknown): number[] {
  if (!Array.isArray(shape)) {
    throw new TypeError(`${op}: shape must be an array of non-negative integers, got ${show(shape)}`);
  }
  let count = 1;
  for (let i = 0; i < shape.length; i++) {
    const d: unknown = shape[i];
    if (!Number.isSafeInteger(d) || (d as number) < 0) {
      throw new RangeError(
        `${op}: invalid shape ${fmtShape(shape)} (dim ${i} is ${entry(d)}; dims must be non-negative integers)`,
      );
    }
    if (d !== 0) count *= d as number;
  }
  if (count > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(`${op}: shape ${fmtShape(shape)} has more than 2^53 - 1 elements`);
  }
  return [...(shape as number[])];
}

/** Refuse a tensor of `n` elements that no backend can hold, before anything is allocated. */
export function sizeArg(op: string, shape: readonly number[], n: number, dtype: DType): void {
  const bytes = n * bytesPerElement(dtype);
  if (bytes > MAX_TENSOR_BYTES) {
    throw new RangeError(
      `${op}: shape ${fmtShape(shape)} needs ${bytes} bytes of ${dtype}; a tensor holds at most 2^31 - 1 bytes`,
    );
  }
}

/** An axis: a number (an integer in [−rank, rank), checked by normAxis). */
export function axisArg(op: string, axis: unknown, rank: number, shape: readonly number[]): number {
  if (typeof axis !== 'number') throw new TypeError(`${op}: axis must be a number, got ${show(axis)}`);
  return normAxis(op, axis, rank, shape);
}

/** A non-negative safe integer count (a length, a number of points). */
export function countArg(op: string, name: string, n: unknown): number {
  if (typeof n !== 'number') throw new TypeError(`${op}: ${name} must be a number, got ${show(n)}`);
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${op}: ${name} ${n} must be a non-negative safe integer`);
  return n;
}

/** An options bag: undefined (the defaults) or an object. */
export function optionsArg<T extends object>(op: string, opts: T | undefined): T {
  if (opts === undefined) return {} as T;
  if (opts === null || typeof opts !== 'object') throw new TypeError(`${op}: options must be an object, got ${show(opts)}`);
  return opts;
}
