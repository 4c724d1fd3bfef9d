// The worker thread's loop, the same code in Node (worker_threads) and in browsers (a Web Worker
// from a Blob URL). This file is type-checked with the rest, but it is not imported by the
// package: scripts/worker-gen.mjs bundles it (with job.ts) into one script, kept as a string in
// worker-src.ts, which pool.ts starts. So nothing here is evaluated from a string on the page
// (a Content-Security-Policy without 'unsafe-eval' allows a worker from a blob: URL).
import { ARG, ARG_WORDS, CTRL, EW, KIND, SYNC, SYNC_WORDS, readArgs, runJob, type Kernel } from './job';

/** What a worker is started with: the compiled kernels, the shared memory, its control block. */
export interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  ctrl: SharedArrayBuffer;
}

/** Instantiate the kernels on the shared memory, then run jobs until told to quit. */
export function work({ module, memory, ctrl }: WorkerInit): void {
  const c = new Int32Array(ctrl);
  const ex = new WebAssembly.Instance(module, { env: { mem: memory } }).exports as Record<string, Kernel>;
  // the elementwise kernels by index, in the order the caller numbers them (see wasm.ts)
  const ewNames = Object.keys(ex).filter((k) => k.startsWith('ew_')).sort();
  Atomics.store(c, CTRL.READY, 1);
  Atomics.notify(c, CTRL.READY);
  const args = new Int32Array(ARG_WORDS);
  let seen = 0;
  for (;;) {
    // poll a little before sleeping: waking a sleeping thread costs a syscall on both sides
    if (Atomics.load(c, CTRL.SEQ) === seen) {
      const until = performance.now() + Atomics.load(c, CTRL.SPIN_US) / 1000;
      for (let i = 1; Atomics.load(c, CTRL.SEQ) === seen; i++) {
        if ((i & 255) === 0 && performance.now() > until) {
          Atomics.store(c, CTRL.SLEEPING, 1);
          Atomics.wait(c, CTRL.SEQ, seen);
          Atomics.store(c, CTRL.SLEEPING, 0);
        }
      }
    }
    // a consistent copy of the arguments (the caller may be writing the next job's)
    seen = readArgs(c, args);
    if (Atomics.load(c, CTRL.QUIT) === 1) break;
    const sync = new Int32Array(memory.buffer, 0, SYNC_WORDS);
    try {
      const kernel = args[ARG.KIND] === KIND.ELEMENTWISE
        ? ex[ewNames[args[EW.KERNEL]!]!]!
        : args[ARG.BYTES] === 8 ? ex.gemm_f64! : ex.gemm_f32!;
      runJob(kernel, args, sync, true);
    } catch {
      Atomics.store(sync, SYNC.ERROR, 1);
    }
  }
}
