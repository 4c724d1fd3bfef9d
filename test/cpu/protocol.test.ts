// The worker-thread job protocol of gemm-part.ts, driven on one thread: participants take
// chunks through the ticket, and a participant holding a stale job's arguments takes nothing,
// even when its job's ticket id has come round again.
import { describe, expect, it } from 'vitest';
import {
  ELEMENTWISE, GEMM_ARGS, KIND_SLOT, MAX_CHUNKS, SYNC_ACTIVE, SYNC_TICKET, SYNC_WORDS,
  gemmPart, openTicket, ticketId,
} from '../../src/backends/cpu/gemm-part';

/** An elementwise job over n elements in chunks of `chunk`, and a kernel that records its calls. */
function job(number: number, n: number, chunk: number) {
  const args = new Int32Array(GEMM_ARGS);
  args[0] = number;
  args[1] = n;
  args[2] = chunk;
  args[4] = 1000; // out address
  args[7] = 4; // a's bytes per element
  args[13] = 4;
  args[KIND_SLOT] = ELEMENTWISE;
  const calls: [number, number][] = [];
  const kernel = (out: number, _a: number, _b: number, len: number) => void calls.push([out, len]);
  return { args, calls, kernel: kernel as (...x: number[]) => void };
}

describe('the worker job protocol', () => {
  it('hands out every chunk once, the last one short', () => {
    const sync = new Int32Array(new SharedArrayBuffer(SYNC_WORDS * 4));
    const j = job(7, 10, 4);
    openTicket(sync, 7);
    gemmPart(j.kernel, j.args, sync, true);
    expect(j.calls).toEqual([[1000, 4], [1016, 4], [1032, 2]]);
    expect(Atomics.load(sync, SYNC_TICKET) & MAX_CHUNKS).toBe(3);
    expect(Atomics.load(sync, SYNC_ACTIVE)).toBe(0);
  });

  it('a worker with a stale job takes nothing when a newer job reuses its ticket id', () => {
    const sync = new Int32Array(new SharedArrayBuffer(SYNC_WORDS * 4));
    const stale = job(5, 10, 4);
    expect(ticketId(5)).toBe(ticketId(5 + 2047)); // 11 bits come round
    openTicket(sync, 5 + 2047);
    gemmPart(stale.kernel, stale.args, sync, true);
    expect(stale.calls).toEqual([]);
    expect(Atomics.load(sync, SYNC_TICKET) & MAX_CHUNKS).toBe(0); // the newer job's chunks are all left
    expect(Atomics.load(sync, SYNC_ACTIVE)).toBe(0);
    // the caller of the newer job (not a worker) takes them
    const fresh = job(5 + 2047, 10, 4);
    gemmPart(fresh.kernel, fresh.args, sync, false);
    expect(fresh.calls.length).toBe(3);
  });

  it('ticket ids are never 0 and fit the ticket word', () => {
    for (const n of [1, 2046, 2047, 2048, 4094, 2 ** 31 - 1]) {
      expect(ticketId(n)).toBeGreaterThan(0);
      expect(ticketId(n) << 20 >>> 20).toBe(ticketId(n));
    }
  });
});
