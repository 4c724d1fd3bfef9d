// WebGPU beside the CPU: matmul at a few sizes and one training step of an MLP.
//
//   npx tsx bench/webgpu.ts [--quick]
//
// A WebGPU time runs from the first dispatch until one element of the result has been mapped
// back, so it includes queueing and the GPU's work but not a large readback. On SwiftShader (a
// CPU Vulkan driver, what GPU-less machines use) the WebGPU column measures a CPU emulating a
// GPU: it says nothing about WebGPU on real hardware, and the output says so.
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initWebGPU, manualSeed, noGrad, randn, tensor, tidy, type Device, type Tensor } from '../src';

const quick = process.argv.includes('--quick');
const ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
// what .ci/setup-webgpu.sh exports, before the `webgpu` package loads (initWebGPU loads it)
if (!process.env.VK_ICD_FILENAMES && existsSync(ICD)) process.env.VK_ICD_FILENAMES = ICD;
if (!process.env.XDG_RUNTIME_DIR) {
  const dir = join(tmpdir(), `tapegrad-xdg-${process.getuid?.() ?? 'user'}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  process.env.XDG_RUNTIME_DIR = dir;
}

/** median of `reps` timed runs after one warm-up, in ms; stops early past `budgetMs` */
async function time(run: () => Promise<void>, reps: number, budgetMs = 5000): Promise<number> {
  await run();
  const ts: number[] = [];
  const start = performance.now();
  for (let i = 0; i < reps && (i < 3 || performance.now() - start < budgetMs); i++) {
    const t0 = performance.now();
    await run();
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)]!;
}

/** wait until `t` is computed: read one element back */
async function settle(t: Tensor): Promise<void> {
  if (t.device === 'cpu') return;
  const one = t.reshape([-1]).slice([0], [1]);
  await one.data();
  one.dispose();
}

async function matmulMs(device: Device, shapeA: number[], shapeB: number[]): Promise<number> {
  manualSeed(1);
  const a = randn(shapeA, { device });
  const b = randn(shapeB, { device });
  const ms = await time(async () => {
    const c = a.matmul(b);
    await settle(c);
    c.dispose();
  }, quick ? 3 : 10);
  a.dispose();
  b.dispose();
  return ms;
}

/** one SGD step of a 256-128-10 tanh MLP on a batch of 64, mean squared error */
async function trainStepMs(device: Device): Promise<number> {
  manualSeed(2);
  const X = randn([64, 256], { device });
  const Y = randn([64, 10], { device });
  const params = [
    randn([256, 128], { device, std: 0.05, requiresGrad: true }),
    tensor(new Float32Array(128), { device, requiresGrad: true }),
    randn([128, 10], { device, std: 0.05, requiresGrad: true }),
    tensor(new Float32Array(10), { device, requiresGrad: true }),
  ];
  const [W1, b1, W2, b2] = params as [Tensor, Tensor, Tensor, Tensor];
  const ms = await time(async () => {
    const loss = tidy(() => {
      const l = X.matmul(W1).add(b1).tanh().matmul(W2).add(b2).sub(Y).square().mean();
      l.backward();
      noGrad(() => {
        for (const p of params) {
          p.assign(p.sub(p.grad!.mul(0.01)));
          p.zeroGrad();
        }
      });
      return l;
    });
    await settle(loss);
    loss.dispose();
  }, quick ? 5 : 20);
  for (const t of [X, Y, ...params]) t.dispose();
  return ms;
}

const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));

let adapter: string | null = null;
try {
  adapter = await initWebGPU();
} catch (e) {
  console.log(`WebGPU unavailable, CPU figures only:\n${(e as Error).message}\n`);
}
const swiftshader = !!adapter && /swiftshader/i.test(adapter);
console.log(`WebGPU adapter: ${adapter ?? 'none'}`);
if (swiftshader) {
  console.log('NOTE: SwiftShader runs the WGSL kernels on this CPU. Its timings mean nothing for a GPU;');
  console.log('      they are printed to show the benchmark runs, not to compare devices.');
}
console.log();

/** name, flops (matmuls), cpu ms, webgpu ms */
const rows: [string, number | null, number, number | null][] = [];
const sizes = quick ? [64, 256] : [64, 128, 256, 512];
for (const n of sizes) {
  const cpu = await matmulMs('cpu', [n, n], [n, n]);
  const gpu = adapter ? await matmulMs('webgpu', [n, n], [n, n]) : null;
  rows.push([`matmul ${n}×${n} · ${n}×${n}`, 2 * n ** 3, cpu, gpu]);
}
{
  const [bt, m, k, n] = [8, 128, 64, 128];
  const cpu = await matmulMs('cpu', [bt, m, k], [k, n]);
  const gpu = adapter ? await matmulMs('webgpu', [bt, m, k], [k, n]) : null;
  rows.push([`matmul [${bt},${m},${k}] · [${k},${n}] (broadcast batch)`, 2 * bt * m * k * n, cpu, gpu]);
}
{
  const cpu = await trainStepMs('cpu');
  const gpu = adapter ? await trainStepMs('webgpu') : null;
  rows.push(['train step: MLP 256-128-10, batch 64, SGD', null, cpu, gpu]);
}

const gflops = (flops: number | null, ms: number | null) => (flops === null || ms === null ? '-' : (flops / ms / 1e6).toFixed(2));
const w = Math.max(...rows.map((r) => r[0].length));
const head = ['cpu ms', 'webgpu ms', 'cpu GFLOP/s', 'webgpu GFLOP/s'];
console.log(`${'case'.padEnd(w)}  ${head.map((h) => h.padStart(16)).join('')}`);
for (const [name, flops, cpu, gpu] of rows) {
  const cells = [fmt(cpu), gpu === null ? '-' : fmt(gpu), gflops(flops, cpu), gflops(flops, gpu)];
  console.log(`${name.padEnd(w)}  ${cells.map((c) => c.padStart(16)).join('')}`);
}
if (swiftshader) console.log('\n(webgpu = SwiftShader on the CPU: not a GPU measurement)');
