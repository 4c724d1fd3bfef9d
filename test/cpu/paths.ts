// The CPU code paths, each forced on any size, for describe.each: plain JS, WebAssembly SIMD on
// one thread, and WebAssembly split over worker threads.
import { configureCpu, cpuCapabilities, resetCpuConfig, warmCpu } from '../../src/backends/cpu';
import type { CpuConfig } from '../../src/backends/cpu';

export interface CpuPath {
  name: 'js' | 'wasm' | 'workers' | 'workers only';
  config: Partial<CpuConfig>;
}

export const PATHS: CpuPath[] = [
  { name: 'js', config: { wasm: false, threads: 1 } },
  { name: 'wasm', config: { wasm: true, threads: 1, wasmMinWork: 0 } },
  { name: 'workers', config: { wasm: true, threads: 2, wasmMinWork: 0, threadMinWork: 0 } },
  // every chunk computed by the workers, none by the calling thread
  { name: 'workers only', config: { wasm: true, threads: 2, wasmMinWork: 0, threadMinWork: 0, workersOnly: true } },
];

/** Force `path` and wait for its workers; returns what the platform offers. */
export async function usePath(path: CpuPath) {
  resetCpuConfig();
  configureCpu(path.config);
  const workers = path.name.startsWith('workers') ? await warmCpu() : 0;
  return { ...cpuCapabilities(), workers };
}

export { resetCpuConfig };
