// The tapegrad/ndarray entry (src/ndarray.ts), and scijs ndarray + ndarray-ops as an independent
// oracle for every movement primitive (reshape, permute, expand, slice, pad, concat) and for
// strided copies: ndarray walks offset + Σ iⱼ·strideⱼ with its own code, so agreeing with it is
// evidence that our views and gathers address the right elements.
import fc from 'fast-check';
import ndarray from 'ndarray';
import ops from 'ndarray-ops';
import { describe, expect, it } from 'vitest';
import { concat, tensor, type Tensor } from '../src';
import { fromNdarray, toNdarray } from '../src/ndarray';
import { shapeArb } from '../src/testing';
import { fcParams } from './helpers/optable';

type Nd = ndarray.NdArray<Float64Array>;
const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
/** a dense row-major ndarray of `shape` with distinct values 0, 1, 2, ... (each element findable) */
const iota = (shape: number[]): Nd => ndarray(Float64Array.from({ length: size(shape) }, (_, i) => i), shape);
/** ndarray-ops' copy of any view into fresh row-major memory: the oracle's values */
function dense(view: Nd): number[] {
  const out = ndarray(new Float64Array(size(view.shape)), view.shape.slice());
  if (out.size > 0) ops.assign(out, view);
  return [...out.data];
}
const values = (t: Tensor) => [...t.dataSync()];
const t64 = (nd: Nd) => tensor(nd.data, { shape: nd.shape, dtype: 'float64' });

/** A random view of a random array: transposed, stepped (negative steps too), cut with lo/hi. */
const viewArb = shapeArb({ minRank: 1, maxRank: 4, maxDim: 4 }).chain((shape) =>
  fc.record({
    shape: fc.constant(shape),
    perm: fc.shuffledSubarray(shape.map((_, i) => i), { minLength: shape.length, maxLength: shape.length }),
    steps: fc.array(fc.constantFrom(1, -1, 2, -2), { minLength: shape.length, maxLength: shape.length }),
    cut: fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: shape.length, maxLength: shape.length }),
  }),
);
function makeView({ shape, perm, steps, cut }: { shape: number[]; perm: number[]; steps: number[]; cut: [number, number][] }): Nd {
  let v = iota(shape).transpose(...perm);
  v = v.step(...steps);
  const lo = v.shape.map((d, k) => (d > 1 ? cut[k]![0] % d : 0));
  v = v.lo(...lo);
  return v.hi(...v.shape.map((d, k) => (d > 1 ? 1 + (cut[k]![1] % d) : d)));
}

