// Flatten, Dropout, BatchNorm1d/2d, LayerNorm, and buffers in state dicts: values against closed
// forms computed here in float64, gradients against float64 central differences.
import { describe, expect, it } from 'vitest';
import {
  BatchNorm1d, BatchNorm2d, Dropout, Flatten, LayerNorm, Linear, ReLU, Sequential, gradcheck, manualSeed, memory, noGrad, randn,
  readSafetensors, tensor, tidy, writeSafetensors, type Tensor,
} from '../../src';

const vals = (t: Tensor) => Array.from(t.dataSync());
const close = (a: number[], b: number[], tol = 1e-5) => {
  expect(a.length).toBe(b.length);
  b.forEach((v, i) => expect(Math.abs(a[i]! - v)).toBeLessThanOrEqual(tol * (1 + Math.abs(v))));
};
const f64 = { dtype: 'float64' } as const;

/** Per-channel mean and biased variance of x [N, C, ...rest] given flat, in float64. */
function channelStats(x: number[], shape: number[]) {
  const [n, c] = [shape[0]!, shape[1]!];
  const inner = shape.slice(2).reduce((p, d) => p * d, 1);
  const mean = new Array<number>(c).fill(0);
  const sq = new Array<number>(c).fill(0);
  for (let i = 0; i < n; i++) for (let k = 0; k < c; k++) for (let j = 0; j < inner; j++) mean[k]! += x[(i * c + k) * inner + j]! / (n * inner);
  for (let i = 0; i < n; i++) for (let k = 0; k < c; k++) for (let j = 0; j < inner; j++) sq[k]! += (x[(i * c + k) * inner + j]! - mean[k]!) ** 2 / (n * inner);
  return { mean, varB: sq, count: n * inner, inner, c };
}

/** y = (x − μ_c)/√(σ²_c + eps)·w_c + b_c, flat, in float64. */
function normalize(x: number[], shape: number[], mean: number[], v: number[], w: number[], b: number[], eps = 1e-5) {
  const c = shape[1]!;
  const inner = shape.slice(2).reduce((p, d) => p * d, 1);
  return x.map((xi, i) => {
    const k = Math.floor(i / inner) % c;
    return ((xi - mean[k]!) / Math.sqrt(v[k]! + eps)) * w[k]! + b[k]!;
  });
}

/**
 * A layer's own parameter p: its .grad after backward of `loss` against central differences of
 * `loss` (float64), changing p's values in place with assign and putting them back.
 */
function paramGradCheck(loss: () => Tensor, p: Tensor, eps = 1e-6) {
  p.zeroGrad();
  tidy(() => loss().backward());
  const analytic = vals(p.grad!);
  p.zeroGrad();
  const base = vals(p);
  const at = (i: number, d: number) => {
    const v = [...base];
    v[i]! += d;
    const t = tensor(v, { shape: p.shape, ...f64 });
    p.assign(t);
    t.dispose();
    return tidy(() => noGrad(() => loss().item()));
  };
  const numeric = base.map((_, i) => (at(i, eps) - at(i, -eps)) / (2 * eps));
  const t = tensor(base, { shape: p.shape, ...f64 });
  p.assign(t);
  t.dispose();
  close(analytic, numeric, 1e-6);
}

describe('Flatten', () => {
  it('merges axes startDim..endDim (default 1..−1), and its gradient reshapes back', () => {
    const x = randn([2, 3, 4, 5]);
    expect(new Flatten().forward(x).shape).toEqual([2, 60]);
    expect(new Flatten(0).forward(x).shape).toEqual([120]);
    expect(new Flatten(1, 2).forward(x).shape).toEqual([2, 12, 5]);
    expect(new Flatten(-3, -2).forward(x).shape).toEqual([2, 12, 5]);
    expect(vals(new Flatten().forward(x))).toEqual(vals(x));
    expect(new Flatten().outputShape(['*', 1, 28, 28])).toEqual(['*', 784]);
    expect(new Flatten(0).outputShape(['*', 4])).toEqual(['*·4']);
    const r = gradcheck((a) => new Flatten().forward(a!).square(), [randn([2, 2, 3], f64)]);
    expect(r.ok).toBe(true);
  });

  it('names itself and the shape when the axes do not fit', () => {
    expect(() => new Flatten(2).forward(randn([3, 4]))).toThrow('Flatten(2, -1): axes 2..-1 do not fit an input of shape [3,4]');
    expect(() => new Flatten(1.5)).toThrow('Flatten: startDim must be an integer, got 1.5');
    expect(String(new Flatten())).toBe('Flatten');
  });
});

