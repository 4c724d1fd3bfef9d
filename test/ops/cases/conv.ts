// Sliding windows, their adjoint fold, conv2d and pooling (src/graph/conv.ts), each against naive
// float64 loops written from the definitions (no windows, no strides): a window axis of extent n
// with kernel k, stride s, dilation d has ⌊(n − d(k − 1) − 1)/s⌋ + 1 origins o, and tap t reads
// element o·s + t·d. Shapes stay small (gradcheck is O(elements²)); every argument is drawn.
import fc from 'fast-check';
import * as F from '../../../src';
import { distinctInputs, input } from '../../helpers/gen';
import { opCase, type CaseTable, type Draw, type Input } from '../../helpers/optable';
import { ravel, ref, size, unravel, type Ref } from '../../helpers/reference';

const count = (n: number, k: number, s: number, d: number) => {
  const span = d * (k - 1) + 1;
  return n < span ? 0 : Math.floor((n - span) / s) + 1;
};

interface WinArgs {
  shape: number[];
  axes: number[];
  size: number[];
  stride: number[];
  dilation: number[];
}

function windowsShape(a: WinArgs): number[] {
  const out = [...a.shape];
  a.axes.forEach((ax, i) => (out[ax] = count(a.shape[ax]!, a.size[i]!, a.stride[i]!, a.dilation[i]!)));
  return [...out, ...a.size];
}

/** For each element of windows(x), the flat index in x it reads. */
function windowSources(a: WinArgs): number[] {
  const ws = windowsShape(a);
  const r = a.shape.length;
  return Array.from({ length: size(ws) }, (_, i) => {
    const idx = unravel(i, ws);
    const src = idx.slice(0, r);
    a.axes.forEach((ax, w) => (src[ax] = idx[ax]! * a.stride[w]! + idx[r + w]! * a.dilation[w]!));
    return ravel(src, a.shape);
  });
}

/** A shape of rank 1–4 and one or two window axes (increasing), with sizes, strides, dilations. */
const winArgs: fc.Arbitrary<WinArgs> = fc
  .array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 })
  .chain((shape) =>
    fc
      .subarray([...shape.keys()], { minLength: 1, maxLength: Math.min(2, shape.length) })
      .chain((axes) =>
        fc.record({
          shape: fc.constant(shape),
          axes: fc.constant(axes),
          size: fc.tuple(...axes.map(() => fc.integer({ min: 1, max: 3 }))),
          stride: fc.tuple(...axes.map(() => fc.integer({ min: 1, max: 3 }))),
          dilation: fc.tuple(...axes.map(() => fc.integer({ min: 1, max: 2 }))),
        }),
      ),
  )
  .filter((a) => size(windowsShape(a)) <= 200);

/** Axes sometimes given counted from the end, as the frontend allows. */
const negAxes = (a: WinArgs, neg: boolean) => (neg ? a.axes.map((x) => x - a.shape.length) : a.axes);

interface ConvArgs {
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  groups: number;
  bias: boolean;
}

const pairArb = (min: number, max: number) => fc.tuple(fc.integer({ min, max }), fc.integer({ min, max }));

/** x [N, C, H, W], weight [O, C/g, kH, kW], bias [O]: the padded input always fits the kernel. */
const convDraw: fc.Arbitrary<Draw<ConvArgs>> = fc
  .record({
    n: fc.integer({ min: 1, max: 2 }),
    groups: fc.integer({ min: 1, max: 2 }),
    cg: fc.integer({ min: 1, max: 2 }),
    og: fc.integer({ min: 1, max: 2 }),
    k: pairArb(1, 3),
    stride: pairArb(1, 2),
    padding: pairArb(0, 1),
    dilation: pairArb(1, 2),
    extra: pairArb(0, 2),
    bias: fc.boolean(),
  })
  .chain((q) => {
    const hw = [0, 1].map((i) => Math.max(1, q.dilation[i]! * (q.k[i]! - 1) + 1 - 2 * q.padding[i]! + q.extra[i]!));
    const c = q.cg * q.groups;
    const o = q.og * q.groups;
    const shapes = [[q.n, c, hw[0]!, hw[1]!], [o, q.cg, ...q.k], ...(q.bias ? [[o]] : [])];
    return fc.tuple(...shapes.map((s) => input(s))).map((inputs) => ({
      inputs,
      args: { stride: q.stride, padding: q.padding, dilation: q.dilation, groups: q.groups, bias: q.bias },
    }));
  })
  .filter((d) => size(d.inputs[0]!.shape) * size(d.inputs[1]!.shape) <= 1500);

/** The definition: y[n, o, i, j] = b[o] + Σ_{c in o's group, a, e} x[n, c, i·s + a·d − p, …] w[o, c, a, e]. */
function naiveConv(x: Ref, w: Ref, b: Ref | undefined, q: ConvArgs): Ref {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [O, Cg, kH, kW] = w.shape as [number, number, number, number];
  const [sh, sw] = q.stride;
  const [ph, pw] = q.padding;
  const [dh, dw] = q.dilation;
  const oH = Math.floor((H + 2 * ph - dh * (kH - 1) - 1) / sh) + 1;
  const oW = Math.floor((W + 2 * pw - dw * (kW - 1) - 1) / sw) + 1;
  const Og = O / q.groups;
  const out: number[] = [];
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++)
      for (let i = 0; i < oH; i++)
        for (let j = 0; j < oW; j++) {
          let acc = b ? b.data[o]! : 0;
          const g = Math.floor(o / Og);
          for (let c = 0; c < Cg; c++)
            for (let a = 0; a < kH; a++)
              for (let e = 0; e < kW; e++) {
                const y = i * sh + a * dh - ph;
                const z = j * sw + e * dw - pw;
                if (y < 0 || y >= H || z < 0 || z >= W) continue;
                acc += x.data[ravel([n, g * Cg + c, y, z], x.shape)]! * w.data[ravel([o, c, a, e], w.shape)]!;
              }
          out.push(acc);
        }
  void C;
  return ref([N, O, oH, oW], out);
}

