// Creation (src/graph/creation.ts) and the seeded generator (src/graph/random.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as T from '../src';
import { shapeArb, valuesArb } from '../src/testing';
import { fcParams } from './helpers/optable';

const vals = (t: T.Tensor) => [...t.dataSync()];

describe('tensor()', () => {
  it('from nested arrays: shape, row-major values, float32 by default', () => {
    const t = T.tensor([[1, 2, 3], [4, 5, 6]]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe('float32');
    expect(t.device).toBe('cpu');
    expect(t.requiresGrad).toBe(false);
    expect(vals(t)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(t.toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
  });

  it('float32 rounds, float64 keeps every bit', () => {
    expect(vals(T.tensor([0.1, 1 / 3]))).toEqual([Math.fround(0.1), Math.fround(1 / 3)]);
    expect(vals(T.tensor([0.1, 1 / 3], { dtype: 'float64' }))).toEqual([0.1, 1 / 3]);
    expect(T.tensor([1], { dtype: 'float64' }).dataSync()).toBeInstanceOf(Float64Array);
    expect(T.tensor([1]).dataSync()).toBeInstanceOf(Float32Array);
  });

  it('a number is a scalar; flat data takes a shape; empty arrays give size 0', () => {
    const s = T.tensor(2.5);
    expect(s.shape).toEqual([]);
    expect(s.item()).toBe(2.5);
    const f = T.tensor(new Float64Array([1, 2, 3, 4, 5, 6]), { shape: [3, 2], dtype: 'float64' });
    expect(f.toArray()).toEqual([[1, 2], [3, 4], [5, 6]]);
    expect(T.tensor([1, 2, 3, 4], { shape: [2, 2] }).toArray()).toEqual([[1, 2], [3, 4]]);
    expect(T.tensor([]).shape).toEqual([0]);
    expect(T.tensor([[], []]).shape).toEqual([2, 0]);
  });

  it('copies its data and carries requiresGrad', () => {
    const src = new Float32Array([1, 2]);
    const t = T.tensor(src, { requiresGrad: true });
    src[0] = 9;
    expect(vals(t)).toEqual([1, 2]);
    expect(t.requiresGrad).toBe(true);
    expect(t.isLeaf).toBe(true);
  });

  it('round-trips random nested arrays of rank 0–4 (toArray ∘ tensor = id in float64)', () => {
    const nested = shapeArb().chain((shape) => valuesArb(shape).map((v) => T.tensor(v, { shape, dtype: 'float64' }).toArray()));
    fc.assert(
      fc.property(nested, (data) => {
        expect(T.tensor(data, { dtype: 'float64' }).toArray()).toEqual(data);
      }),
      fcParams(50),
    );
  });
});

describe('filled tensors', () => {
  it('zeros, ones, full, zerosLike, onesLike', () => {
    expect(T.zeros([2, 2]).toArray()).toEqual([[0, 0], [0, 0]]);
    expect(T.ones([3], { dtype: 'float64' }).dataSync()).toEqual(new Float64Array([1, 1, 1]));
    expect(T.full([2], 7.5).toArray()).toEqual([7.5, 7.5]);
    expect(T.full([], 3).shape).toEqual([]);
    const like = T.zerosLike(T.ones([2, 1], { dtype: 'float64' }));
    expect([like.shape, like.dtype, vals(like)]).toEqual([[2, 1], 'float64', [0, 0]]);
    expect(vals(T.onesLike(T.zeros([3])))).toEqual([1, 1, 1]);
    expect(T.zeros([2, 0, 3]).size).toBe(0);
  });

  it('arange: numpy semantics, stop excluded', () => {
    expect(vals(T.arange(5))).toEqual([0, 1, 2, 3, 4]);
    expect(vals(T.arange(2, 5))).toEqual([2, 3, 4]);
    expect(vals(T.arange(0, 1, 0.25, { dtype: 'float64' }))).toEqual([0, 0.25, 0.5, 0.75]);
    expect(vals(T.arange(3, 0, -1))).toEqual([3, 2, 1]);
    expect(T.arange(5, 2).shape).toEqual([0]);
  });

  it('linspace: both ends included, evenly spaced', () => {
    expect(vals(T.linspace(0, 1, 5, { dtype: 'float64' }))).toEqual([0, 0.25, 0.5, 0.75, 1]);
    const t = vals(T.linspace(-1, 2, 7, { dtype: 'float64' }));
    expect(t[0]).toBe(-1);
    expect(t[6]).toBe(2);
    for (let i = 1; i < 7; i++) expect(t[i]! - t[i - 1]!).toBeCloseTo(0.5, 14);
    expect(vals(T.linspace(3, 9, 1))).toEqual([3]);
    expect(T.linspace(0, 1, 0).shape).toEqual([0]);
  });

  it('eye: square and rectangular', () => {
    expect(T.eye(3).toArray()).toEqual([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
    expect(T.eye(2, 3).toArray()).toEqual([[1, 0, 0], [0, 1, 0]]);
    expect(T.eye(3, 2, { dtype: 'float64' }).toArray()).toEqual([[1, 0], [0, 1], [0, 0]]);
  });
});

describe('random tensors and manualSeed', () => {
  it('the same seed gives the same values, bit for bit, for randn and rand', () => {
    const draw = () => [vals(T.randn([4, 5], { dtype: 'float64' })), vals(T.rand([7])), vals(T.randn([3]))];
    T.manualSeed(1234);
    const first = draw();
    T.manualSeed(1234);
    expect(draw()).toEqual(first);
    T.manualSeed(1235);
    expect(draw()).not.toEqual(first);
  });

  it('randn: shape, dtype, and the moments of 20,000 draws (mean, std options)', () => {
    T.manualSeed(7);
    const x = vals(T.randn([100, 200], { dtype: 'float64', mean: 3, std: 2 }));
    const mean = x.reduce((s, v) => s + v, 0) / x.length;
    const sd = Math.sqrt(x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length);
    // standard errors: 2/√20000 ≈ 0.014 for the mean, ≈ 0.01 for the sd
    expect(Math.abs(mean - 3)).toBeLessThan(0.07);
    expect(Math.abs(sd - 2)).toBeLessThan(0.05);
    expect(T.randn([2, 3]).shape).toEqual([2, 3]);
  });

  it('rand: values in [low, high) covering the range', () => {
    T.manualSeed(8);
    const x = vals(T.rand([10_000], { low: -2, high: 3, dtype: 'float64' }));
    expect(Math.min(...x)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...x)).toBeLessThan(3);
    expect(Math.min(...x)).toBeLessThan(-1.9);
    expect(Math.max(...x)).toBeGreaterThan(2.9);
  });
});
