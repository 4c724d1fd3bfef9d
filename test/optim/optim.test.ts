// Optimizers: each update rule against a step computed by hand, groups, lr, errors, state dicts,
// and a flat live-tensor count.
import { describe, expect, it } from 'vitest';
import { Adam, Momentum, SGD, memory, tensor, tidy, type Optimizer, type Tensor } from '../../src';

const vals = (t: Tensor) => Array.from(t.dataSync());
const close = (a: number[], b: number[], digits = 6) => b.forEach((v, i) => expect(a[i]).toBeCloseTo(v, digits));

/** A parameter and a step that sets its gradient to g (loss = Σ g·p, so ∂loss/∂p = g). */
function setup(init: number[]) {
  const p = tensor(init, { requiresGrad: true });
  const backward = (g: number[]) => tidy(() => p.mul(tensor(g)).sum().backward());
  return { p, backward };
}

function run(opt: Optimizer<{ lr: number }>, backward: (g: number[]) => void, grads: number[][]) {
  for (const g of grads) {
    opt.zeroGrad();
    backward(g);
    opt.step();
  }
}

const G1 = [0.5, -1, 2];
const G2 = [-0.25, 0.5, 1];

describe('update rules, by hand', () => {
  it('SGD: p ← p − lr·g', () => {
    const { p, backward } = setup([1, 2, 3]);
    run(new SGD([p], { lr: 0.1 }), backward, [G1, G2]);
    close(vals(p), [1, 2, 3].map((v, i) => v - 0.1 * G1[i]! - 0.1 * G2[i]!));
  });

  it("Momentum (PuzzleLib's): v ← μv + lr·g; p ← p − v", () => {
    const { p, backward } = setup([1, 2, 3]);
    run(new Momentum([p], { lr: 0.1, momentum: 0.9 }), backward, [G1, G2]);
    const v1 = G1.map((g) => 0.1 * g);
    const v2 = v1.map((v, i) => 0.9 * v + 0.1 * G2[i]!);
    close(vals(p), [1, 2, 3].map((x, i) => x - v1[i]! - v2[i]!));
  });

  it('Momentum with nesterov: p ← p − (μv + lr·g) with the new v', () => {
    const { p, backward } = setup([1, 2, 3]);
    run(new Momentum([p], { lr: 0.1, momentum: 0.9, nesterov: true }), backward, [G1, G2]);
    const v1 = G1.map((g) => 0.1 * g);
    const p1 = [1, 2, 3].map((x, i) => x - (0.9 * v1[i]! + 0.1 * G1[i]!));
    const v2 = v1.map((v, i) => 0.9 * v + 0.1 * G2[i]!);
    close(vals(p), p1.map((x, i) => x - (0.9 * v2[i]! + 0.1 * G2[i]!)));
  });

  it('Adam: bias-corrected moments, and weight decay added to the gradient', () => {
    for (const wd of [0, 0.1]) {
      const { p, backward } = setup([1, 2, 3]);
      const [b1, b2, eps, lr] = [0.8, 0.9, 1e-8, 0.05];
      run(new Adam([p], { lr, betas: [b1, b2], eps, weightDecay: wd }), backward, [G1, G2]);
      let x = [1, 2, 3];
      let m = [0, 0, 0];
      let v = [0, 0, 0];
      [G1, G2].forEach((gRaw, k) => {
        const t = k + 1;
        const g = gRaw.map((gi, i) => gi + wd * x[i]!);
        m = m.map((mi, i) => b1 * mi + (1 - b1) * g[i]!);
        v = v.map((vi, i) => b2 * vi + (1 - b2) * g[i]! ** 2);
        x = x.map((xi, i) => xi - (lr * (m[i]! / (1 - b1 ** t))) / (Math.sqrt(v[i]! / (1 - b2 ** t)) + eps));
      });
      close(vals(p), x, 5);
    }
  });
});

