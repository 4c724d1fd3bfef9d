// Movement ops, WebGPU against the CPU (exact: they move values, never combine them). On WebGPU
// reshape (of a row-major input), permute, expand and slice are views; pad and concat copy
// through the elementwise template with a windowed output. Chains of views then feed every
// other kernel, which must read them through their strides.
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { concat, memory, randn, tensor, tidy } from '../../src';
import { webgpuStats } from '../../src/backends/webgpu';
import { compareDevices, describeGPU, fcRuns, placedArb, shapeArb, size } from './helpers';

const RUNS = 25;

/** a shape and a permutation of its axes */
const permArb = (r: number) => fc.shuffledSubarray([...Array(r).keys()], { minLength: r, maxLength: r });

/** begin/end per axis */
const windowArb = (shape: number[]) =>
  fc.tuple(...shape.map((d) => fc.tuple(fc.integer({ min: 0, max: d }), fc.integer({ min: 0, max: d })).map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const)));

describeGPU('webgpu movement ops match the CPU', () => {
  it('reshape (a view of row-major inputs, a copy of strided ones)', async () => {
    const arb = shapeArb()
      .chain((s) => fc.tuple(placedArb(s), fc.shuffledSubarray(s, { minLength: s.length, maxLength: s.length })))
      .map(([x, dims]) => [x, size(x.shape) === 0 ? [0, ...dims] : dims] as const);
    await fc.assert(fc.asyncProperty(arb, ([x, to]) => compareDevices(`reshape to [${to}]`, [x], ([t]) => t!.reshape(to), {})), fcRuns(RUNS));
  });

  it('permute', async () => {
    const arb = shapeArb().chain((s) => fc.tuple(placedArb(s), permArb(s.length)));
    await fc.assert(fc.asyncProperty(arb, ([x, p]) => compareDevices(`permute [${p}]`, [x], ([t]) => t!.permute(p), {})), fcRuns(RUNS));
  });

  it('expand (stride 0), also over new leading axes', async () => {
    const arb = shapeArb(0, 3).chain((s) =>
      fc.tuple(
        placedArb(s.map((d, i) => (i % 2 ? 1 : d))),
        fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 1 }),
        fc.constant(s),
      ),
    );
    await fc.assert(
      fc.asyncProperty(arb, ([x, lead, s]) => {
        const to = [...lead, ...s.map((d, i) => (i % 2 ? Math.max(d, 1) + 1 : d))];
        return compareDevices(`expand to [${to}]`, [x], ([t]) => t!.expand(to), {});
      }),
      fcRuns(RUNS),
    );
  });

  it('slice (including empty windows)', async () => {
    const arb = shapeArb().chain((s) => fc.tuple(placedArb(s), windowArb(s)));
    await fc.assert(
      fc.asyncProperty(arb, ([x, w]) => {
        const begin = w.map((p) => p[0]);
        const end = w.map((p) => p[1]);
        return compareDevices(`slice [${begin}]..[${end}]`, [x], ([t]) => t!.slice(begin, end), {});
      }),
      fcRuns(RUNS),
    );
  });

  it('pad', async () => {
    const arb = shapeArb(0, 3).chain((s) =>
      fc.tuple(placedArb(s), fc.tuple(...s.map(() => fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }))))),
    );
    await fc.assert(fc.asyncProperty(arb, ([x, w]) => compareDevices(`pad ${JSON.stringify(w)}`, [x], ([t]) => t!.pad(w), {})), fcRuns(RUNS));
  });

  it('concat of 1–4 inputs (some empty along the axis)', async () => {
    const arb = shapeArb(1, 4).chain((s) =>
      fc.tuple(fc.integer({ min: 0, max: s.length - 1 }), fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 4 })).chain(([axis, lens]) =>
        fc.tuple(fc.constant(axis), fc.tuple(...lens.map((n) => placedArb(s.map((d, i) => (i === axis ? n : d)))))),
      ),
    );
    await fc.assert(fc.asyncProperty(arb, ([axis, xs]) => compareDevices(`concat axis ${axis}`, xs, (ts) => concat(ts, axis), {})), fcRuns(RUNS));
  });

  it('chains of views feed the other kernels (elementwise, reduce, matmul)', async () => {
    const arb = shapeArb(2, 4)
      .filter((s) => size(s) > 0 && Math.max(...s) < 100)
      .chain((s) => fc.tuple(placedArb(s), permArb(s.length)));
    await fc.assert(
      fc.asyncProperty(arb, ([x, p]) =>
        compareDevices(
          'permute → slice → expand → ops',
          [x],
          ([t]) => {
            const v = t!.permute(p).slice(t!.shape.map(() => 0), p.map((a) => Math.max(1, t!.shape[a]! - 1)));
            const w = v.expand([2, ...v.shape]);
            const m = w.reshape([-1, v.shape[v.shape.length - 1]!]);
            return m.exp().sum(0).add(m.T.matmul(m).max(1)).mul(0.01);
          },
          { rtol: 1e-5, atol: 1e-6 },
        ),
      ),
      fcRuns(RUNS),
    );
  });

  it('views share the buffer: reshape, permute, expand, slice allocate nothing', async () => {
    const x = randn([4, 6, 5], { device: 'webgpu' });
    const before = webgpuStats()!;
    const mem = memory().devices.webgpu!;
    tidy(() => {
      x.reshape([24, 5]);
      x.permute([2, 0, 1]);
      x.slice([1, 0, 2], [3, 6, 5]);
      x.reshape([4, 6, 5, 1]).expand([4, 6, 5, 3]);
      expect(webgpuStats()!.created).toBe(before.created);
      expect(memory().devices.webgpu!.buffers).toBe(mem.buffers);
      expect(memory().devices.webgpu!.tensors).toBe(mem.tensors + 5);
    });
    expect(memory().devices.webgpu!.tensors).toBe(mem.tensors);
    x.dispose();
    expect(memory().devices.webgpu!.buffers).toBe(mem.buffers - 1);
  });

  it('reading a strided view gathers it row-major', async () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]], { device: 'webgpu' });
    expect(await x.T.array()).toEqual([[1, 4], [2, 5], [3, 6]]);
    expect(await x.slice([0, 1]).array()).toEqual([[2, 3], [5, 6]]);
    expect(await x.slice([1, 0], [2, 2]).expand([3, 2]).array()).toEqual([[4, 5], [4, 5], [4, 5]]);
  });
});
