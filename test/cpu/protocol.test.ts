// The worker-thread job protocol of job.ts, driven on one thread: participants take chunks
// through the ticket, a participant holding a stale job's arguments takes nothing (even when its
// job's ticket id has come round again), and the argument seqlock hands over whole jobs.
import { describe, expect, it } from 'vitest';
import {
  ARG, ARG_WORDS, CTRL, CTRL_WORDS, EW, KIND, MAX_CHUNKS, MM, SYNC, SYNC_WORDS,
  openTicket, readArgs, runJob, ticketId, writeArgs,
} from '../../src/backends/cpu/job';

/** An elementwise job over n elements in chunks of `chunk`, and a kernel that records its calls. */
function job(number: number, n: number, chunk: number) {
  const args = new Int32Array(ARG_WORDS);
  args[ARG.JOB] = number;
  args[ARG.KIND] = KIND.ELEMENTWISE;
  args[ARG.CHUNKS] = Math.ceil(n / chunk);
  args[ARG.BYTES] = 4;
  args[ARG.GO_WAIT_US] = 1000;
  args[EW.N] = n;
  args[EW.CHUNK] = chunk;
  args[EW.OUT] = 1000;
  args[EW.STEP_A] = 4;
  const calls: [number, number][] = [];
  const kernel = (out: number, _a: number, _b: number, len: number) => void calls.push([out, len]);
  return { args, calls, kernel: kernel as (...x: number[]) => void };
}

describe('the worker job protocol', () => {
  it('the slots of each kind of job are distinct and fit the argument block', () => {
    const common = Object.values(ARG);
    for (const kind of [MM, EW]) {
      const all = [...common, ...Object.values(kind)];
      expect(new Set(all).size).toBe(all.length);
      expect(Math.max(...all)).toBeLessThan(ARG_WORDS);
    }
    expect(Math.max(...Object.values(SYNC))).toBeLessThan(SYNC_WORDS);
    expect(Math.max(...Object.values(CTRL))).toBe(CTRL.ARGS);
    expect(CTRL_WORDS).toBe(CTRL.ARGS + ARG_WORDS);
  });

  it('hands out every chunk once, the last one short', () => {
    const sync = new Int32Array(new SharedArrayBuffer(SYNC_WORDS * 4));
    const j = job(7, 10, 4);
    openTicket(sync, 7);
    runJob(j.kernel, j.args, sync, true);
    expect(j.calls).toEqual([[1000, 4], [1016, 4], [1032, 2]]);
    expect(Atomics.load(sync, SYNC.TICKET) & MAX_CHUNKS).toBe(3);
    expect(Atomics.load(sync, SYNC.ACTIVE)).toBe(0);
    expect(Atomics.load(sync, SYNC.WORKER_CHUNKS)).toBe(3);
  });

  it('a product walks each chunk of C through every k-block, accumulating after the first', () => {
    const sync = new Int32Array(new SharedArrayBuffer(SYNC_WORDS * 4));
    const args = new Int32Array(ARG_WORDS);
    // 3 × 2 panels of 4 × 8, chunks of 2 × 1 panels: 2 × 2 chunks; K = 10 in blocks of 6
    const [mp, np, MCP, NCH, MR, NR, K, KC, sz] = [3, 2, 2, 1, 4, 8, 10, 6, 4];
    const ldc = np * NR * sz;
    Object.assign(args, { [ARG.JOB]: 9, [ARG.KIND]: KIND.MATMUL, [ARG.CHUNKS]: 4, [ARG.BYTES]: sz });
    Object.assign(args, { [MM.MP]: mp, [MM.NP]: np, [MM.K]: K, [MM.KC]: KC, [MM.MCP]: MCP, [MM.NCH]: NCH });
    Object.assign(args, { [MM.A]: 1 << 16, [MM.B]: 1 << 20, [MM.C]: 1 << 24, [MM.LDC]: ldc, [MM.MR]: MR, [MM.NR]: NR });
    const calls: number[][] = [];
    openTicket(sync, 9);
    runJob((...a: number[]) => void calls.push(a), args, sync, false);
    const want: number[][] = [];
    for (let c = 0; c < 4; c++) {
      const i0 = (c % 2) * MCP;
      const j0 = Math.floor(c / 2) * NCH;
      for (const [k0, kc] of [[0, 6], [6, 4]] as const) {
        want.push([
          Math.min(MCP, mp - i0), Math.min(NCH, np - j0), kc,
          (1 << 16) + (k0 * mp * MR + i0 * kc * MR) * sz, (1 << 20) + (k0 * np * NR + j0 * kc * NR) * sz,
          (1 << 24) + i0 * MR * ldc + j0 * NR * sz, ldc, k0 > 0 ? 1 : 0,
        ]);
      }
    }
    expect(calls).toEqual(want);
    expect(Atomics.load(sync, SYNC.WORKER_CHUNKS)).toBe(0); // the caller's chunks are not counted
  });

  it('a worker with a stale job takes nothing when a newer job reuses its ticket id', () => {
    const sync = new Int32Array(new SharedArrayBuffer(SYNC_WORDS * 4));
    const stale = job(5, 10, 4);
    expect(ticketId(5)).toBe(ticketId(5 + 2047)); // 11 bits come round
    openTicket(sync, 5 + 2047);
    runJob(stale.kernel, stale.args, sync, true);
    expect(stale.calls).toEqual([]);
    expect(Atomics.load(sync, SYNC.TICKET) & MAX_CHUNKS).toBe(0); // the newer job's chunks are all left
    expect(Atomics.load(sync, SYNC.ACTIVE)).toBe(0);
    // the caller of the newer job (not a worker) takes them
    const fresh = job(5 + 2047, 10, 4);
    runJob(fresh.kernel, fresh.args, sync, false);
    expect(fresh.calls.length).toBe(3);
  });

  it('a worker gives up on a ticket that does not open within its wait', () => {
    const sync = new Int32Array(new SharedArrayBuffer(SYNC_WORDS * 4));
    const j = job(11, 10, 4);
    j.args[ARG.GO_WAIT_US] = 2000;
    const t0 = performance.now();
    runJob(j.kernel, j.args, sync, true); // never opened
    const waited = performance.now() - t0;
    expect(j.calls).toEqual([]);
    expect(waited).toBeGreaterThanOrEqual(2);
    expect(waited).toBeLessThan(1000);
    expect(Atomics.load(sync, SYNC.ACTIVE)).toBe(0);
  });

  it('ticket ids are never 0 and fit the ticket word', () => {
    for (const n of [1, 2046, 2047, 2048, 4094, 2 ** 31 - 1]) {
      expect(ticketId(n)).toBeGreaterThan(0);
      expect(ticketId(n) << 20 >>> 20).toBe(ticketId(n));
    }
  });

  it('the argument seqlock: a reader gets the last whole job', () => {
    const ctrl = new Int32Array(new SharedArrayBuffer(CTRL_WORDS * 4));
    const args = Int32Array.from({ length: ARG_WORDS }, (_, i) => 100 + i);
    let seq = writeArgs(ctrl, 0, args);
    expect(seq).toBe(2);
    const got = new Int32Array(ARG_WORDS);
    expect(readArgs(ctrl, got)).toBe(2);
    expect(Array.from(got)).toEqual(Array.from(args));
    seq = writeArgs(ctrl, seq, args.map((v) => v + 1000));
    expect(readArgs(ctrl, got)).toBe(4);
    expect(got[ARG_WORDS - 1]).toBe(1116);
  });
});
