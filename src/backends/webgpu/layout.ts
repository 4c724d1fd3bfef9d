// WebGPU storage handles: a view (src/backends/view.ts) on a refcounted pooled buffer. The view
// arithmetic itself (broadcast strides, coalescing) is device-neutral and lives in view.ts.
/// <reference types="@webgpu/types" />
import type { Storage } from '../backend';
import type { View } from '../view';

/** One GPUBuffer and the number of storage handles on it. */
export interface GpuBuffer {
  readonly buffer: GPUBuffer;
  /** capacity in bytes (the size class) */
  readonly bytes: number;
  refs: number;
}

export interface GpuStorage extends Storage {
  readonly device: 'webgpu';
  /** what the buffer's 32-bit words hold (WGSL f32 or i32) */
  readonly dtype: 'float32' | 'int32';
  readonly buf: GpuBuffer;
  /** shape, strides and offset in elements (strides 0 on broadcast axes) */
  readonly view: View;
}
