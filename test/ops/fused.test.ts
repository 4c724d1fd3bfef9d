// The fused primitives against the compositions they replace: values and gradients in float64
// on random shapes (batch dims included), and second derivatives through them.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { grad, tensor, tidy, type Tensor } from '../../src';

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
