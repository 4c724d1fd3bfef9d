// Gradients on every device: random compositions of ops computed in float32 on the device,
// compared with the same composition's float64 gradient on the CPU (which the op tables check
// against finite differences). Values are read with `await t.data()`, never dataSync, so the
// suite runs unchanged on WebGPU once test/helpers/devices.ts lists it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tensor, tidy, type DType, type Device, type Tensor } from '../src';
import { broadcastShapesArb, valuesArb } from '../src/testing';
import { DEVICES } from './helpers/devices';
import { fcParams } from './helpers/optable';

// fast-check runs per device (each: one random program, its float32 and float64 gradients)
const RUNS = 60;

const UNARY = {
  tanh: (h: Tensor) => h.tanh(),
  sigmoid: (h: Tensor) => h.sigmoid(),
  sin: (h: Tensor) => h.sin(),
  softplus: (h: Tensor) => h.softplus(),
  expHalf: (h: Tensor) => h.mul(0.5).exp(),
  square: (h: Tensor) => h.square(),
  relu: (h: Tensor) => h.relu(),
  abs: (h: Tensor) => h.abs(),
};
const BINARY = {
  add: (a: Tensor, b: Tensor) => a.add(b),
  sub: (a: Tensor, b: Tensor) => a.sub(b),
  mul: (a: Tensor, b: Tensor) => a.mul(b),
  div: (a: Tensor, b: Tensor) => a.div(b.abs().add(0.5)),
  maximum: (a: Tensor, b: Tensor) => a.maximum(b),
};
const HEADS = {
  sum: (h: Tensor) => h,
  meanLast: (h: Tensor) => h.mean(-1),
  softmax: (h: Tensor) => h.softmax(-1),
  logSoftmax: (h: Tensor) => h.logSoftmax(-1),
  maxFirst: (h: Tensor) => h.max(0),
  sumKeepLog: (h: Tensor) => h.sum(0, true).square().add(1).log(),
};

/** A random program over x (rank 1–3), y (broadcasts with x) and w ([last dim of x, k]). */
interface Program {
  xShape: number[];
  yShape: number[];
  k: number;
  u1: keyof typeof UNARY;
  bin: keyof typeof BINARY;
  matmul: boolean;
  transpose: boolean;
  u2: keyof typeof UNARY;
  head: keyof typeof HEADS;
  values: { x: number[]; y: number[]; w: number[]; cot: number[] };
}

/** output shape of the program before the head, so the cotangent can be drawn for it */
function bodyShape(p: Omit<Program, 'values'>): number[] {
  let s = p.xShape.length >= p.yShape.length ? [...p.xShape] : [...p.yShape];
  s = s.map((_, i) => Math.max(p.xShape[p.xShape.length - s.length + i] ?? 1, p.yShape[p.yShape.length - s.length + i] ?? 1));
  if (p.matmul) s = [...s.slice(0, -1), p.k];
  if (p.transpose && s.length >= 2) s = [...s.slice(0, -2), s[s.length - 1]!, s[s.length - 2]!];
  return s;
}

function headShape(head: keyof typeof HEADS, s: number[]): number[] {
  if (head === 'meanLast') return s.slice(0, -1);
  if (head === 'maxFirst') return s.slice(1);
  if (head === 'sumKeepLog') return [1, ...s.slice(1)];
  return s;
}

const programArb: fc.Arbitrary<Program> = fc
  .record({
    pair: broadcastShapesArb({ minRank: 1, maxRank: 3, maxDim: 4 }),
    k: fc.integer({ min: 1, max: 4 }),
    u1: fc.constantFrom(...(Object.keys(UNARY) as (keyof typeof UNARY)[])),
    bin: fc.constantFrom(...(Object.keys(BINARY) as (keyof typeof BINARY)[])),
    matmul: fc.boolean(),
    transpose: fc.boolean(),
    u2: fc.constantFrom(...(Object.keys(UNARY) as (keyof typeof UNARY)[])),
    head: fc.constantFrom(...(Object.keys(HEADS) as (keyof typeof HEADS)[])),
  })
  // x keeps rank ≥ 1 so matmul has a last dim to contract
  .filter(({ pair: [x] }) => x.length >= 1)
  .chain(({ pair: [xShape, yShape], ...rest }) => {
    const shape = { xShape, yShape, ...rest };
    const out = headShape(rest.head, bodyShape(shape));
    // Both runs must see the same inputs: values are float32-representable (fround), and x, y
    // stay away from 0, where abs/relu/maximum have kinks that a rounding difference could cross.
    const vals = (s: number[], max: number) => valuesArb(s, { min: -max, max, avoid: [0], gap: 1e-2 }).map((v) => v.map(Math.fround));
    return fc
      .record({ x: vals(xShape, 1.5), y: vals(yShape, 1.5), w: vals([xShape[xShape.length - 1]!, rest.k], 1), cot: vals(out, 1) })
      .map((values) => ({ ...shape, values }));
  });

function body(p: Program, x: Tensor, y: Tensor, w: Tensor): Tensor {
  let h = BINARY[p.bin](UNARY[p.u1](x), y);
  if (p.matmul) {
    // contract the last dim with w: reshape a broadcast result back to x's trailing size first
    if (h.shape[h.shape.length - 1] !== w.shape[0]) h = h.sum(-1, true).expand([...h.shape.slice(0, -1), w.shape[0]!]);
    h = h.matmul(w);
  }
  if (p.transpose && h.rank >= 2) h = h.transpose(-1, -2);
  return HEADS[p.head](UNARY[p.u2](h));
}

/** Gradients of <cot, program(x, y, w)> with respect to x, y and w, in `dtype` on `device`. */
async function gradients(p: Program, dtype: DType, device: Device): Promise<number[][]> {
  const leaf = (v: number[], shape: number[]) => tensor(v, { shape, dtype, device, requiresGrad: true });
  const xs = [leaf(p.values.x, p.xShape), leaf(p.values.y, p.yShape), leaf(p.values.w, [p.xShape[p.xShape.length - 1]!, p.k])];
  try {
    tidy(() => {
      const out = body(p, xs[0]!, xs[1]!, xs[2]!);
      const cot = tensor(p.values.cot, { shape: out.shape, dtype, device });
      out.mul(cot).sum().backward();
    });
    return await Promise.all(xs.map(async (x) => (x.grad ? [...(await x.grad.data())] : new Array<number>(x.size).fill(0))));
  } finally {
    for (const x of xs) x.dispose();
  }
}

describe.each(DEVICES)('gradients on %s', (device) => {
  it(`float32 gradients of random compositions match the float64 CPU gradient (${RUNS} programs)`, async () => {
    await fc.assert(
      fc.asyncProperty(programArb, async (p) => {
        const want = await gradients(p, 'float64', 'cpu');
        const got = await gradients(p, 'float32', device);
        ['x', 'y', 'w'].forEach((name, i) => {
          const scale = Math.max(1, ...want[i]!.map(Math.abs));
          want[i]!.forEach((g64, j) => {
            const g32 = got[i]![j]!;
            // float32 carries ~7 digits; a handful of ops loses at most a few more
            if (!(Math.abs(g32 - g64) <= 2e-4 * scale)) {
              expect.fail(`d/d${name}[${j}]: ${device} float32 ${g32}, cpu float64 ${g64} (${p.u1} ${p.bin} ${p.matmul ? 'matmul ' : ''}${p.u2} ${p.head})`);
            }
          });
        });
      }),
      fcParams(RUNS),
    );
  });
});
