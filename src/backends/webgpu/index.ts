// The WebGPU backend: `await initWebGPU()` acquires one device per process (Node: Dawn through
// the optional `webgpu` package, loaded lazily; browsers: navigator.gpu) and registers the
// backend, after which `tensor(data, { device: 'webgpu' })` and `t.to('webgpu')` work.
/// <reference types="@webgpu/types" />
import { declareDevice, registerBackend, sizeOf, type Backend, type DType } from '../backend';
import { fmtShape } from '../../ops/registry';
import { isRowMajor } from '../view';
import { makeKernels } from './kernels';
import type { GpuStorage } from './layout';
import { Runtime, type PoolStats } from './runtime';

export interface WebGPUOptions {
  /** Passed to requestAdapter. */
  powerPreference?: 'low-power' | 'high-performance';
  /** Node only: flags for Dawn's `create()`, e.g. `['adapter=SwiftShader']`. */
  dawnFlags?: string[];
  /** Bytes of released buffers kept for reuse before buffers are destroyed (default 256 MiB). */
  maxPoolBytes?: number;
}

export type WebGPUStats = PoolStats;

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
// A variable, not a literal: bundlers leave the import alone and browsers never see it resolved.
const DAWN_PACKAGE = 'webgpu';

let pending: Promise<string> | null = null;
let runtime: Runtime | null = null;
// Dawn's instance (the GPU object from create()) must outlive its devices: if the garbage
// collector takes it, the device's event processing uses freed memory (hangs, segfaults).
const keepAlive: unknown[] = [];

// 'webgpu' exists from import on; using it before initWebGPU() says what to call
declareDevice('webgpu', 'call `await initWebGPU()` first');

const isNode = () => typeof process !== 'undefined' && !!process.versions?.node;

/**
 * Acquire a WebGPU device (once per process) and register the 'webgpu' backend. Resolves with
 * the adapter's description; rejects with an explanation when there is no adapter. Later calls
 * return the same promise (their options are ignored).
 *
 * @example
 * await initWebGPU();
 * const y = matmul(a.to('webgpu'), b.to('webgpu'));
 */
export function initWebGPU(options: WebGPUOptions = {}): Promise<string> {
  pending ??= acquire(options).catch((e: unknown) => {
    pending = null;
    throw e;
  });
  return pending;
}

/**
 * Buffer pool, pipeline and submit counters of the WebGPU backend; null before initWebGPU().
 *
 * @example
 * console.log(webgpuStats()?.liveBytes);   // bytes of buffers held by live storages
 */
export function webgpuStats(): WebGPUStats | null {
  return runtime?.stats() ?? null;
}

async function gpuEntry(options: WebGPUOptions): Promise<{ gpu: GPU; where: string }> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return { gpu: nav.gpu, where: 'navigator.gpu' };
  if (!isNode()) {
    throw new Error(
      'initWebGPU: this environment has no navigator.gpu. Browsers expose WebGPU only in a secure context ' +
        '(https:// or http://localhost) and only when WebGPU is enabled (Chrome/Edge 113+, Firefox 141+, Safari 26+).',
    );
  }
  let mod: { create(flags: string[]): GPU; globals: object };
  try {
    mod = (await import(DAWN_PACKAGE)) as typeof mod;
  } catch (e) {
    throw new Error(
      `initWebGPU: cannot load the optional package '${DAWN_PACKAGE}' (Dawn for Node): ${(e as Error).message}. ` +
        `Install it with: npm install ${DAWN_PACKAGE}`,
    );
  }
  // Dawn's constructors and constants (GPUBufferUsage, ...) as in a browser; kept if already there
  if (typeof (globalThis as { GPUBufferUsage?: unknown }).GPUBufferUsage === 'undefined') Object.assign(globalThis, mod.globals);
  return { gpu: mod.create(options.dawnFlags ?? []), where: `Node ${process.version}, Dawn via the '${DAWN_PACKAGE}' package` };
}

