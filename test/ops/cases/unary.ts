// Unary elementwise primitives (src/ops/unary.ts) and cast. Domains: log and sqrt on positive
// values; abs and relu kept 1e-3 away from their kink at 0 (fixed tests cover the kink itself).
import * as F from '../../../src';
import type { Tensor } from '../../../src';
import type { ValueOptions } from '../../../src/testing';
import { unaryDraw } from '../../helpers/gen';
import { opCase, type CaseTable, type OpCase } from '../../helpers/optable';
import { map } from '../../helpers/reference';

const unary = (fn: (x: Tensor) => Tensor, ref: (v: number) => number, values: ValueOptions = {}, extra: Partial<OpCase> = {}) =>
  opCase({ gen: unaryDraw(values), fn: ([x]) => fn(x!), ref: ([x]) => map(x!, ref), ...extra });

export const unaryCases: CaseTable = {
  neg: unary(F.neg, (v) => -v),
  exp: unary(F.exp, Math.exp, { min: -3, max: 3 }),
  log: unary(F.log, Math.log, { min: 0.1, max: 3 }),
  log1p: unary(F.log1p, Math.log1p, { min: -0.9, max: 3 }),
  sqrt: unary(F.sqrt, Math.sqrt, { min: 0.1, max: 3 }),
  abs: unary(F.abs, Math.abs, { avoid: [0] }),
  // no gradient: zero almost everywhere; values include exact zeros (sign(0) = 0)
  sign: unary(F.sign, (v) => (v > 0 ? 1 : v < 0 ? -1 : 0), {}, { grad: false }),
  relu: unary(F.relu, (v) => (v > 0 ? v : 0), { avoid: [0] }),
  sigmoid: unary(F.sigmoid, (v) => 1 / (1 + Math.exp(-v)), { min: -6, max: 6 }),
  tanh: unary(F.tanh, Math.tanh, { min: -3, max: 3 }),
  sin: unary(F.sin, Math.sin, { min: -4, max: 4 }),
  cos: unary(F.cos, Math.cos, { min: -4, max: 4 }),
  // float64 → float32 → float64 rounds each value to float32: the forward reference is fround and
  // the gradient (1) is checked with a step far above float32's rounding (ε = 1e-2, error ~1e-7/ε)
  cast: unary((x) => F.cast(F.cast(x, 'float32'), 'float64'), Math.fround, {}, {
    gradcheck: { eps: 1e-2, atol: 1e-4, rtol: 1e-3 },
  }),
};
