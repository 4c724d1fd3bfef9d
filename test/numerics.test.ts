// Numeric edges where an autodiff engine most easily parts from PyTorch: infinities in
// log-sum-exp and cross-entropy, denominators that under- or overflow when squared, IEEE pow,
// log1p-sized values. Each value below is PyTorch's (or IEEE 754's), worked out in the comment
// beside it. Forward values and gradients run in float32 on every device; float64 cases on the
// CPU pin down the precision that float32 cannot show.
import { describe, expect, it } from 'vitest';
import * as F from '../src';
import { crossEntropyLoss, tensor, type Device, type DType, type Tensor } from '../src';
import { DEVICES } from './helpers/devices';

const INF = Infinity;

/** Same IEEE value: NaN for NaN, exact infinities and zeros (signed with `signedZeros`), else within rtol. */
function same(got: ArrayLike<number>, want: readonly number[], rtol = 1e-6, signedZeros = false): void {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => {
    const g = got[i]!;
    const what = `element ${i}: got ${Object.is(g, -0) ? '-0' : g}, want ${Object.is(w, -0) ? '-0' : w}`;
    if (Number.isNaN(w)) expect(Number.isNaN(g), what).toBe(true);
    else if (w === 0 && !signedZeros) expect(g === 0, what).toBe(true);
    else if (w === 0 || !Number.isFinite(w)) expect(Object.is(g, w), what).toBe(true);
    else expect(Math.abs(g - w) <= rtol * Math.abs(w), what).toBe(true);
  });
}

const leaf = (v: number[] | number[][], device: Device, dtype: DType = 'float32') =>
  tensor(v, { device, dtype, requiresGrad: true });

/** d sum(fn(xs)) / d xs, each read back as a flat array */
async function grads(fn: (...xs: Tensor[]) => Tensor, ...xs: Tensor[]): Promise<Float32Array[] | Float64Array[]> {
  fn(...xs).sum().backward();
  return (await Promise.all(xs.map((x) => x.grad!.data()))) as Float32Array[];
}

