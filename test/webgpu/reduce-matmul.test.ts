// Reductions (workgroup tree and serial schedules) and the tiled matmul, WebGPU against the CPU.
//
// Tolerances (float32):
//   max, min: exact (a max is one of the inputs)
//   sum: |diff| ≤ 1e-6·Σ|x| (+ rtol 1e-6): the GPU adds in another order, in float32; the CPU
//        accumulates in float64
//   matmul: |diff| ≤ 1e-6·(|A|·|B|)ᵢⱼ·√K + rtol 1e-6, the usual bound for a float32 dot product
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { randn, tensor, type Tensor } from '../../src';
import { webgpuStats } from '../../src/backends/webgpu';
import { broadcastArb, compareDevices, describeGPU, fcRuns, placedArb, runOn, shapeArb, size, expectClose, fmt, type Placed } from './helpers';

const RUNS = 30;

/** a sorted subset of the axes of a rank-r shape */
const axesArb = (r: number) => fc.subarray([...Array(r).keys()]);

/** the usual shapes, plus shapes with a long axis, so the workgroup tree sees R > 256 */
const reduceShapeArb = fc.oneof(
  shapeArb(),
  fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 129, max: 700 })).map(([a, b]) => [a, b]),
  fc.tuple(fc.integer({ min: 100, max: 300 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 2, max: 3 })).map(([a, b, c]) => [a, b, c]),
);

describeGPU('webgpu reductions match the CPU', () => {
  for (const op of ['sum', 'max', 'min'] as const) {
    it(`${op} over random axes (keepDims both ways)`, async () => {
      // max/min of an empty tensor is an error before any kernel runs, so those draw non-empty shapes
      const shapes = op === 'sum' ? reduceShapeArb : reduceShapeArb.filter((s) => size(s) > 0);
      const arb = shapes.chain((s) => fc.tuple(placedArb(s, op === 'sum' ? {} : { min: -3, max: 3, ints: true }), axesArb(s.length), fc.boolean()));
      await fc.assert(
        fc.asyncProperty(arb, async ([x, axes, keep]) => {
          const fn = ([t]: Tensor[]) => t![op](axes, keep);
          if (op !== 'sum') return compareDevices(`${op}(${fmt(axes)}, ${keep})`, [x], fn, {});
          // the scale for a sum: Σ|x| over the same axes
          const scale = (await runOn('cpu', [x], ([t]) => t!.abs().sum(axes, keep))).values;
          return compareDevices(`sum(${fmt(axes)}, ${keep})`, [x], fn, { atol: 1e-6, rtol: 1e-6, scale });
        }),
        fcRuns(RUNS),
      );
    });
  }

  it('both schedules: many short rows (serial) and few long rows (workgroup tree)', async () => {
    const x = randn([5000, 3], { device: 'webgpu' });
    const y = randn([3, 1000, 7], { device: 'webgpu' });
    const xc = tensor(await x.data(), { shape: [5000, 3] });
    const yc = tensor(await y.data(), { shape: [3, 1000, 7] });
    const cases: [Tensor, Tensor, (t: Tensor) => Tensor][] = [
      [x, xc, (t) => t.sum(1)], // A = 5000 outputs of R = 3: serial
      [x, xc, (t) => t.max(0)], // A = 3 of R = 5000: tree
      [y, yc, (t) => t.sum([0, 2])], // A = 1000 of R = 21, strided: serial
      [y, yc, (t) => t.min([0, 1])], // A = 7 of R = 3000, strided: tree
      [y, yc, (t) => t.sum()], // A = 1 of R = 21000
    ];
    for (const [g, c, f] of cases) {
      const want = f(c).dataSync();
      const scale = f(c.abs()).dataSync();
      expectClose(await f(g).data(), want, { atol: 1e-6, rtol: 1e-6, scale }, `reduction to ${fmt(f(c).shape)}`);
    }
  });
});

/** [...batchA, m, k] and [...batchB, k, n] with broadcast batch dims; m, n, k cross the 16- and 64-wide tiles */
const matmulArb = fc
  .record({
    batch: broadcastArb(2, 2),
    m: fc.oneof(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 62, max: 72 })),
    n: fc.oneof(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 62, max: 72 })),
    k: fc.oneof(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 15, max: 40 })),
  })
  .filter(({ batch, m, n, k }) => size(batch[0]!) * size(batch[1]!) * m * n * k < 400_000)
  .chain(({ batch: [ba, bb], m, n, k }) => fc.tuple(placedArb([...ba!, m, k]), placedArb([...bb!, k, n])));

