// Fixed cases at the points where the random cases keep away: kinks and ties, where the gradient
// is a convention, not a derivative. Each expected value follows from the convention stated in
// the op's comment (src/ops/*.ts, src/graph/functional.ts), quoted above each test.
import { describe, expect, it } from 'vitest';
import * as F from '../../src';
import { tensor, type Tensor } from '../../src';

const f64 = (v: number | number[] | number[][]) => tensor(v, { dtype: 'float64', requiresGrad: true });

/** gradients of sum(fn(...xs)) with respect to each x, as nested arrays */
function grads(fn: (...xs: Tensor[]) => Tensor, ...xs: Tensor[]) {
  fn(...xs).sum().backward();
  return xs.map((x) => x.grad!.toArray());
}

describe('kinks and ties', () => {
  it("relu'(0) = 0", () => {
    expect(grads(F.relu, f64([-1, 0, 2]))).toEqual([[0, 0, 1]]);
  });

  it("abs'(0) = 0 (sign(0), as PyTorch)", () => {
    expect(grads(F.abs, f64([-1, 0, 2]))).toEqual([[-1, 0, 1]]);
  });

  it("leakyRelu'(0) = slope (the x ≤ 0 branch)", () => {
    expect(grads((x) => F.leakyRelu(x, 0.25), f64([-1, 0, 2]))).toEqual([[0.25, 0.25, 1]]);
  });

  it("softplus'(0) = σ(0) = 1/2 and softplus''(0) = 1/4 (smooth: no kink may leak out of its stable formula)", () => {
    expect(grads(F.softplus, f64([0]))).toEqual([[0.5]]);
    const x = f64([0]);
    const [g] = F.grad(F.softplus(x).sum(), [x], { createGraph: true });
    expect(F.grad(g!.sum(), [x])[0]!.item()).toBe(0.25);
  });

  it('max over a tie shares the gradient evenly among the tied elements', () => {
    expect(grads((x) => x.max(), f64([1, 3, 3]))).toEqual([[0, 0.5, 0.5]]);
    const [g] = grads((x) => x.max(), f64([2, 2, 2])) as [number[]];
    g.forEach((v) => expect(v).toBeCloseTo(1 / 3, 15));
    // per row, along an axis, keepDims or not
    expect(grads((x) => x.max(1), f64([[1, 1], [0, 2]]))).toEqual([[[0.5, 0.5], [0, 1]]]);
    expect(grads((x) => x.max(0, true), f64([[1, 1], [1, 2]]))).toEqual([[[0.5, 0], [0.5, 1]]]);
  });

  it('min over a tie shares the gradient evenly', () => {
    expect(grads((x) => x.min(), f64([3, 1, 1]))).toEqual([[0, 0.5, 0.5]]);
    expect(grads((x) => x.min(-1), f64([[1, 1], [0, 2]]))).toEqual([[[0.5, 0.5], [1, 0]]]);
  });

  it('maximum/minimum ties give each side half', () => {
    expect(grads(F.maximum, f64([1, 2, 5]), f64([1, 3, 4]))).toEqual([
      [0.5, 0, 1],
      [0.5, 1, 0],
    ]);
    expect(grads(F.minimum, f64([1, 2, 5]), f64([1, 3, 4]))).toEqual([
      [0.5, 1, 0],
      [0.5, 0, 1],
    ]);
    // broadcast: the halves of a scalar side are summed back
    expect(grads(F.maximum, f64([1, 1, 0]), f64(1))).toEqual([[0.5, 0.5, 0], 2]);
  });

  it('clamp passes the gradient where lo ≤ x ≤ hi, bounds included', () => {
    expect(grads((x) => F.clamp(x, 0, 1), f64([-1, 0, 0.5, 1, 2]))).toEqual([[0, 1, 1, 1, 0]]);
    expect(grads((x) => F.clamp(x, 0), f64([-1, 0, 2]))).toEqual([[0, 1, 1]]);
    expect(grads((x) => F.clamp(x, undefined, 1), f64([-1, 1, 2]))).toEqual([[1, 1, 0]]);
  });

  it('clamp with tensor bounds sends the clipped gradient to the bound', () => {
    const [gx, glo] = grads((x, lo) => F.clamp(x, lo), f64([-1, 0, 2]), f64([0, 0, 0]));
    expect(gx).toEqual([0, 1, 1]);
    expect(glo).toEqual([1, 0, 0]);
  });

  it("pow (PyTorch's rules): d/db is 0 where a = 0 and b ≥ 0, NaN where a < 0 (ln a); d/da of a² at 0 is 0", () => {
    const [ga, gb] = grads(F.pow, f64([0, -2, 2]), f64([2, 2, 2]));
    expect(ga).toEqual([0, -4, 4]);
    expect(gb).toEqual([0, NaN, 4 * Math.log(2)]);
  });

  it('sign and comparisons record no gradient', () => {
    const x = f64([-1, 0, 2]);
    for (const y of [F.sign(x), F.gt(x, 0), F.eq(x, x), F.le(x, 1)]) expect(y.requiresGrad).toBe(false);
  });

  it('where routes the gradient by the condition and gives the condition none', () => {
    const [c, a, b] = [f64([1, 0, 1]), f64([1, 2, 3]), f64([4, 5, 6])];
    F.where(c, a, b).sum().backward();
    expect(a.grad!.toArray()).toEqual([1, 0, 1]);
    expect(b.grad!.toArray()).toEqual([0, 1, 0]);
    expect(c.grad).toBeNull();
  });
});

describe('numerical stability of the composed ops', () => {
  it('softmax, logSoftmax and logSumExp stay finite for large inputs and match the shifted values', () => {
    const big = f64([1000, 1001, 1002]);
    const small = tensor([0, 1, 2], { dtype: 'float64' });
    const close = (a: Tensor, b: Tensor, shift = 0) =>
      [...a.dataSync()].forEach((v, i) => expect(v).toBeCloseTo(b.dataSync()[i]! + shift, 10));
    close(F.softmax(big), F.softmax(small));
    close(F.logSoftmax(big), F.logSoftmax(small));
    close(F.logSumExp(big), F.logSumExp(small), 1000);
    close(F.softplus(tensor([800, -800], { dtype: 'float64' })), tensor([800, 0], { dtype: 'float64' }));
    F.logSoftmax(big).sum().backward();
    big.grad!.dataSync().forEach((v) => expect(Number.isFinite(v)).toBe(true));
  });
});
