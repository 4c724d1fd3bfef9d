// The playground in a real browser: the Vite app is built once into a private folder, served by
// Vite's preview server with the playground's own config (so with its COOP/COEP headers), and
// driven through window.playground.train in the system's headless Chromium (playwright-core; never
// a downloaded browser), WebGPU on SwiftShader. Screenshots of each task land in out/playground/.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CONFIG = join(ROOT, 'playground/vite.config.ts');
const SHOTS = join(ROOT, 'out/playground');
const CHROMIUM = '/usr/bin/chromium';
// as in test/browser/page.test.ts: WebGPU on SwiftShader, no sandbox (root), no network chatter
const ARGS = [
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
  '--no-sandbox',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
];

const flag = (v: string | undefined) => !!v && v !== '0' && v.toLowerCase() !== 'false';
const REQUIRED = flag(process.env.CI) || flag(process.env.TAPEGRAD_REQUIRE_WEBGPU);

function missing(): string | null {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} not found (apt-get install -y chromium)`;
  try {
    execFileSync(
      process.execPath,
      ['-e', "require.resolve('playwright-core'); require.resolve('vite')"],
      { cwd: ROOT, stdio: 'ignore' },
    );
  } catch {
    return 'playwright-core or vite is not installed';
  }
  return null;
}
const why = missing();
if (why && REQUIRED)
  throw new Error(
    `the playground browser test is required here (CI or TAPEGRAD_REQUIRE_WEBGPU is set) but cannot run: ${why}`,
  );
if (why) console.warn(`[tapegrad] playground browser test skipped: ${why}`);

type Task = 'neuron' | 'linear-sine' | 'relu-sine' | 'iris' | 'tanh-sine' | 'digits';
interface Result {
  loss: number;
  accuracy?: number;
}
interface Playground {
  train(o: { task: Task; device?: 'cpu' | 'webgpu'; epochs?: number }): Promise<Result>;
  memory(): { tensors: number; bytes: number } | null;
}

(why ? describe.skip : describe)('the playground in headless Chromium', () => {
  let out = '';
  let server: import('vite').PreviewServer;
  let browser: import('playwright-core').Browser;
  let page: import('playwright-core').Page;
  const errors: string[] = [];

  const train = (o: Parameters<Playground['train']>[0]) =>
    page.evaluate(
      (opts) => (window as unknown as { playground: Playground }).playground.train(opts),
      o,
    );
  const memory = () =>
    page.evaluate(() => (window as unknown as { playground: Playground }).playground.memory());
  /** Pixels drawn (not transparent, not white) on every canvas under the selector, and its SVG elements. */
  const drawn = (selector: string) =>
    page.evaluate((sel) => {
      const root = document.querySelector(sel)!;
      const canvases = Array.from(root.querySelectorAll('canvas')).map((c) => {
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let ink = 0;
        for (let i = 0; i < d.length; i += 4)
          if (d[i + 3]! > 0 && (d[i]! < 250 || d[i + 1]! < 250 || d[i + 2]! < 250)) ink++;
        return ink;
      });
      return { canvases, svgShapes: root.querySelectorAll('svg rect, svg line, svg path').length };
    }, selector);
  const shoot = (name: string) =>
    page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'tapegrad-playground-'));
    mkdirSync(SHOTS, { recursive: true });
    const vite = await import('vite');
    await vite.build({ configFile: CONFIG, logLevel: 'error', build: { outDir: out } });
    server = await vite.preview({
      configFile: CONFIG,
      logLevel: 'error',
      build: { outDir: out },
      preview: { port: 0, strictPort: false },
    });
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on(
      'console',
      (m) => m.type() === 'error' && errors.push(`${m.text()} ${m.location().url}`),
    );
    await page.goto(server.resolvedUrls!.local[0]!);
    await page.waitForFunction(() => 'playground' in window, undefined, { timeout: 30_000 });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it('is served cross-origin isolated', async () => {
    expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(true);
    expect(await page.evaluate(() => document.getElementById('isolation')!.textContent)).toMatch(
      /^cross-origin isolated/,
    );
  });

  it('trains relu-sine on the CPU to a loss below 0.01 in 100 epochs, drawing every picture', async () => {
    const r = await train({ task: 'relu-sine', device: 'cpu', epochs: 100 });
    expect(r.loss).toBeLessThan(0.01);
    expect(await page.evaluate(() => location.hash)).toMatch(/task=relu-sine/);
    const loss = await drawn('#loss-chart');
    const fit = await drawn('#fit-chart');
    const grads = await drawn('#grad-chart');
    for (const d of [loss, fit, grads]) expect(Math.max(...d.canvases)).toBeGreaterThan(500);
    // input, Linear, ReLU, Linear, loss and two weights + two biases: 9 boxes, and their arrows
    const tape = await drawn('#tape');
    expect(tape.svgShapes).toBeGreaterThanOrEqual(9 + 8);
    expect(await page.evaluate(() => document.getElementById('tape')!.textContent)).toMatch(
      /Linear.*ReLU.*Linear.*loss: half-mse/,
    );
    expect(await page.evaluate(() => document.getElementById('grad-title')!.textContent)).toMatch(
      /301 weights.*max relative error/,
    );
    await shoot('relu-sine');
    expect(errors).toEqual([]);
  }, 120_000);

  it('trains digits to at least 90% test accuracy in two epochs and shows a prediction', async () => {
    const r = await train({ task: 'digits', device: 'cpu', epochs: 2 });
    expect(r.accuracy).toBeGreaterThanOrEqual(0.9);
    await page.waitForFunction(() => document.querySelectorAll('#probs .bar').length === 10);
    expect(Math.max(...(await drawn('#loss-chart')).canvases)).toBeGreaterThan(500);
    await shoot('digits');
    expect(errors).toEqual([]);
  }, 120_000);

  it('trains the other tutorials and leaks nothing between runs', async () => {
    const counts: number[] = [];
    for (const [task, epochs] of [
      ['neuron', 1],
      ['linear-sine', 2],
      ['iris', undefined],
      ['tanh-sine', undefined],
      ['neuron', 1],
    ] as const) {
      const r = await train({ task, device: 'cpu', ...(epochs ? { epochs } : {}) });
      expect(Number.isFinite(r.loss), task).toBe(true);
      expect(Math.max(...(await drawn('#fit-chart')).canvases), task).toBeGreaterThan(200);
      if (task !== 'neuron' || counts.length === 0) await shoot(task);
      counts.push((await memory())!.tensors);
    }
    // the same task twice, with others between: the same live tensors (the last run's net and data)
    expect(counts.at(-1)).toBe(counts[0]);
    expect(errors).toEqual([]);
  }, 120_000);

  it('trains a few epochs on WebGPU', async (ctx) => {
    const adapter = await page.evaluate(
      async () =>
        !!(await (
          navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }
        ).gpu?.requestAdapter()),
    );
    if (!adapter && !REQUIRED) return ctx.skip();
    const r = await train({ task: 'relu-sine', device: 'webgpu', epochs: 3 });
    const losses = await page.evaluate(() =>
      (window as unknown as { playground: { losses(): number[] } }).playground.losses(),
    );
    expect(losses).toHaveLength(3);
    expect(r.loss).toBeLessThan(losses[0]!);
    expect(Math.max(...(await drawn('#fit-chart')).canvases)).toBeGreaterThan(500);
    await shoot('relu-sine-webgpu');
    expect(errors).toEqual([]);
  }, 120_000);
});