describe('fromNdarray / toNdarray', () => {
  it('reads any view (transposed, negative and positive steps, offsets) element for element', () => {
    fc.assert(
      fc.property(viewArb, (spec) => {
        const view = makeView(spec);
        const t = fromNdarray(view);
        expect(t.shape).toEqual(view.shape);
        expect(t.dtype).toBe('float64');
        expect(values(t)).toEqual(dense(view));
      }),
      fcParams(100),
    );
  });

  it('round-trips: toNdarray gives a row-major copy that fromNdarray reads back', () => {
    const t = tensor([[1, 2, 3], [4, 5, 6]]);
    const nd = toNdarray(t);
    expect(nd.shape).toEqual([2, 3]);
    expect(nd.stride).toEqual([3, 1]);
    expect(nd.data).toBeInstanceOf(Float32Array);
    expect(nd.get(1, 2)).toBe(6);
    nd.set(0, 0, 100); // a copy: the tensor keeps its values
    expect(t.toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(fromNdarray(nd).toArray()).toEqual([[100, 2, 3], [4, 5, 6]]);
    expect(fromNdarray(nd.step(1, -1).transpose(1, 0)).toArray()).toEqual([[3, 6], [2, 5], [100, 4]]);
  });

  it('copies: later writes to the ndarray do not reach the tensor, also on the block-copy path', () => {
    const nd = iota([2, 2]);
    const t = fromNdarray(nd);
    nd.set(0, 0, 42);
    expect(values(t)).toEqual([0, 1, 2, 3]);
  });

  it('takes zero strides (broadcast views), scalars, empty arrays, get()-style data and options', () => {
    const row = ndarray(new Float64Array([1, 2, 3]), [2, 3], [0, 1]);
    expect(fromNdarray(row).toArray()).toEqual([[1, 2, 3], [1, 2, 3]]);
    expect(fromNdarray(ndarray(new Float64Array([7]), [], [], 0)).toArray()).toBe(7);
    expect(fromNdarray(ndarray(new Float64Array(0), [0, 3])).shape).toEqual([0, 3]);
    const generic = { data: { get: (i: number) => i * 10, length: 4 }, shape: [2, 2], stride: [1, 2], offset: 0 };
    expect(fromNdarray(generic).toArray()).toEqual([[0, 20], [10, 30]]);
    const f = fromNdarray(ndarray(new Float64Array([1, 2])), { dtype: 'float32', requiresGrad: true });
    expect([f.dtype, f.requiresGrad]).toEqual(['float32', true]);
    expect(fromNdarray(ndarray(new Uint8Array([1, 2]))).dtype).toBe('float32');
  });

  it('refuses views that reach outside their data, and non-ndarrays, naming what is wrong', () => {
    expect(() => fromNdarray({ data: new Float64Array(4), shape: [2, 3], stride: [3, 1], offset: 0 })).toThrow(
      /fromNdarray: shape \[2,3\], stride \[3, 1\] and offset 0 reach elements 0\.\.5 of data of length 4/,
    );
    expect(() => fromNdarray({ data: new Float64Array(4), shape: [2], stride: [-1], offset: 0 })).toThrow(/reach elements -1\.\.0/);
    expect(() => fromNdarray([1, 2] as never)).toThrow(TypeError);
    expect(() => fromNdarray({ data: [1], shape: [1, 1], stride: [1], offset: 0 })).toThrow(/1 strides for shape \[1,1\]/);
    expect(() => toNdarray([1] as never)).toThrow(/toNdarray: expected a Tensor/);
    const gone = tensor([1]);
    gone.dispose();
    expect(() => toNdarray(gone)).toThrow(/disposed/);
  });
});

describe('movement ops against ndarray-ops', () => {
  const runs = fcParams(60);

  it('permute / transpose equal ndarray transpose', () => {
    fc.assert(
      fc.property(viewArb, ({ shape, perm }) => {
        expect(values(t64(iota(shape)).permute(perm))).toEqual(dense(iota(shape).transpose(...perm)));
      }),
      runs,
    );
  });

  it('reshape equals the same data read with another shape', () => {
    fc.assert(
      fc.property(viewArb, (spec) => {
        // reshape a strided view: our gather then reinterpretation vs ndarray's dense copy
        const view = makeView(spec);
        const flat = [...view.shape].reverse();
        const x = fromNdarray(view).permute(view.shape.map((_, i) => view.shape.length - 1 - i));
        const want = dense(view.transpose(...view.shape.map((_, i) => view.shape.length - 1 - i)));
        expect(values(x.reshape([size(flat)]))).toEqual(want);
        expect(values(x.reshape([...flat, 1]))).toEqual(want);
      }),
      runs,
    );
  });

  it('slice equals lo/hi', () => {
    fc.assert(
      fc.property(viewArb, ({ shape, cut }) => {
        const begin = shape.map((d, k) => cut[k]![0] % d);
        const end = shape.map((d, k) => begin[k]! + (cut[k]![1] % (d - begin[k]! + 1)));
        const want = dense(iota(shape).lo(...begin).hi(...end.map((e, k) => e - begin[k]!)));
        expect(values(t64(iota(shape)).slice(begin, end))).toEqual(want);
      }),
      runs,
    );
  });

  it('expand equals a zero-stride view', () => {
    fc.assert(
      fc.property(viewArb, fc.nat({ max: 3 }), ({ shape, steps }, lead) => {
        const small = shape.map((d, k) => (steps[k]! > 0 ? 1 : d)); // some dims become 1
        const big = [...Array.from({ length: lead }, () => 2), ...shape];
        const src = iota(small);
        const stride = big.map((_, k) => (k < lead || small[k - lead] === 1 ? 0 : src.stride[k - lead]!));
        const want = dense(ndarray(src.data, big, stride, 0));
        expect(values(t64(src).expand(big))).toEqual(want);
      }),
      runs,
    );
  });

  it('pad equals a zero array with the input assigned into its interior', () => {
    fc.assert(
      fc.property(viewArb, ({ shape, cut }) => {
        const widths = shape.map((_, k) => [cut[k]![0] % 3, cut[k]![1] % 2] as [number, number]);
        const outShape = shape.map((d, k) => d + widths[k]![0] + widths[k]![1]);
        const out = ndarray(new Float64Array(size(outShape)), outShape);
        ops.assign(out.lo(...widths.map((w) => w[0])).hi(...shape), iota(shape));
        expect(values(t64(iota(shape)).pad(widths))).toEqual([...out.data]);
      }),
      runs,
    );
  });

  it('concat equals the parts assigned side by side', () => {
    fc.assert(
      fc.property(viewArb, fc.nat(), ({ shape, cut }, a) => {
        const axis = a % shape.length;
        const parts = cut.slice(0, 3).map(([n], i) => shape.map((d, k) => (k === axis ? 1 + ((n + i) % 3) : d)));
        const total = parts.reduce((s, p) => s + p[axis]!, 0);
        const outShape = shape.map((d, k) => (k === axis ? total : d));
        const out = ndarray(new Float64Array(size(outShape)), outShape);
        let at = 0;
        const nds = parts.map((p, i) => {
          const nd = iota(p);
          ops.addseq(nd, 1000 * i); // tell the parts apart
          const lo = outShape.map((_, k) => (k === axis ? at : 0));
          ops.assign(out.lo(...lo).hi(...p), nd);
          at += p[axis]!;
          return nd;
        });
        expect(values(concat(nds.map(t64), axis))).toEqual([...out.data]);
      }),
      runs,
    );
  });

  it('strided copies: chains of views, then arithmetic, equal the same chain of ndarray views', () => {
    fc.assert(
      fc.property(viewArb, (spec) => {
        const { shape, perm, cut } = spec;
        const begin = perm.map((p) => cut[p]![0] % shape[p]!);
        const x = t64(iota(shape)).permute(perm);
        const end = x.shape.map((d, k) => d);
        const view = iota(shape).transpose(...perm).lo(...begin);
        const got = x.slice(begin, end).mul(2).add(1); // elementwise kernels over the strided view
        const want = ndarray(new Float64Array(size(view.shape)), view.shape.slice());
        if (want.size > 0) {
          ops.muls(want, view, 2);
          ops.addseq(want, 1);
        }
        expect(values(got)).toEqual([...want.data]);
      }),
      runs,
    );
  });
});
