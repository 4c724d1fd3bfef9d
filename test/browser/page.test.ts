// The built ESM bundle in a browser: dist/index.js (built once per run by the test setup) is
// bundled with its dependencies for the browser, served from 127.0.0.1, and loaded by the
// system's headless Chromium (driven by playwright-core; never a downloaded browser) with WebGPU
// on SwiftShader. The page computes a gradient on WebGPU; Node computes the same one on the CPU.
// A second, cross-origin isolated page runs a big CPU matmul split over Web Workers.
// If dist/ is missing or older than src/, the page bundle is built from src/index.ts instead,
// into a private folder: this test never rewrites dist/, which other suites are reading.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tensor } from '../../src';
import { ROOT, browserGate, browserMissing, collectErrors, launchChromium, serveStatic, waitForFlag, type StaticServer } from '../helpers/chromium';

const INPUTS = {
  x: [[0.5, -1.25, 2], [1.5, 0.25, -0.75]],
  w: [[0.3, -0.2], [0.1, 0.4], [-0.5, 0.6]],
  y: [[1, 0], [0, 1]],
};

/**
 * The program run in both places: a softmax cross-entropy over a tanh layer, padded, sliced and
 * concatenated on the way, so the gradient goes through matmul, reductions, movement ops and
 * the elementwise template. Written once, as source, so page and Node run the same text.
 */
const PROGRAM = `(tg, x, w, y) => {
  const h = x.matmul(w).tanh();
  const z = tg.concat([h, h.pad([[0, 0], [1, 0]]).slice([0, 0], [2, 2]).mul(0.5)], 0);
  const logp = z.logSoftmax(-1);
  return logp.slice([0, 0], [2, 2]).mul(y).sum().neg().add(z.max().mul(0.1));
}`;

const PAGE = `<!doctype html><meta charset="utf-8"><title>tapegrad webgpu</title>
<script type="module">
  import * as tg from './tapegrad.js';
  const program = ${PROGRAM};
  window.runGradient = async (inputs) => {
    const description = await tg.initWebGPU();
    const x = tg.tensor(inputs.x, { device: 'webgpu', requiresGrad: true });
    const w = tg.tensor(inputs.w, { device: 'webgpu', requiresGrad: true });
    const y = tg.tensor(inputs.y, { device: 'webgpu' });
    const loss = program(tg, x, w, y);
    loss.backward();
    let dataSyncError = '';
    try { loss.dataSync(); } catch (e) { dataSyncError = e.message; }
    return {
      description,
      device: loss.device,
      loss: Array.from(await loss.data()),
      dx: Array.from(await x.grad.data()),
      dw: Array.from(await w.grad.data()),
      dataSyncError,
    };
  };
  window.pageReady = true;
</script>`;

/**
 * A cross-origin isolated page (COOP + COEP headers): the wasm memory is shared there, so the CPU
 * backend's big matmuls are split over Web Workers. 384³ = 56M multiply-adds, past the threshold.
 */
const ISOLATED_PAGE = `<!doctype html><meta charset="utf-8"><title>tapegrad cpu workers</title>
<script type="module">
  import * as tg from './tapegrad.js';
  window.runCpu = async (n) => {
    const workers = await tg.warmCpu();
    const values = (seed) => Float32Array.from({ length: n * n }, (_, i) => Math.sin(seed + i * 0.37));
    const a = tg.tensor(values(1), { shape: [n, n] });
    const b = tg.tensor(values(2), { shape: [n, n] });
    let c = a.matmul(b);
    // workers join as they wake: over a few products they take some chunks
    for (let i = 0; i < 50 && tg.cpuCapabilities().workerChunks === 0; i++) { c.dispose(); c = a.matmul(b); }
    return { isolated: globalThis.crossOriginIsolated, workers, caps: tg.cpuCapabilities(), c: Array.from(c.dataSync()) };
  };
  window.pageReady = true;
</script>`;

const run = browserGate('browser WebGPU test', browserMissing());

/** Newest modification time under a folder (ms). */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

