// Storage handles and the index arithmetic done on the CPU before a dispatch. A WebGPU storage is
// a strided view (shape, strides, offset in elements) on a refcounted pooled buffer, like the CPU
// backend's ndarray views: reshape, permute, expand and slice make views, never copies.
/// <reference types="@webgpu/types" />
import type { Storage } from '../backend';

/** One GPUBuffer and the number of storage handles on it. */
export interface GpuBuffer {
  readonly buffer: GPUBuffer;
  /** capacity in bytes (the size class) */
  readonly bytes: number;
  refs: number;
}

export interface GpuStorage extends Storage {
  readonly device: 'webgpu';
  readonly buf: GpuBuffer;
  readonly shape: readonly number[];
  /** in elements; 0 on broadcast axes */
  readonly strides: readonly number[];
  /** in elements */
  readonly offset: number;
}

export { rowMajorStrides } from '../backend';

/** Row-major with unit inner stride; size-1 axes may have any stride. */
export function isRowMajor(shape: readonly number[], strides: readonly number[]): boolean {
  let expect = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i]!;
    if (d !== 1 && strides[i] !== expect) return false;
    expect *= d;
  }
  return true;
}

/** Strides that read `s` as if broadcast to `shape` (0 on stretched and missing axes). */
export function broadcastStrides(s: GpuStorage, shape: readonly number[]): number[] {
  const off = shape.length - s.shape.length;
  return shape.map((d, i) => {
    const j = i - off;
    if (j < 0 || (s.shape[j] === 1 && d !== 1)) return 0;
    return s.strides[j]!;
  });
}

/**
 * Merge axes that every operand walks contiguously (TensorIterator's coalescing), and drop
 * size-1 axes: a row-major elementwise op over [64, 32, 10] becomes one axis of 20480, so the
 * shader divides once per element instead of three times. `strides[k]` are operand k's strides
 * over `shape`; the returned strides are in the same order.
 */
export function coalesce(shape: readonly number[], strides: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const last = outShape.length - 1;
    // axis d-1 (kept, last) and d merge when stepping d-1 equals walking all of d, for every operand
    if (last >= 0 && strides.every((st, k) => outStrides[k]![last] === st[d]! * n)) {
      outShape[last] = outShape[last]! * n;
      strides.forEach((st, k) => (outStrides[k]![last] = st[d]!));
    } else {
      outShape.push(n);
      strides.forEach((st, k) => outStrides[k]!.push(st[d]!));
    }
  }
  return { shape: outShape, strides: outStrides };
}
