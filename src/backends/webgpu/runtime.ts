// The WebGPU runtime: one device, a buffer pool by size class, a pipeline cache keyed by shader
// source, a cache of small `meta` buffers (shapes and strides) keyed by content, and one open
// command encoder that collects dispatches until something needs the queue.
//
// Ordering: everything goes through the single queue in program order. A buffer released to the
// pool may still be read by recorded work; whoever reuses it records later work, so it runs
// later. The one exception is queue.writeBuffer, which jumps ahead of the open encoder: an upload
// into a buffer the open encoder touches first submits the encoder.
/// <reference types="@webgpu/types" />
import { sizeOf } from '../backend';
import type { GpuBuffer, GpuStorage } from './layout';
import { rowMajor } from '../view';

// The GPUBufferUsage / GPUMapMode values, spelled out so nothing depends on globals being installed.
const USAGE = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, STORAGE: 0x80 } as const;
const MAP_READ_MODE = 0x1;

/** Submit the open encoder after this many dispatches, so a long synchronous loop keeps the GPU busy. */
const MAX_PENDING = 64;
/** At most this many distinct meta buffers are cached. */
const META_CACHE = 1024;

export interface PoolStats {
  /** buffers held by live storages */
  liveBuffers: number;
  liveBytes: number;
  /** released buffers kept for reuse */
  pooledBuffers: number;
  pooledBytes: number;
  /** GPUBuffers created since init (pool misses) */
  created: number;
  pipelines: number;
  metaBuffers: number;
  /** command buffers submitted since init */
  submits: number;
}

/**
 * Size classes: four per power of two (256, 320, 384, 448, 512, 640, ...), so a request wastes at
 * most 25%, and a tensor whose size wobbles a little still hits the same class.
 */
export function sizeClass(bytes: number): number {
  if (bytes <= 256) return 256;
  const p = 2 ** Math.floor(Math.log2(bytes));
  const step = p / 4;
  return Math.ceil(bytes / step) * step;
}

export class Runtime {
  readonly device: GPUDevice;
  readonly description: string;
  readonly maxPoolBytes: number;
  #free = new Map<number, GPUBuffer[]>();
  #live = { buffers: 0, bytes: 0 };
  #pooled = { buffers: 0, bytes: 0 };
  #created = 0;
  #submits = 0;
  #pipelines = new Map<string, GPUComputePipeline>();
  #metas = new Map<string, GPUBuffer>();
  #encoder: GPUCommandEncoder | null = null;
  /** the open compute pass: consecutive dispatches share one (WebGPU orders them within it) */
  #pass: GPUComputePassEncoder | null = null;
  #pending = 0;
  /** buffers the open encoder reads or writes */
  #touched = new Set<GPUBuffer>();
  /** buffers to destroy once the open encoder is submitted */
  #doomed: GPUBuffer[] = [];
  #error: string | null = null;
  #lost: string | null = null;

  constructor(device: GPUDevice, description: string, maxPoolBytes: number) {
    this.device = device;
    this.description = description;
    this.maxPoolBytes = maxPoolBytes;
    device.addEventListener('uncapturederror', (e) => {
      const msg = (e as GPUUncapturedErrorEvent).error?.message ?? String(e);
      this.#error ??= msg;
    });
    void device.lost.then((info) => {
      this.#lost = info.message || info.reason || 'unknown reason';
    });
  }

  // ------------------------------------------------------------ buffers

  /** A buffer of at least `bytes` with refs = 1, from the pool when one of its class is free. */
  acquire(bytes: number): GpuBuffer {
    this.check();
    const size = sizeClass(bytes);
    const hit = this.#free.get(size)?.pop();
    let buffer: GPUBuffer;
    if (hit) {
      buffer = hit;
      this.#pooled.buffers--;
      this.#pooled.bytes -= size;
    } else {
      buffer = this.device.createBuffer({ size, usage: USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST });
      this.#created++;
    }
    this.#live.buffers++;
    this.#live.bytes += size;
    return { buffer, bytes: size, refs: 1 };
  }

