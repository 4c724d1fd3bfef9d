// fold (col2im) on the CPU: the loops for windows over the last two axes (conv2d's and pooling's
// gradients) and the general strided walk, against naive loops, on every layout of g.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fold, tidy } from '../../src';
import { LAYOUTS, laidOut, size, unravel, values, type FloatDType } from './views';

interface Draw {
  lead: number[];
  hw: [number, number];
  k: [number, number];
  stride: [number, number];
  dilation: [number, number];
}

const span = (k: number, d: number) => d * (k - 1) + 1;
const outer = (n: number, k: number, s: number, d: number) => Math.floor((n - span(k, d)) / s) + 1;

const draws: fc.Arbitrary<Draw> = fc
  .record({
    lead: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
    k: fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })),
    stride: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    dilation: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
    extra: fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 5 })),
  })
  .map(({ extra, ...d }) => ({ ...d, hw: [0, 1].map((i) => span(d.k[i]!, d.dilation[i]!) + extra[i]!) as [number, number] }));

/** out[..., i·s + a·d, j·s + e·d] += g[..., i, j, a, e], in plain loops. */
function reference({ lead, hw: [H, W], k: [kH, kW], stride: [sH, sW], dilation: [dH, dW] }: Draw, g: Float64Array): Float64Array {
  const [oH, oW] = [outer(H, kH, sH, dH), outer(W, kW, sW, dW)];
  const out = new Float64Array(size(lead) * H * W);
  const gShape = [...lead, oH, oW, kH, kW];
  for (let o = 0; o < g.length; o++) {
    const idx = unravel(o, gShape);
    const [i, j, a, e] = idx.slice(-4) as [number, number, number, number];
    const p = idx.slice(0, -4).reduce((q, x, d) => q * lead[d]! + x, 0);
    out[(p * H + i * sH + a * dH) * W + j * sW + e * dW]! += g[o]!;
  }
  return out;
}

describe('fold on the CPU', () => {
  it.each(['float32', 'float64'] as FloatDType[])('windows over the last two axes, any stride, dilation and layout of g (%s)', (dtype) => {
    fc.assert(
      fc.property(draws, fc.constantFrom(...LAYOUTS), fc.nat(), (d, layout, seed) => {
        const { lead, hw, k, stride, dilation } = d;
        const gShape = [...lead, outer(hw[0], k[0], stride[0], dilation[0]), outer(hw[1], k[1], stride[1], dilation[1]), ...k];
        const g = values(size(gShape), seed);
        const got = tidy(() => {
          const r = lead.length + 2;
          return fold(laidOut(g, gShape, dtype, layout), [...lead, ...hw], [r - 2, r - 1], k, { stride, dilation }).dataSync();
        });
        // the values are multiples of 1/64 in [−2, 2]: every sum here is exact in float32 too
        expect(Array.from(got)).toEqual(Array.from(reference(d, g)));
      }),
      { numRuns: 150 },
    );
  });

  it('windows over other axes take the general walk: fold of [2, 3] windows of axis 0 of [4, 3]', () => {
    const g = values(2 * 3 * 3, 7);
    const got = tidy(() => fold(laidOut(g, [2, 3, 3], 'float64', 'transposed'), [4, 3], [0], [3], { stride: [1] }).dataSync());
    const want = new Float64Array(12);
    // g[o, c, t] came from x[o + t, c]
    for (let o = 0; o < 2; o++) for (let c = 0; c < 3; c++) for (let t = 0; t < 3; t++) want[(o + t) * 3 + c]! += g[(o * 3 + c) * 3 + t]!;
    expect(Array.from(got)).toEqual(Array.from(want));
  });
});
