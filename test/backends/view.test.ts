// The device-neutral view module: every view op against a reference that moves plain arrays of
// buffer indices, reshape's view-or-null rule, and the sliding-window view against naive
// convolution and pooling loops, both as bare index arithmetic and through tensors on each device
// (the engine materializes the overlapping windows with the backend's copy before the matmul).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { memory, Tensor, tensor, tidy } from '../../src';
import { getBackend } from '../../src/backends/backend';
import * as V from '../../src/backends/view';
import { DEVICES } from '../helpers/devices';
import { fcParams } from '../helpers/optable';

const size = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);

/** A reference array: its shape and, row-major, the buffer index each element reads. */
interface Ref {
  shape: number[];
  at: number[];
}

function unravel(o: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = o % shape[d]!;
    o = Math.floor(o / shape[d]!);
  }
  return idx;
}
const ravel = (idx: readonly number[], shape: readonly number[]) => idx.reduce((p, x, d) => p * shape[d]! + x, 0);

/** Build a reference of `shape` whose element idx comes from `from(idx)` of r. */
function gather(r: Ref, shape: number[], from: (idx: number[]) => number[]): Ref {
  return { shape, at: Array.from({ length: size(shape) }, (_, o) => r.at[ravel(from(unravel(o, shape)), r.shape)]!) };
}

type Step =
  | { op: 'permute'; perm: number[] }
  | { op: 'expand'; shape: number[] }
  | { op: 'slice'; begin: number[]; end: number[] }
  | { op: 'reshape'; shape: number[] };

/** A random view op valid for `shape` (seeded choices, so fast-check can shrink the seed). */
function stepFor(shape: number[], u: () => number): Step {
  const r = shape.length;
  const pick = Math.floor(u() * 4);
  if (pick === 0) {
    const perm = [...Array(r).keys()];
    for (let i = r - 1; i > 0; i--) {
      const j = Math.floor(u() * (i + 1));
      [perm[i], perm[j]] = [perm[j]!, perm[i]!];
    }
    return { op: 'permute', perm };
  }
  if (pick === 1) {
    // stretch size-1 dims and maybe add a leading axis
    const lead = u() < 0.3 ? [1 + Math.floor(u() * 3)] : [];
    return { op: 'expand', shape: [...lead, ...shape.map((d) => (d === 1 && u() < 0.7 ? 1 + Math.floor(u() * 3) : d))] };
  }
  if (pick === 2) {
    const begin = shape.map((d) => Math.floor(u() * (d + 1)));
    const end = shape.map((d, i) => begin[i]! + Math.floor(u() * (d - begin[i]! + 1)));
    return { op: 'slice', begin, end };
  }
  // reshape: split or merge dims, or insert size-1 axes
  const n = size(shape);
  const dims: number[] = [];
  let left = n;
  while (left > 1 && dims.length < 4) {
    const divs = [...Array(left).keys()].map((k) => k + 1).filter((k) => left % k === 0 && k > 1);
    const k = divs[Math.floor(u() * divs.length)]!;
    dims.push(k);
    left /= k;
    if (u() < 0.2) dims.push(1);
  }
  if (left > 1) dims.push(left);
  if (n === 0) return { op: 'reshape', shape: [0, ...shape.filter((d) => d !== 0)] };
  return { op: 'reshape', shape: dims };
}

function applyRef(r: Ref, s: Step): Ref {
  switch (s.op) {
    case 'permute':
      return gather(r, s.perm.map((p) => r.shape[p]!), (idx) => {
        const src = new Array<number>(idx.length);
        s.perm.forEach((p, i) => (src[p] = idx[i]!));
        return src;
      });
    case 'expand': {
      const off = s.shape.length - r.shape.length;
      return gather(r, s.shape, (idx) => r.shape.map((d, i) => (d === 1 ? 0 : idx[i + off]!)));
    }
    case 'slice':
      return gather(r, s.begin.map((b, i) => s.end[i]! - b), (idx) => idx.map((x, i) => x + s.begin[i]!));
    case 'reshape':
      return { shape: s.shape, at: r.at };
  }
}

function applyView(v: V.View, s: Step): V.View | null {
  switch (s.op) {
    case 'permute':
      return V.permute(v, s.perm);
    case 'expand':
      return V.expand(v, s.shape);
    case 'slice':
      return V.slice(v, s.begin, s.end);
    case 'reshape':
      return V.reshape(v, s.shape);
  }
}

const shapeArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 4 });

describe('views', () => {
  it('chains of permute, expand, slice and reshape read the same elements as the reference', () => {
    fc.assert(
      fc.property(shapeArb, fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 6 }), (shape, seed, steps) => {
        let s = seed >>> 0;
        const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
        let ref: Ref = { shape, at: [...Array(size(shape)).keys()] };
        let v: V.View = V.rowMajor(shape);
        for (let k = 0; k < steps; k++) {
          const step = stepFor(ref.shape, u);
          ref = applyRef(ref, step);
          const next = applyView(v, step);
          if (next === null) {
            // reshape found no view: a row-major copy (a new buffer holding ref's elements in order)
            expect(step.op).toBe('reshape');
            expect(V.isRowMajor(v)).toBe(false);
            ref = { shape: ref.shape, at: [...Array(size(ref.shape)).keys()] };
            v = V.rowMajor(ref.shape);
            continue;
          }
          v = next;
          expect([...v.shape]).toEqual(ref.shape);
          if (size(v.shape) > 0) expect(V.indices(v)).toEqual(ref.at);
        }
      }),
      fcParams(300),
    );
  });

  it('reshape is a view whenever the layout allows one, and null where it cannot be', () => {
    const t = V.permute(V.rowMajor([2, 3, 4]), [2, 0, 1]); // [4, 2, 3], strides [1, 12, 4]
    // merging the two axes that are still contiguous, and splitting any axis: views
    expect(V.reshape(t, [4, 6])).toEqual({ shape: [4, 6], strides: [1, 4], offset: 0 });
    expect(V.reshape(t, [2, 2, 2, 3, 1])).toEqual({ shape: [2, 2, 2, 3, 1], strides: [2, 1, 12, 4, 0], offset: 0 });
    // merging the transposed axis with the others: no view
    expect(V.reshape(t, [24])).toBeNull();
    expect(V.reshape(t, [8, 3])).toBeNull();
    // a sliced row keeps its offset; rows with a gap between them cannot merge
    const rows = V.slice(V.rowMajor([3, 5]), [1, 1], [3, 4]); // [2, 3] at offset 6, strides [5, 1]
    expect(V.reshape(rows, [2, 3, 1])).toEqual({ shape: [2, 3, 1], strides: [5, 1, 0], offset: 6 });
    expect(V.reshape(rows, [6])).toBeNull();
    // a broadcast axis can be split or kept, never merged with a real one
    const b = V.expand(V.rowMajor([1, 3]), [4, 3]);
    expect(V.reshape(b, [2, 2, 3])).toEqual({ shape: [2, 2, 3], strides: [0, 0, 1], offset: 0 });
    expect(V.reshape(b, [12])).toBeNull();
  });

  it('isRowMajor ignores size-1 axes; coalesce merges what every operand walks as one', () => {
    expect(V.isRowMajor({ shape: [3, 1, 4], strides: [4, 99, 1], offset: 7 })).toBe(true);
    expect(V.isRowMajor({ shape: [3, 4], strides: [1, 3], offset: 0 })).toBe(false);
    // [2,3,4] row-major with a [1,3,4]-broadcast operand: the last two axes merge for both
    const c = V.coalesce([2, 3, 4], [[12, 4, 1], [0, 4, 1]]);
    expect(c).toEqual({ shape: [2, 12], strides: [[12, 1], [0, 1]] });
  });
});

// ---------------------------------------------------------------- windows

interface ConvCase {
  n: number;
  c: number;
  h: number;
  w: number;
  k: [number, number];
  stride: [number, number];
  dilation: [number, number];
  pad: [number, number];
  cout: number;
  seed: number;
}

const convArb: fc.Arbitrary<ConvCase> = fc.record({
  n: fc.integer({ min: 1, max: 2 }),
  c: fc.integer({ min: 1, max: 3 }),
  h: fc.integer({ min: 1, max: 7 }),
  w: fc.integer({ min: 1, max: 7 }),
  k: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
  stride: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
  dilation: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
  pad: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
  cout: fc.integer({ min: 1, max: 3 }),
  seed: fc.integer({ min: 0, max: 1e6 }),
});

const vals = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.round(Math.sin(seed + i * 12.9898) * 64) / 16);

