// The worker thread's script (worker-src.ts) is what scripts/worker-gen.mjs makes from worker.ts
// and job.ts today, and it carries the loop the pool starts.
import { describe, expect, it } from 'vitest';
import { WORKER_SRC } from '../../src/backends/cpu/worker-src';
// @ts-expect-error: a plain .mjs script, no types
import { workerSource } from '../../scripts/worker-gen.mjs';

describe('the generated worker script', () => {
  it('is up to date with worker.ts and job.ts (run node scripts/worker-gen.mjs after changing them)', async () => {
    const text: string = await workerSource();
    expect(text).toContain(`export const WORKER_SRC = ${JSON.stringify(WORKER_SRC)};`);
  });

  it('defines tapegradWorker.work and evaluates nothing from a string', () => {
    const scope: { tapegradWorker?: { work?: unknown } } = {};
    // run the script as a classic script would, its top-level var landing in `scope`
    new Function('scope', `${WORKER_SRC}\nscope.tapegradWorker = tapegradWorker;`)(scope);
    expect(typeof scope.tapegradWorker?.work).toBe('function');
    expect(WORKER_SRC).not.toMatch(/new Function|\beval\(/);
  });
});
