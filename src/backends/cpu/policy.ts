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
  if (!call.kernel || !config.wasm) return 'js';
  const { work, inHeap } = call;
  const chunks = call.chunks ?? 1;
  const threads = config.threads !== 1 && (chunks > 1 || config.workersOnly);
  switch (call.family) {
    case 'matmul':
      // the operands are packed into the heap either way (in place when they are there already,
      // see gemmWasm), so workers can share any product
      if (work < config.wasmMinWork) return 'js';
      if (threads && work >= config.threadMinWork) return 'threaded';
      return inHeap ? 'wasm' : 'wasm-copy';
    case 'elementwise':
      if (inHeap) {
        if (threads && work >= config.ewThreadMin) return 'threaded';
        return work >= config.ewWasmInPlaceMin ? 'wasm' : 'js';
      }
      return work >= config.ewWasmCopyMin ? 'wasm-copy' : 'js';
    case 'rows':
      if ((call.row ?? 0) < config.ewRowMin) return 'js';
      if (inHeap) return work >= config.ewWasmInPlaceMin ? 'wasm' : 'js';
      return work >= config.ewWasmCopyMin ? 'wasm-copy' : 'js';
    case 'sum':
      return inHeap && work >= config.sumWasmMin ? 'wasm' : 'js';
    case 'fused':
      return inHeap && work >= config.fusedWasmMin ? 'wasm' : 'js';
  }
}