describe('optimizer behaviour', () => {
  it('parameter groups keep their own learning rates; lr sets every group', () => {
    const a = setup([1, 1]);
    const b = setup([1, 1]);
    const opt = new SGD([{ params: [a.p], lr: 0.1 }, { params: [b.p], lr: 0.01 }]);
    const both = () => {
      a.backward([1, 1]);
      b.backward([1, 1]);
    };
    run(opt, both, [[]]);
    close(vals(a.p), [0.9, 0.9]);
    close(vals(b.p), [0.99, 0.99]);
    opt.lr = 0.5;
    expect(opt.groups.map((g) => g.lr)).toEqual([0.5, 0.5]);
    opt.groups[1]!.lr = 0;
    run(opt, both, [[]]);
    close(vals(a.p), [0.4, 0.4]);
    close(vals(b.p), [0.99, 0.99]);
  });

  it('skips parameters without a gradient', () => {
    const a = setup([1]);
    const b = setup([1]);
    const opt = new SGD([a.p, b.p], { lr: 1 });
    a.backward([2]);
    opt.step();
    expect(vals(a.p)).toEqual([-1]);
    expect(vals(b.p)).toEqual([1]);
  });

  it('rejects no parameters, non-leaves, parameters without grad, duplicates, bad options', () => {
    const p = tensor([1], { requiresGrad: true });
    expect(() => new SGD([], { lr: 0.1 })).toThrow('SGD: no parameters to optimize (got an empty list)');
    expect(() => new Adam([{ params: [] }])).toThrow('Adam: no parameters to optimize');
    expect(() => new SGD([p.mul(2)], { lr: 0.1 })).toThrow('SGD: parameter 0 (shape [1]) is an op result, not a leaf');
    expect(() => new SGD([tensor([1])], { lr: 0.1 })).toThrow('SGD: parameter 0 (shape [1]) does not require grad');
    expect(() => new SGD([p, p], { lr: 0.1 })).toThrow('SGD: parameter 1 (shape [1]) appears twice');
    expect(() => new SGD([p], {})).toThrow('SGD: group 0: lr must be a non-negative number, got undefined');
    expect(() => new Momentum([p], { lr: 0.1, momentum: 1 })).toThrow('Momentum: group 0: momentum must be in [0, 1), got 1');
    expect(() => new Adam([p], { betas: [0.9, 1.5] })).toThrow('Adam: group 0: betas must be in [0, 1)');
  });

  it('stateDict / loadStateDict carry the state: a restored optimizer takes the same next step', () => {
    for (const make of [(p: Tensor) => new Momentum([p], { lr: 0.1 }), (p: Tensor) => new Adam([p], { lr: 0.1 })]) {
      const a = setup([1, 2, 3]);
      const optA = make(a.p);
      run(optA, a.backward, [G1, G2]);
      const dict = optA.stateDict();
      const b = setup(vals(a.p));
      const optB = make(b.p);
      optB.loadStateDict(dict);
      run(optA, a.backward, [G1]);
      run(optB, b.backward, [G1]);
      expect(vals(b.p)).toEqual(vals(a.p));
      // a fresh optimizer (no state) would have stepped differently
      const c = setup(vals(b.p));
      run(make(c.p), c.backward, [G1]);
      expect(vals(c.p)).not.toEqual(vals(a.p));
    }
  });

  it('loadStateDict with mismatched groups or shapes throws and changes nothing', () => {
    const a = setup([1, 2, 3]);
    const opt = new Momentum([a.p], { lr: 0.1 });
    run(opt, a.backward, [G1]);
    const good = opt.stateDict();
    const bad = { ...good, state: { 0: { step: 1, tensors: { v: tensor([1, 2]) } } } };
    expect(() => opt.loadStateDict(bad)).toThrow("Momentum.loadStateDict: parameter 0: state 'v' has shape [2], expected [3]; nothing was loaded");
    expect(() => opt.loadStateDict({ ...good, groups: [] })).toThrow('0 groups given, this optimizer has 1');
    // the state in place is still the good one: the next step equals a twin's
    const b = setup([1, 2, 3]);
    const twin = new Momentum([b.p], { lr: 0.1 });
    run(twin, b.backward, [G1]);
    run(opt, a.backward, [G2]);
    run(twin, b.backward, [G2]);
    expect(vals(a.p)).toEqual(vals(b.p));
  });

  it.each([
    ['SGD', (ps: Tensor[]) => new SGD(ps, { lr: 0.01 })],
    ['Momentum', (ps: Tensor[]) => new Momentum(ps, { lr: 0.01, nesterov: true })],
    ['Adam', (ps: Tensor[]) => new Adam(ps, { lr: 0.01, weightDecay: 0.1 })],
  ] as const)('%s keeps the live tensor count flat over many steps', (_, make) => {
    const w = tensor([[0.1, 0.2], [0.3, 0.4]], { requiresGrad: true });
    const b = tensor([0, 0], { requiresGrad: true });
    const x = tensor([[1, 2], [3, 4], [5, 6]]);
    const opt = make([w, b]);
    const step = () => {
      opt.zeroGrad();
      tidy(() => x.matmul(w).add(b).square().mean().backward());
      opt.step();
    };
    for (let i = 0; i < 3; i++) step();
    const live = memory().tensors;
    for (let i = 0; i < 200; i++) step();
    expect(memory().tensors).toBe(live);
  });
});
