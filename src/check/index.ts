// Gradient checking: the backward gradient of every input against central finite differences in
// float64, and fast-check arbitraries (shapes, broadcast pairs, tensors) to run it as a property.
//
// A non-scalar output is reduced with a fixed random cotangent v, so one backward pass gives
// vᵀJ for every input at once and the finite differences only ever see the scalar <v, f(x)>
// (JAX's check_vjp idea): d<v, f(x)>/dxᵢ = (vᵀJ)ᵢ ≈ (<v, f(x + ε eᵢ)> − <v, f(x − ε eᵢ)>) / 2ε.
import fc from 'fast-check';
import { sizeOf } from '../backends/backend';
import { tensor } from '../graph/creation';
import { enableGrad, noGrad, tidy } from '../graph/engine';
import { makeRandom } from '../graph/random';
import { Tensor } from '../graph/tensor';
import { broadcastShapes, fmtShape } from '../ops/registry';

export interface GradcheckOptions {
  /** finite-difference step (default 1e-6) */
  eps?: number;
  /** absolute tolerance (default 1e-5) */
  atol?: number;
  /** relative tolerance, against the numeric value (default 1e-3) */
  rtol?: number;
  /** which inputs to check, by position (default: all); the others are held constant */
  wrt?: readonly number[];
  /** seed of the random cotangent (weights ±[0.5, 1.5)) that reduces a non-scalar output (default 0) */
  seed?: number;
}

export interface GradcheckResult {
  /** every checked element satisfies |analytic − numeric| ≤ atol + rtol·|numeric| */
  ok: boolean;
  maxAbsError: number;
  /** max of |analytic − numeric| / max(|analytic|, |numeric|) over elements where either is non-zero */
  maxRelError: number;
  /** the element closest to (or furthest past) its tolerance; null when no input has elements */
  worst: { input: number; index: number; analytic: number; numeric: number } | null;
}

function checkInput(t: unknown, i: number): Tensor {
  if (!(t instanceof Tensor)) throw new Error(`gradcheck: input ${i} is not a Tensor`);
  if (t.dtype !== 'float64' || t.device !== 'cpu') {
    throw new Error(
      `gradcheck: input ${i} (shape ${fmtShape(t.shape)}) is ${t.dtype} on ${t.device}; finite differences need float64 on the cpu`,
    );
  }
  return t;
}

/**
 * Compare the gradient that backward() computes for each input of `fn` with central finite
 * differences, in float64 on the CPU.
 *
 * `fn` receives fresh leaf copies of `inputs` (the originals are not touched) and returns a
 * tensor. A non-scalar output is reduced to <v, fn(...)> with a fixed random cotangent v, so
 * the check covers the whole vector-Jacobian product with one backward pass.
 *
 * @example
 * const x = tensor([0.5, 1.5], { dtype: 'float64' });
 * const r = gradcheck((x) => x.tanh().mul(x), [x]);
 * if (!r.ok) console.log(r.worst);
 */
