// Gradients on WebGPU equal gradients on the CPU: the same random programs, inputs and layouts
// (float32 on both), backward on each device, every leaf's gradient compared. The VJPs are
// shared, so this checks that every kernel a backward pass uses (the forward ops and the ones
// VJPs are built from: sum-to-shape, pad for slice, slice for concat, eq/div for max, where...)
// agrees across devices, views included.
//
// Tolerance: |diff| ≤ 1e-5·max|g| + 1e-4·|g| per leaf (float32, a few ops deep).
import fc from 'fast-check';
import { it } from 'vitest';
import { concat, tidy, where, type Tensor } from '../../src';
import { describeGPU, expectClose, fcRuns, materialize, placedArb, type Placed } from './helpers';

type Program = (x: Tensor, y: Tensor, w: Tensor) => Tensor;

// x: [m, n]; y broadcasts against x; w: [n, k]
const PROGRAMS: Record<string, Program> = {
  'tanh(x·y) @ w': (x, y, w) => x.mul(y).tanh().matmul(w),
  'softmax, log, mean': (x, y) => x.add(y).softmax(-1).add(1e-3).log().mean(0),
  'max and min over axes (ties share)': (x, y) => x.max(-1, true).sub(x.add(y).min(0)),
  'where, exp, sin, div': (x, y) => where(x.gt(0), x.exp(), y.sin()).div(y.abs().add(1)),
  'pow, sqrt, sigmoid': (x, y) => x.abs().add(0.5).pow(y.cos().add(1)).sqrt().sigmoid(),
  'concat, pad, slice': (x, y, w) => {
    const c = concat([x, y.expand(x.shape), w.T.slice([0, 0], [x.shape[0], x.shape[1]]).pad([[0, 0], [0, 0]])], 0);
    return c.pad([[1, 2], [0, 1]]).slice([1, 0], [c.shape[0]! + 2, c.shape[1]!]).relu();
  },
  'transposes and a batched matmul': (x, y, w) => {
    const b = x.add(y).unsqueeze(0).expand([2, ...x.shape]);
    return b.matmul(w).transpose(-1, -2).matmul(b).sum(0).neg().abs();
  },
  'sum to shape, maximum, minimum': (x, y, w) => x.maximum(y).minimum(x.mul(0.5)).sum(0, true).matmul(w).square(),
};

const programArb = fc
  .record({
    name: fc.constantFrom(...Object.keys(PROGRAMS)),
    m: fc.integer({ min: 1, max: 6 }),
    n: fc.integer({ min: 1, max: 6 }),
    k: fc.integer({ min: 1, max: 4 }),
    yKind: fc.constantFrom('full', 'row', 'col', 'scalar'),
  })
  .chain(({ name, m, n, k, yKind }) => {
    const yShape = { full: [m, n], row: [n], col: [m, 1], scalar: [] }[yKind];
    // the concat program slices wᵀ to x's shape
    const kk = name === 'concat, pad, slice' ? Math.max(k, m) : k;
    return fc.record({
      name: fc.constant(name),
      inputs: fc.tuple(placedArb([m, n], { min: -2, max: 2 }), placedArb(yShape, { min: -2, max: 2 }), placedArb([n, kk], { min: -1, max: 1 })),
      cot: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    });
  });

/** ∂⟨cot, program⟩/∂leaf for every leaf (the buffers behind the views) on one device. */
async function gradients(device: 'cpu' | 'webgpu', name: string, inputs: Placed[], cotSeed: number): Promise<Float32Array[]> {
  const made = inputs.map((p) => materialize(p, device, true));
  try {
    tidy(() => {
      const out = PROGRAMS[name]!(made[0]!.x, made[1]!.x, made[2]!.x);
      // a fixed, seed-derived cotangent so the gradient is not just ∂sum
      let s = cotSeed;
      const cot = Array.from({ length: out.size }, () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1);
      const c = materialize({ shape: [...out.shape], layout: 'contiguous', values: Float32Array.from(cot) }, device).x;
      out.mul(c).sum().backward();
    });
    return await Promise.all(made.map(async (m) => (m.leaf.grad ? ((await m.leaf.grad.data()) as Float32Array) : new Float32Array(m.leaf.size))));
  } finally {
    for (const m of made) m.leaf.dispose();
  }
}

describeGPU('webgpu gradients match the CPU', () => {
  it('random programs over every op family, strided inputs included', async () => {
    await fc.assert(
      fc.asyncProperty(programArb, async ({ name, inputs, cot }) => {
        const want = await gradients('cpu', name, inputs, cot);
        const got = await gradients('webgpu', name, inputs, cot);
        ['x', 'y', 'w'].forEach((leaf, i) => {
          const scale = Math.max(1, ...want[i]!.map(Math.abs));
          expectClose(got[i]!, want[i]!, { atol: 1e-5 * scale, rtol: 1e-4 }, `${name}: d/d${leaf} (${inputs[i]!.layout} [${inputs[i]!.shape}])`);
        });
      }),
      fcRuns(80),
    );
  });
});
