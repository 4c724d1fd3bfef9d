// Shared by the WebGPU suites: the adapter gate, arbitraries of shapes that stress the kernels
// (empty and size-1 dims, sizes that are not multiples of the 256-wide workgroup or the 64-wide
// matmul tile), inputs placed in strided layouts, and a tolerance check that names what failed.
import fc from 'fast-check';
import { describe } from 'vitest';
import { tensor, tidy, type Tensor } from '../../src';
import { WEBGPU } from '../helpers/devices';

/** describe() when an adapter was found, describe.skip() otherwise (devices.ts printed why). */
export const describeGPU = (name: string, fn: () => void) => (WEBGPU.available ? describe : describe.skip)(name, fn);

/** fast-check settings: a fixed seed (stable CI); FC_SEED=<n>|random and FC_RUNS=<k> as in the op suites. */
export function fcRuns(runs: number): fc.Parameters<unknown> {
  const numRuns = Math.max(1, Math.round(runs * Number(process.env.FC_RUNS ?? 1)));
  const env = process.env.FC_SEED;
  if (env === 'random') return { numRuns };
  return { numRuns, seed: env ? Number(env) : 20261127 };
}

export const size = (shape: readonly number[]) => shape.reduce((n, d) => n * d, 1);

/**
 * Shapes of rank minRank..maxRank. Dims are mostly 2–7, often 1, sometimes 0; rank ≤ 2 shapes
 * sometimes get a dim of 250–300, so flat sizes cross the 256-wide workgroup unevenly.
 */
export function shapeArb(minRank = 0, maxRank = 4): fc.Arbitrary<number[]> {
  return fc.integer({ min: minRank, max: maxRank }).chain((rank) => {
    const dim = fc.oneof(
      { arbitrary: fc.integer({ min: 2, max: 7 }), weight: 6 },
      { arbitrary: fc.constant(1), weight: 2 },
      { arbitrary: fc.constant(0), weight: 1 },
      ...(rank <= 2 ? [{ arbitrary: fc.integer({ min: 250, max: 300 }), weight: 1 }] : []),
    );
    return fc.array(dim, { minLength: rank, maxLength: rank });
  });
}

/** n shapes that broadcast together: each drops leading axes of one shape and turns dims into 1. */
export function broadcastArb(n: number, maxRank = 4): fc.Arbitrary<number[][]> {
  return shapeArb(0, maxRank).chain((shape) => {
    const side = fc
      .tuple(fc.integer({ min: 0, max: shape.length }), fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }))
      .map(([drop, ones]) => shape.map((d, i) => (ones[i] ? 1 : d)).slice(drop));
    return fc.tuple(...Array.from({ length: n }, () => side));
  });
}

/**
 * How an input sits in memory. Both devices build the same view with the same movement ops, so
 * every kernel is checked on strided inputs (permuted strides, an offset into a bigger buffer,
 * stride-0 axes) and not only on fresh row-major buffers.
 */
export type Layout = 'contiguous' | 'permuted' | 'sliced' | 'expanded';
export const layoutArb: fc.Arbitrary<Layout> = fc.constantFrom('contiguous', 'permuted', 'sliced', 'expanded');

function bufferShape(shape: readonly number[], layout: Layout): number[] {
  if (layout === 'permuted') return [...shape].reverse();
  if (layout === 'sliced') return shape.map((d) => d + 2);
  if (layout === 'expanded') {
    const i = shape.findIndex((d) => d > 1);
    return shape.map((d, j) => (j === i ? 1 : d));
  }
  return [...shape];
}

function view(t: Tensor, shape: readonly number[], layout: Layout): Tensor {
  if (layout === 'permuted') return t.permute([...shape.keys()].reverse());
  if (layout === 'sliced') return t.slice(shape.map(() => 1), shape.map((d) => d + 1));
  if (layout === 'expanded') return t.expand(shape);
  return t;
}

/** A logical input: its shape, its layout, and the values of the buffer behind it. */
export interface Placed {
  shape: number[];
  layout: Layout;
  values: Float32Array;
}

