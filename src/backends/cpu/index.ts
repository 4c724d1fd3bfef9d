// The CPU backend: storage is a strided view over a typed array (movement ops are views the
// engine computes); elementwise ops are compiled JS loops; matmul runs on WebAssembly SIMD (and
// worker threads) where available, in plain JS elsewhere.
import {
  BINARY_OPS, UNARY_OPS, registerBackend, sizeOf, tableOf,
  type Backend, type DType, type KernelTable, type OutInfo,
} from '../backend';
import { isRowMajor, slice } from '../view';
import { fmtShape } from '../../ops/registry';
import { BINARY_JS, INT_JS, TO_INT_JS, UNARY_JS, WHERE_JS, elementwise } from './elementwise';
import { argReduce, gather, scatterAdd } from './indexing';
import { config, DEFAULTS, type CpuConfig } from './config';
import { workerChunks } from './pool';
import { linear, matmul } from './matmul';
import { readyWorkers, startPool, stopThreads, whenThreadsReady } from './pool';
import { wasm, wasmReady } from './wasm';
import { mse, reduce } from './reduce';
import { fold } from './fold';
import {
  alloc, contiguous, copyInto, discard, dtypeOf, fresh, gather as gatherView, makeView, release, stats, view,
  type CpuStorage,
} from './storage';

// the ops with wasm kernels for big flat operands (see scripts/wasm-gen.mjs)
const WASM_EW = new Set(['add', 'sub', 'mul', 'div', 'relu', 'reluGrad']);

const unaryKernels = tableOf(UNARY_OPS, (op) => {
  const run = elementwise(['x'], UNARY_JS[op], WASM_EW.has(op) ? op : undefined);
  return (xs: CpuStorage[], _: unknown, out: OutInfo) => run(xs, out);
});
const binaryKernels = tableOf([...BINARY_OPS, 'reluGrad'] as const, (op) => {
  const run = elementwise(['a', 'b'], BINARY_JS[op], WASM_EW.has(op) ? op.toLowerCase() : undefined);
  const int = op !== 'reluGrad' && INT_JS[op] !== undefined ? elementwise(['a', 'b'], INT_JS[op]!) : run;
  return (xs: CpuStorage[], _: unknown, out: OutInfo) => (out.dtype === 'int32' ? int : run)(xs, out);
});
const whereKernel = elementwise(['c', 'a', 'b'], WHERE_JS);
const copyKernel = elementwise(['x'], UNARY_JS.copy);
const toIntKernel = elementwise(['x'], TO_INT_JS);

const kernels = {
  ...unaryKernels,
  ...binaryKernels,
  where: (xs, _, out) => whereKernel(xs, out),
  cast: (xs, _, out) => (out.dtype === 'int32' && dtypeOf(xs[0]!.view.data) !== 'int32' ? toIntKernel : copyKernel)(xs, out),
  gather: ([x, index], { axis }, out) => gather(x!, index!, axis, out),
  scatterAdd: ([g, index], { axis }, out) => scatterAdd(g!, index!, axis, out),
  argmax: ([x], { axis }, out) => argReduce('argmax', x!, axis, out),
  argmin: ([x], { axis }, out) => argReduce('argmin', x!, axis, out),
  sum: ([x], { axes }, out) => reduce('sum', x!, axes, out),
  linear: ([x, w, b], _, out) => linear(x!, w!, b!, out),
  mse: ([p, t], _, out) => mse(p!, t!, out),
  max: ([x], { axes }, out) => reduce('max', x!, axes, out),
  min: ([x], { axes }, out) => reduce('min', x!, axes, out),
  matmul: ([a, b], _, out) => matmul(a!, b!, out),
  fold: ([g], attrs, out) => fold(g!, attrs, out),

  pad: ([x], { before }, out) => {
    const res = fresh(alloc(out.dtype, sizeOf(out.shape), true), out.shape);
    copyInto(window(res, before, x!.view.shape), x!.view);
    return res;
  },
  concat: (xs, { axis }, out) => {
    const res = fresh(alloc(out.dtype, sizeOf(out.shape)), out.shape); // the inputs cover every element
    let at = 0;
    for (const x of xs) {
      copyInto(window(res, out.shape.map((_, i) => (i === axis ? at : 0)), x.view.shape), x.view);
      at += x.view.shape[axis]!;
    }
    return res;
  },
} satisfies KernelTable<CpuStorage>;

