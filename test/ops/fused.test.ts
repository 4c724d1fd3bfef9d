// The fused ops against the compositions they replace: values and gradients in float64 on random
// shapes (batch dims included), and second derivatives through them. Then each fused op on each
// device with its kernel taken away: apply must run the op's decomposition, with the same values
// and gradients.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { grad, tensor, tidy, type Device, type Tensor } from '../../src';
import { FUSED_OPS, getBackend, type FusedOp } from '../../src/backends/backend';
import { DEVICES } from '../helpers/devices';

const dim = fc.integer({ min: 1, max: 7 });
const vals = (n: number) => fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: n, maxLength: n });
const leaf = (v: number[], shape: number[]) => tensor(v, { shape, dtype: 'float64', requiresGrad: true });

/** the output and the gradients of sum(out · c) for a fixed random cotangent c, as arrays */
function run(f: (xs: Tensor[]) => Tensor, xs: Tensor[], cot: number[]): number[][] {
  return tidy(() => {
    const out = f(xs);
    const c = tensor(cot.slice(0, out.size), { shape: [...out.shape], dtype: 'float64' });
    const gs = grad(out.mul(c).sum(), xs);
    return [Array.from(out.dataSync()), ...gs.map((g) => Array.from(g!.dataSync()))];
  });
}

function expectSame(a: number[][], b: number[][]): void {
  expect(a.length).toBe(b.length);
  a.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(v - b[i]![j]!)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(b[i]![j]!)))));
}

describe('fused ops equal their compositions (float64)', () => {
  it('linear(x, W, b) = x @ W + b, gradients too', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }), dim, dim, dim,
        fc.integer({ min: 0, max: 1e6 }),
        (batch, m, k, n, seed) => {
          const r = (i: number) => Math.sin(seed + i * 12.9898) * 2;
          const sx = [...batch, m, k];
          const nx = sx.reduce((p, d) => p * d, 1);
          const xs = () => [leaf(Array.from({ length: nx }, (_, i) => r(i)), sx), leaf(Array.from({ length: k * n }, (_, i) => r(nx + i)), [k, n]), leaf(Array.from({ length: n }, (_, i) => r(3 * nx + i)), [n])];
          const cot = Array.from({ length: nx * n }, (_, i) => r(7 * nx + i));
          expectSame(run(([x, w, b]) => x!.linear(w!, b!), xs(), cot), run(([x, w, b]) => x!.matmul(w!).add(b!), xs(), cot));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('mse(p, t) = mean((p − t)²), gradients for both sides', () => {
    fc.assert(
      fc.property(fc.array(dim, { maxLength: 3 }).chain((s) => fc.tuple(fc.constant(s), vals(s.reduce((p, d) => p * d, 1)), vals(s.reduce((p, d) => p * d, 1)))), ([s, p, t]) => {
        const xs = () => [leaf(p, s), leaf(t, s)];
        expectSame(run(([a, b]) => a!.mse(b!), xs(), [1.7]), run(([a, b]) => a!.sub(b!).square().mean(), xs(), [1.7]));
      }),
      { numRuns: 60 },
    );
  });

  it("relu's backward (reluGrad) equals g · [x > 0], and relu's second derivative goes through it", () => {
    fc.assert(
      fc.property(fc.array(dim, { minLength: 1, maxLength: 3 }).chain((s) => fc.tuple(fc.constant(s), vals(s.reduce((p, d) => p * d, 1)), vals(s.reduce((p, d) => p * d, 1)))), ([s, g, x]) => {
        const gt = tensor(g, { shape: s, dtype: 'float64' });
        const xt = tensor(x, { shape: s, dtype: 'float64' });
        // (+ 0: the product gives −0 for a negative g where x ≤ 0, the fused op +0)
        const norm = (t: Tensor) => Array.from(t.dataSync(), (v) => v + 0);
        expect(norm(gt.reluGrad(xt))).toEqual(norm(gt.mul(xt.gt(0))));
      }),
      { numRuns: 60 },
    );
    // d/dx Σ relu(x)·x = relu'(x)·x + relu(x); differentiating that again in x gives 2·[x > 0]
    const x = tensor([-1.5, 0.5, 2, -0.25], { dtype: 'float64', requiresGrad: true });
    const [g1] = grad(x.relu().mul(x).sum(), [x], { createGraph: true });
    const [g2] = grad(g1!.sum(), [x]);
    expect(Array.from(g2!.dataSync())).toEqual([0, 2, 2, 0]);
  });
});

