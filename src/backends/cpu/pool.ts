// The worker pool: threads for the big matmuls and elementwise ops, Node's worker_threads or Web
// Workers from a Blob URL in a cross-origin isolated page (the only kind of page with shared
// memory). Each worker instantiates the same wasm module on the same shared memory and sleeps on
// a small control block (Atomics.wait), so handing it a job costs one Atomics.notify, not a
// message. The work itself is shared out chunk by chunk through a ticket in the wasm memory (the
// job ABI and the loop are in job.ts, the worker's side in worker.ts), and the calling thread,
// which takes part too, then waits for the participants to finish: Atomics.wait in Node, a spin
// on a browser's main thread (where blocking is not allowed).
//
// The pool starts lazily: the first big job spawns the workers and runs on one thread until
// they are up (a few ms; they start on their own threads, without this thread's event loop);
// whenThreadsReady() lets tests and benchmarks wait for them.
import { config } from './config';
import { ARG, CTRL, CTRL_WORDS, MAX_CHUNKS, SYNC, SYNC_WORDS, openTicket, runJob, writeArgs, type Kernel } from './job';
import type { Wasm } from './wasm';
import { WORKER_SRC } from './worker-src';

/** Node: worker_threads, eval'd as a script, the loop started on workerData. */
const NODE_WORKER_SRC = `${WORKER_SRC}\ntapegradWorker.work(require('node:worker_threads').workerData);\n`;
/** Browsers: a Web Worker from a Blob URL, started on its first message (the module, memory and control block). */
const WEB_WORKER_SRC = `${WORKER_SRC}\nself.onmessage = (e) => { self.onmessage = null; tapegradWorker.work(e.data); };\n`;

interface Slot {
  ctrl: Int32Array;
  seq: number;
  worker: { terminate(): unknown };
  dead: boolean;
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
  const ctrl = new SharedArrayBuffer(CTRL_WORDS * 4);
  const data = { module: w.module, memory: w.memory, ctrl };
  const slot: Slot = { ctrl: new Int32Array(ctrl), seq: 0, worker: { terminate: () => undefined }, dead: false };
  const die = () => {
    slot.dead = true;
  };
  if (modules) {
    const worker = new modules.wt.Worker(NODE_WORKER_SRC, { eval: true, workerData: data });
    worker.unref();
    worker.on('error', die);
    worker.on('exit', die);
    slot.worker = worker;
  } else {
    const url = URL.createObjectURL(new Blob([WEB_WORKER_SRC], { type: 'text/javascript' }));
    const worker = new Worker(url);
    worker.addEventListener('error', die);
    worker.postMessage(data);
    slot.worker = worker;
  }
  slots.push(slot);
  spawned++;
}

/** Web Workers sharing this page's memory: a cross-origin isolated page (shared wasm memory) with Worker and Blob URLs. */
function canUseWebWorkers(w: Wasm): boolean {
  const g = globalThis as { Worker?: unknown; Blob?: unknown; URL?: { createObjectURL?: unknown }; crossOriginIsolated?: boolean };
  return w.shared && typeof g.Worker === 'function' && typeof g.Blob === 'function' && typeof g.URL?.createObjectURL === 'function' && g.crossOriginIsolated === true;
}

/** Whether this thread may block in Atomics.wait (not a browser's main thread). */
let blockingAllowed: boolean | undefined;
function canBlock(): boolean {
  if (blockingAllowed === undefined) {
    try {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
      blockingAllowed = true;
    } catch {
      blockingAllowed = false;
    }
  }
  return blockingAllowed;
}

/**
 * Have `want` threads (this one included; capped by the cores, at most 4) for jobs on `w`'s
 * memory: workers start in the background. False where threads cannot work here.
 */
export function startPool(w: Wasm, want: number): boolean {
  if (unavailable || !w.shared) return false;
  if (!isNode()) return startWebPool(w, want);
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
  fill(w, want);
  return true;
}

/** Spawn workers until `want` threads (this one included; capped by the cores, at most 4) are alive. */
function fill(w: Wasm, want: number): void {
  const n = Math.min(want, cores, 4) - 1;
  // a worker that dies is replaced, but not forever
  while (slots.filter((s) => !s.dead).length < n && spawned < 16) spawn(w);
}

/** Browsers: Web Workers (they start in the background; products run on this thread until they are ready). */
function startWebPool(w: Wasm, want: number): boolean {
  if (!canUseWebWorkers(w)) return false;
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  cores = Math.max(1, nav?.hardwareConcurrency ?? 1);
  try {
    fill(w, want);
  } catch {
    // a content security policy without blob: workers, say
    unavailable = true;
    return false;
  }
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
  while (slots.some((s) => !s.dead && Atomics.load(s.ctrl, CTRL.READY) !== 1) && Date.now() - t0 < timeoutMs) {
    await new Promise((r) => setTimeout(r, 5));
  }
  return readyWorkers();
}