describe('Dropout', () => {
  it('zeroes about p of the elements in training, scales the rest by 1/(1−p); identity in eval', () => {
    manualSeed(1);
    const d = new Dropout(0.25);
    const x = tensor(new Float32Array(20000).fill(2), { shape: [100, 200] });
    const y = vals(d.forward(x));
    const kept = y.filter((v) => v !== 0);
    expect(kept.every((v) => Math.abs(v - 2 / 0.75) < 1e-6)).toBe(true);
    // the kept fraction is Binomial(20000, 0.75)/20000: sd 0.003, so ±0.015 is 5 sd
    expect(Math.abs(kept.length / 20000 - 0.75)).toBeLessThan(0.015);
    d.eval();
    expect(d.forward(x)).toBe(x);
    d.train();
    expect(new Dropout(0).forward(x)).toBe(x);
    expect(vals(new Dropout(1).forward(x)).every((v) => v === 0)).toBe(true);
  });

  it('is seeded by manualSeed: the same seed drops the same elements', () => {
    const x = randn([50]);
    const draw = (seed: number) => {
      manualSeed(seed);
      return vals(new Dropout(0.5).forward(x));
    };
    expect(draw(3)).toEqual(draw(3));
    expect(draw(3)).not.toEqual(draw(4));
  });

  it('gradient: g·m/(1−p) with the same mask (gradcheck in float64, mask fixed by the seed)', () => {
    const d = new Dropout(0.4);
    const r = gradcheck((a) => {
      manualSeed(9);
      return d.forward(a!).tanh();
    }, [randn([4, 5], f64)]);
    expect(r.ok).toBe(true);
  });

  it('rejects p outside [0, 1]', () => {
    expect(() => new Dropout(1.5)).toThrow('Dropout: p must be a probability in [0, 1], got 1.5');
    expect(() => new Dropout(NaN)).toThrow('got NaN');
  });
});

