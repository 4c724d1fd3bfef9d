// The contract between the engine and a device. A backend owns memory (Storage handles) and
// provides one forward kernel per primitive op; it knows nothing about tapes or gradients.

export type DType = 'float32' | 'float64';
export type Device = 'cpu' | 'webgpu';
export type TypedArray = Float32Array | Float64Array;

/** The primitive ops every backend implements. Everything else is composed from these. */
export const UNARY_OPS = [
  'neg', 'exp', 'log', 'log1p', 'sqrt', 'abs', 'sign', 'relu', 'sigmoid', 'tanh', 'sin', 'cos',
] as const;
export const BINARY_OPS = [
  'add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum',
  'eq', 'ne', 'lt', 'le', 'gt', 'ge',
  // reluGrad(g, x) = x > 0 ? g : 0, relu's backward in one pass (gt then mul was two)
  'reluGrad',
] as const;
export const REDUCE_OPS = ['sum', 'max', 'min'] as const;
export const MOVEMENT_OPS = ['reshape', 'permute', 'expand', 'slice', 'pad', 'concat'] as const;
// linear(x, W, b) = x @ W + b and mse(p, t) = mean((p − t)²): fused, each one kernel where the
// composition was two (linear) or four (mse)
export const OTHER_OPS = ['where', 'matmul', 'cast', 'linear', 'mse'] as const;

export type UnaryOp = (typeof UNARY_OPS)[number];
export type BinaryOp = (typeof BINARY_OPS)[number];
export type ReduceOp = (typeof REDUCE_OPS)[number];
export type MovementOp = (typeof MOVEMENT_OPS)[number];
export type OpName = UnaryOp | BinaryOp | ReduceOp | MovementOp | (typeof OTHER_OPS)[number];

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
  cast: { dtype: DType };
}
export type AttrsOf<K extends OpName> = K extends keyof OpAttrs ? OpAttrs[K] : Record<string, never>;

/** An opaque handle to memory owned by a backend. Several handles may alias one buffer. */
export interface Storage {
  readonly device: Device;
}

export interface OutInfo {
  shape: number[];
  dtype: DType;
}

/** A forward kernel: inputs are already checked (shapes, dtypes, device) by the registry. */
export type Kernel<S extends Storage, K extends OpName = OpName> = (
  inputs: S[],
  attrs: AttrsOf<K>,
  out: OutInfo,
  inShapes: number[][],
) => S;

export type KernelTable<S extends Storage> = { [K in OpName]: Kernel<S, K> };

export interface Backend<S extends Storage = Storage> {
  readonly name: Device;
  readonly dtypes: readonly DType[];
  /** Copy values (row-major) into a new buffer of the given shape and dtype. */
  upload(values: ArrayLike<number>, shape: number[], dtype: DType): S;
  /** A fresh row-major copy of the values. */
  read(s: S, shape: number[], dtype: DType): Promise<TypedArray>;
  /** Synchronous read, where the device allows it (CPU). */
  readSync?(s: S, shape: number[], dtype: DType): TypedArray;
  /** A second handle on the same memory; the memory lives until every handle is released. */
  alias(s: S): S;
  /** Give a handle back. Releasing the last handle of a buffer frees or pools it. */
  release(s: S): void;
  /** Live buffers and their bytes on this device. */
  memory(): { buffers: number; bytes: number };
  readonly kernels: KernelTable<S>;
}

const backends = new Map<Device, Backend>();

export function registerBackend(b: Backend<any>): void {
  backends.set(b.name, b as Backend);
}

export function getBackend(device: Device): Backend {
  const b = backends.get(device);
  if (!b) {
    const hint = device === 'webgpu' ? ' (call `await initWebGPU()` first)' : '';
    throw new Error(`no backend registered for device '${device}'${hint}`);
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

/** Build a kernel (or any) table with one entry per name: `tableOf(UNARY_OPS, (op) => ...)`. */
export function tableOf<K extends string, V>(keys: readonly K[], make: (k: K) => V): Record<K, V> {
  return Object.fromEntries(keys.map((k) => [k, make(k)])) as Record<K, V>;
}
