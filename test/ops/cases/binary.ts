// Binary elementwise primitives (src/ops/binary.ts) and where, over broadcast-compatible shape
// pairs (ranks 0–4, size-1 dims, different ranks). Domains: div keeps b 0.25 away from 0; pow has
// a positive base in [0.5, 2]; maximum/minimum draw distinct values (ties are kinks, tested
// separately). Comparisons draw small integers so ties are frequent; they carry no gradient.
import fc from 'fast-check';
import * as F from '../../../src';
import type { Tensor, TensorLike } from '../../../src';
import { broadcastShapesArb, type ValueOptions } from '../../../src/testing';
import { broadcastShapesN, distinctInputs, input, intInput } from '../../helpers/gen';
import { opCase, type CaseTable, type Draw, type Input, type OpCase } from '../../helpers/optable';
import { zip } from '../../helpers/reference';

type Bin = (a: Tensor, b: TensorLike) => Tensor;

const pairs = (make: (sa: number[], sb: number[]) => fc.Arbitrary<Input[]>): fc.Arbitrary<Draw<undefined>> =>
  broadcastShapesArb().chain(([sa, sb]) => make(sa, sb).map((inputs) => ({ inputs, args: undefined })));

const binary = (fn: Bin, ref: (a: number, b: number) => number, a: ValueOptions = {}, b: ValueOptions = {}, extra: Partial<OpCase> = {}) =>
  opCase({
    gen: pairs((sa, sb) => fc.tuple(input(sa, a), input(sb, b))),
    fn: ([x, y]) => fn(x!, y!),
    ref: ([x, y]) => zip(ref, x!, y!),
    ...extra,
  });

const distinct = (fn: Bin, ref: (a: number, b: number) => number) =>
  opCase({ gen: pairs((sa, sb) => distinctInputs([sa, sb])), fn: ([x, y]) => fn(x!, y!), ref: ([x, y]) => zip(ref, x!, y!) });

const compare = (fn: Bin, ref: (a: number, b: number) => boolean) =>
  opCase({
    gen: pairs((sa, sb) => fc.tuple(intInput(sa), intInput(sb))),
    fn: ([x, y]) => fn(x!, y!),
    ref: ([x, y]) => zip((p, q) => (ref(p, q) ? 1 : 0), x!, y!),
    grad: false,
  });

export const binaryCases: CaseTable = {
  add: binary(F.add, (a, b) => a + b),
  sub: binary(F.sub, (a, b) => a - b),
  mul: binary(F.mul, (a, b) => a * b),
  div: binary(F.div, (a, b) => a / b, {}, { avoid: [0], gap: 0.25 }),
  pow: binary(F.pow, Math.pow, { min: 0.5, max: 2 }, { min: -2, max: 2 }),
  maximum: distinct(F.maximum, Math.max),
  minimum: distinct(F.minimum, Math.min),
  eq: compare(F.eq, (a, b) => a === b),
  ne: compare(F.ne, (a, b) => a !== b),
  lt: compare(F.lt, (a, b) => a < b),
  le: compare(F.le, (a, b) => a <= b),
  gt: compare(F.gt, (a, b) => a > b),
  ge: compare(F.ge, (a, b) => a >= b),
  // reluGrad(g, x): x away from the step at 0 and held constant (its gradient is zero almost everywhere)
  reluGrad: opCase({
    gen: pairs((sa, sb) => fc.tuple(input(sa), input(sb, { avoid: [0], gap: 0.25 }))).map((d) => ({
      ...d,
      inputs: [d.inputs[0]!, { ...d.inputs[1]!, constant: true }],
    })),
    fn: ([g, x]) => F.reluGrad(g!, x!),
    ref: ([g, x]) => zip((a, b) => (b > 0 ? a : 0), g!, x!),
  }),
  // where(c, a, b) over three broadcast shapes; c is 0/1 and held constant by the gradient check
  where: opCase({
    gen: broadcastShapesN(3).chain(([sc, sa, sb]) =>
      fc
        .tuple(intInput(sc!, 0, 1), input(sa!), input(sb!))
        .map(([c, a, b]) => ({ inputs: [{ ...c, constant: true }, a, b], args: undefined })),
    ),
    fn: ([c, a, b]) => F.where(c!, a!, b!),
    ref: ([c, a, b]) => zip((cv, av, bv) => (cv !== 0 ? av : bv), c!, a!, b!),
  }),
};
