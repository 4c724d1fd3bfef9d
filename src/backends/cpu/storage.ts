// CPU storage: a typed array seen through a strided view. Several views (reshape, permute,
// expand, slice: the engine computes them) share one refcounted buffer, which goes back to a
// pool when its last handle is released.
//
// The views are plain objects (the device-neutral View plus the data and the element count)
// rather than `ndarray`s: every op makes one, and the ndarray constructor (dtype sniffing, a class
// per dtype and rank) cost more than a small elementwise op itself.
import { rowMajorStrides, sizeOf, typedArray, type DType, type Storage, type TypedArray } from '../backend';
import { isRowMajor, type View } from '../view';
import { heapAlloc, heapFree, heapWithdraw, inHeap } from './heap';

/** Element (i₀, i₁, ...) is data[offset + Σ iₖ·strides[k]]; stride 0 on broadcast axes. */
export interface CpuView extends View {
  readonly data: TypedArray;
  readonly size: number;
}

export interface CpuBuffer {
  data: TypedArray;
  refs: number;
}

export interface CpuStorage extends Storage {
  readonly device: 'cpu';
  readonly buf: CpuBuffer;
  readonly view: CpuView;
}

export const stats = { buffers: 0, bytes: 0 };

/** The most bytes one CPU buffer may hold (the wasm heap's 2 GiB, addressed with Int32). */
export const MAX_BYTES = 2 ** 31 - 1;

// Released buffers wait here to be reused by the next allocation of the same dtype and length:
// a training loop allocates the same sizes every step, and a fresh large typed array costs far
// more than the work done in it (the allocator zero-fills it, the OS faults its pages in, and
// V8's external-memory accounting triggers GCs). Bounded in bytes; what does not fit is dropped
// for the GC as before.
const POOL_BYTES = 128 * 2 ** 20;
const POOL_PER_SIZE = 32;
const pool = { float32: new Map<number, TypedArray[]>(), float64: new Map<number, TypedArray[]>(), int32: new Map<number, TypedArray[]>() };
let pooledBytes = 0;

/**
 * A buffer of n elements. Its contents are arbitrary (it may be a reused one) unless `zeroed`:
 * kernels that write every element pass false.
 */
export function alloc(dtype: DType, n: number, zeroed = false): TypedArray {
  // refused before anything is reserved: a buffer this big would not fit the wasm heap, and a
  // plain typed array of it could not be handed to the kernels (Int32 addresses and counts);
  // asked of V8 it may also end the process with an out-of-memory no `catch` can intercept
  const bytes = n * (dtype === 'float64' ? 8 : 4);
  if (!(bytes <= MAX_BYTES)) {
    throw new RangeError(`cpu: cannot allocate ${n} ${dtype} elements (${bytes} bytes); a CPU buffer holds at most 2^31 - 1 bytes`);
  }
  // big float buffers live in the wasm heap, where the SIMD kernels use them in place; int32
  // ones never do (the heap's kernels are float kernels: keeping ints out keeps them off them)
  const big = dtype === 'int32' ? null : heapAlloc(dtype, n);
  if (big !== null) {
    if (zeroed) big.fill(0);
    return big;
  }
  const free = pool[dtype].get(n);
  if (free !== undefined && free.length > 0) {
    const data = free.pop()!;
    pooledBytes -= data.byteLength;
    if (zeroed) data.fill(0);
    return data;
  }
  return typedArray(dtype, n);
}

function recycle(data: TypedArray): void {
  if (inHeap(data)) {
    heapFree(data);
    return;
  }
  if (data.length === 0 || pooledBytes + data.byteLength > POOL_BYTES) return;
  const byLength = pool[dtypeOf(data)];
  let free = byLength.get(data.length);
  if (free === undefined) byLength.set(data.length, (free = []));
  if (free.length >= POOL_PER_SIZE) return;
  free.push(data);
  pooledBytes += data.byteLength;
}

/** Give back a scratch buffer from alloc() that no storage wraps (a copy a kernel made for itself). */
export function discard(data: TypedArray): void {
  recycle(data);
}