(run ? describe : describe.skip)('the bundle in headless Chromium', () => {
  let server: StaticServer;
  let origin = '';
  let out = '';
  let browser: import('playwright-core').Browser;

  beforeAll(async () => {
    const dist = join(ROOT, 'dist/index.js');
    const fresh = existsSync(dist) && statSync(dist).mtimeMs >= newest(join(ROOT, 'src'));
    // dist/index.js leaves its npm dependencies as bare imports (a bundler's job); inline them
    // for the page. Node-only modules stay external: they are loaded lazily and never in a browser.
    out = mkdtempSync(join(tmpdir(), 'tapegrad-browser-'));
    const { build } = await import('tsup');
    await build({
      config: false,
      entry: { tapegrad: fresh ? dist : join(ROOT, 'src/index.ts') },
      outDir: out,
      format: ['esm'],
      platform: 'browser',
      target: 'es2022',
      dts: false,
      sourcemap: false,
      splitting: false,
      silent: true,
      noExternal: [/^(?!webgpu$|cli-progress$|node:|fs\/promises$).*/],
      external: ['webgpu', 'cli-progress', 'fs/promises', /^node:/],
    });
    const bundle = readFileSync(join(out, 'tapegrad.js'));
    const html = (body: string) => ({ type: 'text/html', body });
    const js = { type: 'text/javascript', body: bundle };
    // the isolated page and its bundle under /isolated/, with the cross-origin isolation headers
    server = await serveStatic(
      { '/': html(PAGE), '/index.html': html(PAGE), '/tapegrad.js': js, '/isolated/': html(ISOLATED_PAGE), '/isolated/index.html': html(ISOLATED_PAGE), '/isolated/tapegrad.js': js },
      { isolatedUnder: '/isolated/' },
    );
    origin = server.origin;
    browser = await launchChromium({ webgpu: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it('computes a gradient on WebGPU in the page equal to the CPU gradient in Node', async () => {
    const page = await browser.newPage();
    const errors = collectErrors(page);
    await page.goto(`${origin}/`);
    await waitForFlag(page, errors);
    const got = await page.evaluate((inputs) => (window as unknown as { runGradient: (i: unknown) => Promise<any> }).runGradient(inputs), INPUTS);
    await page.close();

    // the same program on the CPU, in Node
    const tg = await import('../../src');
    const program = new Function(`return ${PROGRAM}`)() as (t: typeof tg, ...xs: ReturnType<typeof tensor>[]) => ReturnType<typeof tensor>;
    const x = tensor(INPUTS.x, { requiresGrad: true });
    const w = tensor(INPUTS.w, { requiresGrad: true });
    const loss = program(tg, x, w, tensor(INPUTS.y));
    loss.backward();

    expect(got.device).toBe('webgpu');
    expect(got.description).toMatch(/\S/);
    expect(got.dataSyncError).toMatch(/data\(\)/);
    const close = (a: number[], b: ArrayLike<number>) => a.forEach((v, i) => expect(v, `element ${i}`).toBeCloseTo(b[i]!, 5));
    close(got.loss, loss.dataSync());
    close(got.dx, x.grad!.dataSync());
    close(got.dw, w.grad!.dataSync());
    expect(errors).toEqual([]);
  });
  it('splits a big CPU matmul over Web Workers in a cross-origin isolated page, with the Node result', async () => {
    const page = await browser.newPage();
    const errors = collectErrors(page);
    await page.goto(`${origin}/isolated/`);
    await waitForFlag(page, errors);
    const n = 384;
    const got = await page.evaluate((size) => (window as unknown as { runCpu: (n: number) => Promise<any> }).runCpu(size), n);
    await page.close();
    expect(got.isolated).toBe(true);
    expect(got.caps.wasm).toBe(true);
    expect(got.caps.sharedMemory).toBe(true);
    expect(got.workers).toBeGreaterThan(0);
    expect(got.caps.workerChunks).toBeGreaterThan(0);
    // the same product in Node (float32 inputs from the same formula)
    const values = (seed: number) => Float32Array.from({ length: n * n }, (_, i) => Math.sin(seed + i * 0.37));
    const want = tensor(values(1), { shape: [n, n] }).matmul(tensor(values(2), { shape: [n, n] })).dataSync();
    expect(got.c.length).toBe(n * n);
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got.c[i] - want[i]!));
    expect(worst).toBeLessThan(1e-3);
    expect(errors).toEqual([]);
  });
});
