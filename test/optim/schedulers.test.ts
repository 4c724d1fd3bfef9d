// Learning-rate schedules against their closed forms (PyTorch semantics: the epoch-0 rate is set
// at construction, step() once per epoch), and clipGradNorm against a direct computation.
import { describe, expect, it } from 'vitest';
import {
  Adam, CosineAnnealingLR, LinearLR, SGD, SequentialLR, StepLR, clipGradNorm, memory, tensor, tidy, type LRScheduler, type Tensor,
} from '../../src';

const vals = (t: Tensor) => Array.from(t.dataSync());
const param = () => tensor([1, 2], { requiresGrad: true });

/** The lr of each group at epochs 0..n−1 as the scheduler steps. */
function trace(s: LRScheduler, n: number): number[][] {
  const out: number[][] = [];
  for (let e = 0; e < n; e++) {
    out.push(s.optimizer.groups.map((g) => g.lr));
    s.step();
  }
  return out;
}
const expectClose = (a: number[][], b: number[][]) => {
  expect(a.length).toBe(b.length);
  a.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(b[i]![j]!, 12)));
};

describe('schedules', () => {
  it('StepLR: base·γ^⌊epoch/stepSize⌋, per group', () => {
    const opt = new SGD([{ params: [param()], lr: 0.1 }, { params: [param()], lr: 1 }]);
    const s = new StepLR(opt, 3, 0.5);
    expectClose(trace(s, 10), [...Array(10).keys()].map((e) => [0.1, 1].map((b) => b * 0.5 ** Math.floor(e / 3))));
    expect(s.lastEpoch).toBe(10);
  });

  it('CosineAnnealingLR: ηmin + (base − ηmin)(1 + cos(π·epoch/tMax))/2, past tMax too', () => {
    const opt = new Adam([param()], { lr: 0.01 });
    const s = new CosineAnnealingLR(opt, 8, 1e-4);
    const want = [...Array(20).keys()].map((e) => [1e-4 + ((0.01 - 1e-4) * (1 + Math.cos((Math.PI * e) / 8))) / 2]);
    expectClose(trace(s, 20), want);
    // the bottom is reached at tMax
    expect(want[8]![0]).toBeCloseTo(1e-4, 15);
  });

  it('LinearLR: the factor ramps from startFactor to endFactor over totalIters, then stays', () => {
    const opt = new SGD([param()], { lr: 0.3 });
    const s = new LinearLR(opt, { startFactor: 0.1, endFactor: 1, totalIters: 4 });
    expectClose(trace(s, 7), [0.1, 0.325, 0.55, 0.775, 1, 1, 1].map((f) => [0.3 * f]));
    // defaults as PyTorch: 1/3 → 1 over 5 epochs
    const d = new LinearLR(new SGD([param()], { lr: 3 }));
    expect(d.getLastLr()).toEqual([1]);
  });

  it('SequentialLR: a warm-up, then cosine decay counted from the milestone; base rate kept across schedulers', () => {
    const opt = new SGD([param()], { lr: 1 });
    const warm = new LinearLR(opt, { startFactor: 0.25, totalIters: 3 });
    // made after warm changed the lr to 0.25: the base stays 1 (PyTorch's initial_lr)
    const cos = new CosineAnnealingLR(opt, 4);
    const s = new SequentialLR(opt, [warm, cos], [3]);
    const want = [0.25, 0.5, 0.75, ...[0, 1, 2, 3, 4].map((e) => (1 + Math.cos((Math.PI * e) / 4)) / 2)].map((v) => [v]);
    expectClose(trace(s, 8), want);
  });

  it('reject bad arguments with the schedule name', () => {
    const opt = new SGD([param()], { lr: 1 });
    expect(() => new StepLR(opt, 0)).toThrow('StepLR: stepSize must be an integer ≥ 1, got 0');
    expect(() => new CosineAnnealingLR(opt, 2.5)).toThrow('CosineAnnealingLR: tMax must be an integer ≥ 1, got 2.5');
    expect(() => new LinearLR(opt, { startFactor: 0 })).toThrow('LinearLR: startFactor must be in (0, 1], got 0');
    expect(() => new SequentialLR(opt, [new StepLR(opt, 1)], [2])).toThrow('SequentialLR: expected 0 milestones for 1 schedulers, got [2]');
    expect(() => new StepLR({} as never, 1)).toThrow('StepLR: expected an optimizer');
  });
});

describe('clipGradNorm', () => {
  /** two parameters with gradients g1, g2 (loss = Σ g·p) */
  function withGrads(g1: number[], g2: number[]) {
    const a = tensor(g1.map(() => 0), { dtype: 'float64', requiresGrad: true });
    const b = tensor(g2.map(() => 0), { dtype: 'float64', requiresGrad: true });
    tidy(() => a.mul(tensor(g1, { dtype: 'float64' })).sum().add(b.mul(tensor(g2, { dtype: 'float64' })).sum()).backward());
    return [a, b];
  }
  const G1 = [3, -4];
  const G2 = [12];

  it.each([
    [2, 13],
    [1, 19],
    [Infinity, 12],
    [3, Math.cbrt(27 + 64 + 1728)],
  ])('norm %s: returns the joint norm and scales by maxNorm/(norm + 1e-6) when above', (n, norm) => {
    const [a, b] = withGrads(G1, G2);
    const total = clipGradNorm([a!, b!], 6.5, n);
    expect(total.item()).toBeCloseTo(norm, 10);
    const c = 6.5 / (norm + 1e-6);
    vals(a!.grad!).forEach((v, i) => expect(v).toBeCloseTo(G1[i]! * c, 10));
    expect(vals(b!.grad!)[0]).toBeCloseTo(12 * c, 10);
  });

  it('leaves gradients below maxNorm unchanged, skips parameters without one', () => {
    const [a, b] = withGrads(G1, G2);
    const none = tensor([1], { requiresGrad: true });
    expect(clipGradNorm([a!, none, b!], 100).item()).toBeCloseTo(13, 12);
    expect(vals(a!.grad!)).toEqual(G1);
    expect(vals(b!.grad!)).toEqual(G2);
  });

  it('rejects bad arguments, and leaves no tensors behind but the returned norm', () => {
    const [a, b] = withGrads(G1, G2);
    expect(() => clipGradNorm([a!], -1)).toThrow('clipGradNorm: maxNorm must be a number ≥ 0, got -1');
    expect(() => clipGradNorm([a!], 1, 0)).toThrow('clipGradNorm: normType must be a positive number or Infinity, got 0');
    expect(() => clipGradNorm([a!, 3 as never], 1)).toThrow('clipGradNorm: parameter 1 is not a Tensor');
    const live = memory().tensors;
    const t = clipGradNorm([a!, b!], 1);
    expect(memory().tensors).toBe(live + 1);
    t.dispose();
  });
});