describe('BatchNorm', () => {
  it('BatchNorm2d in training: batch mean and biased variance per channel, affine weight and bias', () => {
    manualSeed(2);
    const shape = [3, 2, 4, 5];
    const x = randn(shape, { ...f64, mean: 1, std: 3 });
    const bn = new BatchNorm2d(2, f64);
    bn.weight!.assign(tensor([1.5, -0.5], f64));
    bn.bias!.assign(tensor([0.25, 2], f64));
    const xv = vals(x);
    const { mean, varB } = channelStats(xv, shape);
    close(vals(bn.forward(x)), normalize(xv, shape, mean, varB, [1.5, -0.5], [0.25, 2]), 1e-9);
  });

  it('running statistics: momentum 0.1, unbiased variance; eval mode normalizes with them', () => {
    manualSeed(3);
    const shape = [4, 3, 2];
    const bn = new BatchNorm1d(3, f64);
    let rm = [0, 0, 0];
    let rv = [1, 1, 1];
    for (let step = 0; step < 3; step++) {
      const x = randn(shape, { ...f64, mean: step, std: 2 });
      bn.forward(x);
      const { mean, varB, count } = channelStats(vals(x), shape);
      rm = rm.map((r, k) => 0.9 * r + 0.1 * mean[k]!);
      rv = rv.map((r, k) => 0.9 * r + (0.1 * varB[k]! * count) / (count - 1));
    }
    close(vals(bn.runningMean!), rm, 1e-12);
    close(vals(bn.runningVar!), rv, 1e-12);
    expect(bn.numBatchesTracked!.item()).toBe(3);
    bn.eval();
    const x = randn(shape, f64);
    close(vals(bn.forward(x)), normalize(vals(x), shape, rm, rv, [1, 1, 1], [0, 0, 0]), 1e-9);
    // eval mode does not move the statistics
    close(vals(bn.runningMean!), rm, 1e-12);
    expect(bn.numBatchesTracked!.item()).toBe(3);
  });

  it('momentum null: a cumulative average over the batches seen (1/num_batches_tracked)', () => {
    manualSeed(4);
    const bn = new BatchNorm1d(2, { ...f64, momentum: null });
    const means: number[][] = [];
    for (let step = 0; step < 3; step++) {
      const x = randn([5, 2], { ...f64, mean: 2 * step });
      bn.forward(x);
      means.push(channelStats(vals(x), [5, 2]).mean);
    }
    close(vals(bn.runningMean!), [0, 1].map((k) => (means[0]![k]! + means[1]![k]! + means[2]![k]!) / 3), 1e-12);
  });

  it('without running statistics, eval mode uses the batch statistics', () => {
    const bn = new BatchNorm1d(2, { ...f64, trackRunningStats: false, affine: false }).eval();
    const x = tensor([[1, 10], [3, 30]], f64);
    // channel 0: mean 2, variance 1; channel 1: mean 20, variance 100
    const [a, b] = [1 / Math.sqrt(1 + 1e-5), 10 / Math.sqrt(100 + 1e-5)];
    close(vals(bn.forward(x)), [-a, -b, a, b], 1e-12);
    expect(bn.parameters()).toHaveLength(0);
    expect(bn.buffers()).toHaveLength(0);
  });

  it('gradients match central differences (float64) in training mode, for input, weight and bias', () => {
    manualSeed(5);
    for (const [bn, shape] of [[new BatchNorm2d(2, f64), [3, 2, 2, 2]], [new BatchNorm1d(3, f64), [4, 3]]] as const) {
      bn.weight!.assign(randn([bn.numFeatures], f64));
      bn.bias!.assign(randn([bn.numFeatures], f64));
      expect(gradcheck((x) => bn.forward(x!).tanh(), [randn([...shape], f64)]).ok).toBe(true);
      const x = randn([...shape], f64);
      paramGradCheck(() => bn.forward(x).tanh().sum(), bn.weight!);
      paramGradCheck(() => bn.forward(x).tanh().sum(), bn.bias!);
    }
  });

  it('gradient in eval mode (running statistics are constants)', () => {
    const bn = new BatchNorm1d(3, f64);
    bn.runningMean!.assign(tensor([0.5, -1, 2], f64));
    bn.runningVar!.assign(tensor([2, 0.5, 1], f64));
    bn.eval();
    expect(gradcheck((x) => bn.forward(x!).square(), [randn([2, 3], f64)]).ok).toBe(true);
  });

  it('state dicts hold weight, bias and the buffers under PyTorch names, and round-trip through safetensors', async () => {
    const net = new Sequential(new Linear(3, 4), new BatchNorm1d(4), new ReLU(), new Linear(4, 2));
    expect(Object.keys(net.stateDict())).toEqual([
      '0.weight', '0.bias', '1.weight', '1.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked', '3.weight', '3.bias',
    ]);
    expect(net.stateDict()['1.num_batches_tracked']!.shape).toEqual([]);
    // buffers are not parameters: an optimizer never sees them
    expect(net.parameters()).toHaveLength(6);
    expect(net.namedBuffers().map(([k]) => k)).toEqual(['1.running_mean', '1.running_var', '1.num_batches_tracked']);
    for (let i = 0; i < 2; i++) tidy(() => net.forward(randn([8, 3])));
    const bytes = await writeSafetensors(net.stateDict());
    const other = new Sequential(new Linear(3, 4), new BatchNorm1d(4), new ReLU(), new Linear(4, 2));
    other.loadStateDict(readSafetensors(bytes));
    const bn = other.at(1) as BatchNorm1d;
    expect(vals(bn.runningMean!)).toEqual(vals((net.at(1) as BatchNorm1d).runningMean!));
    expect(bn.numBatchesTracked!.item()).toBe(2);
    // a missing buffer is an error, and nothing is loaded
    const dict = net.stateDict();
    delete dict['1.running_var'];
    expect(() => other.loadStateDict(dict)).toThrow('missing 1.running_var; nothing was loaded');
  });

  it('rejects wrong shapes, a single value per channel in training, bad options', () => {
    expect(() => new BatchNorm2d(3).forward(randn([2, 3, 4]))).toThrow('BatchNorm2d(3): expected input [N, C, H, W] with C = 3, got [2,3,4]');
    expect(() => new BatchNorm1d(3).forward(randn([2, 4]))).toThrow('BatchNorm1d(3): expected input [N, C] or [N, C, L] with C = 3, got [2,4]');
    expect(() => new BatchNorm1d(3).forward(randn([1, 3]))).toThrow('has 1 value per channel; training needs more than 1');
    expect(() => new BatchNorm1d(3).forward(randn([2, 3], f64))).toThrow('is float64 on cpu, the layer is float32 on cpu');
    expect(() => new BatchNorm1d(0)).toThrow('BatchNorm1d: numFeatures must be a positive integer, got 0');
    expect(() => new BatchNorm1d(2, { momentum: 2 })).toThrow('momentum must be in [0, 1] or null, got 2');
    expect(new BatchNorm1d(1).eval().forward(randn([1, 1])).shape).toEqual([1, 1]);
    expect(String(new BatchNorm2d(16, { momentum: 0.01 }))).toBe('BatchNorm2d(16, momentum=0.01)');
  });

  it('keeps the live tensor count flat over many training steps', () => {
    const bn = new BatchNorm2d(2);
    const x = randn([4, 2, 3, 3]);
    const step = () => tidy(() => bn.forward(x).sum().backward());
    step();
    bn.zeroGrad();
    const live = memory().tensors;
    for (let i = 0; i < 50; i++) {
      step();
      bn.zeroGrad();
    }
    expect(memory().tensors).toBe(live);
  });
});

