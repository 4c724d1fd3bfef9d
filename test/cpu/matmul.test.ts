// matmul on every CPU path (plain JS, wasm SIMD, wasm over worker threads) against a float64
// reference: odd sizes around the kernel's tiles and cache blocks, transposed / sliced /
// broadcast operands, batches with broadcast batch dims, float32 and float64, NaN and ±Inf.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tensor, tidy } from '../../src';
import { cpuCapabilities } from '../../src/backends/cpu';
import { gemmStats } from '../../src/backends/cpu/gemm';
import { PATHS, resetCpuConfig, usePath } from './paths';
import { firstMismatch, matmulRef } from './reference';
import { LAYOUTS, laidOut, type Layout } from './views';

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
    if (path.name.startsWith('workers')) {
      expect(caps.workers).toBeGreaterThan(0);
      // workers join in as they wake: over a few products of many chunks they take some
      const before = cpuCapabilities().workerChunks;
      const a = tensor(rand(384 * 384, 1), { shape: [384, 384] });
      for (let i = 0; i < 50 && cpuCapabilities().workerChunks === before; i++) a.matmul(a).dispose();
      expect(cpuCapabilities().workerChunks).toBeGreaterThan(before);
    }
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

  it('thin products (a row or column of C, or K = 1) in every layout, small and past the heap threshold', () => {
    // sizes up to 300 put operands on both sides of the wasm heap's 256-byte threshold, so the
    // matrix-vector kernels see vectors used in place and gathered, and outputs in scratch
    const len = fc.oneof(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 60, max: 300 }));
    fc.assert(
      fc.property(
        fc.constantFrom('m', 'n', 'k'),
        len, len,
        fc.constantFrom<'float32' | 'float64'>('float32', 'float64'),
        fc.constantFrom(...LAYOUTS),
        fc.constantFrom(...LAYOUTS),
        fc.integer({ min: 0, max: 1e6 }),
        (one, p, q, dtype, la, lb, seed) => {
          const [m, k, n] = one === 'm' ? [1, p, q] : one === 'n' ? [p, q, 1] : [p, 1, q];
          check([m, k], [k, n], dtype, la, lb, seed);
        },
      ),
      { numRuns: 80 },
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

  it('writes C straight into an output in the heap when its tiles are whole (and copies it out otherwise)', () => {
    // whole tiles (m a multiple of MR = 4, n of NR: 8 for float32, 4 for float64): the kernel's
    // writes land in the output itself; batches each at their own offset, a broadcast B packed once
    const copied = (fn: () => void) => {
      const before = gemmStats.copiedOut;
      fn();
      return gemmStats.copiedOut - before;
    };
    for (const dtype of ['float32', 'float64'] as const) {
      const whole = copied(() => {
        check([16, 24], [24, 32], dtype, 'plain', 'plain', 7);
        check([40, 300], [300, 64], dtype, 'transposed', 'plain', 8);
        check([3, 8, 20], [20, 16], dtype, 'plain', 'transposed', 9);
        check([2, 1, 12, 9], [3, 9, 8], dtype, 'sliced', 'plain', 10);
      });
      if (path.name !== 'js') expect(whole).toBe(0);
      // ragged tiles go through scratch
      const ragged = copied(() => check([18, 24], [24, 33], dtype, 'plain', 'plain', 11));
      if (path.name !== 'js') expect(ragged).toBe(18 * 33);
    }
  });

  it('reads small windows of wide buffers (packed from JS, not copied whole)', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const av = rand(40 * 300, 5);
      const bv = rand(300 * 200, 6);
      // A = rows 3..20, columns 100..109 of a 40×300 buffer; B = a 10×7 window of a 300×200 one
      const a = tensor(av, { shape: [40, 300], dtype }).slice([3, 100], [20, 110]);
      const b = tensor(bv, { shape: [300, 200], dtype }).slice([50, 20], [60, 27]);
      const aw = Float64Array.from({ length: 17 * 10 }, (_, o) => av[(3 + Math.floor(o / 10)) * 300 + 100 + (o % 10)]!);
      const bw = Float64Array.from({ length: 10 * 7 }, (_, o) => bv[(50 + Math.floor(o / 7)) * 200 + 20 + (o % 7)]!);
      const round = (x: Float64Array) => (dtype === 'float32' ? Float64Array.from(Float32Array.from(x)) : x);
      const want = matmulRef(round(aw), [17, 10], round(bw), [10, 7]);
      const got = a.matmul(b).dataSync();
      const eps = dtype === 'float32' ? 2e-6 : 1e-14;
      expect(firstMismatch(got, want.value, (i) => eps * (want.mag[i]! + 1))).toBe(-1);
      // and transposed windows: bᵀ·aᵀ = (a·b)ᵀ
      const gotT = b.T.matmul(a.T).T.dataSync();
      expect(firstMismatch(gotT, want.value, (i) => eps * (want.mag[i]! + 1))).toBe(-1);
    }
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
