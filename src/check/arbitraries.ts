// fast-check arbitraries (shapes, broadcast pairs, values, tensors) and a gradcheck property: the
// `tapegrad/testing` entry. fast-check is an optional peer dependency, loaded only from here.
import fc from 'fast-check';
import { sizeOf } from '../backends/backend';
import { tensor } from '../graph/creation';
import type { Tensor } from '../graph/tensor';
import { broadcastShapes, fmtShape } from '../ops/registry';
import { describeGradcheck, gradcheck, type GradcheckOptions } from './index';

export interface ShapeOptions {
  /** default 0 */
  minRank?: number;
  /** default 4 */
  maxRank?: number;
  /** default 1 (size-1 dims are always possible) */
  minDim?: number;
  /** default 3 */
  maxDim?: number;
}

/**
 * Shapes of rank minRank..maxRank (default 0–4) with dims minDim..maxDim (default 1–3).
 *
 * @example
 * fc.assert(fc.property(shapeArb({ maxRank: 3 }), (s) => zeros(s).size === s.reduce((a, b) => a * b, 1)));
 */
export function shapeArb(opts: ShapeOptions = {}): fc.Arbitrary<number[]> {
  const { minRank = 0, maxRank = 4, minDim = 1, maxDim = 3 } = opts;
  return fc.array(fc.integer({ min: minDim, max: maxDim }), { minLength: minRank, maxLength: maxRank });
}

/**
 * Pairs of shapes that broadcast together (numpy rules): drawn from one shape, each side may
 * drop leading axes and turn dims into 1. The ranks may differ.
 *
 * @example
 * fc.assert(fc.property(broadcastShapesArb(), ([a, b]) => zeros(a).add(zeros(b)).rank >= a.length));
 */
export function broadcastShapesArb(opts: ShapeOptions = {}): fc.Arbitrary<[number[], number[]]> {
  const side = (shape: number[]) =>
    fc
      .tuple(fc.integer({ min: 0, max: shape.length }), fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }))
      .map(([drop, ones]) => shape.map((d, i) => (ones[i] ? 1 : d)).slice(drop));
  return shapeArb(opts)
    .chain((shape) => fc.tuple(side(shape), side(shape)))
    .filter(([a, b]) => {
      try {
        broadcastShapes('broadcastShapesArb', a, b);
        return true;
      } catch {
        return false;
      }
    });
}

export interface ValueOptions {
  /** default -2 */
  min?: number;
  /** default 2 */
  max?: number;
  /**
   * Points to keep away from (kinks such as 0 for relu and abs, poles such as 0 for 1/x): a value
   * closer than `gap` is pushed out to the nearer side of the gap (clamped back into [min, max]).
   */
  avoid?: readonly number[];
  /** default 1e-3 */
  gap?: number;
}

function pushAway(x: number, avoid: readonly number[], gap: number, min: number, max: number): number {
  for (const p of avoid) {
    if (Math.abs(x - p) < gap) {
      const out = x < p ? p - gap : p + gap;
      x = out < min || out > max ? (x < p ? p + gap : p - gap) : out;
    }
  }
  return x;
}

/**
 * Row-major values for a tensor of `shape`, finite, in [min, max], away from `avoid`.
 *
 * @example
 * fc.assert(fc.property(valuesArb([2, 3], { avoid: [0] }), (v) => v.every((x) => x !== 0)));
 */
export function valuesArb(shape: readonly number[], opts: ValueOptions = {}): fc.Arbitrary<number[]> {
  const { min = -2, max = 2, avoid = [], gap = 1e-3 } = opts;
  const n = sizeOf(shape);
  return fc
    .array(fc.double({ min, max, noNaN: true, noDefaultInfinity: true }), { minLength: n, maxLength: n })
    .map((vs) => vs.map((x) => pushAway(x, avoid, gap, min, max)));
}

export interface TensorArbOptions extends ValueOptions {
  /** default 'float64' (what gradcheck needs) */
  dtype?: 'float32' | 'float64';
  requiresGrad?: boolean;
}

/**
 * CPU tensors of a shape (or of shapes drawn from an arbitrary) with values from valuesArb.
 * Each generated value is a new tensor; tensors that fast-check drops are freed by the GC.
 *
 * @example
 * fc.assert(gradcheckProperty([tensorArb([2, 3])], (x) => x.sigmoid()));
 */
export function tensorArb(shape: readonly number[] | fc.Arbitrary<number[]>, opts: TensorArbOptions = {}): fc.Arbitrary<Tensor> {
  const { dtype = 'float64', requiresGrad = false } = opts;
  const shapes = Array.isArray(shape) ? fc.constant([...(shape as readonly number[])]) : (shape as fc.Arbitrary<number[]>);
  return shapes.chain((s) => valuesArb(s, opts).map((v) => tensor(v, { shape: s, dtype, requiresGrad })));
}

/**
 * A fast-check property that runs gradcheck on `fn` for inputs drawn from `arbs`, and fails with
 * the worst element when a gradient is wrong. Use it with `fc.assert`:
 *
 * @example
 * // fixed shapes
 * fc.assert(gradcheckProperty([tensorArb([2, 3]), tensorArb([3])], (x, y) => x.mul(y).tanh()), { numRuns: 50 });
 * // random broadcast-compatible shapes
 * const pair = broadcastShapesArb().chain(([a, b]) => fc.tuple(tensorArb(a), tensorArb(b)));
 * fc.assert(gradcheckProperty(pair, (x, y) => x.mul(y).tanh()), { numRuns: 50 });
 */
export function gradcheckProperty(
  arbs: readonly fc.Arbitrary<Tensor>[] | fc.Arbitrary<Tensor[]>,
  fn: (...inputs: Tensor[]) => Tensor,
  opts: GradcheckOptions = {},
): fc.IProperty<[Tensor[]]> {
  const inputs = Array.isArray(arbs) ? fc.tuple(...(arbs as fc.Arbitrary<Tensor>[])) : (arbs as fc.Arbitrary<Tensor[]>);
  return fc.property(inputs, (xs) => {
    const r = gradcheck(fn, xs, opts);
    if (!r.ok) {
      throw new Error(`${describeGradcheck(r)} (input shapes ${xs.map((x) => fmtShape(x.shape)).join(', ')})`);
    }
  });
}
