// The one shared helper of the op tests: a table of cases keyed by op name, and the two checks
// run over every entry: the VJP against float64 central differences (src/check's gradcheck) and
// the float64 CPU forward values against the plain-JS reference (test/helpers/reference.ts).
//
// Every input is placed in a random memory layout before the op sees it: contiguous, a permuted
// view of a transposed buffer, a window sliced out of a padded buffer, or a broadcast (stride 0)
// view of a smaller buffer. The gradient is taken with respect to that underlying buffer, so the
// strided kernel paths and the engine's sum-back-to-shape run on both passes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeGradcheck, enableGrad, grad, gradcheck, tensor, tidy, type GradcheckOptions, type Tensor } from '../../src';
import { pad, permute, ref, size, slice, unravel, ravel, type Ref } from './reference';

/** One logical input: its shape and row-major values. */
export interface Input {
  shape: number[];
  values: number[];
  /** held constant by the gradient check (the condition of where, say) */
  constant?: boolean;
}

export interface Draw<A> {
  inputs: Input[];
  args: A;
}

export type Layout = 'contiguous' | 'permuted' | 'sliced' | 'expanded';
export const ALL_LAYOUTS: readonly Layout[] = ['contiguous', 'permuted', 'sliced', 'expanded'];

export interface OpCase<A = any> {
  /** logical inputs and extra arguments (axes, shapes, ...) */
  gen: fc.Arbitrary<Draw<A>>;
  /** the op under test, applied to tensors shaped like the logical inputs */
  fn: (xs: Tensor[], args: A) => Tensor;
  /** the same op over plain arrays */
  ref: (xs: Ref[], args: A) => Ref;
  /** false for ops with no gradient (comparisons, sign): the output must not require grad */
  grad?: boolean;
  /**
   * Layouts to try (default all). 'expanded' repeats values along an axis, so cases whose inputs
   * must hold distinct values (max/min reductions: no ties in random cases) leave it out.
   */
  layouts?: readonly Layout[];
  gradcheck?: GradcheckOptions;
  /** false to skip the second-order check (with the reason in a comment) */
  secondOrder?: boolean;
}

export type CaseTable = Record<string, OpCase>;

/** Identity helper that gives `args` its type inside a case. */
export const opCase = <A>(c: OpCase<A>): OpCase => c as OpCase;

/**
 * fast-check settings: a fixed seed by default (a stable CI); FC_SEED=<n> replays a seed,
 * FC_SEED=random explores, FC_RUNS=<k> multiplies the runs (for a long local hunt).
 */
export function fcParams(runs: number): fc.Parameters<unknown> {
  const numRuns = Math.max(1, Math.round(runs * Number(process.env.FC_RUNS ?? 1)));
  const env = process.env.FC_SEED;
  if (env === 'random') return { numRuns };
  return { numRuns, seed: env ? Number(env) : 20240611 };
}

// ---------------------------------------------------------------- layouts

interface Placed {
  /** the buffer the op reads from (and the gradient is taken against) */
  shape: number[];
  values: number[];
  /** turns the buffer into a tensor of the logical shape */
  view: (t: Tensor) => Tensor;
  /** the logical input as the op sees it (expanded layouts repeat values) */
  logical: Ref;
}

const JUNK = 1234.5; // fills the margins of sliced layouts: a kernel that reads them is caught by the reference