/** Drop every pooled buffer (for the GC); returns the bytes dropped. */
export function clearPool(): number {
  const bytes = pooledBytes;
  pool.float32.clear();
  pool.float64.clear();
  pool.int32.clear();
  pooledBytes = 0;
  return bytes;
}

/** Bytes held by released buffers waiting for reuse. */
export function pooled(): number {
  return pooledBytes;
}


export function makeView(data: TypedArray, shape: readonly number[], strides: readonly number[], offset: number): CpuView {
  return { data, shape, strides, offset, size: sizeOf(shape) };
}

/**
 * A new buffer (refs = 1) wrapped in a row-major view. `shape` is kept, not copied: callers pass
 * an array of their own (the registry's fresh output shape).
 */
export function fresh(data: TypedArray, shape: readonly number[]): CpuStorage {
  stats.buffers++;
  stats.bytes += data.byteLength;
  return { device: 'cpu', buf: { data, refs: 1 }, view: makeView(data, shape, rowMajorStrides(shape), 0) };
}

/** Another handle on s's buffer, seen through v (whose arrays are kept, not copied). */
export function view(s: CpuStorage, v: View): CpuStorage {
  s.buf.refs++;
  return { device: 'cpu', buf: s.buf, view: makeView(s.buf.data, v.shape, v.strides, v.offset) };
}

export function release(s: CpuStorage): void {
  const refs = --s.buf.refs;
  if (refs === 0) {
    stats.buffers--;
    stats.bytes -= s.buf.data.byteLength;
    recycle(s.buf.data);
  } else if (refs < 0) {
    // a double release (a lifetime bug above us): make sure the buffer is never handed out twice
    s.buf.refs = -Infinity;
    if (inHeap(s.buf.data)) {
      heapWithdraw(s.buf.data);
      return;
    }
    const free = pool[dtypeOf(s.buf.data)].get(s.buf.data.length);
    const at = free?.indexOf(s.buf.data) ?? -1;
    if (at >= 0) {
      free!.splice(at, 1);
      pooledBytes -= s.buf.data.byteLength;
    }
  }
}

export function dtypeOf(data: TypedArray): DType {
  return data instanceof Float64Array ? 'float64' : data instanceof Int32Array ? 'int32' : 'float32';
}

/**
 * The values in row-major order, without a copy when the view already is one (do not write to it).
 * A copy is made exactly when the view is not row-major; pass it to discard() when done (a heap
 * buffer is otherwise never reused).
 */
export function contiguous(s: CpuStorage): TypedArray {
  const v = s.view;
  const n = v.size;
  if (isRowMajor(v)) {
    return v.offset === 0 && v.data.length === n ? v.data : v.data.subarray(v.offset, v.offset + n);
  }
  return gather(v);
}

/** A new buffer holding v's elements in row-major order (always a copy). */
export function gather(v: CpuView): TypedArray {
  const out = alloc(dtypeOf(v.data), v.size);
  copyInto(makeView(out, v.shape, rowMajorStrides(v.shape), 0), v);
  return out;
}

/** dst[...] = src[...] for views of one shape (any strides, any dtypes). */
export function copyInto(dst: CpuView, src: CpuView): void {
  const n = dst.size;
  if (n === 0) return;
  const r = dst.shape.length;
  if (r === 0) {
    dst.data[dst.offset] = src.data[src.offset]!;
    return;
  }
  const { shape, data: dd, strides: dst_ } = dst;
  const { data: sd, strides: sst } = src;
  const last = shape[r - 1]!;
  const dj = dst_[r - 1]!;
  const sj = sst[r - 1]!;
  const idx = new Int32Array(r);
  let dp = dst.offset;
  let sp = src.offset;
  for (let k = 0, outer = n / last; k < outer; k++) {
    if (dj === 1 && sj === 1) for (let j = 0; j < last; j++) dd[dp + j] = sd[sp + j]!;
    else for (let j = 0; j < last; j++) dd[dp + j * dj] = sd[sp + j * sj]!;
    for (let d = r - 2; d >= 0; d--) {
      idx[d]!++;
      dp += dst_[d]!;
      sp += sst[d]!;
      if (idx[d]! < shape[d]!) break;
      dp -= dst_[d]! * shape[d]!;
      sp -= sst[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
}
