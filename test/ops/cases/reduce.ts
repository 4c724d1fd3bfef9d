// Reductions (src/ops/reduce.ts) and mean: random axis arguments (none = all, one axis, a list,
// possibly empty, possibly negative, possibly non-adjacent) with and without keepDims. max/min
// draw distinct values and skip the broadcast layout (it repeats values): no ties in random cases.
import fc from 'fast-check';
import * as F from '../../../src';
import type { Axis, Tensor } from '../../../src';
import { shapeArb } from '../../../src/testing';
import { axisArb, distinctInputs, input, normAxes } from '../../helpers/gen';
import { opCase, type CaseTable, type Input } from '../../helpers/optable';
import { reduce, type Ref } from '../../helpers/reference';

interface Args {
  axis: number | number[] | undefined;
  keepDims: boolean;
}

const draw = (values: (shape: number[]) => fc.Arbitrary<Input>) =>
  shapeArb().chain((s) =>
    fc.tuple(values(s), axisArb(s.length), fc.boolean()).map(([x, axis, keepDims]) => ({ inputs: [x], args: { axis, keepDims } })),
  );

const reduction = (
  fn: (x: Tensor, axis?: Axis, keepDims?: boolean) => Tensor,
  ref: (x: Ref, axes: number[], keepDims: boolean) => Ref,
  distinct: boolean,
) =>
  opCase<Args>({
    gen: draw(distinct ? (s) => distinctInputs([s]).map(([x]) => x!) : (s) => input(s)),
    fn: ([x], { axis, keepDims }) => fn(x!, axis, keepDims),
    ref: ([x], { axis, keepDims }) => ref(x!, normAxes(axis, x!.shape.length), keepDims),
    ...(distinct ? { layouts: ['contiguous', 'permuted', 'sliced'] as const } : {}),
  });

export const reduceCases: CaseTable = {
  sum: reduction(F.sum, (x, axes, k) => reduce(x, axes, k, 0, (a, v) => a + v), false),
  max: reduction(F.max, (x, axes, k) => reduce(x, axes, k, -Infinity, Math.max), true),
  min: reduction(F.min, (x, axes, k) => reduce(x, axes, k, Infinity, Math.min), true),
  mean: reduction(
    F.mean,
    (x, axes, k) => {
      const n = axes.reduce((p, a) => p * x.shape[a]!, 1);
      const s = reduce(x, axes, k, 0, (a, v) => a + v);
      return { shape: s.shape, data: s.data.map((v) => v / n) };
    },
    false,
  ),
};
