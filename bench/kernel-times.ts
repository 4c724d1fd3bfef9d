// Where a training step's time goes, kernel by kernel: wraps every CPU kernel with a timer and
// prints the total per op and input shapes, next to the whole step's time.
//   npx tsx bench/kernel-times.ts mlp|tiny|convnet [steps]
import { performance } from 'node:perf_hooks';
import { cpuBackend } from '../src/backends/cpu';
import { gemmProfile } from '../src/backends/cpu/gemm';
import { CASES } from './cases';
import { load } from './libs';

const which = process.argv[2] ?? 'mlp';
const steps = Number(process.argv[3] ?? 50);
const c = CASES.find((k) => (which === 'mlp' ? k.name.startsWith('train step 784') : which === 'convnet' ? k.name.includes('convnet') : k.name.includes('tutorial')))!;
const lib = await load('tapegrad', true);
let trainer: ReturnType<typeof lib.trainer> | undefined;
c.run({ ...lib, trainer: (spec) => (trainer = lib.trainer(spec)), convnet: (spec) => (trainer = lib.convnet(spec)) } as typeof lib);
const t = trainer!;
for (let i = 0; i < 20; i++) t.step();

const rowMajor = (v: { shape: number[]; strides: number[] }) => {
  let want = 1;
  for (let d = v.shape.length - 1; d >= 0; d--) {
    if (v.shape[d] !== 1 && v.strides[d] !== want) return false;
    want *= v.shape[d]!;
  }
  return true;
};
const totals = new Map<string, { ms: number; calls: number }>();
const kernels = cpuBackend.kernels as unknown as Record<string, (...a: unknown[]) => unknown>;
for (const [name, k] of Object.entries(kernels)) {
  kernels[name] = (...args: unknown[]) => {
    // kernels take (input storages, attrs, { shape, dtype } of the output)
    const [inputs, attrs, out] = args as [{ view: { shape: number[]; strides: number[] } }[], unknown, { shape: readonly number[] }];
    const t0 = performance.now();
    const r = k(inputs, attrs, out);
    // each input's shape, and its strides when it is not row-major (a transposed view, say)
    const key = `${name} ${inputs.map((s) => `[${s.view.shape}]${rowMajor(s.view) ? '' : `/${s.view.strides}`}`).join(' ')} → [${out.shape}]`;
    const e = totals.get(key) ?? { ms: 0, calls: 0 };
    e.ms += performance.now() - t0;
    e.calls++;
    totals.set(key, e);
    return r;
  };
}
gemmProfile.on = true;
const t0 = performance.now();
for (let i = 0; i < steps; i++) t.step();
const stepMs = (performance.now() - t0) / steps;
const rows = [...totals].sort((a, b) => b[1].ms - a[1].ms);
const inKernels = rows.reduce((s, [, e]) => s + e.ms, 0) / steps;
console.log(`${c.name}: ${stepMs.toFixed(3)} ms/step, ${inKernels.toFixed(3)} ms in kernels, ${(stepMs - inKernels).toFixed(3)} ms outside`);
const g = gemmProfile;
console.log(
  `wasm gemm: ${(g.calls / steps).toFixed(1)} calls/step (${(g.threaded / steps).toFixed(1)} threaded): pack ${(g.pack / steps).toFixed(3)} ms, kernel ${(g.kernel / steps).toFixed(3)} ms, copy out ${(g.copy / steps).toFixed(3)} ms per step`,
);
for (const [key, e] of rows.slice(0, 30)) {
  console.log(`${(e.ms / steps).toFixed(4).padStart(8)} ms  ${(e.calls / steps).toFixed(0).padStart(2)}×  ${key}`);
}
process.exit(0);
