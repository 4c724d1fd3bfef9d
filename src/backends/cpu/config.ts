// Which CPU code paths may run. The defaults pick the fastest available path per call; tests and
// benchmarks force each path by changing them (configureCpu in ./index).

export interface CpuConfig {
  /** use the WebAssembly SIMD kernels where the platform can compile them */
  wasm: boolean;
  /** threads for big matmuls, this one included: 1 = no workers, 0 = one per core (at most 4) */
  threads: number;
  /** a matmul below this many multiply-adds (m·k·n) runs in plain JS (measured: wasm wins from 8³ up, even counting its packing) */
  wasmMinWork: number;
  /**
   * a matmul below this many multiply-adds stays on one thread: waking a worker costs ~50 µs, and
   * while workers run, every fresh ArrayBuffer the caller allocates (a dataSync copy) costs 30-90 µs
   * instead of 5 (measured at 64 KB: the allocator's unmaps then interrupt the other core). 128³
   * (2M) ran faster on one thread counting its read-back, 192³ (7M) 1.6x faster on two.
   */
  threadMinWork: number;
  /** tests: when workers are used, leave every chunk to them (the caller only waits) */
  workersOnly: boolean;
}

export const DEFAULTS: Readonly<CpuConfig> = Object.freeze({
  wasm: true,
  threads: 0,
  wasmMinWork: 512,
  threadMinWork: 1 << 22,
  workersOnly: false,
});

export const config: CpuConfig = { ...DEFAULTS };
