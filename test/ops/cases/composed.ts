// Composed frontend ops (src/graph/functional.ts): no VJP of their own, so these check the
// composition end to end. Domains: clamp and leakyRelu stay 1e-3 away from their kinks.
import fc from 'fast-check';
import * as F from '../../../src';
import { shapeArb } from '../../../src/testing';
import { input, unaryDraw } from '../../helpers/gen';
import { opCase, type CaseTable } from '../../helpers/optable';
import { map, reduce, zip, type Ref } from '../../helpers/reference';

const axisOf = (x: Ref, a: number) => (a < 0 ? a + x.shape.length : a);

/** log Σ exp along axis (keeping it), computed the naive way: fine for values in [-2, 2]. */
function refLse(x: Ref, axis: number): Ref {
  const s = reduce(map(x, Math.exp), [axis], true, 0, (p, v) => p + v);
  return map(s, Math.log);
}

const squeezeAxis = (x: Ref, axis: number): Ref => ({ shape: x.shape.filter((_, i) => i !== axis), data: x.data });

/** a random shape of rank ≥ 1 and an axis of it (maybe negative) */
const withAxis = shapeArb({ minRank: 1 }).chain((s) =>
  fc.tuple(input(s), fc.integer({ min: -s.length, max: s.length - 1 }), fc.boolean()).map(([x, axis, keepDims]) => ({
    inputs: [x],
    args: { axis, keepDims },
  })),
);

interface ClampArgs {
  lo: number | undefined;
  hi: number | undefined;
}
const clampDraw = fc
  .tuple(fc.option(fc.double({ min: -1, max: 0, noNaN: true }), { nil: undefined }), fc.option(fc.double({ min: 0.25, max: 1, noNaN: true }), { nil: undefined }))
  .chain(([lo, hi]) =>
    shapeArb().chain((s) =>
      input(s, { avoid: [lo, hi].filter((v): v is number => v !== undefined) }).map((x) => ({ inputs: [x], args: { lo, hi } as ClampArgs })),
    ),
  );

export const composedCases: CaseTable = {
  square: opCase({ gen: unaryDraw(), fn: ([x]) => F.square(x!), ref: ([x]) => map(x!, (v) => v * v) }),
  softplus: opCase({ gen: unaryDraw({ min: -6, max: 6 }), fn: ([x]) => F.softplus(x!), ref: ([x]) => map(x!, (v) => Math.log1p(Math.exp(v))) }),
  leakyRelu: opCase({
    gen: unaryDraw({ avoid: [0] }).chain((d) => fc.double({ min: 0, max: 0.5, noNaN: true }).map((slope) => ({ ...d, args: slope }))),
    fn: ([x], slope) => F.leakyRelu(x!, slope),
    ref: ([x], slope) => map(x!, (v) => (v > 0 ? v : v * slope)),
  }),
  clamp: opCase({
    gen: clampDraw,
    fn: ([x], { lo, hi }) => F.clamp(x!, lo, hi),
    ref: ([x], { lo, hi }) => map(x!, (v) => Math.min(hi ?? Infinity, Math.max(lo ?? -Infinity, v))),
  }),
  softmax: opCase({
    gen: withAxis,
    fn: ([x], { axis }) => F.softmax(x!, axis),
    ref: ([x], { axis }) => {
      const a = axisOf(x!, axis);
      const e = map(x!, Math.exp);
      return zip((p, q) => p / q, e, reduce(e, [a], true, 0, (p, v) => p + v));
    },
  }),
  logSoftmax: opCase({
    gen: withAxis,
    fn: ([x], { axis }) => F.logSoftmax(x!, axis),
    ref: ([x], { axis }) => zip((p, q) => p - q, x!, refLse(x!, axisOf(x!, axis))),
  }),
  logSumExp: opCase({
    gen: withAxis,
    fn: ([x], { axis, keepDims }) => F.logSumExp(x!, axis, keepDims),
    ref: ([x], { axis, keepDims }) => {
      const s = refLse(x!, axisOf(x!, axis));
      return keepDims ? s : squeezeAxis(s, axisOf(x!, axis));
    },
  }),
};
