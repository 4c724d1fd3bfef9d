// Every threshold and timeout of the CPU backend, each with the measurement behind it. The
// defaults pick the fastest path per call (policy.ts decides it from these); tests and benchmarks
// force each path, or shrink the timeouts, by changing them (configureCpu in ./index).
// Measurements are from the 2-core x86-64 VM the project is developed on (Node 20/22, V8).

export interface CpuConfig {
  /** use the WebAssembly SIMD kernels where the platform can compile them */
  wasm: boolean;
  /** threads for big jobs, this one included: 1 = no workers, 0 = one per core (at most 4) */
  threads: number;

  // --- matmul (work = m·k·n multiply-adds)
  /** below this work a product runs in plain JS (measured: wasm wins from 8³ up, even counting its packing) */
  wasmMinWork: number;
  /**
   * below this work a product stays on one thread: waking a worker costs ~50 µs, and while
   * workers run, every fresh ArrayBuffer the caller allocates (a dataSync copy) costs 30-90 µs
   * instead of 5 (measured at 64 KB: the allocator's unmaps then interrupt the other core). 128³
   * (2M) ran faster on one thread counting its read-back, 192³ (7M) 1.6x faster on two.
   */
  threadMinWork: number;

  // --- elementwise ops (work = elements written)
  /**
   * operands and output already in the wasm heap take the wasm kernel in place from this many
   * elements (measured on a [100, 100] float32 relu: 1.6 µs in wasm, 11-15 µs in the JS loop;
   * below ~64 the call costs more than the loop)
   */
  ewWasmInPlaceMin: number;
  /**
   * operands outside the heap are copied in and out for the wasm kernel from this many elements:
   * the copies are memcpys, and the JS loop slows to ~2 ns per element once the operands leave L2
   * (measured: 200k float32 subtract 474 µs in JS, 134 µs in wasm with the copies; at 32k they tie)
   */
  ewWasmCopyMin: number;
  /**
   * flat operands in the heap are shared out with the worker threads from this many elements
   * (memory-bound: two cores move more bytes than one, once a job outweighs the ~50 µs wake-up)
   */
  ewThreadMin: number;
  /** a broadcast (two-axis) elementwise op runs row by row in wasm when its rows are at least this long */
  ewRowMin: number;

  // --- reductions and fused ops (work = elements read), in place only
  /** sums over rows (or column blocks) of at least this many values in the heap use the wasm kernels */
  sumWasmMin: number;
  /** mse and linear's bias add use the wasm kernels from this many elements in the heap */
  fusedWasmMin: number;
  /**
   * a reduction over the trailing axes of a strided view (pooling's windows) with at most this
   * many values per output reads them in place instead of copying the view first (2×2 and 3×3
   * windows: 2-3× faster in place; the copy's row loops pay off for long rows, where the sums
   * go to wasm)
   */
  windowReduceMax: number;

  // --- the worker protocol (pool.ts, job.ts)
  /** ms a worker polls for its next job before it sleeps: a training step's jobs come in bursts, a few hundred µs apart */
  spinMs: number;
  /**
   * ms a worker waits for a job's ticket to open (the caller packs the operands after waking it)
   * before it gives the job up as stale: packing takes well under 1 ms up to 1024³
   */
  goWaitMs: number;
  /**
   * ms the caller waits for the workers to take a job's chunks before it takes the rest itself:
   * a worker that gave up (goWaitMs) or is not scheduled (a loaded machine) never takes them
   */
  stallMs: number;
  /** tests: when workers are used, leave every chunk to them (the caller only waits) */
  workersOnly: boolean;
}

export const DEFAULTS: Readonly<CpuConfig> = Object.freeze({
  wasm: true,
  threads: 0,
  wasmMinWork: 512,
  threadMinWork: 1 << 22,
  ewWasmInPlaceMin: 64,
  ewWasmCopyMin: 1 << 16,
  ewThreadMin: 1 << 18,
  ewRowMin: 64,
  sumWasmMin: 64,
  fusedWasmMin: 16,
  windowReduceMax: 64,
  spinMs: 1,
  goWaitMs: 5,
  stallMs: 20,
  workersOnly: false,
});

export const config: CpuConfig = { ...DEFAULTS };

/**
 * Buffers of at least this many bytes go to the wasm heap, where the SIMD kernels work on them in
 * place (see ewWasmInPlaceMin); below it a plain typed array is cheaper than the kernel call. Not
 * in CpuConfig: inHeap() relies on it, so it cannot change while buffers exist.
 */
export const HEAP_MIN_BYTES = 256;

/**
 * The memory never shrinks, and free heap blocks are reused by requests of their own size only. A
 * program whose buffer sizes keep changing (varying batch sizes) would grow it without bound:
 * once this many bytes lie free, a size with no free block gets a plain typed array instead.
 */
export const HEAP_SLACK_BYTES = 64 * 2 ** 20;
