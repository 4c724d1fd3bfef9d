// gradcheck and the arbitraries exported from src/check: they must pass right gradients, catch
// wrong ones, and generate what they promise.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concat, gradcheck, memory, tensor, type Tensor } from '../src';
import { broadcastShapesArb, gradcheckProperty, shapeArb, tensorArb, valuesArb } from '../src/testing';
import { fcParams } from './helpers/optable';
import { broadcastShape, size } from './helpers/reference';

const f64 = (v: number[] | number[][]) => tensor(v, { dtype: 'float64' });
// forward x², but the detached factor hides half the gradient: backward gives x, not 2x
const wrongSquare = (x: Tensor) => x.mul(x.detach());

describe('gradcheck', () => {
  it('passes a right gradient, with small errors', () => {
    const r = gradcheck((x, y) => x.matmul(y).tanh(), [f64([[0.5, -1], [2, 0.1]]), f64([[0.3], [-0.7]])]);
    expect(r.ok).toBe(true);
    expect(r.maxAbsError).toBeLessThan(1e-8);
    expect(r.worst).not.toBeNull();
  });

  it('fails a wrong gradient and reports the worst element with both values', () => {
    const r = gradcheck((x) => wrongSquare(x).sum(), [f64([1, -3, 2])]);
    expect(r.ok).toBe(false);
    expect(r.worst!.input).toBe(0);
    expect(r.worst!.index).toBe(1); // the largest |x|: the error there is |x − 2x| = 3
    expect(r.worst!.analytic).toBeCloseTo(-3, 12);
    expect(r.worst!.numeric).toBeCloseTo(-6, 6);
    expect(r.maxAbsError).toBeCloseTo(3, 6);
    expect(r.maxRelError).toBeCloseTo(0.5, 6);
  });

  it('checks a non-scalar output through the cotangent, for every output element', () => {
    // only the output's last element is wrong: a random cotangent still exposes it
    const fn = (x: Tensor) => concat([x.slice([0], [2]).mul(2), wrongSquare(x.slice([2]))]);
    const r = gradcheck(fn, [f64([1, 2, 3])]);
    expect(r.ok).toBe(false);
    expect(r.worst!.index).toBe(2);
    expect(gradcheck((x) => x.mul(2), [f64([1, 2, 3])]).ok).toBe(true);
  });

  it('checks every input unless wrt names some', () => {
    const fn = (x: Tensor, c: Tensor) => x.mul(c.detach());
    const inputs = [f64([1, 2]), f64([3, 4])];
    expect(gradcheck(fn, inputs).ok).toBe(false);
    expect(gradcheck(fn, inputs, { wrt: [0] }).ok).toBe(true);
    expect(() => gradcheck(fn, inputs, { wrt: [2] })).toThrow('gradcheck: wrt index 2 is out of range for 2 inputs');
  });

  it('an output that does not depend on an input gives zero gradients, checked as such', () => {
    expect(gradcheck((x, y) => x.exp(), [f64([1]), f64([2])]).ok).toBe(true);
    expect(gradcheck(() => f64([1, 2]), [f64([1])]).ok).toBe(true);
  });

  it('needs float64 CPU inputs', () => {
    expect(() => gradcheck((x) => x, [tensor([1, 2])])).toThrow(
      'gradcheck: input 0 (shape [2]) is float32 on cpu; finite differences need float64 on the cpu',
    );
  });

  it('leaves its inputs untouched and the live-tensor count flat', () => {
    const x = f64([0.5, 1.5]);
    x.requiresGrad = true;
    const start = memory().tensors;
    gradcheck((t) => t.sigmoid().sum(), [x]);
    expect(memory().tensors).toBe(start);
    expect(x.grad).toBeNull();
    expect([...x.dataSync()]).toEqual([0.5, 1.5]);
  });

  it('gradcheckProperty passes right gradients and throws on wrong ones', () => {
    const pair = broadcastShapesArb().chain(([a, b]) => fc.tuple(tensorArb(a), tensorArb(b)));
    fc.assert(gradcheckProperty(pair, (x, y) => x.mul(y).sin()), fcParams(20));
    fc.assert(gradcheckProperty([tensorArb([2, 3]), tensorArb([3])], (x, y) => x.sub(y).square().mean()), fcParams(10));
    const run = fc.check(gradcheckProperty([tensorArb([3], { min: 0.5, max: 2 })], wrongSquare), fcParams(10));
    expect(run.failed).toBe(true);
    expect(String(run.errorInstance)).toMatch(/gradcheck FAILED.*worst: input 0 .*input shapes \[3\]/);
  });
});

describe('arbitraries', () => {
  it('shapeArb: ranks 0–4 with dims 1–3, size-1 dims and both extreme ranks appear', () => {
    const shapes = fc.sample(shapeArb(), { numRuns: 300, seed: 1 });
    for (const s of shapes) {
      expect(s.length).toBeLessThanOrEqual(4);
      s.forEach((d) => expect(d >= 1 && d <= 3).toBe(true));
    }
    expect(shapes.some((s) => s.length === 0)).toBe(true);
    expect(shapes.some((s) => s.length === 4)).toBe(true);
    expect(shapes.some((s) => s.includes(1) && s.some((d) => d > 1))).toBe(true);
    const narrow = fc.sample(shapeArb({ minRank: 2, maxRank: 2, minDim: 5, maxDim: 5 }), { numRuns: 10, seed: 1 });
    narrow.forEach((s) => expect(s).toEqual([5, 5]));
  });

  it('broadcastShapesArb: pairs that broadcast, including different ranks and stretched 1s', () => {
    const pairs = fc.sample(broadcastShapesArb(), { numRuns: 300, seed: 2 });
    for (const [a, b] of pairs) expect(() => broadcastShape(a, b)).not.toThrow();
    expect(pairs.some(([a, b]) => a.length !== b.length)).toBe(true);
    expect(pairs.some(([a, b]) => a.some((d, i) => d === 1 && b[b.length - a.length + i]! > 1))).toBe(true);
  });

  it('valuesArb: the right count, in range, away from avoided points', () => {
    const draws = fc.sample(valuesArb([2, 3], { min: -1, max: 1, avoid: [0, 0.5], gap: 0.1 }), { numRuns: 200, seed: 3 });
    for (const v of draws) {
      expect(v.length).toBe(6);
      for (const x of v) {
        expect(x >= -1 && x <= 1).toBe(true);
        expect(Math.abs(x)).toBeGreaterThanOrEqual(0.1);
        expect(Math.abs(x - 0.5)).toBeGreaterThanOrEqual(0.1);
      }
    }
  });

  it('tensorArb: float64 CPU tensors of the shape (or of drawn shapes)', () => {
    const [t] = fc.sample(tensorArb([2, 1, 3], { requiresGrad: true }), { numRuns: 1, seed: 4 });
    expect([t!.shape, t!.dtype, t!.device, t!.requiresGrad]).toEqual([[2, 1, 3], 'float64', 'cpu', true]);
    for (const u of fc.sample(tensorArb(shapeArb({ maxRank: 2 }), { dtype: 'float32' }), { numRuns: 20, seed: 5 })) {
      expect(u.dtype).toBe('float32');
      expect(u.dataSync().length).toBe(size(u.shape));
    }
  });
});