function place(x: Input, layout: Layout, seed: number): Placed {
  const r = x.shape.length;
  const logical = ref(x.shape, x.values);
  if (layout === 'permuted' && r >= 2) {
    // the buffer holds x transposed by perm; permuting by the inverse gives x back
    const perm = [...Array(r).keys()];
    if (seed % 2 === 0) perm.reverse();
    else [perm[seed % r], perm[(seed + 1) % r]] = [perm[(seed + 1) % r]!, perm[seed % r]!];
    const inv = new Array<number>(r);
    perm.forEach((p, k) => (inv[p] = k));
    const buf = permute(logical, perm);
    return { shape: buf.shape, values: buf.data, view: (t) => t.permute(inv), logical };
  }
  if (layout === 'sliced' && r >= 1) {
    const before = x.shape.map((_, i) => 1 + ((seed >> i) & 1));
    const after = x.shape.map(() => 1);
    const buf = pad(logical, before, after, JUNK);
    return { shape: buf.shape, values: buf.data, view: (t) => t.slice(before, before.map((b, i) => b + x.shape[i]!)), logical };
  }
  if (layout === 'expanded' && r >= 1 && size(x.shape) > 0) {
    // values are made constant along `axis`; the buffer has that axis as 1 (or drops it when leading)
    const axis = seed % r;
    const small = x.shape.map((d, i) => (i === axis ? 1 : d));
    const data = Array.from({ length: size(x.shape) }, (_, i) => {
      const idx = unravel(i, x.shape);
      idx[axis] = 0;
      return x.values[ravel(idx, x.shape)]!;
    });
    const buf = slice(ref(x.shape, data), small.map(() => 0), small);
    const dropLead = axis === 0 && seed % 4 < 2;
    const shape = dropLead ? small.slice(1) : small;
    return { shape, values: buf.data, view: (t) => t.expand(x.shape), logical: ref(x.shape, data) };
  }
  return { shape: [...x.shape], values: [...x.values], view: (t) => t, logical };
}

const layoutSeeds = fc.array(fc.nat({ max: 1023 }), { minLength: 4, maxLength: 4 });

function placeAll(c: OpCase, draw: Draw<unknown>, seeds: number[]): Placed[] {
  const layouts = c.layouts ?? ALL_LAYOUTS;
  return draw.inputs.map((x, i) => {
    const s = seeds[i % seeds.length]!;
    return place(x, layouts[s % layouts.length]!, s >> 2);
  });
}

// ---------------------------------------------------------------- the checks

const f64 = (p: Placed) => tensor(p.values, { shape: p.shape, dtype: 'float64' });

/** |got − want| ≤ rtol·max(|want|, 1); NaN matches NaN, ±Infinity must match exactly. */
export function expectClose(got: ArrayLike<number>, want: Ref, gotShape: readonly number[], rtol = 1e-12, what = ''): void {
  expect([...gotShape], `${what} shape`).toEqual(want.shape);
  expect(got.length, `${what} length`).toBe(want.data.length);
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!;
    const w = want.data[i]!;
    if (Number.isNaN(w) || !Number.isFinite(w)) {
      expect(g, `${what} element ${i}`).toBe(w);
      continue;
    }
    if (!(Math.abs(g - w) <= rtol * Math.max(Math.abs(w), 1))) {
      expect.fail(`${what} element ${i} of shape [${gotShape}]: got ${g}, reference ${w}`);
    }
  }
}

/** The VJP of `c` matches central differences (or, for grad: false, no gradient is recorded). */
export function checkVjp(name: string, c: OpCase, numRuns: number): void {
  fc.assert(
    fc.property(c.gen, layoutSeeds, (draw, seeds) => {
      const placed = placeAll(c, draw, seeds);
      const body = (...ts: Tensor[]) => c.fn(ts.map((t, i) => placed[i]!.view(t)), draw.args);
      if (c.grad === false) {
        tidy(() => {
          const xs = placed.map((p) => f64(p).requireGrad());
          const out = body(...xs);
          expect(out.requiresGrad, `${name} must not record a gradient`).toBe(false);
        });
        return;
      }
      const wrt = draw.inputs.flatMap((x, i) => (x.constant ? [] : [i]));
      const r = tidy(() => gradcheck(body, placed.map(f64), { ...c.gradcheck, wrt }));
      if (!r.ok) {
        const shapes = draw.inputs.map((x) => `[${x.shape}]`).join(', ');
        throw new Error(`${name}: ${describeGradcheck(r)}; logical shapes ${shapes}; args ${JSON.stringify(draw.args)}`);
      }
    }),
    fcParams(numRuns),
  );
}

