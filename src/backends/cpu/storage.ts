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

export function alloc(dtype: DType, n: number): TypedArray {
  return dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
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