/** x [N, C, H, W] zero-padded by pad on each side of H and W, as a flat row-major array. */
function padded(q: ConvCase, x: number[]): { data: number[]; shape: number[] } {
  const [ph, pw] = q.pad;
  const H = q.h + 2 * ph;
  const W = q.w + 2 * pw;
  const data = new Array<number>(q.n * q.c * H * W).fill(0);
  for (let n = 0; n < q.n; n++)
    for (let c = 0; c < q.c; c++)
      for (let i = 0; i < q.h; i++)
        for (let j = 0; j < q.w; j++) data[((n * q.c + c) * H + i + ph) * W + j + pw] = x[((n * q.c + c) * q.h + i) * q.w + j]!;
  return { data, shape: [q.n, q.c, H, W] };
}

/** The textbook loops: y[n, o, i, j] = Σ_{c, a, b} x[n, c, i·s + a·d, j·s + b·d] · w[o, c, a, b]. */
function naiveConv(q: ConvCase, x: number[], wt: number[]): { y: number[]; shape: number[] } {
  const { data, shape } = padded(q, x);
  const [, , H, W] = shape as [number, number, number, number];
  const oh = V.windowCount(H, q.k[0], q.stride[0], q.dilation[0]);
  const ow = V.windowCount(W, q.k[1], q.stride[1], q.dilation[1]);
  const y: number[] = [];
  for (let n = 0; n < q.n; n++)
    for (let o = 0; o < q.cout; o++)
      for (let i = 0; i < oh; i++)
        for (let j = 0; j < ow; j++) {
          let s = 0;
          for (let c = 0; c < q.c; c++)
            for (let a = 0; a < q.k[0]; a++)
              for (let b = 0; b < q.k[1]; b++) {
                const xi = i * q.stride[0] + a * q.dilation[0];
                const xj = j * q.stride[1] + b * q.dilation[1];
                s += data[((n * q.c + c) * H + xi) * W + xj]! * wt[((o * q.c + c) * q.k[0] + a) * q.k[1] + b]!;
              }
          y.push(s);
        }
  return { y, shape: [q.n, q.cout, oh, ow] };
}

const windowsOf = (q: ConvCase, v: V.View) =>
  V.windows(v, { axes: [2, 3], size: q.k, stride: q.stride, dilation: q.dilation });

describe('sliding windows', () => {
  it('windows → permute → reshape → matmul is conv2d (index arithmetic against the naive loops)', () => {
    fc.assert(
      fc.property(convArb, (q) => {
        const x = vals(q.n * q.c * q.h * q.w, q.seed);
        const wt = vals(q.cout * q.c * q.k[0] * q.k[1], q.seed + 7);
        const { data, shape } = padded(q, x);
        const win = windowsOf(q, V.rowMajor(shape)); // [N, C, oh, ow, kH, kW]
        const [, , oh, ow] = win.shape as number[] as [number, number, number, number];
        expect(win.shape).toEqual([q.n, q.c, oh, ow, q.k[0], q.k[1]]);
        // rows (n, i, j), columns (c, a, b): the im2col matrix, gathered through the view
        const cols = V.indices(V.permute(win, [0, 2, 3, 1, 4, 5])).map((p) => data[p]!);
        const K = q.c * q.k[0] * q.k[1];
        const y: number[] = new Array<number>(q.n * q.cout * oh * ow).fill(0);
        for (let r = 0; r < q.n * oh * ow; r++) {
          const n = Math.floor(r / (oh * ow));
          const ij = r % (oh * ow);
          for (let o = 0; o < q.cout; o++) {
            let s = 0;
            for (let k = 0; k < K; k++) s += cols[r * K + k]! * wt[o * K + k]!;
            y[(n * q.cout + o) * oh * ow + ij] = s;
          }
        }
        const ref = naiveConv(q, x, wt);
        expect([q.n, q.cout, oh, ow]).toEqual(ref.shape);
        expect(y).toEqual(ref.y);
      }),
      fcParams(200),
    );
  });

  it('max over the taps is max pooling', () => {
    fc.assert(
      fc.property(convArb, (q) => {
        const { data, shape } = padded(q, vals(q.n * q.c * q.h * q.w, q.seed));
        const win = windowsOf(q, V.rowMajor(shape));
        const taps = q.k[0] * q.k[1];
        const got = V.indices(win).map((p) => data[p]!);
        const [, , H, W] = shape as [number, number, number, number];
        const [, , oh, ow] = win.shape as number[] as [number, number, number, number];
        for (let n = 0; n < q.n; n++)
          for (let c = 0; c < q.c; c++)
            for (let i = 0; i < oh; i++)
              for (let j = 0; j < ow; j++) {
                let m = -Infinity;
                for (let a = 0; a < q.k[0]; a++)
                  for (let b = 0; b < q.k[1]; b++) {
                    const xi = i * q.stride[0] + a * q.dilation[0];
                    const xj = j * q.stride[1] + b * q.dilation[1];
                    m = Math.max(m, data[((n * q.c + c) * H + xi) * W + xj]!);
                  }
                const o = ((n * q.c + c) * oh + i) * ow + j;
                expect(Math.max(...got.slice(o * taps, (o + 1) * taps))).toBe(m);
              }
      }),
      fcParams(100),
    );
  });

  it('windows too big for the input give zero positions; bad arguments throw naming them', () => {
    expect(V.windows(V.rowMajor([1, 1, 2, 5]), { axes: [2, 3], size: [3, 2] }).shape).toEqual([1, 1, 0, 4, 3, 2]);
    expect(V.windowCount(5, 2, 2, 2)).toBe(2); // taps 0, 2 from origins 0 and 2 (origin 4 needs 6)
    expect(() => V.windows(V.rowMajor([2, 2]), { axes: [2], size: [1] })).toThrow(
      'windows: axis 2, size 1, stride 1, dilation 1 do not fit shape [2,2]',
    );
    expect(() => V.windows(V.rowMajor([4]), { axes: [0], size: [2], stride: [0] })).toThrow(/stride 0/);
  });
});

