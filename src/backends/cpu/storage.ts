// CPU storage: an ndarray view over a typed array. Several views (reshape, permute, expand,
// slice) share one buffer, which is freed when its last handle is released.
import ndarray from 'ndarray';
import ops from 'ndarray-ops';
import { bytesPerElement, sizeOf, type DType, type Storage, type TypedArray } from '../backend';

export interface CpuBuffer {
  data: TypedArray;
  refs: number;
}

export interface CpuStorage extends Storage {
  readonly device: 'cpu';
  readonly buf: CpuBuffer;
  readonly arr: ndarray.NdArray<TypedArray>;
}

export const stats = { buffers: 0, bytes: 0 };

// Released buffers wait here to be reused by the next allocation of the same dtype and length:
// a training loop allocates the same sizes every step, and a fresh large typed array costs far
// more than the work done in it (the allocator zero-fills it, the OS faults its pages in, and
// V8's external-memory accounting triggers GCs). Bounded in bytes; what does not fit is dropped
// for the GC as before.
const POOL_BYTES = 128 * 2 ** 20;
const POOL_PER_SIZE = 32;
const pool = { float32: new Map<number, TypedArray[]>(), float64: new Map<number, TypedArray[]>() };
let pooledBytes = 0;

/**
 * A buffer of n elements. Its contents are arbitrary (it may be a reused one) unless `zeroed`:
 * kernels that write every element pass false.
 */
export function alloc(dtype: DType, n: number, zeroed = false): TypedArray {
  const free = pool[dtype].get(n);
  if (free !== undefined && free.length > 0) {
    const data = free.pop()!;
    pooledBytes -= data.byteLength;
    if (zeroed) data.fill(0);
    return data;
  }
  return dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
}

function recycle(data: TypedArray): void {
  if (data.length === 0 || pooledBytes + data.byteLength > POOL_BYTES) return;
  const byLength = pool[dtypeOf(data)];
  let free = byLength.get(data.length);
  if (free === undefined) byLength.set(data.length, (free = []));
  if (free.length >= POOL_PER_SIZE) return;
  free.push(data);
  pooledBytes += data.byteLength;
}

/** Drop every pooled buffer (for the GC); returns the bytes dropped. */
export function clearPool(): number {
  const bytes = pooledBytes;
  pool.float32.clear();
  pool.float64.clear();
  pooledBytes = 0;
  return bytes;
}

/** Bytes held by released buffers waiting for reuse. */
export function pooled(): number {
  return pooledBytes;
}

export function rowMajorStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** A new buffer (refs = 1) wrapped in a row-major view. */
export function fresh(data: TypedArray, shape: readonly number[]): CpuStorage {
  const buf = { data, refs: 1 };
  stats.buffers++;
  stats.bytes += data.byteLength;
  return { device: 'cpu', buf, arr: ndarray(data, [...shape], rowMajorStrides(shape), 0) };
}

/** Another handle on s's buffer with a different view. */
export function view(s: CpuStorage, shape: readonly number[], stride: readonly number[], offset: number): CpuStorage {
  s.buf.refs++;
  return { device: 'cpu', buf: s.buf, arr: ndarray(s.buf.data, [...shape], [...stride], offset) };
}

export function release(s: CpuStorage): void {
  if (--s.buf.refs === 0) {
    stats.buffers--;
    stats.bytes -= s.buf.data.byteLength;
    recycle(s.buf.data);
  }
}

export function dtypeOf(data: TypedArray): DType {
  return data instanceof Float64Array ? 'float64' : 'float32';
}

/** Row-major with unit inner stride (size-1 dims may have any stride). */
export function isRowMajor(arr: ndarray.NdArray<TypedArray>): boolean {
  let expect = 1;
  for (let i = arr.shape.length - 1; i >= 0; i--) {
    const d = arr.shape[i]!;
    if (d !== 1 && arr.stride[i] !== expect) return false;
    expect *= d;
  }
  return true;
}

/** The values in row-major order, without a copy when the view already is one (do not write to it). */
export function contiguous(s: CpuStorage): TypedArray {
  const { arr } = s;
  const n = sizeOf(arr.shape);
  if (isRowMajor(arr)) {
    return arr.offset === 0 && arr.data.length === n ? arr.data : arr.data.subarray(arr.offset, arr.offset + n);
  }
  const out = alloc(dtypeOf(arr.data), n);
  copyInto(ndarray(out, [...arr.shape], rowMajorStrides(arr.shape), 0), arr);
  return out;
}

/** dst[...] = src[...] for views of one shape (any strides, any dtypes). */
export function copyInto(dst: ndarray.NdArray<TypedArray>, src: ndarray.NdArray<TypedArray>): void {
  if (sizeOf(dst.shape) === 0) return;
  if (dst.shape.length === 0) {
    dst.data[dst.offset] = src.data[src.offset]!;
    return;
  }
  ops.assign(dst, src);
}
