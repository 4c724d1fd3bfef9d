// Indexing ops (src/ops/indexing.ts and the compositions in graph/functional): gather and its
// transpose scatterAdd, indexSelect, argmax/argmin, oneHot. The op tables hand every input in as
// float64 (in a random memory layout); index inputs are drawn as integers in range, held constant
// by the gradient check, and cast to int32 inside the op under test. Repeated indices are common
// (small axes), so scatterAdd's accumulation and gather's summed gradient are exercised.
import fc from 'fast-check';
import * as F from '../../../src';
import { type Tensor } from '../../../src';
import { shapeArb } from '../../../src/testing';
import { input, intInput } from '../../helpers/gen';
import { opCase, type CaseTable, type Input } from '../../helpers/optable';
import { ravel, ref, size, unravel, type Ref } from '../../helpers/reference';

const int = (t: Tensor) => t.cast('int32');
const constant = (x: Input): Input => ({ ...x, constant: true });

/** An index shape for an x of shape s along axis: no longer than s elsewhere, any length on the axis. */
const indexShape = (s: number[], axis: number): fc.Arbitrary<number[]> =>
  fc.tuple(...s.map((d, i) => (i === axis ? fc.integer({ min: 0, max: 4 }) : fc.integer({ min: 0, max: d }))));

/** Index values in [0, s[axis]) (none when that axis is empty). */
const indexValues = (shape: number[], n: number) => (n === 0 ? intInput(shape.map(() => 0), 0, 0) : intInput(shape, 0, n - 1));

interface AxisArgs {
  axis: number;
}

/** x of rank ≥ 1, an axis (maybe negative), and an index that fits (values in range). */
const gatherDraw = shapeArb({ minRank: 1 }).chain((s) =>
  fc.integer({ min: -s.length, max: s.length - 1 }).chain((axisArg) => {
    const axis = axisArg < 0 ? axisArg + s.length : axisArg;
    return indexShape(s, axis).chain((is) =>
      fc.tuple(input(s), indexValues(is, s[axis]!)).map(([x, index]) => ({ inputs: [x, constant(index)], args: { axis: axisArg } })),
    );
  }),
);

function gatherRef(x: Ref, index: Ref, axisArg: number): Ref {
  const axis = axisArg < 0 ? axisArg + x.shape.length : axisArg;
  return ref(index.shape, index.data.map((j, k) => {
    const at = unravel(k, index.shape);
    at[axis] = j;
    return x.data[ravel(at, x.shape)]!;
  }));
}

interface ScatterArgs {
  axis: number;
  shape: number[];
}

/** values and index of one shape fitting `shape` on the other axes; index values in range. */
const scatterDraw = shapeArb({ minRank: 1 }).chain((s) =>
  fc.integer({ min: 0, max: s.length - 1 }).chain((axis) =>
    indexShape(s, axis).chain((is) =>
      fc.tuple(input(is), indexValues(is, s[axis]!)).map(([g, index]) => ({ inputs: [g, constant(index)], args: { axis, shape: s } })),
    ),
  ),
);

function scatterRef(g: Ref, index: Ref, axis: number, shape: number[]): Ref {
  const out = new Array<number>(size(shape)).fill(0);
  index.data.forEach((j, k) => {
    const at = unravel(k, index.shape);
    at[axis] = j;
    out[ravel(at, shape)]! += g.data[k]!;
  });
  return ref(shape, out);
}

const selectDraw = shapeArb({ minRank: 1 }).chain((s) =>
  fc.integer({ min: -s.length, max: s.length - 1 }).chain((axisArg) => {
    const axis = axisArg < 0 ? axisArg + s.length : axisArg;
    const k = s[axis] === 0 ? fc.constant(0) : fc.integer({ min: 0, max: 5 });
    return k.chain((n) =>
      fc.tuple(input(s), indexValues([n], s[axis]!)).map(([x, index]) => ({ inputs: [x, constant(index)], args: { axis: axisArg } })),
    );
  }),
);

function selectRef(x: Ref, index: Ref, axisArg: number): Ref {
  const axis = axisArg < 0 ? axisArg + x.shape.length : axisArg;
  const shape = x.shape.map((d, i) => (i === axis ? index.data.length : d));
  return ref(shape, Array.from({ length: size(shape) }, (_, k) => {
    const at = unravel(k, shape);
    at[axis] = index.data[at[axis]!]!;
    return x.data[ravel(at, x.shape)]!;
  }));
}