describe.each(DEVICES)('views through the engine on %s', (device) => {
  it('reshape, permute, expand and slice allocate nothing; a reshape no view fits copies once', async () => {
    const x = tensor(Array.from({ length: 24 }, (_, i) => i), { shape: [2, 3, 4], device });
    const buffers = () => memory().devices[device]!.buffers;
    const before = buffers();
    const ys = tidy(() => {
      const views = [x.reshape([6, 4]), x.permute([2, 0, 1]), x.slice([1, 0, 2], [2, 3, 4]), x.reshape([2, 3, 4, 1]).expand([2, 3, 4, 5])];
      expect(buffers()).toBe(before);
      // [4, 2, 3] with strides [1, 12, 4] flattened: no strides express it, one row-major copy
      const flat = x.permute([2, 0, 1]).reshape([24]);
      expect(buffers()).toBe(before + 1);
      return [...views, flat];
    });
    expect(await ys[4]!.array()).toEqual([0, 4, 8, 12, 16, 20, 1, 5, 9, 13, 17, 21, 2, 6, 10, 14, 18, 22, 3, 7, 11, 15, 19, 23]);
    expect(await ys[2]!.array()).toEqual([[[14, 15], [18, 19], [22, 23]]]);
    ys.forEach((y) => y.dispose());
    x.dispose();
    expect(buffers()).toBe(before - 1);
  });
});

describe.each(DEVICES)('windows through the engine on %s', (device) => {
  it('conv2d as windows → permute → reshape (materialized) → matmul equals the naive loops', async () => {
    const cases = fc.sample(convArb, { numRuns: 12, seed: 99 });
    for (const q of cases) {
      const x = vals(q.n * q.c * q.h * q.w, q.seed);
      const wt = vals(q.cout * q.c * q.k[0] * q.k[1], q.seed + 7);
      const { data, shape } = padded(q, x);
      const y = tidy(() => {
        const xt = tensor(data, { shape, device });
        const backend = getBackend(device);
        // a windowed tensor over xt's buffer (what a conv2d op will do through a view op)
        const wv = windowsOf(q, xt.storage.view);
        const win = new Tensor(backend.view(xt.storage, wv), wv.shape, 'float32', device);
        const [n, , oh, ow] = wv.shape as [number, number, number, number];
        const K = q.c * q.k[0] * q.k[1];
        const cols = win.permute([0, 2, 3, 1, 4, 5]).reshape([n * oh * ow, K]);
        const w2 = tensor(wt, { shape: [q.cout, K], device });
        // [N·oh·ow, Cout] → [N, Cout, oh, ow]
        return cols.matmul(w2.T).reshape([n, oh, ow, q.cout]).permute([0, 3, 1, 2]);
      });
      const ref = naiveConv(q, x, wt);
      expect([...y.shape]).toEqual(ref.shape);
      const got = await y.data();
      y.dispose();
      ref.y.forEach((v, i) => expect(Math.abs(got[i]! - v)).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(v))));
    }
  });
});
