// Convolution and pooling on WebGPU equal the CPU (float32 both): forward values, fold (the WGSL
// gather kernel) on drawn window arguments, and the gradients of every input through conv2d,
// maxPool2d and avgPool2d with strided inputs. Tolerance as the other float32 comparisons:
// |diff| ≤ 1e-5·max|v| + 1e-4·|v|.
import fc from 'fast-check';
import { it } from 'vitest';
import { avgPool2d, conv2d, fold, maxPool2d, tidy, type Tensor } from '../../src';
import { compareDevices, describeGPU, expectClose, fcRuns, materialize, placedArb, size, type Placed } from './helpers';

const pair = (min: number, max: number) => fc.tuple(fc.integer({ min, max }), fc.integer({ min, max }));

interface Q {
  n: number;
  groups: number;
  cg: number;
  og: number;
  k: [number, number];
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  hw: [number, number];
  bias: boolean;
}

const convQ: fc.Arbitrary<Q> = fc
  .record({
    n: fc.integer({ min: 1, max: 3 }),
    groups: fc.integer({ min: 1, max: 2 }),
    cg: fc.integer({ min: 1, max: 3 }),
    og: fc.integer({ min: 1, max: 3 }),
    k: pair(1, 3),
    stride: pair(1, 2),
    padding: pair(0, 1),
    dilation: pair(1, 2),
    extra: pair(0, 4),
    bias: fc.boolean(),
  })
  .map((q) => ({
    ...q,
    // pooling shares these arguments: padding ≤ k/2, and none with dilation (see maxPool2d)
    padding: q.padding.map((p, i) => (q.dilation[i]! > 1 ? 0 : Math.min(p, Math.floor(q.k[i]! / 2)))) as [number, number],
    hw: [0, 1].map((i) => q.dilation[i]! * (q.k[i]! - 1) + 1 + q.extra[i]!) as [number, number],
  }));

const convInputs = (q: Q) =>
  fc.tuple(
    placedArb([q.n, q.cg * q.groups, ...q.hw], { min: -2, max: 2 }),
    placedArb([q.og * q.groups, q.cg, ...q.k], { min: -1, max: 1 }),
    placedArb([q.og * q.groups], { min: -1, max: 1 }),
  );

const PROGRAMS: Record<string, (q: Q, xs: Tensor[]) => Tensor> = {
  conv2d: (q, [x, w, b]) => conv2d(x!, w!, q.bias ? b! : null, q),
  'conv2d → relu → maxPool2d': (q, [x, w, b]) => {
    const y = conv2d(x!, w!, b!, { groups: q.groups }).relu();
    return maxPool2d(y, [Math.min(2, y.shape[2]!), Math.min(2, y.shape[3]!)], { stride: 1 });
  },
  maxPool2d: (q, [x]) => maxPool2d(x!, q.k, q),
  avgPool2d: (q, [x]) => avgPool2d(x!, q.k, { stride: q.stride, padding: q.padding, countIncludePad: q.n !== 2 }),
};

async function gradients(device: 'cpu' | 'webgpu', f: (xs: Tensor[]) => Tensor, inputs: Placed[]): Promise<Float32Array[]> {
  const made = inputs.map((p) => materialize(p, device, true));
  try {
    tidy(() => {
      const out = f(made.map((m) => m.x));
      const cot = Float32Array.from({ length: out.size }, (_, i) => Math.sin(1 + 1.3 * i));
      out.mul(materialize({ shape: [...out.shape], layout: 'contiguous', values: cot }, device).x).sum().backward();
    });
    return await Promise.all(made.map(async (m) => (m.leaf.grad ? ((await m.leaf.grad.data()) as Float32Array) : new Float32Array(m.leaf.size))));
  } finally {
    for (const m of made) m.leaf.dispose();
  }
}

describeGPU('webgpu convolution and pooling match the CPU', () => {
  it('forward and the gradient of every input (conv2d with groups, stride, padding, dilation; pooling)', async () => {
    const arb = convQ.chain((q) => fc.tuple(fc.constant(q), fc.constantFrom(...Object.keys(PROGRAMS)), convInputs(q)));
    await fc.assert(
      fc.asyncProperty(arb, async ([q, name, inputs]) => {
        const f = (xs: Tensor[]) => PROGRAMS[name]!(q, xs);
        await compareDevices(`${name} ${JSON.stringify(q)}`, inputs, f, (cpu) => ({ atol: 1e-5 * Math.max(1, ...cpu.map(Math.abs)), rtol: 1e-4 }));
        const want = await gradients('cpu', f, inputs);
        const got = await gradients('webgpu', f, inputs);
        want.forEach((w, i) => {
          const scale = Math.max(1, ...w.map(Math.abs));
          expectClose(got[i]!, w, { atol: 1e-5 * scale, rtol: 1e-4 }, `${name}: d/d input ${i} (${inputs[i]!.layout}) ${JSON.stringify(q)}`);
        });
      }),
      fcRuns(30),
    );
  });

  it('fold (col2im by gather) over drawn window axes, sizes, strides and dilations, strided input', async () => {
    const arb = fc
      .array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 4 })
      .chain((shape) =>
        fc.record({
          shape: fc.constant(shape),
          axes: fc.subarray([...shape.keys()], { minLength: 1, maxLength: Math.min(2, shape.length) }),
          k: pair(1, 3),
          s: pair(1, 3),
          d: pair(1, 2),
        }),
      )
      .chain((a) => {
        const size_ = a.axes.map((_, i) => a.k[i]!);
        const stride = a.axes.map((_, i) => a.s[i]!);
        const dilation = a.axes.map((_, i) => a.d[i]!);
        const win = [...a.shape];
        a.axes.forEach((ax, i) => {
          const span = dilation[i]! * (size_[i]! - 1) + 1;
          win[ax] = a.shape[ax]! < span ? 0 : Math.floor((a.shape[ax]! - span) / stride[i]!) + 1;
        });
        const gShape = [...win, ...size_];
        return fc.tuple(fc.constant({ ...a, size: size_, stride, dilation }), size(gShape) > 0 ? placedArb(gShape) : fc.constant(null));
      })
      .filter(([, g]) => g !== null);
    await fc.assert(
      fc.asyncProperty(arb, async ([a, g]) => {
        const f = ([t]: Tensor[]) => fold(t!, a.shape, a.axes, a.size, { stride: a.stride, dilation: a.dilation });
        await compareDevices(`fold ${JSON.stringify(a)}`, [g!], f, (cpu) => ({ atol: 1e-6 * Math.max(1, ...cpu.map(Math.abs)), rtol: 1e-5 }));
      }),
      fcRuns(60),
    );
  });
});
