// Engine semantics (src/graph/engine.ts): the tape walk, accumulation, broadcasting undone,
// the errors that name their cause, higher-order gradients, grad(), grad mode, and lifetimes.
import { describe, expect, it } from 'vitest';
import { enableGrad, grad, memory, noGrad, tensor, tidy, type Tensor } from '../src';

const f64 = (v: number | number[] | number[][], requiresGrad = true) => tensor(v, { dtype: 'float64', requiresGrad });
const vals = (t: Tensor | null) => [...t!.dataSync()];

describe('backward', () => {
  it('a chain of 100,000 ops backpropagates without a stack overflow', () => {
    const n = 100_000;
    const c = 1 + 1e-6;
    const x = f64(0.5);
    tidy(() => {
      let y = x;
      for (let i = 0; i < n; i++) y = y.mul(c);
      y.backward();
    });
    // y = x·cⁿ, so dy/dx = cⁿ (rounding: ~n·1e-16 relative)
    expect(x.grad!.item()).toBeCloseTo(Math.pow(c, n), 9);
  });

  it('gradients accumulate across backward() calls until zeroGrad()', () => {
    const x = f64([1, -2, 3]);
    const loss = () => x.mul(x).sum();
    loss().backward();
    loss().backward();
    expect(vals(x.grad)).toEqual([4, -8, 12]); // 2 · 2x
    x.zeroGrad();
    expect(x.grad).toBeNull();
    loss().backward();
    expect(vals(x.grad)).toEqual([2, -4, 6]);
  });

  it('a value used twice gets both contributions', () => {
    const x = f64([1, 2]);
    x.mul(x).sum().backward(); // d x² = 2x
    expect(vals(x.grad)).toEqual([2, 4]);
    const a = f64([0.5, -1]);
    const y = a.mul(3);
    y.mul(y).add(y).sum().backward(); // d (y² + y)/da = (2y + 1)·3
    expect(vals(a.grad)).toEqual([(2 * 1.5 + 1) * 3, (2 * -3 + 1) * 3]);
  });

  it('broadcasting is undone: [3,1] + [4] gives a.grad [3,1] and b.grad [4]', () => {
    const a = f64([[1], [2], [3]]);
    const b = f64([1, 2, 3, 4]);
    const out = a.add(b);
    expect(out.shape).toEqual([3, 4]);
    out.sum().backward();
    expect(a.grad!.shape).toEqual([3, 1]);
    expect(a.grad!.toArray()).toEqual([[4], [4], [4]]);
    expect(b.grad!.shape).toEqual([4]);
    expect(vals(b.grad)).toEqual([3, 3, 3, 3]);
  });

  it('a gradient argument seeds a non-scalar output (the vector of the VJP)', () => {
    const x = f64([1, 2, 3]);
    x.mul(x).backward(f64([1, 0, -1], false));
    expect(vals(x.grad)).toEqual([2, 0, -6]);
  });

  it('backward on a non-scalar without a gradient names the shape and the fix', () => {
    const y = f64([[1, 2, 3], [4, 5, 6]]).mul(2);
    expect(() => y.backward()).toThrow(/backward: output has shape \[2,3\].*needs a scalar/);
  });

  it('a gradient of the wrong shape is refused', () => {
    const y = f64([1, 2]).mul(2);
    expect(() => y.backward(f64([1, 2, 3], false))).toThrow(/backward: gradient of shape \[3\].*\[2\]/);
  });

  it('backward on a tensor that does not require grad says so', () => {
    expect(() => f64([1, 2], false).sum().backward()).toThrow(/backward: this tensor does not require grad/);
  });

  it('a second backward over a freed graph names the op and retainGraph', () => {
    const x = f64([1, 2]);
    const y = x.exp().sum();
    y.backward();
    expect(() => y.backward()).toThrow(/backward: the graph through 'sum' was already freed.*retainGraph/);
  });

  it('retainGraph keeps the graph for a second backward', () => {
    const x = f64([1, 2]);
    const y = x.mul(x).sum();
    y.backward(undefined, { retainGraph: true });
    y.backward();
    expect(vals(x.grad)).toEqual([4, 8]);
  });

  it('mutating a tensor the tape saved makes backward fail, naming the op', () => {
    const a = f64([1, 2]);
    const b = f64([3, 4]);
    const y = a.mul(b).sum();
    b.assign(tensor([5, 6], { dtype: 'float64' }));
    expect(() => y.backward()).toThrow(/backward: a tensor of shape \[2\] saved by 'mul' was modified in place/);
  });

  it('mutating a leaf through which a saved view was made is caught too (views share the version)', () => {
    const x = f64([1, 2]);
    const w = f64([3, 4]);
    const y = w.mul(x.reshape([2, 1]).squeeze(1)).sum();
    x.assign(tensor([5, 6], { dtype: 'float64' }));
    expect(() => y.backward()).toThrow(/saved by 'mul' was modified in place/);
  });

  it('mutating a tensor no VJP reads is allowed (add saves nothing)', () => {
    const a = f64([1, 2]);
    const b = f64([3, 4]);
    const y = a.add(b).sum();
    b.assign(tensor([5, 6], { dtype: 'float64' }));
    y.backward();
    expect(vals(a.grad)).toEqual([1, 1]);
  });
});

