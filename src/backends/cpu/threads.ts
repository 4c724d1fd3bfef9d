// Worker threads for the big matmuls (Node's worker_threads). Each worker instantiates the same
// wasm module on the same shared memory and waits on a small control block (Atomics.wait), so a
// job costs one Atomics.notify, not a message. The calling thread blocks in Atomics.wait for its
// workers, which Node allows on its main thread; browsers do not (and Web Workers would need a
// Blob URL): there the matmul stays on one thread.
//
// The pool starts lazily: the first big matmul spawns the workers and runs on one thread until
// they are up (a few ms; they start on their own threads, without this thread's event loop);
// whenThreadsReady() lets tests and benchmarks wait for them.
import { GEMM_PART_SRC, GEMM_ARGS } from './gemm-part';
import type { Wasm } from './wasm';

// control block, Int32 slots
const SEQ = 0; // bumped by the caller per job
const DONE = 1; // set to SEQ by the worker when the job is done
const READY = 2; // 1 once the worker has instantiated the module
const QUIT = 3; // 1: leave the loop
const ARGS = 4; // GEMM_ARGS slots of arguments
const CTRL_INTS = ARGS + GEMM_ARGS;

const WORKER_SRC = `
'use strict';
const { workerData } = require('node:worker_threads');
const { module, memory, ctrl } = workerData;
const c = new Int32Array(ctrl);
const ex = new WebAssembly.Instance(module, { env: { mem: memory } }).exports;
const gemmPart = new Function('gemm', 'args', ${JSON.stringify(GEMM_PART_SRC)});
Atomics.store(c, ${READY}, 1);
Atomics.notify(c, ${READY});
let seq = 0;
for (;;) {
  Atomics.wait(c, ${SEQ}, seq);
  seq = Atomics.load(c, ${SEQ});
  if (Atomics.load(c, ${QUIT}) === 1) break;
  const args = c.subarray(${ARGS}, ${CTRL_INTS});
  gemmPart(args[${GEMM_ARGS - 1}] === 8 ? ex.gemm_f64 : ex.gemm_f32, args);
  Atomics.store(c, ${DONE}, seq);
  Atomics.notify(c, ${DONE});
}
`;

interface Slot {
  ctrl: Int32Array;
  seq: number;
  worker: import('node:worker_threads').Worker;
  dead: boolean;
  /** the job last handed to it (re-run here if the worker died) */
  args: Int32Array;
}

const slots: Slot[] = [];
let modules: { wt: typeof import('node:worker_threads'); os: typeof import('node:os') } | null = null;
let loading: Promise<void> | null = null;
let unavailable = false;
let spawned = 0;
let cores = 1;

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

/** Workers that have started and can take a job now. */
export function readyWorkers(): number {
  return readySlots().length;
}

/** The cores of this machine (1 until the pool has looked). */
export function coreCount(): number {
  return cores;
}

function spawn(w: Wasm): void {
  const ctrl = new SharedArrayBuffer(CTRL_INTS * 4);
  const worker = new modules!.wt.Worker(WORKER_SRC, { eval: true, workerData: { module: w.module, memory: w.memory, ctrl } });
  const slot: Slot = { ctrl: new Int32Array(ctrl), seq: 0, worker, dead: false, args: new Int32Array(GEMM_ARGS) };
  worker.unref();
  const die = () => {
    slot.dead = true;
  };
  worker.on('error', die);
  worker.on('exit', die);
  slots.push(slot);
  spawned++;
}

/**
 * Have `want` threads (this one included; capped by the cores, at most 4) for jobs on `w`'s
 * memory: workers start in the background. False where threads cannot work here.
 */
export function startPool(w: Wasm, want: number): boolean {
  if (unavailable || !w.shared || !isNode()) return false;
  if (!modules) {
    // Node ≥ 20.16 hands out its modules synchronously, so a program that never yields to the
    // event loop still gets its workers; older ones load them asynchronously
    const proc = (globalThis as { process?: { getBuiltinModule?: (name: string) => unknown } }).process;
    if (typeof proc?.getBuiltinModule === 'function') {
      try {
        const wt = proc.getBuiltinModule('node:worker_threads') as typeof import('node:worker_threads');
        const os = proc.getBuiltinModule('node:os') as typeof import('node:os');
        if (wt && os) setModules(wt, os);
      } catch {
        // fall through to the asynchronous way
      }
    }
  }
  if (!modules) {
    // a computed specifier keeps bundlers from resolving Node's modules for the browser
    const load = (name: string) => import(/* @vite-ignore */ /* webpackIgnore: true */ name);
    loading ??= Promise.all([load('node:worker_threads'), load('node:os')])
      .then(([wt, os]) => {
        setModules(wt, os);
        startPool(w, want);
      })
      .catch(() => {
        unavailable = true;
      });
    return true;
  }
  const n = Math.min(want, cores, 4) - 1;
  // a worker that dies is replaced, but not forever
  while (slots.filter((s) => !s.dead).length < n && spawned < 16) spawn(w);
  return true;
}

function setModules(wt: typeof import('node:worker_threads'), os: typeof import('node:os')): void {
  modules = { wt, os };
  cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/** Resolves once every started worker is ready (or dead); the number that are ready. */
export async function whenThreadsReady(timeoutMs = 10_000): Promise<number> {
  await loading;
  const t0 = Date.now();
  while (slots.some((s) => !s.dead && Atomics.load(s.ctrl, READY) !== 1) && Date.now() - t0 < timeoutMs) {
    await new Promise((r) => setTimeout(r, 5));
  }
  return readyWorkers();
}

/** The ready slots, in a stable order. */
export function readySlots(): number[] {
  const out: number[] = [];
  slots.forEach((s, i) => {
    if (!s.dead && Atomics.load(s.ctrl, READY) === 1) out.push(i);
  });
  return out;
}

/** Hand a job to worker `i` (it must be idle). */
export function dispatch(i: number, args: ArrayLike<number>): void {
  const s = slots[i]!;
  s.args.set(args);
  s.ctrl.set(s.args, ARGS);
  s.seq = (s.seq + 1) | 0;
  Atomics.store(s.ctrl, SEQ, s.seq);
  Atomics.notify(s.ctrl, SEQ);
}

/** Wait for worker i's job; if the worker died, run the job here with `fallback`. */
export function join(i: number, fallback: (args: Int32Array) => void): void {
  const s = slots[i]!;
  for (;;) {
    if (Atomics.load(s.ctrl, DONE) === s.seq) return;
    if (s.dead) {
      fallback(s.args);
      return;
    }
    Atomics.wait(s.ctrl, DONE, Atomics.load(s.ctrl, DONE), 20);
  }
}

/** Stop the workers (tests; the process exits without it, since they are unref'd). */
export async function stopThreads(): Promise<void> {
  await loading;
  for (const s of slots.splice(0)) {
    Atomics.store(s.ctrl, QUIT, 1);
    Atomics.store(s.ctrl, SEQ, s.seq + 1);
    Atomics.notify(s.ctrl, SEQ);
    await s.worker.terminate();
  }
}
