// matmul on every CPU path (plain JS, wasm SIMD, wasm over worker threads) against a float64
// reference: odd sizes around the kernel's tiles and cache blocks, transposed / sliced /
// broadcast operands, batches with broadcast batch dims, float32 and float64, NaN and ±Inf.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tensor, tidy, type Tensor } from '../../src';
import { PATHS, resetCpuConfig, usePath } from './paths';
import { firstMismatch, matmulRef } from './reference';

type Layout = 'plain' | 'transposed' | 'sliced' | 'broadcast';

/** A tensor with `values` (row-major, of `shape`) laid out as a view of the given kind. */
function laidOut(values: Float64Array, shape: number[], dtype: 'float32' | 'float64', layout: Layout): Tensor {
  const r = shape.length;
  if (layout === 'transposed' && r >= 2) {
    // store the transpose, then view it back: strides (1, m) on the last two axes
    const [m, k] = shape.slice(-2) as [number, number];
    const lead = shape.slice(0, -2);
    const batch = lead.reduce((p, d) => p * d, 1);
    const t = new Float64Array(values.length);
    for (let b = 0; b < batch; b++) for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) t[b * m * k + p * m + i] = values[b * m * k + i * k + p]!;
    return tensor(t, { shape: [...lead, k, m], dtype }).transpose(-1, -2);
  }
  if (layout === 'sliced') {
    // a window of a bigger tensor framed with NaN: an offset, and row strides wider than the rows
    const big = shape.map((d) => d + 2);
    const frame = new Float64Array(big.reduce((p, d) => p * d, 1)).fill(Number.NaN);
    const idx = shape.map(() => 0);
    for (let i = 0; i < values.length; i++) {
      frame[idx.reduce((o, x, d) => o * big[d]! + x + 1, 0)] = values[i]!;
      for (let d = r - 1; d >= 0; d--) {
        if (++idx[d]! < shape[d]!) break;
        idx[d] = 0;
      }
    }
    return tensor(frame, { shape: big, dtype }).slice(shape.map(() => 1), shape.map((d) => d + 1));
  }
  if (layout === 'broadcast' && r >= 2) {
    // a leading batch of 1 expanded to 2: stride 0 on the batch axis
    return tensor(values, { shape, dtype }).unsqueeze(0).expand([2, ...shape]).slice([1]).squeeze(0);
  }
  return tensor(values, { shape, dtype });
}

const rand = (n: number, seed: number) => {
  let s = seed >>> 0;
  return Float64Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
};

function check(
  aShape: number[], bShape: number[], dtype: 'float32' | 'float64', la: Layout, lb: Layout, seed: number,
  specials: number[] = [],
): void {
  const av = rand(aShape.reduce((p, d) => p * d, 1), seed);
  const bv = rand(bShape.reduce((p, d) => p * d, 1), seed + 1);
  specials.forEach((v, i) => (av[(i * 7919) % av.length] = v));
  // the reference sees the values as the dtype holds them
  const round = (x: Float64Array) => (dtype === 'float32' ? Float64Array.from(Float32Array.from(x)) : x);
  const want = matmulRef(round(av), aShape, round(bv), bShape);
  tidy(() => {
    const c = laidOut(av, aShape, dtype, la).matmul(laidOut(bv, bShape, dtype, lb));
    expect(c.shape).toEqual(want.shape);
    const eps = dtype === 'float32' ? 2e-6 : 1e-14;
    const bad = firstMismatch(c.dataSync(), want.value, (i) => eps * (want.mag[i]! + 1));
    if (bad >= 0) {
      throw new Error(`${dtype} ${la}[${aShape}] @ ${lb}[${bShape}]: element ${bad} is ${c.dataSync()[bad]}, want ${want.value[bad]}`);
    }
  });
}

const LAYOUTS: Layout[] = ['plain', 'transposed', 'sliced', 'broadcast'];

describe.each(PATHS)('matmul on the $name path', (path) => {
  let caps: Awaited<ReturnType<typeof usePath>>;
  beforeAll(async () => {
    caps = await usePath(path);
  });
  afterAll(() => {
    resetCpuConfig();
  });

  it('really runs that path', () => {
    if (path.name !== 'js') expect(caps.wasm).toBe(true);
    if (path.name === 'workers') expect(caps.workers).toBeGreaterThan(0);
  });

  it('matches the reference on random sizes, layouts and dtypes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 37 }),
        fc.integer({ min: 1, max: 41 }),
        fc.integer({ min: 1, max: 35 }),
        fc.constantFrom<'float32' | 'float64'>('float32', 'float64'),
        fc.constantFrom(...LAYOUTS),
        fc.constantFrom(...LAYOUTS),
        fc.integer({ min: 0, max: 1e6 }),
        (m, k, n, dtype, la, lb, seed) => check([m, k], [k, n], dtype, la, lb, seed),
      ),
      { numRuns: 60 },
    );
  });

  it('crosses the cache blocks (K > 256, n past a column block, m past a row block)', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      check([67, 517], [517, 261], dtype, 'plain', 'plain', 1);
      check([131, 300], [300, 530], dtype, 'transposed', 'plain', 2);
      check([5, 257], [257, 9], dtype, 'sliced', 'transposed', 3);
    }
  });

  it('batches with broadcast batch dims (a shared B is packed once)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 19 }),
        fc.integer({ min: 1, max: 23 }),
        fc.integer({ min: 1, max: 17 }),
        fc.constantFrom<'float32' | 'float64'>('float32', 'float64'),
        fc.constantFrom(
          [[3, 2], []], [[2], [2]], [[3, 1], [1, 2]], [[1], [4]], [[2, 2], [2, 1]],
        ),
        fc.constantFrom<Layout>('plain', 'transposed'),
        fc.integer({ min: 0, max: 1e6 }),
        (m, k, n, dtype, [ba, bb], lb, seed) => check([...ba!, m, k], [...bb!, k, n], dtype, 'plain', lb, seed),
      ),
      { numRuns: 40 },
    );
  });

  it('propagates NaN and ±Inf like the reference', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      check([9, 13], [13, 11], dtype, 'plain', 'plain', 4, [Number.NaN, Infinity, -Infinity]);
    }
  });

  it('gives zeros for an empty inner dimension, and empty results for empty outer ones', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      // reused buffers hold old values: the zeros must be written
      tidy(() => tensor(new Float64Array(12).fill(7), { shape: [3, 4], dtype }).add(1));
      expect(Array.from(tensor(new Float64Array(0), { shape: [3, 0], dtype }).matmul(tensor(new Float64Array(0), { shape: [0, 4], dtype })).dataSync())).toEqual(new Array(12).fill(0));
      expect(tensor(new Float64Array(0), { shape: [0, 5], dtype }).matmul(tensor(new Float64Array(10), { shape: [5, 2], dtype })).shape).toEqual([0, 2]);
    }
  });
});