interface ArgArgs {
  axis: number | undefined;
  keepDims: boolean;
}

/** Values from a few integers (ties are common, and the first position must win), sometimes NaN. */
const argDraw = shapeArb({ minRank: 0 }).chain((s) =>
  fc
    .tuple(
      fc.array(fc.oneof({ arbitrary: fc.integer({ min: -3, max: 3 }), weight: 8 }, { arbitrary: fc.constant(NaN), weight: 1 }), {
        minLength: size(s),
        maxLength: size(s),
      }),
      s.length === 0 ? fc.constant(undefined) : fc.option(fc.integer({ min: -s.length, max: s.length - 1 }), { nil: undefined }),
      fc.boolean(),
    )
    .filter(([, axis]) => (axis === undefined ? size(s) > 0 : s[axis < 0 ? axis + s.length : axis]! > 0))
    .map(([values, axis, keepDims]) => ({ inputs: [{ shape: s, values }], args: { axis, keepDims } })),
);

/** The first position of the extremum along axis; the first NaN wins (NumPy, PyTorch). */
function argRef(better: (v: number, m: number) => boolean) {
  return (x: Ref, axisArg: number | undefined, keepDims: boolean): Ref => {
    const flat = axisArg === undefined;
    const shape = flat ? [size(x.shape)] : x.shape;
    const axis = flat ? 0 : axisArg < 0 ? axisArg + shape.length : axisArg;
    const kept = shape.map((d, i) => (i === axis ? 1 : d));
    const data = Array.from({ length: size(kept) }, (_, k) => {
      const at = unravel(k, kept);
      let best = 0;
      let m = NaN;
      for (let j = 0; j < shape[axis]!; j++) {
        at[axis] = j;
        const v = x.data[ravel(at, shape)]!;
        if (j === 0) m = v;
        if (Number.isNaN(m)) break;
        if (Number.isNaN(v)) {
          best = j;
          break;
        }
        if (better(v, m)) [m, best] = [v, j];
      }
      return best;
    });
    const outShape = flat ? (keepDims ? x.shape.map(() => 1) : []) : keepDims ? kept : shape.filter((_, i) => i !== axis);
    return ref(outShape, data);
  };
}

const argCase = (fn: typeof F.argmax, better: (v: number, m: number) => boolean) =>
  opCase<ArgArgs>({
    gen: argDraw,
    fn: ([x], { axis, keepDims }) => fn(x!, axis, keepDims),
    ref: ([x], { axis, keepDims }) => argRef(better)(x!, axis, keepDims),
    grad: false,
  });

interface OneHotArgs {
  n: number;
}

const oneHotDraw = fc.tuple(shapeArb({ maxRank: 3 }), fc.integer({ min: 1, max: 5 })).chain(([s, n]) =>
  intInput(s, 0, n - 1).map((index) => ({ inputs: [index], args: { n } })),
);

export const indexingCases: CaseTable = {
  gather: opCase<AxisArgs>({
    gen: gatherDraw,
    fn: ([x, index], { axis }) => F.gather(x!, axis, int(index!)),
    ref: ([x, index], { axis }) => gatherRef(x!, index!, axis),
  }),
  scatterAdd: opCase<ScatterArgs>({
    gen: scatterDraw,
    fn: ([g, index], { axis, shape }) => F.scatterAdd(g!, int(index!), axis, shape),
    ref: ([g, index], { axis, shape }) => scatterRef(g!, index!, axis, shape),
    // float32 sums of a few values in another order than the reference's: within 1e-5
  }),
  indexSelect: opCase<AxisArgs>({
    gen: selectDraw,
    fn: ([x, index], { axis }) => F.indexSelect(x!, axis, int(index!)),
    ref: ([x, index], { axis }) => selectRef(x!, index!, axis),
  }),
  argmax: argCase(F.argmax, (v, m) => v > m),
  argmin: argCase(F.argmin, (v, m) => v < m),
  oneHot: opCase<OneHotArgs>({
    gen: oneHotDraw,
    fn: ([index], { n }) => F.oneHot(int(index!), n, { dtype: 'float64' }),
    ref: ([index], { n }) =>
      ref([...index!.shape, n], Array.from({ length: size(index!.shape) * n }, (_, k) => +(index!.data[Math.floor(k / n)] === k % n))),
    grad: false,
  }),
};
