// Views, copies and the buffer pool: movement ops on every layout against a reference, kernels
// that must write zeros into reused buffers, and a double release that must not hand one buffer
// out twice.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concat, tensor, tidy } from '../../src';
import { alloc, clearPool, fresh, release } from '../../src/backends/cpu/storage';
import { LAYOUTS, laidOut, size, unravel, values, type FloatDType } from './views';

const shapes = fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 });

describe('views and copies', () => {
  it('reshape, pad and concat read any layout correctly', () => {
    fc.assert(
      fc.property(shapes, fc.constantFrom(...LAYOUTS), fc.constantFrom<FloatDType>('float32', 'float64'), fc.integer({ min: 0, max: 1e6 }), (shape, lay, dtype, seed) => {
        const v = values(size(shape), seed);
        tidy(() => {
          const x = laidOut(v, shape, dtype, lay);
          expect(Array.from(x.reshape([-1]).dataSync())).toEqual(Array.from(v));
          // pad one before and two after on the last axis
          const p = x.pad(shape.map((_, i) => (i === shape.length - 1 ? [1, 2] : [0, 0]) as [number, number]));
          const last = shape[shape.length - 1]!;
          const pv = p.dataSync();
          for (let o = 0; o < pv.length; o++) {
            const j = o % (last + 3);
            const row = Math.floor(o / (last + 3));
            expect(pv[o]).toBe(j >= 1 && j <= last ? v[row * last + j - 1] : 0);
          }
          // concat along the first axis with itself
          const c = concat([x, x], 0).dataSync();
          expect(Array.from(c)).toEqual([...v, ...v]);
        });
      }),
      { numRuns: 60 },
    );
  });

  it('permuted views read back in the permuted order', () => {
    const v = values(2 * 3 * 4, 5);
    const x = tensor(Array.from(v), { shape: [2, 3, 4] }).permute([2, 0, 1]);
    const got = x.dataSync();
    for (let o = 0; o < got.length; o++) {
      const [k, i, j] = unravel(o, [4, 2, 3]) as [number, number, number];
      expect(got[o]).toBe(v[i * 12 + j * 4 + k]);
    }
  });
});

describe('the buffer pool', () => {
  it('kernels that need zeros write them into reused buffers', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      // leave released buffers full of NaN in the pool, of the sizes asked for next
      for (let i = 0; i < 4; i++) tidy(() => tensor(new Array(12).fill(Number.NaN), { shape: [12], dtype }).add(0));
      expect(Array.from(tensor([1, 2], { dtype }).pad([[5, 5]]).dataSync())).toEqual([0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0]);
      const empty = tensor([], { shape: [3, 0], dtype }).matmul(tensor([], { shape: [0, 4], dtype }));
      expect(Array.from(empty.dataSync())).toEqual(new Array(12).fill(0));
    }
  });

  it('reuses released buffers and never hands one out twice after a double release', () => {
    clearPool();
    const a = fresh(alloc('float32', 1000), [1000]);
    const data = a.buf.data;
    release(a);
    const b = alloc('float32', 1000);
    expect(b).toBe(data); // reused
    const s = fresh(b, [1000]);
    release(s);
    release(s); // a lifetime bug elsewhere
    const c = alloc('float32', 1000);
    const d = alloc('float32', 1000);
    expect(c).not.toBe(d);
    expect(c === data && d === data).toBe(false);
    clearPool();
  });
});
