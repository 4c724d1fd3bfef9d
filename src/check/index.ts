// Gradient checking: the backward gradient of every input against central finite differences in
// float64. The fast-check arbitraries that run it as a property live in ./arbitraries (the
// `tapegrad/testing` entry), so the main entry never loads fast-check.
//
// A non-scalar output is reduced with a fixed random cotangent v, so one backward pass gives
// vᵀJ for every input at once and the finite differences only ever see the scalar <v, f(x)>
// (JAX's check_vjp idea): d<v, f(x)>/dxᵢ = (vᵀJ)ᵢ ≈ (<v, f(x + ε eᵢ)> − <v, f(x − ε eᵢ)>) / 2ε.
import { sizeOf } from '../backends/backend';
import { tensor } from '../graph/creation';
import { enableGrad, noGrad, tidy } from '../graph/engine';
import { makeRandom } from '../graph/random';
import { isTensor, Tensor } from '../graph/tensor';
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
  if (!isTensor(t)) throw new Error(`gradcheck: input ${i} is not a Tensor`);
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
      if (!isTensor(out)) throw new Error('gradcheck: fn must return a Tensor');
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

/**
 * A one-paragraph account of a gradcheck result, for assertion messages.
 *
 * @example
 * const r = gradcheck((x) => x.tanh(), [tensor([0.5], { dtype: 'float64' })]);
 * if (!r.ok) throw new Error(describeGradcheck(r));
 */
export function describeGradcheck(r: GradcheckResult): string {
  const w = r.worst;
  const at = w ? `; worst: input ${w.input} element ${w.index}: analytic ${w.analytic}, numeric ${w.numeric}` : '';
  return `gradcheck ${r.ok ? 'passed' : 'FAILED'}: max abs error ${r.maxAbsError}, max rel error ${r.maxRelError}${at}`;
}