describe('higher-order gradients', () => {
  it('createGraph: d²/dx² x³ = 6x', () => {
    const x = f64([-1.5, 0.5, 2]);
    for (const cube of [(t: Tensor) => t.mul(t).mul(t), (t: Tensor) => t.pow(3)]) {
      const [g] = grad(cube(x).sum(), [x], { createGraph: true });
      expect(vals(g)).toEqual(vals(x).map((v) => 3 * v * v));
      const [g2] = grad(g!.sum(), [x]);
      vals(g2).forEach((v, i) => expect(v).toBeCloseTo(6 * vals(x)[i]!, 12));
    }
  });

  it('createGraph through backward(): x.grad is differentiable', () => {
    const x = f64([0.3, -0.7]);
    x.pow(3).sum().backward(undefined, { createGraph: true });
    const g = x.grad!;
    expect(g.requiresGrad).toBe(true);
    const [g2] = grad(g.sum(), [x]);
    vals(g2).forEach((v, i) => expect(v).toBeCloseTo(6 * vals(x)[i]!, 12));
  });

  it('a Hessian-vector product matches finite differences of the gradient', () => {
    // f(x) = Σ tanh(W x)² + Σ x·sin(x), a non-quadratic f with a dense Hessian
    const W = tensor([[0.3, -0.8, 0.5], [1.1, 0.2, -0.4]], { dtype: 'float64' });
    const f = (x: Tensor) => W.matmul(x).tanh().square().sum().add(x.mul(x.sin()).sum());
    const x0 = [0.4, -0.9, 1.3];
    const v = [0.7, 0.1, -0.5];
    const gradAt = (xs: number[]) => {
      const x = f64(xs);
      return vals(grad(f(x), [x])[0]!);
    };
    const x = f64(x0);
    const [g] = grad(f(x), [x], { createGraph: true });
    const [hv] = grad(g!.mul(f64(v, false)).sum(), [x]); // H v = ∇ <∇f, v>
    const eps = 1e-5;
    const up = gradAt(x0.map((xi, i) => xi + eps * v[i]!));
    const down = gradAt(x0.map((xi, i) => xi - eps * v[i]!));
    vals(hv).forEach((h, i) => expect(h).toBeCloseTo((up[i]! - down[i]!) / (2 * eps), 7));
  });
});

describe('grad()', () => {
  it('returns gradients without touching .grad, null for an unrelated input, non-leaf inputs too', () => {
    const x = f64([1, 2]);
    const unrelated = f64([5]);
    const h = x.mul(3);
    const y = h.mul(h).sum();
    const [gx, gu, gh] = grad(y, [x, unrelated, h]);
    expect(vals(gx)).toEqual([18, 36]); // d (3x)² = 18x
    expect(gu).toBeNull();
    expect(vals(gh)).toEqual([6, 12]); // 2h
    expect(x.grad).toBeNull();
    expect(gx!.requiresGrad).toBe(false);
  });

  it('a leaf used several times gets the sum of its uses', () => {
    const x = f64([2, 3]);
    const [g] = grad(x.mul(x).add(x.exp()).sum(), [x]);
    vals(g).forEach((v, i) => expect(v).toBeCloseTo(2 * vals(x)[i]! + Math.exp(vals(x)[i]!), 12));
  });

  it('its results obey an enclosing tidy (kept only when returned)', () => {
    const x = f64([1, 2]);
    const start = memory().tensors;
    const kept = tidy(() => {
      const [g] = grad(x.mul(x).sum(), [x]);
      return g!;
    });
    expect(memory().tensors).toBe(start + 1);
    expect(vals(kept)).toEqual([2, 4]);
    tidy(() => void grad(x.mul(x).sum(), [x]));
    expect(memory().tensors).toBe(start + 1);
  });
});

