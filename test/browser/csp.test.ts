// The built browser bundle (dist/browser/index.js, built by the test setup) on a strict page: a
// Content-Security-Policy without 'unsafe-eval' (strict sites, browser extensions), served from
// 127.0.0.1 to the system's headless Chromium (playwright-core), once plain and once cross-origin
// isolated (shared memory: the CPU backend's worker threads, started from a blob: URL). The page
// imports the package and differentiates a 256×384 @ 384×256 product; Node computes the same
// gradients from src/. The one eval the package tries (a generated elementwise loop) is refused
// once, reported once by Chromium, and remembered: every op then runs its plain loop.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tensor, tidy } from '../../src';
import { ROOT, browserGate, browserMissing, collectErrors, launchChromium, serveStatic, type StaticServer } from '../helpers/chromium';

const BUNDLE = join(ROOT, 'dist/browser/index.js');
const CSP = "script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:";
const [M, K, N] = [256, 384, 256];

/** The inputs, the same formula in the page and here (float32 as the tensors hold them). */
const VALUES = `(n, seed) => Float32Array.from({ length: n }, (_, i) => 0.1 * Math.sin(seed + i * 0.37))`;

/** The page's module script (an inline one would be blocked by script-src 'self'). */
const MAIN = `import * as tg from './tapegrad/index.js';
const values = ${VALUES};
// what the policy blocked (an eval shows as blockedURI 'eval')
const violations = (window.violations = []);
document.addEventListener('securitypolicyviolation', (e) => violations.push(e.blockedURI + ' ' + e.effectiveDirective));
const run = async () => {
  const workers = await tg.warmCpu();
  const a = tg.tensor(values(${M * K}, 1), { shape: [${M}, ${K}], requiresGrad: true });
  const b = tg.tensor(values(${K * N}, 2), { shape: [${K}, ${N}], requiresGrad: true });
  // workers join as they wake: over a few products they take some chunks
  for (let i = 0; i < 50 && workers > 0 && tg.cpuCapabilities().workerChunks === 0; i++) a.matmul(b).dispose();
  const loss = a.matmul(b).tanh().sum();
  loss.backward();
  return {
    isolated: globalThis.crossOriginIsolated,
    workers,
    caps: tg.cpuCapabilities(),
    loss: loss.dataSync()[0],
    da: Array.from(a.grad.dataSync()),
    db: Array.from(b.grad.dataSync()),
  };
};
// run by the page itself: code that DevTools calls in (page.evaluate) is exempt from the CSP's eval check
window.result = await run().catch((e) => ({ error: String(e && e.stack || e) }));
`;
const PAGE = `<!doctype html><meta charset="utf-8"><title>tapegrad under a strict CSP</title>
<script type="module" src="./main.js"></script>`;

// skipped (never required) where the bundle is not built
const run = browserGate('browser CSP test', browserMissing({ files: [[BUNDLE, 'npx tsup']] }), false);

(run ? describe : describe.skip)('the built bundle under a CSP without unsafe-eval', () => {
  let server: StaticServer;
  let origin = '';
  let browser: import('playwright-core').Browser;
  // the gradients in Node
  let want: { loss: number; da: Float32Array; db: Float32Array };

  beforeAll(async () => {
    const bundle = readFileSync(BUNDLE);
    const js = (body: string | Uint8Array) => ({ type: 'text/javascript', body });
    const files = { '/': { type: 'text/html', body: PAGE }, '/main.js': js(MAIN), '/tapegrad/index.js': js(bundle) };
    // the same files under /isolated/, cross-origin isolated; the policy on every response
    server = await serveStatic(
      { ...files, ...Object.fromEntries(Object.entries(files).map(([k, v]) => [`/isolated${k}`, v])) },
      { headers: { 'content-security-policy': CSP }, isolatedUnder: '/isolated/' },
    );
    origin = server.origin;
    browser = await launchChromium();

    const values = new Function(`return ${VALUES}`)() as (n: number, seed: number) => Float32Array;
    want = tidy(() => {
      const a = tensor(values(M * K, 1), { shape: [M, K], requiresGrad: true });
      const b = tensor(values(K * N, 2), { shape: [K, N], requiresGrad: true });
      const loss = a.matmul(b).tanh().sum();
      loss.backward();
      return { loss: loss.dataSync()[0]!, da: a.grad!.dataSync() as Float32Array, db: b.grad!.dataSync() as Float32Array };
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it.each([['plain', '/'], ['cross-origin isolated', '/isolated/']])('%s page: imports the package and differentiates a matmul', async (kind, path) => {
    const page = await browser.newPage();
    const errors = collectErrors(page, { ignore: /unsafe-eval/, where: false });
    await page.goto(`${origin}${path}`);
    // the result, or the first error (an EvalError at import, say) at once
    const failed = new Promise<never>((_, reject) => page.once('pageerror', (e) => reject(new Error(`the page failed: ${e.message}`))));
    await Promise.race([failed, page.waitForFunction(() => (window as unknown as { result?: unknown }).result !== undefined, undefined, { timeout: 90_000 })])
      .catch((e: Error) => {
        throw new Error(`the page did not run: ${errors.join('; ') || e.message}`);
      });
    const got = await page.evaluate(() => (window as unknown as { result: any }).result);
    expect(got.error).toBeUndefined();
    // violation reports are events queued after the refusal: read them once they have fired
    await page.waitForTimeout(200);
    const violations = await page.evaluate(() => (window as unknown as { violations: string[] }).violations);
    await page.close();

    expect(errors).toEqual([]);
    // eval was tried once (the first generated loop), refused, and never tried again
    expect(violations).toEqual(['eval script-src']);
    expect(got.caps.wasm).toBe(true);
    if (kind === 'plain') {
      expect(got.isolated).toBe(false);
      expect(got.workers).toBe(0);
    } else {
      expect(got.isolated).toBe(true);
      expect(got.caps.sharedMemory).toBe(true);
      expect(got.workers).toBeGreaterThan(0);
      expect(got.caps.workerChunks).toBeGreaterThan(0);
    }
    expect(got.loss).toBeCloseTo(want.loss, 2);
    for (const [name, g, w] of [['dA', got.da, want.da], ['dB', got.db, want.db]] as const) {
      expect(g.length, name).toBe(w.length);
      let worst = 0;
      for (let i = 0; i < w.length; i++) worst = Math.max(worst, Math.abs(g[i] - w[i]!) / (1 + Math.abs(w[i]!)));
      expect(worst, `${name}: worst relative difference`).toBeLessThan(1e-4);
    }
  }, 120_000);
});
