// The blocked loops around the wasm micro-kernel, run by every thread that takes part in a
// product. It is kept as source text so that the calling thread and the workers (started from a
// string) run the very same code; the calling thread compiles it once with new Function.
//
// Packed layouts (see gemm.ts): A as [k-block][MR-row panel][p][MR], B as [k-block][NR-col panel]
// [p][NR], so a k-block of kc rows holds each panel contiguously (kc·MR or kc·NR values).
//
// C is cut into chunks of MCP A panels × NCH B panels. Each participant grabs the next chunk
// from a shared ticket until none are left, so a worker that wakes late or is descheduled (a
// busy machine) costs at most the chunk it holds, never the whole product: the calling thread
// takes over what it has not started. Per chunk: every k-block in turn, one kernel call each
// (B's micro-panel, kc·NR, stays in L1 while the chunk's A panels stream past it).
//
// Shared words (Int32, at the start of the wasm memory): [0] the ticket, job id in bits 20-30
// and the next chunk below, so a participant still holding an old job's arguments finds nothing
// to take; [1] participants at work (the caller waits for it to drop to 0); [2] a worker's error;
// [3] chunks done by workers.

/**
 * Argument slots. A product (kind 0): [job, mp, np, K, KC, MCP, NCH, aBase, bBase, cBase, ldc, MR,
 * NR, bytes, 0]. An elementwise op (kind 1, ELEMENTWISE): [job, n, chunk, kernel index, out, a, b,
 * a's bytes per element (0: one value), b's, 0, 0, 0, 0, bytes, 1]: chunks of `chunk` elements.
 */
export const GEMM_ARGS = 15;
export const KIND_SLOT = 14;
export const ELEMENTWISE = 1;
export const SYNC_TICKET = 0;
export const SYNC_ACTIVE = 1;
/** set to 1 by a worker whose share failed (a trap); the caller then throws */
export const SYNC_ERROR = 2;
/** chunks computed by workers, all jobs together (tests check that workers take part) */
export const SYNC_WORKER_CHUNKS = 3;
/** the whole job number (31 bits), written before the ticket opens: see the check after SYNC_ACTIVE */
export const SYNC_JOB = 4;
/** Int32 words at the start of the wasm memory that the protocol uses */
export const SYNC_WORDS = 8;
export const JOB_SHIFT = 20;
export const MAX_CHUNKS = (1 << JOB_SHIFT) - 1;
/** how long a worker waits for the caller to finish packing and open the ticket */
const GO_WAIT_MS = 5;

export const GEMM_PART_SRC = `
  const job = args[0], id = ticketId(job), mp = args[1], np = args[2], K = args[3], KC = args[4], MCP = args[5], NCH = args[6];
  const aBase = args[7], bBase = args[8], cBase = args[9], ldc = args[10], MR = args[11], NR = args[12], sz = args[13];
  const ew = args[${KIND_SLOT}] === ${ELEMENTWISE};
  const chunksM = Math.ceil(mp / MCP);
  // an elementwise job: n = args[1] elements in chunks of args[2]
  const chunks = ew ? Math.ceil(args[1] / args[2]) : chunksM * Math.ceil(np / NCH);
  if (worker) {
    // the caller wakes its workers before it packs the operands (so the wake-up overlaps the
    // packing) and opens the ticket after: wait for that, but not forever (a stale job)
    const until = performance.now() + ${GO_WAIT_MS};
    for (let i = 1; Atomics.load(sync, ${SYNC_TICKET}) >>> ${JOB_SHIFT} !== id; i++) {
      if ((i & 1023) === 0 && performance.now() > until) return;
    }
  }
  Atomics.add(sync, ${SYNC_ACTIVE}, 1);
  try {
  // The ticket holds 11 bits of the job number, which come round again every 2047 jobs: a worker
  // held up (descheduled) for that long after copying its arguments would take chunks of a
  // newer job with stale addresses. Counted active, it checks the whole number: while it is
  // active the caller cannot finish this job, so the number cannot change under it.
  if (worker && Atomics.load(sync, ${SYNC_JOB}) !== job) return;
  for (;;) {
    let c = -1;
    for (;;) {
      const cur = Atomics.load(sync, ${SYNC_TICKET});
      if (cur >>> ${JOB_SHIFT} !== id || (cur & ${MAX_CHUNKS}) >= chunks) break;
      if (Atomics.compareExchange(sync, ${SYNC_TICKET}, cur, cur + 1) === cur) {
        c = cur & ${MAX_CHUNKS};
        break;
      }
    }
    if (c < 0) break;
    if (worker) Atomics.add(sync, ${SYNC_WORKER_CHUNKS}, 1);
    if (ew) {
      const s = c * args[2];
      gemm(args[4] + s * sz, args[5] + s * args[7], args[6] + s * args[8], Math.min(args[2], args[1] - s));
      continue;
    }
    const i0 = (c % chunksM) * MCP;
    const j0 = Math.floor(c / chunksM) * NCH;
    const mb = Math.min(MCP, mp - i0);
    const nb = Math.min(NCH, np - j0);
    const cp = cBase + i0 * MR * ldc + j0 * NR * sz;
    for (let k0 = 0; k0 < K; k0 += KC) {
      const kc = Math.min(KC, K - k0);
      gemm(mb, nb, kc, aBase + (k0 * mp * MR + i0 * kc * MR) * sz, bBase + (k0 * np * NR + j0 * kc * NR) * sz, cp, ldc, k0 > 0 ? 1 : 0);
    }
  }
  } finally {
    if (Atomics.sub(sync, ${SYNC_ACTIVE}, 1) === 1) Atomics.notify(sync, ${SYNC_ACTIVE});
  }
`;

/** The next job number (31 bits, never 0), shared by every kind of job. */
let lastJob = 0;
export function nextJob(): number {
  lastJob = (lastJob + 1) & 0x7fffffff || 1;
  return lastJob;
}

/** The 11 bits of a job number the ticket holds (never 0). */
export function ticketId(job: number): number {
  return (job % 2047) + 1;
}

/**
 * Open the ticket for `job`: the whole number first (the workers check it once they count
 * themselves active), then its id with the chunk counter at 0.
 */
export function openTicket(sync: Int32Array, job: number): void {
  Atomics.store(sync, SYNC_JOB, job);
  Atomics.store(sync, SYNC_TICKET, ticketId(job) << JOB_SHIFT);
}

export type GemmPart = (gemm: (...a: number[]) => void, args: ArrayLike<number>, sync: Int32Array, worker: boolean) => void;

/** GEMM_PART_SRC as a function: (gemm, args, sync, worker), with ticketId in scope. */
export const GEMM_PART_PARAMS = ['ticketId', 'gemm', 'args', 'sync', 'worker'] as const;
const part = new Function(...GEMM_PART_PARAMS, GEMM_PART_SRC);
export const gemmPart: GemmPart = (gemm, args, sync, worker) => part(ticketId, gemm, args, sync, worker);
