// Movement primitives (src/ops/movement.ts) and the frontend ops built on them. Arguments are
// drawn for the drawn shape: reshape targets of the same size (with -1 sometimes), permutations,
// expand targets, slice windows (negative and missing indices too), pad widths, concat/stack axes.
import fc from 'fast-check';
import * as F from '../../../src';
import { shapeArb } from '../../../src/testing';
import { input } from '../../helpers/gen';
import { opCase, type CaseTable, type Draw } from '../../helpers/optable';
import { concat, expand, pad, permute, reshape, slice, size, type Ref } from '../../helpers/reference';

const one = <A>(args: (s: number[]) => fc.Arbitrary<A>, minRank = 0): fc.Arbitrary<Draw<A>> =>
  shapeArb({ minRank }).chain((s) => fc.tuple(input(s), args(s)).map(([x, a]) => ({ inputs: [x], args: a })));

const permArb = (r: number) => fc.shuffledSubarray([...Array(r).keys()], { minLength: r, maxLength: r });
const swapAxes = (r: number, i: number, j: number) => {
  const p = [...Array(r).keys()];
  const [a, b] = [i < 0 ? i + r : i, j < 0 ? j + r : j];
  [p[a], p[b]] = [p[b]!, p[a]!];
  return p;
};

/** Reshape targets of the same size: flat, reversed dims, a 1 inserted, the first two merged; maybe one -1. */
function reshapeTarget(s: number[]): fc.Arbitrary<number[]> {
  const n = size(s);
  const cands: number[][] = [[n], [...s].reverse(), [...s, 1], [1, ...s]];
  if (s.length >= 2) cands.push([s[0]! * s[1]!, ...s.slice(2)]);
  return fc.tuple(fc.constantFrom(...cands), fc.nat({ max: 7 })).map(([t, k]) => {
    // one dim becomes -1 (inferred) when it is non-zero sized
    if (k < t.length && n > 0) return t.map((d, i) => (i === k ? -1 : d));
    return t;
  });
}

/** Expand targets: size-1 dims grow to 1..3, up to two new leading dims, and -1 keeps a dim. */
function expandTarget(s: number[]): fc.Arbitrary<number[]> {
  return fc
    .tuple(
      fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
      fc.array(fc.integer({ min: 1, max: 3 }), { minLength: s.length, maxLength: s.length }),
      fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }),
    )
    .map(([lead, grow, keep]) => [...lead, ...s.map((d, i) => (d === 1 ? grow[i]! : keep[i] ? -1 : d))]);
}

const fixExpand = (s: number[], target: number[]) => target.map((d, i) => (d === -1 ? s[i - (target.length - s.length)]! : d));

interface SliceArgs {
  begin: number[];
  end: (number | undefined)[] | undefined;
}

/** A window per axis; begin may be negative, end undefined (to the end), trailing axes omitted. */
function sliceArgs(s: number[]): fc.Arbitrary<SliceArgs> {
  return fc
    .tuple(
      fc.tuple(...s.map((d) => fc.tuple(fc.integer({ min: 0, max: d }), fc.integer({ min: 0, max: d }), fc.nat({ max: 3 })))),
      fc.integer({ min: 0, max: s.length }),
      fc.boolean(),
    )
    .map(([wins, keepAxes, withEnd]) => {
      const bs: number[] = [];
      const es: (number | undefined)[] = [];
      wins.slice(0, keepAxes).forEach(([p, q, style], i) => {
        const [b, e] = [Math.min(p, q), Math.max(p, q)];
        const d = s[i]!;
        bs.push(style === 1 && b > 0 ? b - d : b);
        es.push(style === 2 ? (e === d ? undefined : e) : style === 3 && e > 0 && e < d ? e - d : e);
      });
      return { begin: bs, end: withEnd ? es : undefined };
    });
}

function refSlice(x: Ref, { begin, end }: SliceArgs): Ref {
  const fix = (v: number, d: number) => (v < 0 ? v + d : v);
  const b = x.shape.map((d, i) => (i < begin.length ? fix(begin[i]!, d) : 0));
  const e = x.shape.map((d, i) => (end && end[i] !== undefined ? fix(end[i]!, d) : d));
  return slice(x, b, e);
}