  /** Drop one handle; the last one sends the buffer back to the pool (or destroys it when the pool is full). */
  releaseBuffer(b: GpuBuffer): void {
    if (b.refs <= 0) throw new Error('webgpu: a buffer was released more often than it was acquired');
    if (--b.refs > 0) return;
    this.#live.buffers--;
    this.#live.bytes -= b.bytes;
    if (this.#pooled.bytes + b.bytes > this.maxPoolBytes) {
      this.#destroy(b.buffer);
      return;
    }
    let list = this.#free.get(b.bytes);
    if (!list) this.#free.set(b.bytes, (list = []));
    list.push(b.buffer);
    this.#pooled.buffers++;
    this.#pooled.bytes += b.bytes;
  }

  /** Destroy every pooled buffer (live ones are untouched). */
  trimPool(): void {
    for (const list of this.#free.values()) for (const buf of list) this.#destroy(buf);
    this.#free.clear();
    this.#pooled = { buffers: 0, bytes: 0 };
  }

  #destroy(buf: GPUBuffer): void {
    if (this.#encoder && this.#touched.has(buf)) this.#doomed.push(buf);
    else buf.destroy();
  }

  memory(): { buffers: number; bytes: number } {
    return { ...this.#live };
  }

  stats(): PoolStats {
    return {
      liveBuffers: this.#live.buffers,
      liveBytes: this.#live.bytes,
      pooledBuffers: this.#pooled.buffers,
      pooledBytes: this.#pooled.bytes,
      created: this.#created,
      pipelines: this.#pipelines.size,
      metaBuffers: this.#metas.size,
      submits: this.#submits,
    };
  }

  /** A fresh storage handle (row-major, offset 0) on a new buffer. */
  fresh(shape: readonly number[], dtype: 'float32' | 'int32' = 'float32'): GpuStorage {
    const buf = this.acquire(Math.max(4, sizeOf(shape) * 4));
    return { device: 'webgpu', dtype, buf, view: rowMajor([...shape]) };
  }

  /** Copy float32 (or int32) values into the start of a buffer. */
  write(b: GpuBuffer, values: Float32Array | Int32Array): void {
    if (values.length === 0) return;
    // writeBuffer runs before the open encoder: submit it first if it uses this buffer
    if (this.#touched.has(b.buffer)) this.flush();
    this.device.queue.writeBuffer(b.buffer, 0, values.buffer, values.byteOffset, values.byteLength);
  }

  // ------------------------------------------------------------ dispatch

  /** The compute pipeline for a WGSL source, compiled once. */
  pipeline(code: string): GPUComputePipeline {
    let p = this.#pipelines.get(code);
    if (!p) {
      const module = this.device.createShaderModule({ code });
      p = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
      this.#pipelines.set(code, p);
    }
    return p;
  }

  /** A read-only storage buffer holding `values` as u32, shared by every dispatch with the same values. */
  meta(values: readonly number[]): GPUBuffer {
    const key = values.join(',');
    const hit = this.#metas.get(key);
    if (hit) {
      // least recently used goes first: move the hit to the end
      this.#metas.delete(key);
      this.#metas.set(key, hit);
      return hit;
    }
    for (const v of values) {
      if (!(v >= 0 && v <= 0xffffffff && Number.isInteger(v))) {
        throw new Error(`webgpu: index ${v} does not fit a u32 (tensor too large for this backend)`);
      }
    }
    const buf = this.device.createBuffer({
      size: Math.max(16, Math.ceil(values.length / 4) * 16),
      usage: USAGE.STORAGE,
      mappedAtCreation: true,
    });
    new Uint32Array(buf.getMappedRange()).set(values);
    buf.unmap();
    this.#metas.set(key, buf);
    if (this.#metas.size > META_CACHE) {
      const [oldKey, old] = this.#metas.entries().next().value as [string, GPUBuffer];
      this.#metas.delete(oldKey);
      this.#destroy(old);
    }
    return buf;
  }

  /** The open encoder, outside any compute pass (for copies and clears). */
  #enc(): GPUCommandEncoder {
    this.#endPass();
    if (!this.#encoder) {
      this.#encoder = this.device.createCommandEncoder();
      // submit soon even if nothing asks: the GPU should not wait for the next read
      queueMicrotask(() => this.flush());
    }
    return this.#encoder;
  }

  /**
   * Record one dispatch: bindings are [meta, out, ...inputs] in that order (binding i = buffers[i]).
   * A number of workgroups is spread over x and y (each at most 65535); a triple is used as is.
   */
  dispatch(code: string, buffers: GPUBuffer[], groups: number | readonly [number, number, number]): void {
    this.check();
    const [x, y, z] = typeof groups === 'number' ? [Math.min(groups, 65535), Math.ceil(groups / 65535), 1] : groups;
    if (x === 0 || y === 0 || z === 0) return;
    if (x > 65535 || y > 65535 || z > 65535) throw new Error(`webgpu: a dispatch of ${x}×${y}×${z} workgroups exceeds the limit of 65535 per dimension`);
    const pipeline = this.pipeline(code);
    const bind = this.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    this.#pass ??= this.#enc().beginComputePass();
    this.#pass.setPipeline(pipeline);
    this.#pass.setBindGroup(0, bind);
    this.#pass.dispatchWorkgroups(x, y, z);
    for (const b of buffers) this.#touched.add(b);
    if (++this.#pending >= MAX_PENDING) this.flush();
  }

  /** Zero `bytes` bytes at the start of a buffer (recorded in order with the dispatches). */
  clear(b: GpuBuffer, bytes: number): void {
    if (bytes === 0) return;
    this.#enc().clearBuffer(b.buffer, 0, Math.ceil(bytes / 4) * 4);
    this.#touched.add(b.buffer);
  }

  #endPass(): void {
    this.#pass?.end();
    this.#pass = null;
  }

  /** Submit the open encoder, if any. */
  flush(): void {
    if (!this.#encoder) return;
    this.#endPass();
    const enc = this.#encoder;
    this.#encoder = null;
    this.#pending = 0;
    this.#touched.clear();
    this.device.queue.submit([enc.finish()]);
    this.#submits++;
    for (const b of this.#doomed) b.destroy();
    this.#doomed = [];
  }

  /** Read `n` floats starting at element `offset` of a buffer (the only place that waits for the GPU). */
  async readBack(b: GpuBuffer, offset: number, n: number, dtype: 'float32' | 'int32' = 'float32'): Promise<Float32Array | Int32Array> {
    this.check();
    const Out = dtype === 'int32' ? Int32Array : Float32Array;
    if (n === 0) return new Out(0);
    const staging = this.device.createBuffer({ size: n * 4, usage: USAGE.MAP_READ | USAGE.COPY_DST });
    this.#enc().copyBufferToBuffer(b.buffer, offset * 4, staging, 0, n * 4);
    this.flush();
    try {
      await staging.mapAsync(MAP_READ_MODE);
      const out = new Out(staging.getMappedRange().slice(0));
      staging.unmap();
      this.check();
      return out;
    } catch (e) {
      this.check();
      throw e;
    } finally {
      staging.destroy();
    }
  }

  /** Throw a pending device error (a failed kernel is reported asynchronously by WebGPU). */
  check(): void {
    if (this.#lost) throw new Error(`webgpu: the device was lost (${this.#lost}); call initWebGPU() again after a reload`);
    if (this.#error) {
      const msg = this.#error;
      this.#error = null;
      throw new Error(`webgpu: a kernel failed: ${msg}`);
    }
  }
}