describe('LayerNorm', () => {
  it('normalizes each sample over its last axes (biased variance), then weight and bias elementwise', () => {
    manualSeed(6);
    const x = randn([2, 3, 4], { ...f64, mean: 2, std: 3 });
    const ln = new LayerNorm([3, 4], f64);
    const w = randn([3, 4], f64);
    const b = randn([3, 4], f64);
    ln.weight!.assign(w.detach());
    ln.bias!.assign(b.detach());
    const xv = vals(x);
    const [wv, bv] = [vals(w), vals(b)];
    const want = [0, 1].flatMap((s) => {
      const row = xv.slice(s * 12, s * 12 + 12);
      const m = row.reduce((a, v) => a + v, 0) / 12;
      const v = row.reduce((a, r) => a + (r - m) ** 2, 0) / 12;
      return row.map((r, i) => ((r - m) / Math.sqrt(v + 1e-5)) * wv[i]! + bv[i]!);
    });
    close(vals(ln.forward(x)), want, 1e-9);
    // the same in eval mode
    close(vals(ln.eval().forward(x)), want, 1e-9);
  });

  it('gradients match central differences (float64) for input, weight and bias', () => {
    manualSeed(7);
    const ln = new LayerNorm(4, f64);
    ln.weight!.assign(randn([4], f64));
    ln.bias!.assign(randn([4], f64));
    expect(gradcheck((x) => ln.forward(x!).sin(), [randn([2, 3, 4], f64)]).ok).toBe(true);
    const x = randn([3, 4], f64);
    paramGradCheck(() => ln.forward(x).sin().sum(), ln.weight!);
    paramGradCheck(() => ln.forward(x).sin().sum(), ln.bias!);
  });

  it('has weight and bias of the normalized shape, or none; rejects inputs that do not end in it', () => {
    expect(new LayerNorm([2, 3]).weight!.shape).toEqual([2, 3]);
    expect(new LayerNorm(3, { elementwiseAffine: false }).parameters()).toHaveLength(0);
    expect(new LayerNorm(3, { bias: false }).parameters()).toHaveLength(1);
    expect(() => new LayerNorm(4).forward(randn([2, 3]))).toThrow('LayerNorm([4]): expected input [..., 4], got [2,3]');
    expect(() => new LayerNorm([])).toThrow('LayerNorm: normalizedShape must be a positive integer');
  });
});
