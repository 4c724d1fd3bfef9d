// AdamW, RMSProp, AdaGrad against hand-written float64 references of PyTorch's update rules
// (torch/optim/{adamw,rmsprop,adagrad}.py, single-tensor path), over several steps with changing
// gradients; their option checks; flat memory.
import { describe, expect, it } from 'vitest';
import { AdaGrad, AdamW, RMSProp, memory, tensor, tidy, type Optimizer, type Tensor } from '../../src';

const f64 = { dtype: 'float64' } as const;
const vals = (t: Tensor) => Array.from(t.dataSync());
const close = (a: number[], b: number[], tol = 1e-12) => {
  expect(a.length).toBe(b.length);
  b.forEach((v, i) => expect(Math.abs(a[i]! - v)).toBeLessThanOrEqual(tol * (1 + Math.abs(v))));
};

const P0 = [1, -2, 0.5, 3];
/** gradients that change sign and size from step to step, so every state term matters */
const GRADS = [
  [0.5, -1, 2, 0.1],
  [-0.25, 0.5, 1, -3],
  [1.5, 0.2, -0.7, 0.4],
  [0.3, -0.8, 0.05, 2],
  [-1, 1, 1, -1],
];

/** Runs `opt` over GRADS on a float64 parameter (loss = Σ g·p, so ∂loss/∂p = g); returns p. */
function runOpt(make: (p: Tensor) => Optimizer<{ lr: number }>): number[] {
  const p = tensor(P0, { ...f64, requiresGrad: true });
  const opt = make(p);
  for (const g of GRADS) {
    opt.zeroGrad();
    tidy(() => p.mul(tensor(g, f64)).sum().backward());
    opt.step();
  }
  return vals(p);
}

/** PyTorch's AdamW step (amsgrad off), elementwise in float64. */
function adamwRef(lr: number, [b1, b2]: [number, number], eps: number, wd: number): number[] {
  let p = [...P0];
  let m = P0.map(() => 0);
  let v = P0.map(() => 0);
  GRADS.forEach((g, k) => {
    const t = k + 1;
    p = p.map((x) => x * (1 - lr * wd));
    m = m.map((mi, i) => mi + (g[i]! - mi) * (1 - b1)); // exp_avg.lerp_(grad, 1 − β₁)
    v = v.map((vi, i) => vi * b2 + (1 - b2) * g[i]! * g[i]!);
    const bc1 = 1 - b1 ** t;
    const bc2 = 1 - b2 ** t;
    p = p.map((x, i) => x - (lr / bc1) * (m[i]! / (Math.sqrt(v[i]!) / Math.sqrt(bc2) + eps)));
  });
  return p;
}

/** PyTorch's RMSprop step, elementwise in float64. */
function rmspropRef(lr: number, alpha: number, eps: number, wd: number, mom: number, centered: boolean): number[] {
  let p = [...P0];
  let sq = P0.map(() => 0);
  let ga = P0.map(() => 0);
  let buf = P0.map(() => 0);
  for (const g0 of GRADS) {
    const g = g0.map((gi, i) => gi + wd * p[i]!);
    sq = sq.map((s, i) => s * alpha + (1 - alpha) * g[i]! * g[i]!);
    let avg: number[];
    if (centered) {
      ga = ga.map((a, i) => a + (g[i]! - a) * (1 - alpha));
      avg = sq.map((s, i) => Math.sqrt(s - ga[i]! * ga[i]!) + eps);
    } else avg = sq.map((s) => Math.sqrt(s) + eps);
    if (mom > 0) {
      buf = buf.map((b, i) => b * mom + g[i]! / avg[i]!);
      p = p.map((x, i) => x - lr * buf[i]!);
    } else p = p.map((x, i) => x - (lr * g[i]!) / avg[i]!);
  }
  return p;
}

/** PyTorch's Adagrad step, elementwise in float64. */
function adagradRef(lr: number, lrDecay: number, wd: number, init: number, eps: number): number[] {
  let p = [...P0];
  let sum = P0.map(() => init);
  GRADS.forEach((g0, k) => {
    const step = k + 1;
    const g = g0.map((gi, i) => gi + wd * p[i]!);
    const clr = lr / (1 + (step - 1) * lrDecay);
    sum = sum.map((s, i) => s + g[i]! * g[i]!);
    p = p.map((x, i) => x - (clr * g[i]!) / (Math.sqrt(sum[i]!) + eps));
  });
  return p;
}

