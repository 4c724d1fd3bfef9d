// The contract between the engine and a device. A backend owns memory (Storage handles: a buffer
// seen through a view) and provides one forward kernel per compute primitive, and optionally per
// fused op; it knows nothing about tapes or gradients, and nothing about movement ops, which the
// engine applies to views itself (src/backends/view.ts).
import type { View } from './view';

/**
 * Element types. int32 holds indices and labels: integer arithmetic wraps modulo 2³² as in
 * PyTorch, and no gradient ever flows into an int32 tensor.
 */
export type DType = 'float32' | 'float64' | 'int32';
/** A device name, as a backend registers it ('cpu', 'webgpu', ...). */
export type Device = string;
export type TypedArray = Float32Array | Float64Array | Int32Array;

export const UNARY_OPS = [
  'neg', 'exp', 'log', 'log1p', 'sqrt', 'abs', 'sign', 'relu', 'sigmoid', 'tanh', 'sin', 'cos',
] as const;
export const BINARY_OPS = [
  'add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum',
  'eq', 'ne', 'lt', 'le', 'gt', 'ge',
] as const;
export const REDUCE_OPS = ['sum', 'max', 'min'] as const;
/** Movement ops that only change the view (the engine applies them; no backend sees them). */
export const VIEW_OPS = ['reshape', 'permute', 'expand', 'slice', 'windows'] as const;
/** Movement ops: the view ops, and pad and concat, which copy (compute kernels). */
export const MOVEMENT_OPS = [...VIEW_OPS, 'pad', 'concat'] as const;
/** fold: windows' adjoint (col2im), summing every tap back into place (a compute kernel). */
export const OTHER_OPS = ['where', 'matmul', 'cast', 'fold'] as const;
/**
 * Indexing primitives: gather(x, index) along an axis (torch.gather), its transpose
 * scatterAdd(g, index, size) (repeated indices accumulate), and argmax/argmin (int32 results).
 */
export const INDEX_OPS = ['gather', 'scatterAdd', 'argmax', 'argmin'] as const;
/**
 * Fused ops: one kernel where their composition from primitives takes several, offered by a
 * backend when it pays (a backend without one runs the op's `decompose`, see src/ops):
 * linear(x, W, b) = x @ W + b (two ops), mse(p, t) = mean((p − t)²) (four) and
 * reluGrad(g, x) = x > 0 ? g : 0, relu's backward (gt then where).
 */
export const FUSED_OPS = ['linear', 'mse', 'reluGrad'] as const;

export type UnaryOp = (typeof UNARY_OPS)[number];
export type BinaryOp = (typeof BINARY_OPS)[number];
export type ReduceOp = (typeof REDUCE_OPS)[number];
export type ViewOp = (typeof VIEW_OPS)[number];
export type MovementOp = (typeof MOVEMENT_OPS)[number];
export type FusedOp = (typeof FUSED_OPS)[number];
export type IndexOp = (typeof INDEX_OPS)[number];
/** The primitives: every backend runs them (view ops through the engine, the rest as kernels). */
export type PrimitiveOp = UnaryOp | BinaryOp | ReduceOp | MovementOp | IndexOp | (typeof OTHER_OPS)[number];
export type OpName = PrimitiveOp | FusedOp;
/** The primitives a backend gives a kernel for: all but the view ops. */
export type KernelOp = Exclude<PrimitiveOp, ViewOp>;

/** Attributes of the ops that take any. Shapes and axes are already normalized by the registry. */
export interface OpAttrs {
  sum: { axes: number[]; keepDims: boolean };
  max: { axes: number[]; keepDims: boolean };
  min: { axes: number[]; keepDims: boolean };
  reshape: { shape: number[] };
  permute: { perm: number[] };
  expand: { shape: number[] };
  /** begin/end per axis, end exclusive, 0 <= begin <= end <= dim. */
  slice: { begin: number[]; end: number[] };
  /** zeros before/after per axis */
  pad: { before: number[]; after: number[] };
  concat: { axis: number };
  /**
   * Sliding windows over `axes` (sorted, unique): each such axis of extent n becomes the
   * windowCount(n, size, stride, dilation) window origins, and the taps are appended as trailing
   * axes (see view.ts `windows`). Every list has one entry per window axis.
   */
  windows: WindowAttrs;
  /** The adjoint of windows with these attrs: [..., o..., k...] summed back into `shape`. */
  fold: WindowAttrs & { shape: number[] };
  cast: { dtype: DType };
  /** out[..., i, ...] = x[..., index[..., i, ...], ...] along `axis` (index of x's rank) */
  gather: { axis: number };
  /** out = zeros(shape); out[..., index[..., i, ...], ...] += g[..., i, ...] along `axis` */
  scatterAdd: { axis: number; shape: number[] };
  /** the first index of the largest (NaN counts as largest) along `axis` */
  argmax: { axis: number; keepDims: boolean };
  argmin: { axis: number; keepDims: boolean };
}
export interface WindowAttrs {
  axes: number[];
  size: number[];
  stride: number[];
  dilation: number[];
}
export type AttrsOf<K extends OpName> = K extends keyof OpAttrs ? OpAttrs[K] : Record<string, never>;