export interface ValueRange {
  min?: number;
  max?: number;
  /** draw small integers instead (ties and zeros for comparisons, max, where) */
  ints?: boolean;
}

/** Values for `shape` placed in a random layout; float32, no subnormals (a GPU may flush them). */
export function placedArb(shape: readonly number[], range: ValueRange = {}): fc.Arbitrary<Placed> {
  const { min = -3, max = 3, ints = false } = range;
  return layoutArb.chain((layout) => {
    const n = size(bufferShape(shape, layout));
    const value = ints
      ? fc.integer({ min: Math.ceil(min), max: Math.floor(max) })
      : fc.double({ min, max, noNaN: true, noDefaultInfinity: true }).map((x) => (Math.abs(x) < 1e-30 ? 0 : Math.fround(x)));
    return fc.array(value, { minLength: n, maxLength: n }).map((vs) => ({ shape: [...shape], layout, values: Float32Array.from(vs) }));
  });
}

/** The input as a float32 tensor on `device` (the view), and the buffer behind it (the leaf). */
export function materialize(p: Placed, device: 'cpu' | 'webgpu', requiresGrad = false): { leaf: Tensor; x: Tensor } {
  const leaf = tensor(p.values, { shape: bufferShape(p.shape, p.layout), device, requiresGrad });
  return { leaf, x: view(leaf, p.shape, p.layout) };
}

export interface Tolerance {
  /** relative to |want| */
  rtol?: number;
  /** absolute */
  atol?: number;
  /** per element scale for atol (e.g. Σ|x| for a sum), defaults to 1 */
  scale?: ArrayLike<number>;
}

/**
 * |got − want| ≤ atol·scale + rtol·|want| + 2⁻¹²⁶ elementwise (NaN only against NaN); throws with the
 * first offending index, both values, and `what` (the op and shapes).
 */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: Tolerance, what: string): void {
  if (got.length !== want.length) throw new Error(`${what}: ${got.length} values from WebGPU, ${want.length} from the CPU`);
  const { rtol = 0, atol = 0, scale } = tol;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (Number.isNaN(w) && Number.isNaN(g)) continue;
    if (g === w) continue;
    // + the smallest normal float32: a GPU may flush subnormal results to zero
    const bound = atol * (scale ? scale[i]! : 1) + rtol * Math.abs(w) + 2 ** -126;
    if (!(Math.abs(g - w) <= bound)) {
      throw new Error(`${what}: element ${i}: webgpu ${g}, cpu ${w} (|diff| ${Math.abs(g - w)} > ${bound}; rtol ${rtol}, atol ${atol})`);
    }
  }
}

export const fmt = (s: readonly number[]) => `[${s.join(',')}]`;

/** Run fn on the inputs on one device; returns the result's values and shape, and frees everything. */
export async function runOn(device: 'cpu' | 'webgpu', inputs: readonly Placed[], fn: (xs: Tensor[]) => Tensor): Promise<{ values: Float32Array; shape: number[] }> {
  const made = inputs.map((p) => materialize(p, device));
  const out = tidy(() => fn(made.map((m) => m.x)));
  try {
    const values = (await out.data()) as Float32Array;
    return { values, shape: [...out.shape] };
  } finally {
    out.dispose();
    for (const m of made) m.leaf.dispose();
  }
}

/** fn on both devices over the same inputs, compared within `tol` (a function of the CPU result and inputs, or fixed). */
export async function compareDevices(
  what: string,
  inputs: readonly Placed[],
  fn: (xs: Tensor[]) => Tensor,
  tol: Tolerance | ((cpu: Float32Array) => Tolerance),
): Promise<void> {
  const cpu = await runOn('cpu', inputs, fn);
  const gpu = await runOn('webgpu', inputs, fn);
  const label = `${what} on ${inputs.map((p) => `${fmt(p.shape)} ${p.layout}`).join(', ')}`;
  if (fmt(gpu.shape) !== fmt(cpu.shape)) throw new Error(`${label}: shape ${fmt(gpu.shape)} on webgpu, ${fmt(cpu.shape)} on cpu`);
  expectClose(gpu.values, cpu.values, typeof tol === 'function' ? tol(cpu.values) : tol, label);
}
