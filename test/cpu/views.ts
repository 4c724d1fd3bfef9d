// Tensors with given values laid out as different kinds of views, so each kernel sees the
// layouts it must handle: contiguous, transposed (reversed axes), a window of a bigger buffer,
// and a stride-0 broadcast of a leading axis.
import { tensor, type Tensor } from '../../src';

export type Layout = 'plain' | 'transposed' | 'sliced' | 'broadcast';
export const LAYOUTS: Layout[] = ['plain', 'transposed', 'sliced', 'broadcast'];
export type FloatDType = 'float32' | 'float64';

const size = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);

/** Row-major index → multi-index. */
function unravel(o: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = o % shape[d]!;
    o = Math.floor(o / shape[d]!);
  }
  return idx;
}

/** A tensor holding `values` (row-major for `shape`) as a view of the given layout. */
export function laidOut(values: ArrayLike<number>, shape: number[], dtype: FloatDType, layout: Layout): Tensor {
  const r = shape.length;
  if (layout === 'transposed' && r >= 2) {
    // store the transpose, then view it back: every stride differs from row-major
    const rev = [...shape].reverse();
    const t = new Float64Array(values.length);
    for (let o = 0; o < values.length; o++) {
      const idx = unravel(o, shape).reverse();
      t[idx.reduce((p, x, d) => p * rev[d]! + x, 0)] = values[o]!;
    }
    return tensor(t, { shape: rev, dtype }).transpose();
  }
  if (layout === 'sliced' && r >= 1) {
    // a window of a bigger tensor framed with NaN: an offset, and strides wider than the rows
    const big = shape.map((d) => d + 2);
    const frame = new Float64Array(size(big)).fill(Number.NaN);
    for (let o = 0; o < values.length; o++) {
      frame[unravel(o, shape).reduce((p, x, d) => p * big[d]! + x + 1, 0)] = values[o]!;
    }
    return tensor(frame, { shape: big, dtype }).slice(shape.map(() => 1), shape.map((d) => d + 1));
  }
  if (layout === 'broadcast' && r >= 1) {
    // taken from a stride-0 expansion of a new leading axis
    return tensor(Array.from(values), { shape, dtype }).unsqueeze(0).expand([3, ...shape]).slice([2]).squeeze(0);
  }
  return tensor(Array.from(values), { shape, dtype });
}

/** Values in [-2, 2) from a seed, with some exact zeros, ties and, if asked, NaN / ±Inf / -0. */
export function values(n: number, seed: number, specials = false): Float64Array {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const out = Float64Array.from({ length: n }, () => {
    const u = next();
    if (u < 0.05) return 0;
    if (u < 0.1) return 1; // ties
    return Math.round((next() * 4 - 2) * 64) / 64; // exact in float32
  });
  if (specials) {
    const odd = [Number.NaN, Infinity, -Infinity, -0];
    for (let i = 0; i < n; i++) if (next() < 0.1) out[i] = odd[Math.floor(next() * 4)]!;
  }
  return out;
}

export { size, unravel };
