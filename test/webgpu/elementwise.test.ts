// Elementwise kernels (one WGSL template): every unary and binary op, where and cast, WebGPU
// against the CPU on the same float32 inputs: random shapes of rank 0–4 with empty and size-1
// dims, broadcasting, and inputs in strided layouts.
//
// Tolerances (float32; ulp ≈ 6e-8 relative):
//   exact (0):           neg abs sign relu, comparisons, maximum minimum, where, cast
//   arithmetic rtol 3e-7: add sub mul div (WGSL allows 2.5 ulp for division)
//   transcendental rtol 2e-6 + atol 2e-7: exp log log1p sqrt sigmoid tanh sin cos (WGSL: exp
//     3+2|x| ulp and log 3 ulp; tanh, sin and cos are our own WGSL, ~2 ulp, because WGSL only
//     promises 2^-11 for sin/cos and SwiftShader's are off by 2e-4)
//   pow rtol 1e-5 + atol 1e-6 (exp2(b·log2 a): the error grows with |b·log2 a| ≤ 12 here)
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { tensor, where, type Tensor } from '../../src';
import { BINARY_OPS, UNARY_OPS, type BinaryOp, type UnaryOp } from '../../src/backends/backend';
import { broadcastArb, compareDevices, describeGPU, fcRuns, placedArb, shapeArb, type Tolerance, type ValueRange } from './helpers';

const EXACT: Tolerance = {};
const ARITH: Tolerance = { rtol: 3e-7 };
const TRANSCENDENTAL: Tolerance = { rtol: 2e-6, atol: 2e-7 };

const UNARY: Record<UnaryOp, { range: ValueRange; tol: Tolerance }> = {
  neg: { range: {}, tol: EXACT },
  abs: { range: {}, tol: EXACT },
  sign: { range: { min: -2, max: 2, ints: true }, tol: EXACT },
  relu: { range: {}, tol: EXACT },
  exp: { range: { min: -10, max: 10 }, tol: TRANSCENDENTAL },
  log: { range: { min: 1e-3, max: 100 }, tol: TRANSCENDENTAL },
  // across both branches of our log1p_ (the series for 1 + x in (0.7, 1.5), else log(1 + x))
  log1p: { range: { min: -0.99, max: 50 }, tol: TRANSCENDENTAL },
  sqrt: { range: { min: 0, max: 100 }, tol: TRANSCENDENTAL },
  sigmoid: { range: { min: -20, max: 20 }, tol: TRANSCENDENTAL },
  tanh: { range: { min: -20, max: 20 }, tol: TRANSCENDENTAL },
  sin: { range: { min: -50, max: 50 }, tol: TRANSCENDENTAL },
  cos: { range: { min: -50, max: 50 }, tol: TRANSCENDENTAL },
};

const COMPARE = { range: { min: -2, max: 2, ints: true }, tol: EXACT };
const BINARY: Record<BinaryOp | 'reluGrad', { range: [ValueRange, ValueRange]; tol: Tolerance }> = {
  add: { range: [{}, {}], tol: ARITH },
  sub: { range: [{}, {}], tol: ARITH },
  mul: { range: [{}, {}], tol: ARITH },
  div: { range: [{}, { min: 0.25, max: 4 }], tol: ARITH },
  pow: { range: [{ min: 0.05, max: 4 }, { min: -3, max: 3 }], tol: { rtol: 1e-5, atol: 1e-6 } },
  maximum: { range: [COMPARE.range, COMPARE.range], tol: EXACT },
  minimum: { range: [COMPARE.range, COMPARE.range], tol: EXACT },
  eq: { range: [COMPARE.range, COMPARE.range], tol: EXACT },
  ne: { range: [COMPARE.range, COMPARE.range], tol: EXACT },
  lt: { range: [COMPARE.range, COMPARE.range], tol: EXACT },
  le: { range: [COMPARE.range, COMPARE.range], tol: EXACT },
  gt: { range: [COMPARE.range, COMPARE.range], tol: EXACT },
  ge: { range: [COMPARE.range, COMPARE.range], tol: EXACT },
  reluGrad: { range: [{}, COMPARE.range], tol: EXACT },
};

const RUNS = 25;

describeGPU('webgpu elementwise kernels match the CPU', () => {
  it.each(UNARY_OPS)('%s', async (op) => {
    const { range, tol } = UNARY[op];
    const arb = shapeArb().chain((s) => placedArb(s, range));
    await fc.assert(
      fc.asyncProperty(arb, (x) => compareDevices(op, [x], ([t]) => (t![op] as () => Tensor).call(t), tol)),
      fcRuns(RUNS),
    );
  });

  it.each([...BINARY_OPS, 'reluGrad'] as const)('%s (broadcasting)', async (op) => {
    const { range, tol } = BINARY[op];
    const arb = broadcastArb(2).chain(([a, b]) => fc.tuple(placedArb(a!, range[0]), placedArb(b!, range[1])));
    await fc.assert(
      fc.asyncProperty(arb, (xs) => compareDevices(op, xs, ([a, b]) => (a![op] as (b: Tensor) => Tensor).call(a, b!), tol)),
      fcRuns(RUNS),
    );
  });

  it('pow of negative bases with integer exponents, and of zero, follows Math.pow', async () => {
    const a = [-2, -2, -2, -1.5, 0, 0, 0, 3, -3];
    const b = [2, 3, -1, 2, 0, 2, -1, 0.5, 0];
    const want = a.map((x, i) => Math.pow(x, b[i]!));
    const got = await tensor(a, { device: 'webgpu' }).pow(tensor(b, { device: 'webgpu' })).data();
    expect([...got]).toEqual(want.map(Math.fround));
    // a fractional power of a negative base is NaN, as in Math.pow
    expect(Number.isNaN((await tensor([-2], { device: 'webgpu' }).pow(0.5).data())[0])).toBe(true);
  });

  it('tanh and sigmoid saturate without NaN for large |x|', async () => {
    const x = tensor([-1000, -90, -45, 45, 90, 1000], { device: 'webgpu' });
    expect([...(await x.tanh().data())]).toEqual([-1, -1, -1, 1, 1, 1]);
    expect([...(await x.sigmoid().data())]).toEqual([0, 0, expect.any(Number), 1, 1, 1]);
  });

  it('where (three-way broadcasting, ties at 0 in the condition)', async () => {
    const arb = broadcastArb(3).chain(([c, a, b]) =>
      fc.tuple(placedArb(c!, { min: -1, max: 1, ints: true }), placedArb(a!), placedArb(b!)),
    );
    await fc.assert(fc.asyncProperty(arb, (xs) => compareDevices('where', xs, ([c, a, b]) => where(c!, a!, b!), EXACT)), fcRuns(RUNS));
  });

  it('cast to float32 (the only WebGPU dtype) keeps values', async () => {
    const arb = shapeArb().chain((s) => placedArb(s));
    await fc.assert(fc.asyncProperty(arb, (x) => compareDevices('cast', [x], ([t]) => t!.cast('float32'), EXACT)), fcRuns(10));
  });

  it('scalar operands (numbers lifted to rank-0 tensors) broadcast against any shape', async () => {
    const arb = shapeArb().chain((s) => placedArb(s));
    await fc.assert(
      fc.asyncProperty(arb, (x) => compareDevices('x*0.5+2, 1/x', [x], ([t]) => t!.mul(0.5).add(2).div(t!.abs().add(1)), ARITH)),
      fcRuns(10),
    );
  });
});