export function gradcheck(
  fn: (...inputs: Tensor[]) => Tensor,
  inputs: readonly Tensor[],
  opts: GradcheckOptions = {},
): GradcheckResult {
  const { eps = 1e-6, atol = 1e-5, rtol = 1e-3, seed = 0 } = opts;
  const xs = inputs.map(checkInput);
  const wrt = opts.wrt ?? xs.map((_, i) => i);
  for (const i of wrt) {
    if (!Number.isInteger(i) || i < 0 || i >= xs.length) throw new Error(`gradcheck: wrt index ${i} is out of range for ${xs.length} inputs`);
  }
  const values = xs.map((x) => Float64Array.from(x.dataSync()));
  const make = (i: number, v: Float64Array, requiresGrad: boolean) =>
    tensor(v, { shape: xs[i]!.shape, dtype: 'float64', requiresGrad });

  return tidy(() => {
    // analytic: one backward pass of <v, f(x)>
    const leaves = xs.map((_, i) => make(i, values[i]!, wrt.includes(i)));
    let cotangent: Float64Array = new Float64Array(0);
    const analytic = enableGrad(() => {
      const out = fn(...leaves);
      if (!(out instanceof Tensor)) throw new Error('gradcheck: fn must return a Tensor');
      const rand = makeRandom(seed);
      // a scalar output is checked as is; otherwise each element's weight is ±[0.5, 1.5), never
      // near 0, so no output element's error can hide behind a tiny weight
      cotangent =
        out.size === 1
          ? Float64Array.of(1)
          : Float64Array.from({ length: out.size }, () => (rand() < 0.5 ? -1 : 1) * (0.5 + rand()));
      if (out.requiresGrad) out.backward(tensor(cotangent, { shape: out.shape, dtype: out.dtype }));
      return wrt.map((i) => (leaves[i]!.grad ? Float64Array.from(leaves[i]!.grad!.dataSync()) : new Float64Array(values[i]!.length)));
    });

    // numeric: central differences of the same scalar, one element at a time
    const scalar = (i: number, v: Float64Array): number =>
      tidy(() =>
        noGrad(() => {
          const out = fn(...xs.map((_, j) => (j === i ? make(j, v, false) : make(j, values[j]!, false))));
          const y = out.dataSync();
          let s = 0;
          for (let k = 0; k < y.length; k++) s += cotangent[k]! * y[k]!;
          return s;
        }),
      );

    const result: GradcheckResult = { ok: true, maxAbsError: 0, maxRelError: 0, worst: null };
    let worstRatio = -1;
    wrt.forEach((i, w) => {
      const v = Float64Array.from(values[i]!);
      for (let k = 0; k < v.length; k++) {
        const x0 = v[k]!;
        v[k] = x0 + eps;
        const up = scalar(i, v);
        v[k] = x0 - eps;
        const down = scalar(i, v);
        v[k] = x0;
        const numeric = (up - down) / (2 * eps);
        const a = analytic[w]![k]!;
        const err = Math.abs(a - numeric);
        const scale = Math.max(Math.abs(a), Math.abs(numeric));
        // NaN anywhere fails the check (comparisons with NaN are false)
        const within = err <= atol + rtol * Math.abs(numeric);
        if (!within) result.ok = false;
        const ratio = Number.isNaN(err) ? Infinity : err / (atol + rtol * Math.abs(numeric));
        if (!(err <= result.maxAbsError)) result.maxAbsError = err;
        if (scale > 0 && !(err / scale <= result.maxRelError)) result.maxRelError = err / scale;
        if (ratio > worstRatio) {
          worstRatio = ratio;
          result.worst = { input: i, index: k, analytic: a, numeric };
        }
      }
    });
    return result;
  });
}

/** A one-paragraph account of a gradcheck result, for assertion messages. */
export function describeGradcheck(r: GradcheckResult): string {
  const w = r.worst;
  const at = w ? `; worst: input ${w.input} element ${w.index}: analytic ${w.analytic}, numeric ${w.numeric}` : '';
  return `gradcheck ${r.ok ? 'passed' : 'FAILED'}: max abs error ${r.maxAbsError}, max rel error ${r.maxRelError}${at}`;
}

// ---------------------------------------------------------------- arbitraries

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

/** Shapes of rank minRank..maxRank (default 0–4) with dims minDim..maxDim (default 1–3). */
export function shapeArb(opts: ShapeOptions = {}): fc.Arbitrary<number[]> {
  const { minRank = 0, maxRank = 4, minDim = 1, maxDim = 3 } = opts;
  return fc.array(fc.integer({ min: minDim, max: maxDim }), { minLength: minRank, maxLength: maxRank });
}

/**
 * Pairs of shapes that broadcast together (numpy rules): drawn from one shape, each side may
 * drop leading axes and turn dims into 1. The ranks may differ.
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

/** Row-major values for a tensor of `shape`, finite, in [min, max], away from `avoid`. */
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