describe.each(DEVICES)('numeric edges on %s (float32)', (device) => {
  const t = (v: number[] | number[][]) => tensor(v, { device });

  it('logSumExp of a row of −inf is −inf and of a row with +inf is inf (PyTorch), not NaN', async () => {
    const x = t([[-INF, -INF], [INF, 0], [INF, INF], [0, -INF], [-INF, INF]]);
    // [0, −inf]: log(e⁰ + 0) = 0
    same(await F.logSumExp(x, 1).data(), [-INF, INF, INF, 0, INF]);
    same(await F.logSumExp(x, 1, true).data(), [-INF, INF, INF, 0, INF]);
  });

  it('logSumExp gradients: softmax weights, 0 for an all −inf row, NaN only at +inf (PyTorch)', async () => {
    const x = leaf([[-INF, -INF], [0, -INF], [1, 1], [INF, 0]], device);
    // PyTorch's rule is g·exp(x − lse): [0, −inf] → [1, 0]; [1, 1] → [½, ½]; [inf, 0] → [NaN, 0].
    // An all −inf row has no defined weights; PyTorch's exp(−inf − (−inf)) makes NaN, we give 0.
    const [g] = await grads((x) => F.logSumExp(x, -1), x);
    same(g!, [0, 0, 1, 0, 0.5, 0.5, NaN, 0]);
  });

  it('logSoftmax keeps precision: [1e4, 1e4, −1e4] → −ln 2 (not m + ln 2 rounded to m’s ulp)', async () => {
    const got = await F.logSoftmax(t([1e4, 1e4, -1e4])).data();
    // x − m = [0, 0, −2e4] exactly; log Σ = ln(2 + e^−2e4) = ln 2
    same(got, [-Math.LN2, -Math.LN2, -2e4 - Math.LN2], 2e-7);
  });

  it('logSoftmax with −inf entries: −inf there, the rest exact, gradient finite', async () => {
    const x = leaf([[0, -INF, 0]], device);
    same(await F.logSoftmax(x).data(), [-Math.LN2, -INF, -Math.LN2], 2e-7);
    // d Σ logSoftmax = 1 − 3·softmax = [1 − 3/2, 1, 1 − 3/2]
    const [g] = await grads((x) => F.logSoftmax(x), x);
    same(g!, [-0.5, 1, -0.5]);
  });

  it('crossEntropyLoss with a −inf logit: finite loss and the softmax − target gradient', async () => {
    // one row, logits [0, −inf, 1], label 2: loss = log(1 + e) − 1; gradient p − onehot with
    // p = [1, 0, e]/(1 + e)
    const e = Math.E;
    const want = Math.log(1 + e) - 1;
    const wantGrad = [1 / (1 + e), 0, e / (1 + e) - 1];
    for (const labels of [[2], tensor([2], { device }), t([[0, 0, 1]])]) {
      const z = leaf([[0, -INF, 1]], device);
      const loss = crossEntropyLoss(z, labels);
      same(await loss.data(), [want]);
      loss.backward();
      same(await z.grad!.data(), wantGrad, 1e-6);
    }
    // probability targets that are 0 where the logit is −inf: 0·log 0 counts as 0
    const z = leaf([[0, -INF, 1]], device);
    const loss = crossEntropyLoss(z, t([[0.5, 0, 0.5]]));
    // −(½·log p0 + ½·log p2) = log(1 + e) − ½
    same(await loss.data(), [Math.log(1 + e) - 0.5]);
    loss.backward();
    same(await z.grad!.data(), [1 / (1 + e) - 0.5, 0, e / (1 + e) - 0.5], 1e-6);
  });

  it('crossEntropyLoss: probability targets that require grad get −log p, 0 where t = 0', async () => {
    const z = tensor([[0, -INF, 1]], { device });
    const target = leaf([[0.5, 0, 0.5]], device);
    crossEntropyLoss(z, target).backward();
    const lp = [-Math.log(1 + Math.E), 0, 1 - Math.log(1 + Math.E)];
    same(await target.grad!.data(), [-lp[0]!, 0, -lp[2]!], 1e-6);
  });

  it("div's denominator gradient −(g·(a/b))/b neither under- nor overflows where b² would", async () => {
    // a = b = 1e-25: b² = 1e-50 underflows in float32 (was −inf); d/db = −a/b² = −1e25.
    // a = b = 1e20: b² overflows (was −0); d/db = −1e-20.
    const a = leaf([1e-25, 1e20, 3], device);
    const b = leaf([1e-25, 1e20, -2], device);
    const [ga, gb] = await grads((a, b) => a.div(b), a, b);
    same(ga!, [1e25, 1e-20, -0.5], 1e-6);
    same(gb!, [-1e25, -1e-20, -0.75], 1e-6);
  });

  it('pow follows IEEE 754 (C99 Annex F) for NaN, ±0, ±inf and negative bases', async () => {
    const cases: [number, number, number][] = [
      [1, NaN, 1], [1, INF, 1], [1, -INF, 1], [-1, INF, 1], [-1, -INF, 1], // 1^y and (−1)^±inf are 1
      [NaN, 0, 1], [NaN, -0, 1], [5, 0, 1], [-INF, 0, 1], // x^±0 is 1, even for NaN
      [NaN, 1, NaN], [0, NaN, NaN], [2, NaN, NaN], [-1, NaN, NaN],
      [0, -1, INF], [-0, -1, -INF], [-0, -2, INF], [0, -0.5, INF], // ±0 to a negative power
      [-0, 3, -0], [0, 3, 0], [-0, 2, 0], [0, 0.5, 0],
      [0.5, INF, 0], [0.5, -INF, INF], [2, INF, INF], [2, -INF, 0], [-0.5, INF, 0], [-3, -INF, 0],
      [INF, -1, 0], [INF, 0.5, INF], [-INF, 3, -INF], [-INF, -3, -0], [-INF, 2, INF], [-INF, 0.5, INF],
      [-INF, -0.5, 0],
      [-2, 0.5, NaN], [-2, 3, -8], [-2, -2, 0.25], [-2, -1, -0.5], [2, 10, 1024], [4, 0.5, 2],
    ];
    const a = t(cases.map((c) => c[0]));
    const b = t(cases.map((c) => c[1]));
    same(await a.pow(b).data(), cases.map((c) => c[2]), 1e-6, true);
  });

  it("pow gradients follow PyTorch's rules at a = 0 and b = 0", async () => {
    // d/da = b·a^(b−1), 0 where b = 0: at (0, 0) b·a⁻¹ would be 0·inf
    // d/db = aᵇ·ln a, 0 where a = 0 and b ≥ 0; (0, −1): inf·(−inf) = −inf; (−2, 2): ln(−2) = NaN
    const a = leaf([0, 0, 0, 2, 3, 0, -2], device);
    const b = leaf([0, 2, 1, 0, 2, -1, 2], device);
    const [ga, gb] = await grads((a, b) => a.pow(b), a, b);
    same(ga!, [0, 0, 1, 0, 6, -INF, -4], 1e-6);
    same(gb!, [0, 0, 0, Math.log(2), 9 * Math.log(3), -INF, NaN], 1e-6);
  });

  it('NaN, ±inf and negative inputs give the same results as the JS reference (WebGPU ≡ CPU)', async () => {
    const xs = [NaN, INF, -INF, -1, -0, 0, 0.5, 2, -20];
    const unary: Record<string, (x: number) => number> = {
      neg: (x) => -x, exp: Math.exp, log: Math.log, log1p: Math.log1p, sqrt: Math.sqrt, abs: Math.abs,
      sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : x), relu: (x) => (x > 0 || x !== x ? x : 0),
      sigmoid: (x) => 1 / (1 + Math.exp(-x)), tanh: Math.tanh, sin: Math.sin, cos: Math.cos,
    };
    for (const [op, f] of Object.entries(unary)) {
      const got = await (t(xs) as unknown as Record<string, () => Tensor>)[op]!.call(t(xs)).data();
      same(got, xs.map((x) => Math.fround(f(x))), 2e-6);
    }
    const a = xs.flatMap((x) => xs.map(() => x));
    const b = xs.flatMap(() => xs);
    const binary: Record<string, (a: number, b: number) => number> = {
      maximum: (a, b) => (a !== a || b !== b ? NaN : Math.max(a, b)),
      minimum: (a, b) => (a !== a || b !== b ? NaN : Math.min(a, b)),
      eq: (a, b) => +(a === b), ne: (a, b) => +(a !== b), lt: (a, b) => +(a < b),
      le: (a, b) => +(a <= b), gt: (a, b) => +(a > b), ge: (a, b) => +(a >= b),
    };
    for (const [op, f] of Object.entries(binary)) {
      const got = await (t(a) as unknown as Record<string, (b: Tensor) => Tensor>)[op]!.call(t(a), t(b)).data();
      same(got, a.map((x, i) => f(x, b[i]!)));
    }
    // NaN propagates through max/min reductions wherever it sits; a NaN condition is true (≠ 0)
    same(await t([[NaN, 1], [1, NaN], [2, 1]]).max(1).data(), [NaN, NaN, 2]);
    same(await t([[NaN, 1], [1, NaN], [2, 1]]).min(1).data(), [NaN, NaN, 1]);
    same(await F.where(t([NaN, 0]), t([1, 2]), t([3, 4])).data(), [1, 4]);
  });

  it('log1p keeps the low bits of small x (log(1 + x) rounds them away) and its specials', async () => {
    const x = [1e-10, -1e-7, 3e-5, 1e-3, -0.25, 0.3, 0.49, 0.51, -0.31, -0.5, 0.6, 10, 1e30, -0.999, -0, -1, -2, INF, NaN];
    const want = x.map((v) => Math.log1p(Math.fround(v)));
    same(await F.log1p(t(x)).data(), want, 1e-6, true);
  });

  it('softplus uses log1p: softplus(−20) = 2.06e-9 in float32 (log(1 + eˣ) gave 0), large x exact', async () => {
    const x = leaf([-20, -80, 0, 20, 50, 1000], device);
    const y = F.softplus(x);
    same(await y.data(), [Math.log1p(Math.exp(-20)), Math.log1p(Math.exp(-80)), Math.LN2, 20, 50, 1000], 1e-6);
    y.sum().backward();
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    same(await x.grad!.data(), [sig(-20), sig(-80), 0.5, sig(20), 1, 1], 1e-6);
  });
});

