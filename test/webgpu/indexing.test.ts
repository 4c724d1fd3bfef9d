// int32 and the indexing ops, WebGPU against the CPU: random shapes (empty and size-1 dims,
// sizes across the 256-wide workgroup), inputs in strided layouts, exact agreement (integer
// results, and gathers/argmax that copy or pick values). Index inputs are drawn as small integers
// in range, uploaded as float32 and cast to int32 on the device (so the cast kernel runs too).
// Out-of-range indices: the CPU throws; WebGPU reads 0 (gather) or adds nowhere (scatterAdd),
// as docs/webgpu.md says.
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { tensor, type Tensor } from '../../src';
import { broadcastArb, compareDevices, describeGPU, fcRuns, materialize, placedArb, shapeArb, expectClose } from './helpers';

const int = (t: Tensor) => t.cast('int32');
const EXACT = {};

const INT_BINARY = ['add', 'sub', 'mul', 'maximum', 'minimum', 'eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const;
const INT_UNARY = ['neg', 'abs', 'sign', 'relu'] as const;

describeGPU('int32 on WebGPU', () => {
  it('upload and read back keep every int32 (the full range)', async () => {
    const v = [0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 123456789];
    const t = tensor(v, { dtype: 'int32', device: 'webgpu' });
    const back = await t.data();
    expect(back).toBeInstanceOf(Int32Array);
    expect(Array.from(back)).toEqual(v);
    expect(await t.permute([0]).add(1).array()).toEqual([1, 2, 0, -(2 ** 31), -(2 ** 31) + 1, 123456790]);
    expect(await t.mul(t).array()).toEqual(v.map((x) => Math.imul(x, x)));
    expect(await t.neg().array()).toEqual(v.map((x) => -x | 0));
  });

  it('elementwise int32 ops equal the CPU (broadcast, strided)', async () => {
    const arb = fc.tuple(broadcastArb(2), fc.constantFrom(...INT_BINARY, ...INT_UNARY)).chain(([[s1, s2], op]) =>
      fc.tuple(fc.constant(op), placedArb(s1!, { min: -5, max: 5, ints: true }), placedArb(s2!, { min: -5, max: 5, ints: true })),
    );
    await fc.assert(
      fc.asyncProperty(arb, async ([op, a, b]) => {
        const unary = (INT_UNARY as readonly string[]).includes(op);
        await compareDevices(`int32 ${op}`, unary ? [a] : [a, b], (xs) => {
          const x = int(xs[0]!);
          return unary ? (x as never as Record<string, () => Tensor>)[op]!() : (x as never as Record<string, (y: Tensor) => Tensor>)[op]!(int(xs[1]!));
        }, EXACT);
      }),
      fcRuns(25),
    );
  });

  it('int32 sum/max/min, where with an int32 condition, and float → int32 casts equal the CPU', async () => {
    const arb = shapeArb(1, 3).chain((s) =>
      fc.tuple(placedArb(s, { min: -9, max: 9, ints: true }), placedArb(s, { min: -300, max: 300 }), fc.integer({ min: 0, max: s.length - 1 })),
    );
    await fc.assert(
      fc.asyncProperty(arb, async ([a, f, axis]) => {
        for (const op of ['sum', 'max', 'min'] as const) {
          if (op !== 'sum' && a.shape[axis] === 0) continue;
          await compareDevices(`int32 ${op}`, [a], ([x]) => int(x!)[op](axis), EXACT);
        }
        await compareDevices('float → int32 cast', [f], ([x]) => int(x!), EXACT);
        await compareDevices('where(int32 cond)', [a, f], ([c, x]) => x!.where(int(c!).gt(0), -1), EXACT);
      }),
      fcRuns(15),
    );
    const special = tensor([1.9, -1.9, 3e9, -3e9, NaN, Infinity, -Infinity], { device: 'webgpu' });
    expect(await special.cast('int32').array()).toEqual([1, -1, 2 ** 31 - 1, -(2 ** 31), 0, 2 ** 31 - 1, -(2 ** 31)]);
  });
});

describeGPU('indexing on WebGPU', () => {
  /** x of rank 1–3, an axis, an index shape that fits, index values in range. */
  const gatherArb = shapeArb(1, 3)
    .filter((s) => s.every((d) => d > 0))
    .chain((s) =>
      fc.integer({ min: 0, max: s.length - 1 }).chain((axis) =>
        fc.tuple(...s.map((d, i) => fc.integer({ min: i === axis ? 0 : 1, max: i === axis ? 5 : d }))).chain((is) =>
          fc.tuple(placedArb(s), placedArb(is, { min: 0, max: s[axis]! - 1, ints: true }), fc.constant(axis)),
        ),
      ),
    );

  it('gather, scatterAdd and indexSelect equal the CPU, and so do their gradients', async () => {
    await fc.assert(
      fc.asyncProperty(gatherArb, async ([x, index, axis]) => {
        await compareDevices('gather', [x, index], ([t, i]) => t!.gather(axis, int(i!)), EXACT);
        // float32 sums in the same order on both devices (index order): exact
        await compareDevices('scatterAdd', [index, index], ([g, i]) => g!.scatterAdd(int(i!), axis, x.shape), EXACT);
        const flat = { ...index, shape: [index.shape.reduce((p, d) => p * d, 1)], layout: 'contiguous' as const };
        const flatOk = flat.values.length === flat.shape[0];
        if (flatOk) await compareDevices('indexSelect', [x, flat], ([t, i]) => t!.indexSelect(axis, int(i!)), EXACT);
        // the gradient of gather (a scatterAdd of the upstream gradient) on both devices
        const grads: Float32Array[] = [];
        for (const device of ['cpu', 'webgpu'] as const) {
          const m = materialize(x, device, true);
          const i = materialize(index, device);
          const out = m.x.gather(axis, int(i.x));
          out.mul(out).sum().backward();
          grads.push((await m.leaf.grad!.data()) as Float32Array);
          for (const t of [m.leaf, i.leaf, out]) t.dispose();
        }
        expectClose(grads[1]!, grads[0]!, { rtol: 1e-6 }, `gather gradient on [${x.shape}] axis ${axis}`);
      }),
      fcRuns(20),
    );
  });

  it('argmax/argmin (ties, NaN) and oneHot equal the CPU', async () => {
    const arb = shapeArb(1, 3)
      .filter((s) => s.every((d) => d > 0))
      .chain((s) => fc.tuple(placedArb(s, { min: -2, max: 2, ints: true }), fc.integer({ min: 0, max: s.length - 1 }), fc.boolean()));
    await fc.assert(
      fc.asyncProperty(arb, async ([x, axis, keep]) => {
        await compareDevices('argmax', [x], ([t]) => t!.argmax(axis, keep), EXACT);
        await compareDevices('argmin', [x], ([t]) => t!.argmin(axis, keep), EXACT);
        // NaN wherever x is 2: NaN counts as the extremum for both
        await compareDevices('argmax with NaN', [x], ([t]) => t!.where(t!.ne(2), NaN).argmax(axis), EXACT);
        await compareDevices('argmin with NaN', [x], ([t]) => t!.where(t!.ne(2), NaN).argmin(axis), EXACT);
        await compareDevices('oneHot', [x], ([t]) => int(t!.add(2)).oneHot(5), EXACT);
      }),
      fcRuns(15),
    );
  });

  it('an out-of-range index reads 0 in gather and adds nowhere in scatterAdd (documented)', async () => {
    const x = tensor([[1, 2, 3]], { device: 'webgpu' });
    const bad = tensor([[0, 3, -1, 2]], { dtype: 'int32', device: 'webgpu' });
    expect(await x.gather(1, bad).array()).toEqual([[1, 0, 0, 3]]);
    expect(await tensor([[1, 2, 4, 8]], { device: 'webgpu' }).scatterAdd(bad, 1, [1, 3]).array()).toEqual([[1, 0, 8]]);
  });
});
