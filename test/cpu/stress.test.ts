// The worker protocol under stress: thousands of threaded jobs (products and elementwise ops, on
// the workers-only path too) on a machine kept busy by a CPU hog, with the wait and stall times
// cut to a few µs so that workers give jobs up, wake late and race the caller. Every result is
// checked, and the whole run must end: a job whose chunks nobody takes (the hang fixed in
// 7cfc63e: workers gave up, the caller waited for them forever) fails it by timeout. The jobs run
// in a worker thread on the built package, so a hang is caught here instead of freezing the test.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';

const DIST = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

/** The jobs: each result against a plain-JS reference; reports counts back. */
const RUNNER = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const tg = await import(workerData.dist);
  const base = { wasm: true, threads: 2, wasmMinWork: 0, threadMinWork: 0, ewThreadMin: 0, goWaitMs: 0.005, stallMs: 0.02, spinMs: 0.01 };
  tg.configureCpu(base);
  const workers = await tg.warmCpu();
  const [m, k, n] = [72, 40, 80]; // C is 18 x 10 panels: 2 x 2 chunks of the product
  const av = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i * 0.37));
  const bv = Float32Array.from({ length: k * n }, (_, i) => Math.cos(i * 0.11));
  const want = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let p = 0; p < k; p++) s += av[i * k + p] * bv[p * n + j];
    want[i * n + j] = s;
  }
  const a = tg.tensor(av, { shape: [m, k] });
  const b = tg.tensor(bv, { shape: [k, n] });
  const E = 70000; // 3 chunks of 32k for the elementwise jobs
  const xv = Float32Array.from({ length: E }, (_, i) => i % 101);
  const yv = Float32Array.from({ length: E }, (_, i) => i % 7);
  const x = tg.tensor(xv);
  const y = tg.tensor(yv);
  let bad = 0, jobs = 0;
  const t0 = performance.now();
  for (let round = 0; round < workerData.rounds; round++) {
    tg.configureCpu({ workersOnly: round % 2 === 1 });
    const c = a.matmul(b);
    const got = c.dataSync();
    for (let i = 0; i < got.length; i++) if (!(Math.abs(got[i] - want[i]) <= 1e-4 * (1 + Math.abs(want[i])))) { bad++; break; }
    c.dispose();
    const z = x.mul(y);
    const zs = z.dataSync();
    for (let i = 0; i < E; i++) if (zs[i] !== xv[i] * yv[i]) { bad++; break; }
    z.dispose();
    jobs += 2;
  }
  parentPort.postMessage({ workers, jobs, bad, ms: performance.now() - t0, caps: tg.cpuCapabilities() });
})().catch((e) => parentPort.postMessage({ error: String(e && e.stack || e) }));
`;

/** A busy thread: one core spinning until terminated. */
const HOG = `for (;;) { let s = 0; for (let i = 0; i < 1e7; i++) s += i; if (s < 0) break; }`;

describe.skipIf(!existsSync(DIST))('the worker protocol under stress', () => {
  const started: Worker[] = [];
  afterAll(async () => {
    for (const w of started) await w.terminate();
  });

  it('thousands of threaded jobs beside a CPU hog, with µs timeouts: right values, and it ends', async () => {
    started.push(new Worker(HOG, { eval: true }));
    const runner = new Worker(RUNNER, { eval: true, workerData: { dist: pathToFileURL(DIST).href, rounds: 1500 } });
    started.push(runner);
    const LIMIT_MS = 40_000; // a few seconds on the loaded 2-core VM; a hang never ends
    const res = await new Promise<Record<string, any>>((resolve) => {
      const timer = setTimeout(() => resolve({ error: `no result after ${LIMIT_MS} ms: a job never finished` }), LIMIT_MS);
      runner.once('message', (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      runner.once('error', (e) => resolve({ error: String(e) }));
    });
    expect(res.error).toBeUndefined();
    expect(res.workers).toBeGreaterThan(0);
    expect(res.jobs).toBe(3000);
    expect(res.bad).toBe(0);
    // the workers took part (on the workers-only rounds they take every chunk they get to)
    expect(res.caps.workerChunks).toBeGreaterThan(0);
    console.log(`stress: ${res.jobs} jobs in ${Math.round(res.ms)} ms, ${res.caps.workerChunks} chunks by workers`);
  }, 60_000);
});