interface PoolArgs {
  k: [number, number];
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  countIncludePad: boolean;
}

/** x [N, C, H, W] and pooling arguments with padding ≤ k/2 and a kernel that fits. */
const poolDraw = (values: (s: number[]) => fc.Arbitrary<Input>, dilated: boolean): fc.Arbitrary<Draw<PoolArgs>> =>
  fc
    .record({
      nc: pairArb(1, 2),
      k: pairArb(1, 3),
      stride: pairArb(1, 3),
      dilation: dilated ? pairArb(1, 2) : fc.constant<[number, number]>([1, 1]),
      pad: pairArb(0, 1),
      extra: pairArb(0, 3),
      countIncludePad: fc.boolean(),
    })
    .chain((q) => {
      // padding ≤ k/2, and 0 where a window could lie wholly in it (dilated windows over a small input)
      const padding = q.pad.map((p, i) => (q.dilation[i]! > 1 ? 0 : Math.min(p, Math.floor(q.k[i]! / 2)))) as [number, number];
      const hw = [0, 1].map((i) => Math.max(1, q.dilation[i]! * (q.k[i]! - 1) + 1 - 2 * padding[i]! + q.extra[i]!));
      return values([...q.nc, hw[0]!, hw[1]!]).map((x) => ({
        inputs: [x],
        args: { k: q.k, stride: q.stride, padding, dilation: q.dilation, countIncludePad: q.countIncludePad },
      }));
    });

function naivePool(x: Ref, q: PoolArgs, kind: 'max' | 'avg'): Ref {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [kH, kW] = q.k;
  const [sh, sw] = q.stride;
  const [ph, pw] = q.padding;
  const [dh, dw] = q.dilation;
  const oH = Math.floor((H + 2 * ph - dh * (kH - 1) - 1) / sh) + 1;
  const oW = Math.floor((W + 2 * pw - dw * (kW - 1) - 1) / sw) + 1;
  const out: number[] = [];
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < oH; i++)
        for (let j = 0; j < oW; j++) {
          let m = -Infinity;
          let s = 0;
          let inside = 0;
          for (let a = 0; a < kH; a++)
            for (let e = 0; e < kW; e++) {
              const y = i * sh + a * dh - ph;
              const z = j * sw + e * dw - pw;
              if (y < 0 || y >= H || z < 0 || z >= W) continue;
              const v = x.data[ravel([n, c, y, z], x.shape)]!;
              m = Math.max(m, v);
              s += v;
              inside++;
            }
          out.push(kind === 'max' ? m : s / (q.countIncludePad ? kH * kW : inside));
        }
  return ref([N, C, oH, oW], out);
}

export const convCases: CaseTable = {
  windows: opCase<WinArgs & { neg: boolean }>({
    gen: fc
      .tuple(winArgs, fc.boolean())
      .chain(([a, neg]) => input(a.shape).map((x) => ({ inputs: [x], args: { ...a, neg } }))),
    fn: ([x], a) => F.windows(x!, negAxes(a, a.neg), a.size, { stride: a.stride, dilation: a.dilation }),
    ref: ([x], a) => ref(windowsShape(a), windowSources(a).map((i) => x!.data[i]!)),
  }),
  fold: opCase<WinArgs>({
    gen: winArgs.chain((a) => input(windowsShape(a)).map((g) => ({ inputs: [g], args: a }))),
    fn: ([g], a) => F.fold(g!, a.shape, a.axes, a.size, { stride: a.stride, dilation: a.dilation }),
    ref: ([g], a) => {
      const out = new Array<number>(size(a.shape)).fill(0);
      windowSources(a).forEach((src, i) => (out[src]! += g!.data[i]!));
      return ref(a.shape, out);
    },
  }),
  conv2d: opCase<ConvArgs>({
    gen: convDraw,
    fn: ([x, w, b], q) => F.conv2d(x!, w!, q.bias ? b! : null, q),
    ref: ([x, w, b], q) => naiveConv(x!, w!, q.bias ? b : undefined, q),
  }),
  // distinct values: a tie inside a window is a kink of max (ties have fixed tests of their own)
  maxPool2d: opCase<PoolArgs>({
    gen: poolDraw((s) => distinctInputs([s]).map(([x]) => x!), true),
    fn: ([x], q) => F.maxPool2d(x!, q.k, { stride: q.stride, padding: q.padding, dilation: q.dilation }),
    ref: ([x], q) => naivePool(x!, q, 'max'),
    layouts: ['contiguous', 'permuted', 'sliced'],
  }),
  avgPool2d: opCase<PoolArgs>({
    gen: poolDraw((s) => input(s), false),
    fn: ([x], q) => F.avgPool2d(x!, q.k, { stride: q.stride, padding: q.padding, countIncludePad: q.countIncludePad }),
    ref: ([x], q) => naivePool(x!, q, 'avg'),
  }),
};
