// Big buffers live in the wasm memory when it is shared (Node; cross-origin isolated pages), so
// the SIMD kernels read and write them in place instead of copying them in and out. A shared
// memory never moves when it grows, so typed-array views on it stay valid for good.
//
// The heap is a bump pointer plus free lists by size (a released block is reused by the next
// request of the same rounded size, like the JS buffer pool). The memory never shrinks: what a
// program once held at its peak stays reserved. Scratch space for packing and copies is one more
// block, replaced by a bigger one when needed. Where the memory is not shared the heap is off and
// buffers are plain typed arrays (copied into scratch when a kernel needs them).
import type { DType, TypedArray } from '../backend';
import { config, HEAP_MIN_BYTES, HEAP_SLACK_BYTES } from './config';
import { reserve, wasm, type Wasm } from './wasm';

export { HEAP_MIN_BYTES, HEAP_SLACK_BYTES };
/** The first bytes of the memory hold the worker threads' shared words (32 bytes) and two scalar slots. */
const RESERVED = 64;
/** Byte addresses of two 8-byte slots where a kernel's broadcast scalar operands are written. */
export const SCALAR_SLOTS = [32, 48] as const;

/** Free blocks by rounded size: an address, or the view last handed out there (reused as is when it fits). */
const free = new Map<number, (number | TypedArray)[]>();
const buffers = new WeakSet<ArrayBufferLike>();
let top = RESERVED;
/** bytes in free blocks (given back, not handed out again) */
let freeBytes = 0;

let scratchAt = 0;
let scratchBytes = 0;
let enabled = true;

const round = (bytes: number) => (bytes + 63) & ~63;

function heapWasm(): Wasm | null {
  const w = enabled && config.wasm ? wasm() : null;
  return w !== null && w.shared ? w : null;
}

const addressOf = (e: number | TypedArray) => (typeof e === 'number' ? e : e.byteOffset);

function take(w: Wasm, bytes: number, grow = true): number {
  const list = free.get(bytes);
  if (list !== undefined && list.length > 0) {
    freeBytes -= bytes;
    return addressOf(list.pop()!);
  }
  if (!grow || !reserve(w, top + bytes)) return -1;
  const at = top;
  top += bytes;
  return at;
}

function give(at: number | TypedArray, bytes: number): void {
  let list = free.get(bytes);
  if (list === undefined) free.set(bytes, (list = []));
  list.push(at);
  freeBytes += bytes;
}

/** A heap buffer of n elements (contents arbitrary), or null: too small, or no shared memory. */
export function heapAlloc(dtype: DType, n: number): TypedArray | null {
  if (dtype === 'int32') return null; // the heap's kernels are float kernels
  const sz = dtype === 'float64' ? 8 : 4;
  if (n * sz < HEAP_MIN_BYTES) return null;
  const w = heapWasm();
  if (w === null) return null;
  const bytes = round(n * sz);
  const list = free.get(bytes);
  const last = list !== undefined && list.length > 0 ? list[list.length - 1]! : undefined;
  if (last !== undefined && typeof last !== 'number' && last.length === n && last.BYTES_PER_ELEMENT === sz) {
    // the same view again (a training loop allocates the same sizes every step)
    list!.pop();
    freeBytes -= bytes;
    return last;
  }
  const at = take(w, bytes, freeBytes < HEAP_SLACK_BYTES);
  if (at < 0) return null;
  const buf = w.memory.buffer;
  buffers.add(buf);
  return dtype === 'float64' ? new Float64Array(buf, at, n) : new Float32Array(buf, at, n);
}

/** Whether `data` is a heap buffer (so its byteOffset is its address for the kernels). */
export function inHeap(data: TypedArray): boolean {
  // heap buffers are never smaller; and reading .buffer of a small typed array makes V8 move its
  // elements off the JS heap (measured: half of a 4-element add's time went here)
  return data.byteLength >= HEAP_MIN_BYTES && buffers.has(data.buffer);
}

/** Take a heap buffer back (its last handle was released). */
export function heapFree(data: TypedArray): void {
  give(data, round(data.byteLength));
}

/** Withdraw a block given back twice (a lifetime bug above us), if still free: never hand it out twice. */
export function heapWithdraw(data: TypedArray): void {
  const list = free.get(round(data.byteLength));
  const i = list?.findIndex((e) => addressOf(e) === data.byteOffset) ?? -1;
  if (i >= 0) {
    list!.splice(i, 1);
    freeBytes -= round(data.byteLength);
  }
}

/**
 * The address of `bytes` of scratch space in the wasm memory, valid until the next call (the
 * kernels run one at a time). -1 if the memory cannot hold it.
 */
export function scratch(w: Wasm, bytes: number): number {
  if (bytes <= scratchBytes) return scratchAt;
  if (!w.shared) {
    // no heap: the memory above the reserved words is all scratch
    return reserve(w, RESERVED + bytes) ? RESERVED : -1;
  }
  if (scratchBytes > 0) give(scratchAt, scratchBytes);
  const size = round(Math.max(bytes, scratchBytes * 1.5));
  const at = take(w, size);
  if (at < 0) {
    scratchBytes = 0;
    return -1;
  }
  scratchAt = at;
  scratchBytes = size;
  return at;
}

/** Tests: keep new buffers out of the heap (plain typed arrays), or let them in again. */
export function useHeap(on: boolean): void {
  enabled = on;
}

/** Bytes the heap has handed out or holds free (the memory's high-water mark). */
export function heapBytes(): number {
  return top - RESERVED;
}