describeGPU('webgpu matmul matches the CPU', () => {
  it('batched, broadcast batch dims, any sizes, strided operands', async () => {
    await fc.assert(
      fc.asyncProperty(matmulArb, async (xs: Placed[]) => {
        const k = xs[0]!.shape[xs[0]!.shape.length - 1]!;
        // the scale of each output: (|A|·|B|)ᵢⱼ
        const scale = (await runOn('cpu', xs, ([a, b]) => a!.abs().matmul(b!.abs()))).values;
        await compareDevices('matmul', xs, ([a, b]) => a!.matmul(b!), { atol: 1e-6 * Math.sqrt(Math.max(k, 1)), rtol: 1e-6, scale });
      }),
      fcRuns(RUNS),
    );
  });

  it('the fused ops: linear (x @ W + b) and mse, strided operands included', async () => {
    const linearArb = fc
      .record({ batch: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 1 }), m: fc.integer({ min: 1, max: 70 }), k: fc.integer({ min: 1, max: 40 }), n: fc.integer({ min: 1, max: 70 }) })
      .chain(({ batch, m, k, n }) => fc.tuple(placedArb([...batch, m, k]), placedArb([k, n]), placedArb([n])));
    await fc.assert(
      fc.asyncProperty(linearArb, async (xs: Placed[]) => {
        const k = xs[1]!.shape[0]!;
        const scale = (await runOn('cpu', xs, ([x, w, b]) => x!.abs().matmul(w!.abs()).add(b!.abs()))).values;
        await compareDevices('linear', xs, ([x, w, b]) => x!.linear(w!, b!), { atol: 1e-6 * Math.sqrt(k), rtol: 1e-6, scale });
      }),
      fcRuns(RUNS),
    );
    const mseArb = shapeArb().chain((s) => fc.tuple(placedArb(s), placedArb(s)));
    await fc.assert(
      fc.asyncProperty(mseArb, async (xs: Placed[]) => {
        const scale = (await runOn('cpu', xs, ([p, t]) => p!.sub(t!).square().mean())).values;
        await compareDevices('mse', xs, ([p, t]) => p!.mse(t!), { atol: 1e-6, rtol: 1e-5, scale });
      }),
      fcRuns(RUNS),
    );
  });

  it('transposed operands (views, no copies) and vectors', async () => {
    const a = randn([70, 33], { device: 'webgpu' });
    const b = randn([65, 33], { device: 'webgpu' });
    const v = randn([33], { device: 'webgpu' });
    const [ac, bc, vc] = await Promise.all([a, b, v].map(async (t) => tensor(await t.data(), { shape: t.shape })));
    const before = webgpuStats()!.created;
    const g = a.matmul(b.T); // [70, 65] from a permuted view of b
    expect(webgpuStats()!.created - before).toBeLessThanOrEqual(1); // only the output buffer
    expectClose(await g.data(), ac!.matmul(bc!.T).dataSync(), { atol: 1e-5, rtol: 1e-5 }, 'a @ b.T');
    expectClose(await a.matmul(v).data(), ac!.matmul(vc!).dataSync(), { atol: 1e-5, rtol: 1e-5 }, 'a @ v');
    expectClose(await v.matmul(b.T).data(), vc!.matmul(bc!.T).dataSync(), { atol: 1e-5, rtol: 1e-5 }, 'v @ b.T');
  });

  it('K = 0 gives zeros; M = 0 or N = 0 gives an empty result', async () => {
    const z = tensor([], { shape: [3, 0], device: 'webgpu' }).matmul(tensor([], { shape: [0, 4], device: 'webgpu' }));
    expect([...(await z.data())]).toEqual(new Array(12).fill(0));
    const e = tensor([], { shape: [0, 2], device: 'webgpu' }).matmul(randn([2, 5], { device: 'webgpu' }));
    expect(e.shape).toEqual([0, 5]);
    expect((await e.data()).length).toBe(0);
  });
});
