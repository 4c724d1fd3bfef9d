// The playground in a real browser: the Vite app is built once into a private folder, served by
// Vite's preview server with the playground's own config (so with its COOP/COEP headers), and
// driven through window.playground.train in the system's headless Chromium (playwright-core; never
// a downloaded browser), WebGPU on SwiftShader. Screenshots of each task land in out/playground/.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROWSER_REQUIRED, ROOT, browserGate, browserMissing, collectErrors, launchChromium } from '../helpers/chromium';

const CONFIG = join(ROOT, 'playground/vite.config.ts');
const SHOTS = join(ROOT, 'out/playground');
const run = browserGate('playground browser test', browserMissing({ packages: ['vite'] }));

type Task = 'neuron' | 'linear-sine' | 'relu-sine' | 'iris' | 'tanh-sine' | 'digits';
interface Result {
  loss: number;
  accuracy?: number;
}
interface Playground {
  train(o: { task: Task; device?: 'cpu' | 'webgpu'; epochs?: number; net?: 'mlp' | 'convnet'; rows?: number }): Promise<Result>;
  memory(): { tensors: number; bytes: number } | null;
}

(run ? describe : describe.skip)('the playground in headless Chromium', () => {
  let out = '';
  let server: import('vite').PreviewServer;
  let browser: import('playwright-core').Browser;
  let page: import('playwright-core').Page;
  let errors: string[] = [];

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
  /** The tape as Graphviz drew it: its op and tensor nodes, its edges, and its text. */
  const tape = () =>
    page.evaluate(() => {
      const svg = document.querySelector('#tape svg');
      return {
        nodes: svg?.querySelectorAll('g.node').length ?? 0,
        edges: svg?.querySelectorAll('g.edge').length ?? 0,
        text: Array.from(svg?.querySelectorAll('text') ?? [], (t) => t.textContent).join(' | '),
        height: svg?.getBoundingClientRect().height ?? 0,
      };
    });
  const statusLine = () => page.evaluate(() => document.getElementById('status')!.textContent!);
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
    browser = await launchChromium({ webgpu: true });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    errors = collectErrors(page);
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
    // toDot's graph of one step, drawn by Graphviz: the two linears and the relu, the half-MSE,
    // the input, the target and the four parameters with their gradient norms
    const t = await tape();
    expect(t.nodes).toBeGreaterThanOrEqual(3 + 3 + 2 + 4);
    expect(t.edges).toBeGreaterThanOrEqual(t.nodes - 1);
    expect(t.text.match(/\blinear\b/g)).toHaveLength(2);
    expect(t.text).toMatch(/\brelu\b/);
    for (const p of ['0.weight', '0.bias', '2.weight', '2.bias'])
      expect(t.text, p).toMatch(new RegExp(`${p.replace('.', '\\.')} \\| \\[[\\d,]+\\] float32 \\| ‖grad‖ = \\d`));
    expect(t.height).toBeGreaterThan(100);
    expect(await page.evaluate(() => document.getElementById('grad-title')!.textContent)).toMatch(
      /301 weights.*max relative error/,
    );
    await shoot('relu-sine');
    // the gradient-check view on its own
    await page.locator('#grad-panel').screenshot({ path: join(SHOTS, 'gradient-check.png') });
    expect(errors).toEqual([]);
  }, 120_000);

  it('trains the digits convnet to at least 90% test accuracy in two epochs and shows a prediction', async () => {
    const r = await train({ task: 'digits', device: 'cpu', epochs: 2 });
    console.log(`[playground] digits convnet, CPU, 2 epochs: ${await statusLine()}`);
    expect(r.accuracy).toBeGreaterThanOrEqual(0.9);
    await page.waitForFunction(() => document.querySelectorAll('#probs .bar').length === 10);
    expect(Math.max(...(await drawn('#loss-chart')).canvases)).toBeGreaterThan(500);
    // the tape is the convnet's: windows (conv and pooling) and the filters' gradient norms
    const t = await tape();
    expect(t.text).toMatch(/windows/);
    expect(t.text).toMatch(/0\.weight \| \[16,1,5,5\] float32 \| ‖grad‖ = \d/);
    expect(t.text).toMatch(/3\.weight \| \[32,16,5,5\] float32 \| ‖grad‖ = \d/);
    // the first conv layer's 16 filters are drawn
    expect((await drawn('#filters')).canvases.filter((ink) => ink > 0)).toHaveLength(16);
    await shoot('digits');
    // a digit drawn on the pad is classified by the same net: ten bars again
    await page.evaluate(() => document.getElementById('probs')!.replaceChildren());
    const box = (await page.locator('#pad').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.2);
    await page.mouse.down();
    for (let i = 1; i <= 12; i++) await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * (0.2 + 0.05 * i));
    await page.mouse.up();
    await page.waitForFunction(() => document.querySelectorAll('#probs .bar').length === 10);
    expect(errors).toEqual([]);
  }, 600_000);

  it('refuses the convnet on a task without images, naming the task, and keeps the dense MLP as a knob', async () => {
    await expect(train({ task: 'relu-sine', net: 'convnet', epochs: 1 })).rejects.toThrow(/convnet.*'relu-sine'/);
    const r = await train({ task: 'digits', net: 'mlp', epochs: 1, rows: 1000 });
    expect(r.accuracy).toBeGreaterThan(0.5);
    const t = await tape();
    expect(t.text).not.toMatch(/windows/);
    expect(t.text).toMatch(/1\.weight \| \[784,128\] float32/);
    expect(errors).toEqual([]);
  }, 120_000);

  /** live tensors after a one-epoch neuron run on the CPU: its net and data only */
  let neuronTensors = -1;

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
      expect((await tape()).nodes, task).toBeGreaterThan(3);
      if (task !== 'neuron' || counts.length === 0) await shoot(task);
      counts.push((await memory())!.tensors);
    }
    // the same task twice, with others between: the same live tensors (the last run's net and data)
    expect(counts.at(-1)).toBe(counts[0]);
    neuronTensors = counts[0]!;
    expect(errors).toEqual([]);
  }, 180_000);

  it('trains a few epochs on WebGPU: relu-sine, and the digits convnet on a subset', async (ctx) => {
    const adapter = await page.evaluate(
      async () =>
        !!(await (
          navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }
        ).gpu?.requestAdapter()),
    );
    if (!adapter && !BROWSER_REQUIRED) return ctx.skip();
    const losses = () =>
      page.evaluate(() =>
        (window as unknown as { playground: { losses(): number[] } }).playground.losses(),
      );
    const r = await train({ task: 'relu-sine', device: 'webgpu', epochs: 3 });
    const l = await losses();
    expect(l).toHaveLength(3);
    expect(r.loss).toBeLessThan(l[0]!);
    expect(Math.max(...(await drawn('#fit-chart')).canvases)).toBeGreaterThan(500);
    // drawn from a CPU copy of the WebGPU net, with its gradient norms
    expect((await tape()).text).toMatch(/0\.weight \| \[1,100\] float32 \| ‖grad‖ = \d/);
    await shoot('relu-sine-webgpu');
    // SwiftShader runs the convnet slowly (512 digits × 3 epochs took 286 s): 3 epochs of 128
    // digits, tested on 32; the loss falls, and the accuracy is a number
    const d = await train({ task: 'digits', device: 'webgpu', epochs: 3, rows: 128 });
    console.log(`[playground] digits convnet, WebGPU (SwiftShader), 128 rows × 3 epochs: ${await statusLine()}`);
    const dl = await losses();
    expect(dl).toHaveLength(3);
    expect(dl[2]!).toBeLessThan(dl[0]!);
    expect(d.accuracy).toBeGreaterThanOrEqual(0);
    expect(d.accuracy).toBeLessThanOrEqual(1);
    await page.waitForFunction(() => document.querySelectorAll('#probs .bar').length === 10);
    await shoot('digits-webgpu');
    // the WebGPU runs (and their tapes' CPU copies) leave nothing behind
    await train({ task: 'neuron', device: 'cpu', epochs: 1 });
    expect((await memory())!.tensors).toBe(neuronTensors);
    expect(errors).toEqual([]);
  }, 600_000);
});