// ---------------------------------------------------------------- the fallback

/** Run fn with `op`'s kernel taken out of the device's table (a backend that never offered it). */
function withoutKernel<T>(device: Device, op: FusedOp, fn: () => T): T {
  const kernels = getBackend(device).kernels as Partial<Record<FusedOp, unknown>>;
  const kernel = kernels[op];
  delete kernels[op];
  try {
    return fn();
  } finally {
    kernels[op] = kernel;
  }
}

/** For each fused op: its inputs (values, shapes, which get gradients) and how to call it. */
const FUSED: Record<FusedOp, { shapes: number[][]; grads: boolean[]; call: (xs: Tensor[]) => Tensor; last: string }> = {
  // the op that ends the decomposition: the fallback's output comes from it
  linear: { shapes: [[2, 3, 4], [4, 5], [5]], grads: [true, true, true], call: ([x, w, b]) => x!.linear(w!, b!), last: 'add' },
  mse: { shapes: [[3, 4], [3, 4]], grads: [true, true], call: ([p, t]) => p!.mse(t!), last: 'div' },
  // x is held constant (no gradient flows to it); its zeros are the kink
  reluGrad: { shapes: [[4, 5], [4, 5]], grads: [true, false], call: ([g, x]) => g!.reluGrad(x!), last: 'where' },
};

describe.each(DEVICES)('every fused op without its kernel runs its decomposition (%s)', (device) => {
  it.each(FUSED_OPS)('%s: values and gradients equal the fused kernel’s', async (op) => {
    const { shapes, grads, call, last } = FUSED[op];
    const dtype = device === 'cpu' ? 'float64' : 'float32';
    let seed = 1;
    const inputs = shapes.map((s, k) =>
      Array.from({ length: s.reduce((p, d) => p * d, 1) }, (_, i) => (k === 1 && op === 'reluGrad' && i % 4 === 0 ? 0 : Math.sin(seed++ * 12.9898) * 2)),
    );
    /** out, the op that made it, and the gradients of sum(out · c) for the inputs that take one */
    const run = (): { op: string | undefined; ts: Tensor[] } =>
      tidy(() => {
        const xs = shapes.map((s, k) => tensor(inputs[k]!, { shape: s, dtype, device, requiresGrad: grads[k] }));
        const out = call(xs);
        const c = tensor(Array.from({ length: out.size }, (_, i) => 1 + 0.25 * i), { shape: [...out.shape], dtype, device });
        const gs = grad(out.mul(c).sum(), xs.filter((_, k) => grads[k]));
        return { op: out._node?.op, ts: [out, ...gs.map((g) => g!)] };
      });
    const fused = run();
    const fallback = withoutKernel(device, op, run);
    // the kernel made the first, the decomposition the second
    expect(fused.op).toBe(op);
    expect(fallback.op).toBe(last);
    expect(fallback.ts.length).toBe(fused.ts.length);
    const tol = dtype === 'float64' ? 1e-12 : 1e-5;
    for (let i = 0; i < fused.ts.length; i++) {
      const a = await fused.ts[i]!.data();
      const b = await fallback.ts[i]!.data();
      expect(b.length).toBe(a.length);
      a.forEach((v, j) => expect(Math.abs(b[j]! - v)).toBeLessThanOrEqual(tol * (1 + Math.abs(v))));
    }
    [...fused.ts, ...fallback.ts].forEach((t) => t.dispose());
  });
});