/**
 * A handle on memory owned by a backend: a buffer seen through `view`. Several handles may share
 * one buffer (views of it); the buffer lives until every handle is released.
 */
export interface Storage {
  readonly device: Device;
  readonly view: View;
}

export interface OutInfo {
  shape: number[];
  dtype: DType;
}

/**
 * A forward kernel: inputs are already checked (shapes, dtypes, device) by the registry, and
 * may be any view (strided, broadcast, offset). It returns a new handle shaped `out.shape`.
 */
export type Kernel<S extends Storage, K extends OpName = OpName> = (inputs: S[], attrs: AttrsOf<K>, out: OutInfo) => S;

/** Total over the compute primitives (tsc rejects a backend that misses one), partial over fused ops. */
export type KernelTable<S extends Storage> = { [K in KernelOp]: Kernel<S, K> } & { [K in FusedOp]?: Kernel<S, K> };

export interface Backend<S extends Storage = Storage> {
  readonly name: Device;
  readonly dtypes: readonly DType[];
  /** Copy values (row-major) into a new buffer of the given shape and dtype. */
  upload(values: ArrayLike<number>, shape: number[], dtype: DType): S;
  /** A fresh row-major copy of the values. */
  read(s: S, shape: number[], dtype: DType): Promise<TypedArray>;
  /** Synchronous read, where the device allows it (CPU). */
  readSync?(s: S, shape: number[], dtype: DType): TypedArray;
  /**
   * A second handle on s's buffer, seen through `v` (s's own view for an alias). The engine
   * computes v (src/backends/view.ts) and guarantees that it stays within the buffer.
   */
  view(s: S, v: View): S;
  /** A new buffer holding s's elements in row-major order, and a row-major handle on it. */
  materialize(s: S, dtype: DType): S;
  /** Give a handle back. Releasing the last handle of a buffer frees or pools it. */
  release(s: S): void;
  /** Live buffers and their bytes on this device. */
  memory(): { buffers: number; bytes: number };
  readonly kernels: KernelTable<S>;
}

const backends = new Map<Device, Backend>();
// devices a module knows how to bring up, with what to call first (e.g. `await initWebGPU()`)
const pending = new Map<Device, string>();

export function registerBackend(b: Backend<any>): void {
  backends.set(b.name, b as Backend);
}

/**
 * Declare a device that exists but is not initialised yet, with the hint an error gives when it
 * is used too early (e.g. `call \`await initWebGPU()\` first`).
 */
export function declareDevice(device: Device, hint: string): void {
  pending.set(device, hint);
}

export function getBackend(device: Device): Backend {
  const b = backends.get(device);
  if (!b) {
    const hint = pending.get(device);
    throw new Error(`no backend registered for device '${device}'${hint ? ` (${hint})` : ''}`);
  }
  return b;
}

export function hasBackend(device: Device): boolean {
  return backends.has(device);
}

export function registeredBackends(): Backend[] {
  return [...backends.values()];
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i]!;
  return n;
}

/** Element strides of a row-major (C-order) array of this shape. */
export function rowMajorStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

export function bytesPerElement(dtype: DType): number {
  return dtype === 'float64' ? 8 : 4;
}

/** A new zeroed typed array of the dtype. */
export function typedArray(dtype: DType, n: number): TypedArray {
  return dtype === 'float64' ? new Float64Array(n) : dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
}

export const isFloat = (dtype: DType): boolean => dtype !== 'int32';

/** Build a kernel (or any) table with one entry per name: `tableOf(UNARY_OPS, (op) => ...)`. */
export function tableOf<K extends string, V>(keys: readonly K[], make: (k: K) => V): Record<K, V> {
  return Object.fromEntries(keys.map((k) => [k, make(k)])) as Record<K, V>;
}