describe('reductions over zero elements (as PyTorch)', () => {
  it('logSumExp over an empty axis is −inf; softmax and logSoftmax of it are empty; mean is NaN', () => {
    const x = tensor([], { shape: [2, 0], requiresGrad: true });
    expect([...F.logSumExp(x, 1).dataSync()]).toEqual([-INF, -INF]);
    expect(F.logSumExp(x, 1, true).shape).toEqual([2, 1]);
    expect(F.logSoftmax(x, 1).shape).toEqual([2, 0]);
    expect(F.softmax(x, 1).shape).toEqual([2, 0]);
    F.logSumExp(x, 1).sum().backward();
    expect(x.grad!.shape).toEqual([2, 0]);
    // mean over nothing is 0/0 = NaN, per row or in all
    same(x.mean(1).dataSync(), [NaN, NaN]);
    same(x.mean().dataSync(), [NaN]);
  });
});

describe('numeric edges in float64 (CPU)', () => {
  const f64 = (v: number[]) => leaf(v, 'cpu', 'float64');

  it('softplus(−40) = 4.25e-18 (PyTorch), and its gradient σ(−40)', () => {
    const x = f64([-40, -700, 30, 40.5]);
    const y = F.softplus(x);
    same(y.dataSync(), [4.248354255291589e-18, Math.log1p(Math.exp(-700)), 30 + Math.log1p(Math.exp(-30)), 40.5], 1e-15);
    y.sum().backward();
    same(x.grad!.dataSync(), [1 / (1 + Math.exp(40)), 1 / (1 + Math.exp(700)), 1 / (1 + Math.exp(-30)), 1], 1e-15);
  });

  it('pow: d/db is aᵇ·ln a even for bases below 1e-30 (no clamp)', () => {
    const a = f64([1e-35, 1e-200]);
    const b = f64([2, 1]);
    a.pow(b).sum().backward();
    same(b.grad!.dataSync(), [1e-70 * Math.log(1e-35), 1e-200 * Math.log(1e-200)], 1e-14);
  });

  it('div: d/db = −a/b² where b² underflows float64', () => {
    const a = f64([1e-200]);
    const b = f64([1e-200]);
    a.div(b).sum().backward();
    same(b.grad!.dataSync(), [-1e200], 1e-15);
  });

  it('logSoftmax and logSumExp agree with the float64 formulas at 1e300 scale', () => {
    const x = f64([1e300, 1e300, -1e300]);
    same(F.logSoftmax(x).dataSync(), [-Math.LN2, -Math.LN2, -2e300], 1e-15);
    same(F.logSumExp(x).dataSync(), [1e300], 1e-15);
  });
});