/**
 * Second order: the VJP recorded with createGraph is itself differentiable, correctly. gradcheck
 * runs on x ↦ Σᵢ <wᵢ, ∂<v, f(x)>/∂xᵢ> (fixed random v, w), so every VJP's own VJP is compared
 * with finite differences of the first-order gradient.
 */
export function checkSecondOrder(name: string, c: OpCase, numRuns: number): void {
  fc.assert(
    fc.property(c.gen, layoutSeeds, (draw, seeds) => {
      const placed = placeAll(c, draw, seeds);
      const wrt = draw.inputs.flatMap((x, i) => (x.constant ? [] : [i]));
      const weights = (t: Tensor, salt: number) =>
        tensor(
          Array.from({ length: t.size }, (_, k) => Math.sin(1 + k * 1.7 + salt)),
          { shape: t.shape, dtype: 'float64' },
        );
      const firstOrder = (...leaves: Tensor[]) =>
        enableGrad(() => {
          // gradcheck's finite-difference passes hand in leaves without requiresGrad
          for (const i of wrt) leaves[i]!.requiresGrad = true;
          const out = c.fn(leaves.map((t, i) => placed[i]!.view(t)), draw.args);
          if (!out.requiresGrad) return out.sum().mul(0);
          const gs = grad(out.mul(weights(out, 0)).sum(), wrt.map((i) => leaves[i]!), { createGraph: true });
          return gs.reduce<Tensor>((acc, g, k) => (g ? acc.add(g.mul(weights(g, k + 1)).sum()) : acc), out.sum().mul(0));
        });
      const r = tidy(() => gradcheck(firstOrder, placed.map(f64), { ...c.gradcheck, wrt }));
      if (!r.ok) {
        const shapes = draw.inputs.map((x) => `[${x.shape}]`).join(', ');
        throw new Error(`${name} (second order): ${describeGradcheck(r)}; logical shapes ${shapes}; args ${JSON.stringify(draw.args)}`);
      }
    }),
    fcParams(numRuns),
  );
}

/**
 * CPU forward values of `c` match the plain-JS reference: float64 to 1e-12 relative; float32
 * (inputs rounded to float32 first, the reference still in float64) to 1e-5 relative, which
 * leaves room for float32 accumulation over the few dozen elements these shapes have.
 */
export function checkForward(name: string, c: OpCase, numRuns: number, dtype: 'float32' | 'float64' = 'float64'): void {
  const round = dtype === 'float32' ? Math.fround : (v: number) => v;
  fc.assert(
    fc.property(c.gen, layoutSeeds, (draw, seeds) => {
      const placed = placeAll(c, draw, seeds);
      const want = c.ref(
        placed.map((p) => ({ shape: p.logical.shape, data: p.logical.data.map(round) })),
        draw.args,
      );
      tidy(() => {
        const xs = placed.map((p) => p.view(tensor(p.values.map(round), { shape: p.shape, dtype })));
        const out = c.fn(xs, draw.args);
        expectClose(out.dataSync(), want, out.shape, dtype === 'float32' ? 1e-5 : 1e-12, `${name} (${dtype})`);
      });
    }),
    fcParams(numRuns),
  );
}

/**
 * Register the checks for every entry of a family's table. `runs`: fast-check runs per op and
 * per check (each run draws new shapes, values, arguments and layouts).
 */
export function describeOpTable(
  family: string,
  table: CaseTable,
  runs: { vjp: number; forward: number; float32: number; secondOrder: number },
): void {
  describe(`${family} ops`, () => {
    for (const [name, c] of Object.entries(table)) {
      it(`${name}: ${c.grad === false ? 'records no gradient' : 'VJP matches float64 central differences'}`, () =>
        checkVjp(name, c, runs.vjp));
      it(`${name}: float64 forward matches the JS reference`, () => checkForward(name, c, runs.forward));
      it(`${name}: float32 forward matches the JS reference`, () => checkForward(name, c, runs.float32, 'float32'));
      if (c.grad !== false && c.secondOrder !== false) {
        it(`${name}: VJP of the VJP (createGraph) matches central differences`, () => checkSecondOrder(name, c, runs.secondOrder));
      }
    }
  });
}
