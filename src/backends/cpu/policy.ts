// Which code path a CPU op takes, decided in one place from its operands and the thresholds in
// CpuConfig (config.ts, each with its measured reason). The kernels only carry the decision out;
// within a path they still pick a loop shape (a flat, two-axis or strided JS loop; the packed or
// the matrix-vector wasm product), which changes how, not where, the work runs.
import { config } from './config';

/**
 * - js: plain JS loops (typed arrays, any layout);
 * - wasm: the SIMD kernel on operands already in the wasm heap (scalars through a slot), in place;
 * - wasm-copy: the SIMD kernel, operands outside the heap copied into scratch and the output out;
 * - threaded: the wasm kernel split over the worker threads and this one (the pool may have no
 *   worker ready yet: then it runs as `wasm` on this thread).
 */
export type CpuPath = 'js' | 'wasm' | 'wasm-copy' | 'threaded';

export type OpFamily = 'matmul' | 'elementwise' | 'rows' | 'sum' | 'fused';

/** What the policy needs to know about one call. */
export interface CallInfo {
  /**
   * matmul: a product (work = m·k·n); elementwise: a flat op (work = elements); rows: a
   * two-axis broadcast op run row by row (work = elements, `row` = the row's length); sum: a row
   * or column-block sum (work = values summed per output); fused: mse, linear's bias add.
   */
  family: OpFamily;
  work: number;
  /** a wasm kernel exists for this op, dtype and layout (and the module is compiled) */
  kernel: boolean;
  /** the output and every operand that is not a single value are in the wasm heap */
  inHeap: boolean;
  /** chunks the work splits into for threads (1: it cannot be split) */
  chunks?: number;
  /** rows: the length of a row */
  row?: number;
}

/** The path for `call` under the current CpuConfig. */
export function choosePath(call: CallInfo): CpuPath {
  if (!call.kernel) return 'js';
  const { work, inHeap } = call;
  switch (call.family) {
    case 'matmul':
      return matmulPath(work, inHeap, call.chunks ?? 1);
    case 'elementwise':
      return elementwisePath(work, inHeap, call.chunks ?? 1);
    case 'rows':
      return rowsPath(work, call.row ?? 0, inHeap);
    case 'sum':
      return sumPath(work, inHeap);
    case 'fused':
      return fusedPath(work, inHeap);
  }
}

// choosePath per family, for the kernels' hot paths (no CallInfo object per call); each assumes
// a kernel exists.

/** Whether a job of this many chunks may go to the threads. */
const threadable = (chunks: number) => config.threads !== 1 && (chunks > 1 || config.workersOnly);

/** A product of `work` = m·k·n multiply-adds, splitting into `chunks` pieces of C. */
export function matmulPath(work: number, inHeap: boolean, chunks: number): CpuPath {
  // the operands are packed into the heap either way (in place when they are there already, see
  // gemmWasm), so workers can share any product
  if (!config.wasm || work < config.wasmMinWork) return 'js';
  if (work >= config.threadMinWork && threadable(chunks)) return 'threaded';
  return inHeap ? 'wasm' : 'wasm-copy';
}

/** A flat elementwise op writing `work` elements. */
export function elementwisePath(work: number, inHeap: boolean, chunks: number): CpuPath {
  if (!config.wasm) return 'js';
  if (inHeap) {
    if (work >= config.ewThreadMin && threadable(chunks)) return 'threaded';
    return work >= config.ewWasmInPlaceMin ? 'wasm' : 'js';
  }
  return work >= config.ewWasmCopyMin ? 'wasm-copy' : 'js';
}

/** A two-axis broadcast op of `work` elements in rows of `row`, run row by row (never threaded). */
export function rowsPath(work: number, row: number, inHeap: boolean): CpuPath {
  if (!config.wasm || row < config.ewRowMin) return 'js';
  if (inHeap) return work >= config.ewWasmInPlaceMin ? 'wasm' : 'js';
  return work >= config.ewWasmCopyMin ? 'wasm-copy' : 'js';
}

/** A sum of `work` values per output (in place only). */
export function sumPath(work: number, inHeap: boolean): CpuPath {
  return config.wasm && inHeap && work >= config.sumWasmMin ? 'wasm' : 'js';
}

/** mse over `work` elements, or linear's bias add on rows of `work` (in place only). */
export function fusedPath(work: number, inHeap: boolean): CpuPath {
  return config.wasm && inHeap && work >= config.fusedWasmMin ? 'wasm' : 'js';
}

/**
 * Whether any wasm path is open to `family` at this much work: false rules out everything but
 * `js` before an op looks at its operands (a tiny op then pays for one comparison, not for the
 * kernel lookup and heap checks; measured ~0.35 µs per [4] + [4] add in all).
 */
export function wasmPossible(family: OpFamily, work: number): boolean {
  if (!config.wasm) return false;
  switch (family) {
    case 'matmul':
      return work >= config.wasmMinWork;
    case 'elementwise':
    case 'rows':
      return work >= Math.min(config.ewWasmInPlaceMin, config.ewWasmCopyMin);
    case 'sum':
      return work >= config.sumWasmMin;
    case 'fused':
      return work >= config.fusedWasmMin;
  }
}