describe('AdamW', () => {
  it.each([
    [1e-3, [0.9, 0.999], 1e-8, 0.01],
    [0.1, [0.8, 0.9], 1e-3, 0.5],
    [0.05, [0.5, 0.99], 0, 0],
  ] as const)('matches PyTorch over 5 steps: lr %s, betas %j, eps %s, weightDecay %s', (lr, betas, eps, wd) => {
    const got = runOpt((p) => new AdamW([p], { lr, betas: [...betas], eps, weightDecay: wd }));
    close(got, adamwRef(lr, [...betas], eps, wd));
  });

  it('decoupled decay differs from L2 decay: with zero gradients the parameter shrinks by (1 − lr·λ) per step', () => {
    const p = tensor([2, -4], { ...f64, requiresGrad: true });
    const opt = new AdamW([p], { lr: 0.1, weightDecay: 0.5 });
    for (let i = 0; i < 3; i++) {
      opt.zeroGrad();
      tidy(() => p.mul(0).sum().backward());
      opt.step();
    }
    close(vals(p), [2, -4].map((x) => x * 0.95 ** 3));
  });

  it('defaults as PyTorch: lr 1e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 0.01', () => {
    const p = tensor([1], { requiresGrad: true });
    const g = new AdamW([p]).groups[0]!;
    expect([g.lr, g.betas, g.eps, g.weightDecay]).toEqual([1e-3, [0.9, 0.999], 1e-8, 0.01]);
  });
});

describe('RMSProp', () => {
  it.each([
    [0.01, 0.99, 1e-8, 0, 0, false],
    [0.05, 0.9, 1e-6, 0.1, 0, false],
    [0.02, 0.95, 1e-8, 0, 0.9, false],
    [0.01, 0.9, 1e-8, 0, 0, true],
    [0.03, 0.8, 1e-4, 0.2, 0.5, true],
  ] as const)('matches PyTorch over 5 steps: lr %s, alpha %s, eps %s, wd %s, momentum %s, centered %s', (lr, alpha, eps, wd, mom, centered) => {
    const got = runOpt((p) => new RMSProp([p], { lr, alpha, eps, weightDecay: wd, momentum: mom, centered }));
    close(got, rmspropRef(lr, alpha, eps, wd, mom, centered));
  });
});

describe('AdaGrad', () => {
  it.each([
    [0.01, 0, 0, 0, 1e-10],
    [0.1, 0.5, 0, 0, 1e-10],
    [0.05, 0.1, 0.2, 0.3, 1e-6],
  ] as const)('matches PyTorch over 5 steps: lr %s, lrDecay %s, wd %s, initialAccumulatorValue %s, eps %s', (lr, decay, wd, init, eps) => {
    const got = runOpt((p) => new AdaGrad([p], { lr, lrDecay: decay, weightDecay: wd, initialAccumulatorValue: init, eps }));
    close(got, adagradRef(lr, decay, wd, init, eps));
  });
});

describe('options and memory', () => {
  it('reject bad options with the optimizer, group and value', () => {
    const p = tensor([1], { requiresGrad: true });
    expect(() => new AdamW([p], { betas: [1, 0.9] })).toThrow('AdamW: group 0: betas must be in [0, 1) (a pair of numbers), got [1, 0.9]');
    expect(() => new AdamW([p], { weightDecay: -1 })).toThrow('AdamW: group 0: weightDecay must be a finite number ≥ 0, got -1');
    expect(() => new RMSProp([p], { alpha: 1.5 })).toThrow('RMSProp: group 0: alpha must be in [0, 1], got 1.5');
    expect(() => new RMSProp([p], { momentum: 1 })).toThrow('RMSProp: group 0: momentum must be in [0, 1), got 1');
    expect(() => new RMSProp([p], { centered: 'yes' as never })).toThrow('RMSProp: group 0: centered must be true or false, got yes');
    expect(() => new AdaGrad([p], { lrDecay: -0.1 })).toThrow('AdaGrad: group 0: lrDecay must be a finite number ≥ 0, got -0.1');
    expect(() => new AdaGrad([p], { initialAccumulatorValue: NaN })).toThrow('initialAccumulatorValue must be a finite number ≥ 0, got NaN');
    expect(() => new AdaGrad([p], { lr: -1 })).toThrow('AdaGrad: group 0: lr must be a non-negative number, got -1');
  });

  it.each([
    ['AdamW', (ps: Tensor[]) => new AdamW(ps, { lr: 0.01 })],
    ['RMSProp', (ps: Tensor[]) => new RMSProp(ps, { lr: 0.01, momentum: 0.9, centered: true })],
    ['AdaGrad', (ps: Tensor[]) => new AdaGrad(ps, { lr: 0.01, weightDecay: 0.1 })],
  ] as const)('%s keeps the live tensor count flat over many steps', (_, make) => {
    const w = tensor([[0.1, 0.2], [0.3, 0.4]], { requiresGrad: true });
    const x = tensor([[1, 2], [3, 4]]);
    const opt = make([w]);
    const step = () => {
      opt.zeroGrad();
      tidy(() => x.matmul(w).square().mean().backward());
      opt.step();
    };
    for (let i = 0; i < 3; i++) step();
    const live = memory().tensors;
    for (let i = 0; i < 100; i++) step();
    expect(memory().tensors).toBe(live);
  });
});