describe('grad mode', () => {
  it('noGrad stops recording; enableGrad turns it back on inside', () => {
    const x = f64([1, 2]);
    const y = noGrad(() => x.mul(2));
    expect(y.requiresGrad).toBe(false);
    const z = noGrad(() => enableGrad(() => x.mul(2)));
    expect(z.requiresGrad).toBe(true);
    expect(x.mul(2).requiresGrad).toBe(true);
  });

  it('detach cuts the tape: only the attached branch carries gradient', () => {
    const x = f64([1, 2]);
    const d = x.detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.mul(2).requiresGrad).toBe(false);
    x.mul(d).sum().backward(); // d/dx (x · const) = const
    expect(vals(x.grad)).toEqual([1, 2]);
  });
});

describe('lifetimes', () => {
  it('tidy disposes everything but the result and memory() returns to its starting count', () => {
    const x = f64([1, 2, 3], false);
    const start = memory().tensors;
    const r = tidy(() => {
      const a = x.mul(2).add(1);
      const b = a.exp().sum();
      return { out: b, list: [a] };
    });
    expect(memory().tensors).toBe(start + 2);
    expect(r.out.isDisposed).toBe(false);
    r.out.dispose();
    r.list[0]!.dispose();
    expect(memory().tensors).toBe(start);
    expect(tidy(() => x.mul(3).sum().item())).toBe(18);
    expect(memory().tensors).toBe(start);
  });

  it('a tidy whose fn throws frees what it made and rethrows', () => {
    const start = memory().tensors;
    expect(() =>
      tidy(() => {
        f64([1, 2], false).mul(2);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(memory().tensors).toBe(start);
  });

  it('nested tidy hands its result to the outer scope', () => {
    const start = memory().tensors;
    const r = tidy(() => {
      const inner = tidy(() => f64([1, 2], false).mul(2));
      f64([0], false);
      return inner.add(1);
    });
    expect(memory().tensors).toBe(start + 1);
    expect(vals(r)).toEqual([3, 5]);
    r.dispose();
  });

  it('leaf grads survive a tidy around backward, and the rest of the step is freed', () => {
    const w = f64([0.5, -1]);
    const x = f64([2, 3], false);
    const start = memory().tensors;
    tidy(() => w.mul(x).tanh().sum().backward());
    expect(memory().tensors).toBe(start + 1); // w.grad
    expect(w.grad!.isDisposed).toBe(false);
    // d/dw Σ tanh(w·x) = x (1 − tanh²(w·x)), with w·x = [1, −3]
    const expected = [2 * (1 - Math.tanh(1) ** 2), 3 * (1 - Math.tanh(-3) ** 2)];
    vals(w.grad).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 12));
    tidy(() => w.mul(x).tanh().sum().backward());
    expect(memory().tensors).toBe(start + 1); // accumulated in place of the old grad
    w.zeroGrad();
    expect(memory().tensors).toBe(start);
  });

  it('a backward without tidy leaves no intermediate gradients alive', () => {
    const w = f64([0.5, -1]);
    const start = memory().tensors;
    const loss = w.mul(w).exp().sum();
    const afterForward = memory().tensors;
    loss.backward();
    expect(memory().tensors).toBe(afterForward + 1); // only w.grad
    expect(afterForward).toBeGreaterThan(start);
  });

  it('dispose frees a tensor once; using it afterwards names the problem', () => {
    const start = memory().tensors;
    const a = f64([1, 2], false);
    a.dispose();
    a.dispose();
    expect(memory().tensors).toBe(start);
    expect(() => a.add(1)).toThrow(/add: an input of shape \[2\] was disposed/);
  });
});