/** 2–3 tensors equal except along `axis` (negative sometimes). */
const concatDraw = (extra: 0 | 1) =>
  fc
    .tuple(shapeArb({ minRank: 1 - extra, maxRank: 4 - extra }), fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 2, maxLength: 3 }), fc.nat())
    .chain(([s, sizes, k]) => {
      const r = s.length + extra;
      const axis = (k % r) - (k % 2 === 0 ? 0 : r);
      const shapes = extra ? sizes.map(() => s) : sizes.map((n) => s.map((d, i) => (i === ((axis % r) + r) % r ? n : d)));
      return fc.tuple(...shapes.map((sh) => input(sh))).map((inputs) => ({ inputs, args: axis }));
    });

export const movementCases: CaseTable = {
  reshape: opCase({ gen: one(reshapeTarget), fn: ([x], t) => F.reshape(x!, t), ref: ([x], t) => reshape(x!, t.includes(-1) ? t.map((d) => (d === -1 ? size(x!.shape) / t.reduce((p, q) => (q === -1 ? p : p * q), 1) : d)) : t) }),
  flatten: opCase({ gen: one(() => fc.constant(null)), fn: ([x]) => F.flatten(x!), ref: ([x]) => reshape(x!, [size(x!.shape)]) }),
  permute: opCase({ gen: one((s) => permArb(s.length)), fn: ([x], p) => F.permute(x!, p), ref: ([x], p) => permute(x!, p) }),
  // transpose(x) reverses the axes; transpose(x, i, j) swaps two (negative allowed)
  transpose: opCase({
    gen: one((s) => (s.length === 0 ? fc.constant(null) : fc.option(fc.tuple(fc.integer({ min: -s.length, max: s.length - 1 }), fc.integer({ min: -s.length, max: s.length - 1 }))))),
    fn: ([x], ij) => (ij ? F.transpose(x!, ij[0], ij[1]) : F.transpose(x!)),
    ref: ([x], ij) => permute(x!, ij ? swapAxes(x!.shape.length, ij[0], ij[1]) : [...x!.shape.keys()].reverse()),
  }),
  expand: opCase({ gen: one(expandTarget), fn: ([x], t) => F.expand(x!, t), ref: ([x], t) => expand(x!, fixExpand(x!.shape, t)) }),
  broadcastTo: opCase({
    gen: one((s) => expandTarget(s).map((t) => fixExpand(s, t))),
    fn: ([x], t) => F.broadcastTo(x!, t),
    ref: ([x], t) => expand(x!, t),
  }),
  // squeeze(x) drops every size-1 axis; squeeze(x, axes) only those listed (all of size 1)
  squeeze: opCase({
    gen: one((s) => {
      const ones = s.flatMap((d, i) => (d === 1 ? [i] : []));
      return fc.option(fc.subarray(ones), { nil: undefined });
    }),
    fn: ([x], axes) => F.squeeze(x!, axes),
    ref: ([x], axes) => reshape(x!, x!.shape.filter((d, i) => (axes ? !axes.includes(i) : d !== 1))),
  }),
  unsqueeze: opCase({
    gen: one((s) => fc.integer({ min: -s.length - 1, max: s.length })),
    fn: ([x], a) => F.unsqueeze(x!, a),
    ref: ([x], a) => {
      const sh = [...x!.shape];
      sh.splice(a < 0 ? a + sh.length + 1 : a, 0, 1);
      return reshape(x!, sh);
    },
  }),
  slice: opCase({ gen: one(sliceArgs), fn: ([x], a) => F.slice(x!, a.begin, a.end), ref: ([x], a) => refSlice(x!, a) }),
  pad: opCase({
    gen: one((s) => fc.tuple(...s.map(() => fc.tuple(fc.nat({ max: 2 }), fc.nat({ max: 2 }))))),
    fn: ([x], w) => F.pad(x!, w),
    ref: ([x], w) => pad(x!, w.map((p) => p[0]), w.map((p) => p[1])),
  }),
  concat: opCase({ gen: concatDraw(0), fn: (xs, axis) => F.concat(xs, axis), ref: (xs, axis) => concat(xs, axis < 0 ? axis + xs[0]!.shape.length : axis) }),
  stack: opCase({
    gen: concatDraw(1),
    fn: (xs, axis) => F.stack(xs, axis),
    ref: (xs, axis) => {
      const r = xs[0]!.shape.length + 1;
      const a = axis < 0 ? axis + r : axis;
      return concat(
        xs.map((x) => reshape(x, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)])),
        a,
      );
    },
  }),
};
