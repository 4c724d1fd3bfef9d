// Reductions (sum, max, min) over any set of axes, keepDims or not, on every layout, against a
// float64 reference; NaN wins max/min; empty sums are 0.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tidy } from '../../src';
import { configureCpu, resetCpuConfig } from '../../src/backends/cpu';
import { LAYOUTS, laidOut, size, unravel, values, type FloatDType } from './views';

type Op = 'sum' | 'max' | 'min';

function reference(op: Op, v: ArrayLike<number>, shape: number[], axes: number[], keepDims: boolean) {
  const outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const out = new Float64Array(size(outShape)).fill(op === 'sum' ? 0 : op === 'max' ? -Infinity : Infinity);
  for (let o = 0; o < v.length; o++) {
    const idx = unravel(o, shape).map((x, i) => (axes.includes(i) ? 0 : x));
    const k = idx.reduce((p, x, d) => p * outShape[d]! + x, 0);
    const x = v[o]!;
    if (op === 'sum') out[k]! += x;
    else if (Number.isNaN(x) || Number.isNaN(out[k]!)) out[k] = Number.NaN;
    else out[k] = op === 'max' ? Math.max(out[k]!, x) : Math.min(out[k]!, x);
  }
  return { shape: keepDims ? outShape : shape.filter((_, i) => !axes.includes(i)), value: out };
}

const cases = fc
  .array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 4 })
  .chain((shape) => fc.tuple(fc.constant(shape), fc.subarray([...shape.keys()], { minLength: 1 })));

describe('reductions', () => {
  it.each(['sum', 'max', 'min'] as const)('%s over any axes and layout matches the reference', (op) => {
    fc.assert(
      fc.property(
        cases, fc.boolean(), fc.constantFrom<FloatDType>('float32', 'float64'), fc.constantFrom(...LAYOUTS), fc.boolean(),
        fc.integer({ min: 0, max: 1e6 }),
        ([shape, axes], keepDims, dtype, lay, specials, seed) => {
          const v = values(size(shape), seed, specials && op !== 'sum');
          const held = dtype === 'float32' ? Float64Array.from(v, Math.fround) : v;
          const want = reference(op, held, shape, axes, keepDims);
          tidy(() => {
            const y = laidOut(v, shape, dtype, lay)[op](axes, keepDims);
            expect(y.shape).toEqual(want.shape);
            const got = y.dataSync();
            const round = dtype === 'float32' ? Math.fround : (x: number) => x;
            want.value.forEach((w, i) => {
              const ok = Number.isNaN(w) ? Number.isNaN(got[i]!) : got[i] === round(w) || Math.abs(got[i]! - round(w)) <= 1e-12 * Math.abs(w);
              if (!ok) throw new Error(`${op} ${lay}[${shape}] axes [${axes}] ${dtype}: element ${i} is ${got[i]}, want ${w}`);
            });
          });
        },
      ),
      { numRuns: 80 },
    );
  });

  it('sums over an empty axis are 0', () => {
    const x = laidOut([], [3, 0], 'float32', 'plain');
    expect(Array.from(x.sum(1).dataSync())).toEqual([0, 0, 0]);
    expect(Array.from(x.sum().dataSync())).toEqual([0]);
  });

  it('a bias gradient (sum over the batch axis) of a transposed view', () => {
    const v = values(64 * 33, 9);
    const want = reference('sum', Float64Array.from(v, Math.fround), [64, 33], [0], false);
    const got = laidOut(v, [64, 33], 'float32', 'transposed').sum(0).dataSync();
    want.value.forEach((w, i) => expect(got[i]).toBeCloseTo(w, 4));
  });

  it.each([true, false])('column sums (a batch axis) of blocks of any width match the reference (wasm kernel on: %s)', (on) => {
    configureCpu({ wasm: on });
    try {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 130 }), fc.integer({ min: 1, max: 131 }),
          fc.constantFrom<FloatDType>('float32', 'float64'), fc.integer({ min: 0, max: 1e6 }),
          (A, R, B, dtype, seed) => {
            const v = values(A * R * B, seed);
            const held = dtype === 'float32' ? Float64Array.from(v, Math.fround) : v;
            const got = tidy(() => laidOut(v, [A, R, B], dtype, 'plain').sum(1).dataSync());
            const eps = dtype === 'float32' ? 1e-7 : 1e-15;
            for (let a = 0; a < A; a++) {
              for (let b = 0; b < B; b++) {
                let s = 0;
                let m = 0;
                for (let r = 0; r < R; r++) {
                  s += held[(a * R + r) * B + b]!;
                  m += Math.abs(held[(a * R + r) * B + b]!);
                }
                const g = got[a * B + b]!;
                if (!(Math.abs(g - s) <= eps * m + Math.abs(s) * (dtype === 'float32' ? 6e-8 : 0))) {
                  throw new Error(`sum [${A},${R},${B}] axis 1 ${dtype}: element ${a * B + b} is ${g}, want ${s}`);
                }
              }
            }
          },
        ),
        { numRuns: 60 },
      );
    } finally {
      resetCpuConfig();
    }
  });

  it.each([true, false])('long rows sum to the reference (wasm kernel on: %s)', (on) => {
    configureCpu({ wasm: on });
    try {
      for (const dtype of ['float32', 'float64'] as const) {
        const v = values(256 * 4099, 21);
        const held = dtype === 'float32' ? Float64Array.from(v, Math.fround) : v;
        const x = laidOut(v, [256, 4099], dtype, 'plain');
        const rows = x.sum(1).dataSync();
        const total = x.sum().dataSync()[0]!;
        const eps = dtype === 'float32' ? 1e-6 : 1e-12;
        let all = 0;
        let mag = 0;
        for (let i = 0; i < 256; i++) {
          let s = 0;
          let m = 0;
          for (let j = 0; j < 4099; j++) {
            s += held[i * 4099 + j]!;
            m += Math.abs(held[i * 4099 + j]!);
          }
          expect(Math.abs(rows[i]! - s)).toBeLessThanOrEqual(eps * m);
          all += s;
          mag += m;
        }
        expect(Math.abs(total - all)).toBeLessThanOrEqual(eps * mag);
      }
    } finally {
      resetCpuConfig();
    }
  });
});