/**
 * A row-major copy the caller owns (never a view into the wasm heap). A strided view is gathered
 * by contiguous() into a buffer of our own first: that one goes back to the pool or the heap
 * (it once stayed in the heap for good: a 16 KB block lost per read of a transposed 64×64).
 */
function readCopy(s: CpuStorage) {
  const c = contiguous(s);
  const out = c.slice();
  if (!isRowMajor(s.view)) discard(c);
  return out;
}

/** The sub-array of s starting at `begin` with extent `shape` (a view on the same data). */
function window(s: CpuStorage, begin: readonly number[], shape: readonly number[]) {
  const v = slice(s.view, begin, begin.map((b, i) => b + shape[i]!));
  return makeView(s.view.data, v.shape, v.strides, v.offset);
}

export const cpuBackend: Backend<CpuStorage> = {
  name: 'cpu',
  dtypes: ['float32', 'float64', 'int32'],
  upload(values: ArrayLike<number>, shape: number[], dtype: DType) {
    // a buffer shorter than its shape would let kernels read past it (into other tensors' memory)
    if (values.length !== sizeOf(shape)) {
      throw new Error(`cpu: ${values.length} values do not fill shape ${fmtShape(shape)} (${sizeOf(shape)} elements)`);
    }
    const data = alloc(dtype, values.length);
    if (ArrayBuffer.isView(values)) data.set(values as unknown as ArrayLike<number>);
    else for (let i = 0; i < values.length; i++) data[i] = values[i]!;
    return fresh(data, [...shape]);
  },
  readSync(s) {
    return readCopy(s);
  },
  async read(s) {
    return readCopy(s);
  },
  view,
  materialize(s) {
    return fresh(gatherView(s.view), s.view.shape);
  },
  release,
  memory() {
    return { ...stats };
  },
  kernels,
};

registerBackend(cpuBackend);

export type { CpuConfig } from './config';

/**
 * Choose the CPU code paths (tests and benchmarks force each one): `wasm: false` runs everything
 * in plain JS; `threads: 1` keeps every job on the calling thread; the thresholds route calls by
 * size (set them to 0 to force the wasm or threaded path on any size; see config.ts and
 * docs/cpu.md); the timeouts pace the worker protocol. Unknown keys and values of the wrong type
 * (or negative, or not finite) throw, and leave the config as it was. Returns the config in force.
 *
 * @example
 * configureCpu({ threads: 1 });   // keep every job on this thread
 * configureCpu({ wasm: false });  // plain JS kernels only
 */
export function configureCpu(c: Partial<CpuConfig>): CpuConfig {
  for (const [key, value] of Object.entries(c)) {
    const want = typeof DEFAULTS[key as keyof CpuConfig];
    if (!(key in DEFAULTS)) throw new Error(`configureCpu: unknown option '${key}' (known: ${Object.keys(DEFAULTS).join(', ')})`);
    if (typeof value !== want || (want === 'number' && !(Number.isFinite(value) && (value as number) >= 0))) {
      throw new Error(`configureCpu: ${key} must be ${want === 'number' ? 'a finite number ≥ 0' : 'a boolean'}, got ${String(value)}`);
    }
  }
  Object.assign(config, c);
  return { ...config };
}

/**
 * The defaults back (the fastest path per call).
 *
 * @example
 * resetCpuConfig();   // undo configureCpu
 */
export function resetCpuConfig(): CpuConfig {
  return configureCpu(DEFAULTS);
}

/**
 * What this platform offers: WebAssembly SIMD kernels, shared memory, worker threads ready now.
 *
 * @example
 * if (!cpuCapabilities().wasm) console.warn('no wasm SIMD: the CPU backend runs in plain JS');
 */
export function cpuCapabilities(): { wasm: boolean; sharedMemory: boolean; workers: number; workerChunks: number } {
  const w = wasm();
  return { wasm: w !== null, sharedMemory: w?.shared ?? false, workers: readyWorkers(), workerChunks: workerChunks() };
}

/**
 * Start the worker pool now and wait until it is ready; resolves to the workers available.
 *
 * @example
 * const workers = await warmCpu();   // 0 when threads are unavailable or off
 */
export async function warmCpu(): Promise<number> {
  const w = await wasmReady();
  if (!w || config.threads === 1 || !config.wasm || !startPool(w, config.threads || 4)) return 0;
  return whenThreadsReady();
}

export { stopThreads };
