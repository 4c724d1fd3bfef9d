// matmul (src/ops/matmul.ts and numpy's 1-D rules in the frontend), and dot, its alias:
// m, k, n in 1..4, batch dims drawn as a broadcast pair of rank 0–2, and 1-D operands.
import fc from 'fast-check';
import * as F from '../../../src';
import { broadcastShapesArb, type Tensor } from '../../../src';
import { input } from '../../helpers/gen';
import { opCase, type CaseTable } from '../../helpers/optable';
import { matmul } from '../../helpers/reference';

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

export const matmulCases: CaseTable = {
  matmul: mm(F.matmul),
  dot: mm(F.dot),
};