function noAdapterError(where: string): Error {
  const lines = [`initWebGPU: no WebGPU adapter found (${where}).`];
  if (isNode()) {
    const icd = process.env.VK_ICD_FILENAMES;
    lines.push(
      'On Linux without a usable GPU, run on SwiftShader (a CPU Vulkan driver that ships with Debian\'s chromium):',
      '  sudo apt-get install -y chromium libvulkan1',
      `  export VK_ICD_FILENAMES=${SWIFTSHADER_ICD}`,
      icd ? `(VK_ICD_FILENAMES is set to ${icd}; does that file exist?)` : '(VK_ICD_FILENAMES is not set.)',
      "Mesa's lavapipe from Debian 12 is rejected by Dawn. With a GPU, install its Vulkan driver.",
    );
  } else {
    lines.push('The browser exposes navigator.gpu but gave no adapter: WebGPU may be disabled or blocklisted for this GPU.');
  }
  return new Error(lines.join('\n'));
}

function describeAdapter(adapter: GPUAdapter): string {
  const info = adapter.info ?? ({} as Partial<GPUAdapterInfo>);
  const name = info.description || info.device || 'WebGPU adapter';
  const detail = [info.vendor, info.architecture].filter(Boolean).join(', ');
  return detail ? `${name} (${detail})` : name;
}

async function acquire(options: WebGPUOptions): Promise<string> {
  const { gpu, where } = await gpuEntry(options);
  const adapter = await gpu.requestAdapter(options.powerPreference ? { powerPreference: options.powerPreference } : undefined);
  keepAlive.push(gpu);
  if (!adapter) throw noAdapterError(where);
  keepAlive.push(adapter);
  // Large tensors need more than the default 128 MiB per binding: ask for what the adapter has.
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
    },
  });
  const description = describeAdapter(adapter);
  const rt = new Runtime(device, description, options.maxPoolBytes ?? 256 * 2 ** 20);
  void device.lost.then(() => {
    // a later initWebGPU() starts over with a new device
    if (runtime === rt) {
      runtime = null;
      pending = null;
    }
  });
  runtime = rt;
  registerBackend(makeBackend(rt));
  return description;
}

function makeBackend(rt: Runtime): Backend<GpuStorage> {
  const { kernels, copy } = makeKernels(rt);
  return {
    name: 'webgpu',
    dtypes: ['float32', 'int32'],
    upload(values: ArrayLike<number>, shape: number[], dtype: DType) {
      if (dtype !== 'float32' && dtype !== 'int32') {
        throw new Error(`webgpu: dtype ${dtype} is not supported (tensor of shape ${fmtShape(shape)}); WebGPU holds float32 and int32: cast first, t.cast('float32').to('webgpu')`);
      }
      const n = sizeOf(shape);
      if (values.length !== n) throw new Error(`webgpu: ${values.length} values do not fill shape ${fmtShape(shape)}`);
      // checked before the buffer is made: WebGPU reports an oversized buffer only later, as a
      // device error, after the tensor was handed out
      const { maxBufferSize, maxStorageBufferBindingSize } = rt.device.limits;
      const most = Math.min(maxBufferSize, maxStorageBufferBindingSize);
      if (n * 4 > most) {
        throw new RangeError(`webgpu: shape ${fmtShape(shape)} needs ${n * 4} bytes; this device's buffers hold at most ${most} bytes`);
      }
      const s = rt.fresh(shape, dtype);
      const Of = dtype === 'int32' ? Int32Array : Float32Array;
      rt.write(s.buf, values instanceof Of ? values : Of.from(values));
      return s;
    },
    read(s, shape) {
      const n = sizeOf(shape);
      if (isRowMajor(s.view)) return rt.readBack(s.buf, s.view.offset, n, s.dtype);
      // a strided view (permuted, expanded, sliced): gather it row-major first
      const c = copy(s);
      const values = rt.readBack(c.buf, 0, n, s.dtype);
      rt.releaseBuffer(c.buf); // the copy is already recorded before the release
      return values;
    },
    view(s, view) {
      s.buf.refs++;
      return { device: 'webgpu', dtype: s.dtype, buf: s.buf, view };
    },
    materialize(s) {
      return copy(s);
    },
    release(s) {
      rt.releaseBuffer(s.buf);
    },
    memory() {
      return rt.memory();
    },
    kernels,
  };
}