/** The ready slots, in a stable order. */
export function readySlots(): number[] {
  const out: number[] = [];
  slots.forEach((s, i) => {
    if (!s.dead && Atomics.load(s.ctrl, CTRL.READY) === 1) out.push(i);
  });
  return out;
}

/** Hand a job's arguments to worker `i` and wake it; it joins in whenever it wakes. */
export function dispatch(i: number, args: ArrayLike<number>): void {
  const s = slots[i]!;
  Atomics.store(s.ctrl, CTRL.SPIN_US, Math.round(config.spinMs * 1000));
  s.seq = writeArgs(s.ctrl, s.seq, args);
  // a polling worker sees the new SEQ by itself; one that went to sleep after this check finds
  // SEQ changed and returns from its wait at once
  if (Atomics.load(s.ctrl, CTRL.SLEEPING) === 1) Atomics.notify(s.ctrl, CTRL.SEQ);
}

/**
 * Wait until all `chunks` are taken and no participant is at work (a participant counts itself
 * active before it takes a chunk, so a taken chunk is finished once the count is back to 0).
 * A worker's failure is rethrown here: the chunk it held is lost.
 */
export function joinAll(sync: Int32Array, chunks: number, takeRest: () => void, what = 'matmul'): void {
  const stallAt = performance.now() + config.stallMs;
  let helped = false;
  for (let spins = 0; ; spins++) {
    const taken = (Atomics.load(sync, SYNC.TICKET) & MAX_CHUNKS) >= chunks;
    const active = Atomics.load(sync, SYNC.ACTIVE);
    if (taken && active === 0) break;
    // a chunk takes tens of µs: spin briefly before sleeping (a browser's main thread only spins)
    const sleep = spins > 1000 && canBlock();
    // Workers give up on a job whose ticket does not open within goWaitMs (a loaded machine can
    // be that slow to schedule them); chunks nobody took would then be waited for forever (seen
    // as a hang of the workers-only test path under CI load). After stallMs the caller takes them.
    // The clock is read every 1024 spins, and before each sleep (1 ms sleeps between reads once
    // made a stalled job wait 23 ms).
    if (!taken && !helped && (sleep || (spins & 1023) === 0) && performance.now() > stallAt) {
      helped = true;
      takeRest();
      continue;
    }
    if (sleep) Atomics.wait(sync, SYNC.ACTIVE, active, 1);
  }
  if (Atomics.load(sync, SYNC.ERROR) !== 0) {
    Atomics.store(sync, SYNC.ERROR, 0);
    throw new Error(`${what}: a worker thread failed while computing its share`);
  }
}

/** Stop the workers (tests; the process exits without it, since they are unref'd). */
export async function stopThreads(): Promise<void> {
  await loading;
  for (const s of slots.splice(0)) {
    Atomics.store(s.ctrl, CTRL.QUIT, 1);
    s.seq += 2;
    Atomics.store(s.ctrl, CTRL.SEQ, s.seq);
    Atomics.notify(s.ctrl, CTRL.SEQ);
    await s.worker.terminate();
  }
}

/** The ready workers to share a job of `chunks` chunks with: none when threads are off or the pool is not up yet. */
export function helpers(w: Wasm, chunks: number): number[] {
  if (config.threads === 1) return [];
  const want = config.threads || 4;
  if (!startPool(w, want)) return [];
  return readySlots().slice(0, Math.max(config.workersOnly ? 1 : 0, Math.min(want, coreCount(), chunks) - 1));
}

let sync: Int32Array | null = null;

/** The protocol's shared words at the start of w's memory (a new view once the memory has grown). */
export function syncOn(w: Wasm): Int32Array {
  if (sync === null || sync.buffer !== w.memory.buffer) sync = new Int32Array(w.memory.buffer, 0, SYNC_WORDS);
  return sync;
}

/**
 * Run the job in `args` (its ARG slots filled in, ARG.JOB from nextJob()) with `kernel`: open
 * its ticket, take chunks beside the workers in `slots` (already dispatched), and wait for them
 * (unless workersOnly leaves every chunk to them). A worker's failure is thrown as `what`'s.
 */
export function runShared(w: Wasm, kernel: Kernel, args: Int32Array, slots: number[], what: string): void {
  const jobSync = syncOn(w);
  openTicket(jobSync, args[ARG.JOB]!);
  const run = () => runJob(kernel, args, jobSync, false);
  if (slots.length === 0 || !config.workersOnly) run();
  if (slots.length > 0) joinAll(jobSync, args[ARG.CHUNKS]!, run, what);
}

/** Chunks of jobs that worker threads have computed so far (0 where there are none). */
export function workerChunks(): number {
  return sync === null ? 0 : Atomics.load(sync, SYNC.WORKER_CHUNKS);
}
