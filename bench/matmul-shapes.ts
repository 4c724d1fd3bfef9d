// Matmul shapes of the 784-256-128-10 training step, alone, on each path: best and median of
// repeated runs (GFLOP/s). A tuning aid; `npm run bench` has the figures that count.
//   npx tsx bench/matmul-shapes.ts [reps]
import { tensor } from '../src/index';
import { configureCpu, cpuCapabilities, warmCpu } from '../src/backends/cpu';

const reps = Number(process.argv[2] ?? 30);
// [m, k, n, transposeA, transposeB]: forward, weight gradients (Aᵀ·g) and input gradients (g·Bᵀ)
const SHAPES: [number, number, number, boolean, boolean][] = [
  [128, 784, 256, false, false],
  [784, 128, 256, true, false],
  [128, 256, 128, false, false],
  [256, 128, 128, true, false],
  [128, 128, 256, false, true],
  [512, 512, 512, false, false],
];
for (const [name, cfg] of [['wasm, 1 thread', { threads: 1 }], ['wasm, 2 threads', { threads: 2 }]] as const) {
  configureCpu(cfg);
  await warmCpu();
  for (const [m, k, n, ta, tb] of SHAPES) {
    const a = ta ? tensor(new Float32Array(m * k).fill(0.5), { shape: [k, m] }).T : tensor(new Float32Array(m * k).fill(0.5), { shape: [m, k] });
    const b = tb ? tensor(new Float32Array(k * n).fill(0.5), { shape: [n, k] }).T : tensor(new Float32Array(k * n).fill(0.5), { shape: [k, n] });
    for (let i = 0; i < 5; i++) a.matmul(b).dispose();
    const chunks0 = cpuCapabilities().workerChunks;
    const times: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      a.matmul(b).dispose();
      times.push(performance.now() - t0);
    }
    times.sort((x, y) => x - y);
    const gf = (ms: number) => ((2 * m * k * n) / ms / 1e6).toFixed(1);
    console.log(`${name}  ${ta ? 'Aᵀ' : 'A '}[${m},${k}]·${tb ? 'Bᵀ' : 'B '}[${k},${n}]  best ${times[0]!.toFixed(3)} ms (${gf(times[0]!)} GFLOP/s), median ${gf(times[reps >> 1]!)} GFLOP/s, ${((cpuCapabilities().workerChunks - chunks0) / reps).toFixed(1)} chunks/product by workers`);
  }
}
process.exit(0);
