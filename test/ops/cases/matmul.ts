// matmul (src/ops/matmul.ts and numpy's 1-D rules in the frontend), and dot, its alias:
// m, k, n in 1..4, batch dims drawn as a broadcast pair of rank 0–2, and 1-D operands.
import fc from 'fast-check';
import * as F from '../../../src';
import type { Tensor } from '../../../src';
import { broadcastShapesArb } from '../../../src/testing';
import { input } from '../../helpers/gen';
import { opCase, type CaseTable } from '../../helpers/optable';
import { matmul, ref, zip } from '../../helpers/reference';

const dim = fc.integer({ min: 1, max: 4 });
const draw = fc
  .tuple(dim, dim, dim, broadcastShapesArb({ maxRank: 2 }), fc.nat({ max: 5 }))
  .chain(([m, k, n, [ba, bb], v]) => {
    // v: 0–2 both matrices (most cases), 3: a is a vector, 4: b is a vector, 5: both
    const sa = v === 3 || v === 5 ? [k] : [...ba, m, k];
    const sb = v === 4 || v === 5 ? [k] : [...bb, k, n];
    return fc.tuple(input(sa), input(sb)).map((inputs) => ({ inputs, args: undefined }));
  });

const mm = (fn: (a: Tensor, b: Tensor) => Tensor) =>
  opCase({ gen: draw, fn: ([a, b]) => fn(a!, b!), ref: ([a, b]) => matmul(a!, b!) });

// linear(x, W, b): x [..., m, k] (batch dims of rank 0–2) or a vector [k], W [k, n], b [n];
// checked against the composition's reference, x @ W + b
const linearDraw = fc
  .tuple(dim, dim, dim, fc.array(dim, { maxLength: 2 }), fc.boolean())
  .chain(([m, k, n, batch, vector]) =>
    fc.tuple(input(vector ? [k] : [...batch, m, k]), input([k, n]), input([n])).map((inputs) => ({ inputs, args: undefined })),
  );

// mse(p, t): two inputs of one shape (rank 0–3)
const mseDraw = fc
  .array(dim, { maxLength: 3 })
  .chain((shape) => fc.tuple(input(shape), input(shape)).map((inputs) => ({ inputs, args: undefined })));

export const matmulCases: CaseTable = {
  matmul: mm(F.matmul),
  dot: mm(F.dot),
  linear: opCase({
    gen: linearDraw,
    fn: ([x, w, b]) => F.linear(x!, w!, b!),
    ref: ([x, w, b]) => zip((u, v) => u + v, matmul(x!, w!), b!),
  }),
  mse: opCase({
    gen: mseDraw,
    fn: ([p, t]) => F.mse(p!, t!),
    ref: ([p, t]) => {
      const d = zip((u, v) => (u - v) * (u - v), p!, t!);
      return ref([], [d.data.reduce((s, v) => s + v, 0) / d.data.length]);
    },
  }),
};
