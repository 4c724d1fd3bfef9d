import { getBackend, sizeOf, typedArray, type DType, type Device, type Storage, type TypedArray } from '../backends/backend';
import { fmtShape } from '../ops/registry';
import { adopt, backward, rehome, track, untrack, type BackwardOptions, type Held, type TapeNode } from './engine';
import { formatValues } from './format';
import { booleanArg, optionsArg } from './args';
import * as F from './functional';
import type { Axis, TensorLike } from './functional';

export type NestedArray = number | NestedArray[];

/**
 * The key Node's util.inspect (and so console.log) looks up for a custom display. Shared through
 * the global symbol registry, so no import of node:util (absent in browsers) is needed.
 */
export const INSPECT: unique symbol = Symbol.for('nodejs.util.inspect.custom') as never;

/**
 * The brand every Tensor carries, from any copy of the package (the ES module and the CommonJS
 * builds loaded side by side, or two installed versions): `instanceof` tells copies apart, the
 * global symbol registry does not.
 */
const BRAND = Symbol.for('tapegrad.Tensor');

let nextId = 0;

/**
 * An n-dimensional array on a device that records the ops applied to it (when it requires grad)
 * so that `backward()` can compute gradients.
 *
 * @example
 * const x = tensor([[1, 2], [3, 4]], { requiresGrad: true });
 * const y = x.matmul(x.T).sum();
 * y.backward();
 * console.log(String(x.grad));   // dy/dx
 */
export class Tensor {
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly device: Device;
  /** Whether operations on this tensor are recorded for backward(). */
  requiresGrad = false;
  /** Gradient accumulated by backward() (leaves only); cleared by zeroGrad(). */
  grad: Tensor | null = null;
  /** An optional label, used in error messages and summaries. */
  name?: string;
  /** @internal the op that made this tensor; null for leaves */
  _node: TapeNode | null = null;
  /** @internal bumped by in-place writes; shared by views of one tensor */
  readonly _version: { v: number };
  #storage: Storage | null;
  /** @internal what the finalizer frees if this tensor is forgotten */
  readonly _held: Held;

  /** @internal use tensor(), zeros(), ... to create tensors */
  constructor(storage: Storage, shape: readonly number[], dtype: DType, device: Device, version?: { v: number }) {
    this.#storage = storage;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.device = device;
    this._version = version ?? { v: 0 };
    this._held = track(this, storage);
    adopt(this);
  }

  /**
   * `x instanceof Tensor` holds for tensors of every copy of the package (see isTensor), as users
   * expect; the engine asks `_own` before touching a tensor's memory.
   */
  static [Symbol.hasInstance](x: unknown): boolean {
    return isTensor(x);
  }

  /** @internal whether `x` was made by this copy of the package (its memory is in our backends) */
  static _own(x: Tensor): boolean {
    return #storage in x;
  }

  /** @internal a scalar constant (used to lift numbers in binary ops) */
  static scalar(value: number, dtype: DType, device: Device): Tensor {
    return new Tensor(getBackend(device).upload([value], [], dtype), [], dtype, device);
  }

  /** @internal */
  static ones(shape: readonly number[], dtype: DType, device: Device): Tensor {
    const n = sizeOf(shape);
    // a typed array, not a JS Array of n boxed elements (seconds and gigabytes at 2^26)
    const values = typedArray(dtype, n).fill(1);
    return new Tensor(getBackend(device).upload(values, [...shape], dtype), shape, dtype, device);
  }

  /** @internal the backend handle; throws once disposed */
  get storage(): Storage {
    if (!this.#storage) throw new Error(`tensor of shape ${fmtShape(this.shape)} was disposed`);
    return this.#storage;
  }

  get isDisposed(): boolean {
    return this.#storage === null;
  }

  /** Number of elements. */
  get size(): number {
    return sizeOf(this.shape);
  }

  get rank(): number {
    return this.shape.length;
  }

  /** True for tensors not produced by a recorded op (parameters, inputs). */
  get isLeaf(): boolean {
    return this._node === null;
  }

  /** A copy of the values in row-major order (CPU only; use `await data()` on other devices). */
  dataSync(): TypedArray {
    const b = getBackend(this.device);
    if (!b.readSync) {
      throw new Error(
        `dataSync: tensor of shape ${fmtShape(this.shape)} lives on ${this.device}, which cannot be read synchronously; use await t.data()`,
      );
    }
    return b.readSync(this.storage, this.shape as number[], this.dtype);
  }

  /** A copy of the values in row-major order, from any device. */
  data(): Promise<TypedArray> {
    return getBackend(this.device).read(this.storage, this.shape as number[], this.dtype);
  }

  /** The values as nested arrays (CPU). */
  toArray(): NestedArray {
    return nest(this.dataSync(), this.shape);
  }

  /** The values as nested arrays, from any device. */
  async array(): Promise<NestedArray> {
    return nest(await this.data(), this.shape);
  }

  /** The value of a one-element tensor (CPU). */
  item(): number {
    if (this.size !== 1) throw new Error(`item: tensor of shape ${fmtShape(this.shape)} has ${this.size} elements, not 1`);
    return this.dataSync()[0]!;
  }

  /**
   * The value of a one-element tensor, from any device.
   *
   * @example
   * const loss = x.sub(y).square().mean();   // on 'webgpu'
   * console.log(await loss.itemAsync());
   */
  async itemAsync(): Promise<number> {
    if (this.size !== 1) throw new Error(`itemAsync: tensor of shape ${fmtShape(this.shape)} has ${this.size} elements, not 1`);
    return (await this.data())[0]!;
  }

  /**
   * Compute gradients of this tensor with respect to every leaf that requires grad, and add
   * them to those leaves' `.grad`. A non-scalar needs `grad` (the vector in the vector-Jacobian product).
   */
  backward(grad?: Tensor, opts?: BackwardOptions): void {
    backward(this, grad, optionsArg('backward', opts));
  }

  /** A new leaf sharing this tensor's memory, cut from the tape. */
  detach(): Tensor {
    const s = this.storage;
    return new Tensor(getBackend(this.device).view(s, s.view), this.shape, this.dtype, this.device, this._version);
  }

  /** A copy with its own memory (recorded on the tape, like any op). */
  clone(): Tensor {
    return F.add(this, 0);
  }

  /** Free this tensor's memory now. Safe to call twice. */
  dispose(): void {
    if (!this.#storage) return;
    const s = this.#storage;
    this.#storage = null;
    untrack(this, s);
    this.grad?.dispose();
    this.grad = null;
  }

  /**
   * dispose() for TypeScript 5.2's `using` declarations: the tensor is freed when its block ends.
   *
   * @example
   * {
   *   using t = randn([1000, 1000]);
   *   console.log(t.mean().item());
   * } // t's memory is freed here
   */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** Drop the accumulated gradient. */
  zeroGrad(): void {
    this.grad?.dispose();
    this.grad = null;
  }

  /**
   * Replace this tensor's values with `value`'s (same shape, dtype and device). No copy is made:
   * this tensor takes a handle on value's memory and gives back its own, so views and detached
   * copies made earlier keep the old values. The tape still counts it as a write (their version is
   * shared): a backward() through an op that saved this tensor, or a view of it, before the
   * assignment throws rather than risk a wrong gradient.
   */
  assign(value: Tensor): this {
    // Every check comes before the alias below: a failed assign must neither hold a handle on
    // value's memory (a leak no finalizer sees) nor leave this tensor changed.
    if (!(value instanceof Tensor)) {
      throw new TypeError(`assign: expected a Tensor, got ${value === null ? 'null' : typeof value}`);
    }
    if (this.isDisposed) throw new Error(`assign: the target, of shape ${fmtShape(this.shape)}, was disposed`);
    if (value.isDisposed) throw new Error(`assign: the value, of shape ${fmtShape(value.shape)}, was disposed`);
    if (value === this) return this;
    if (!this.isLeaf && this.requiresGrad) {
      throw new Error(`assign: tensor of shape ${fmtShape(this.shape)} is an op result that requires grad; assign to leaves only`);
    }
    if (value.shape.length !== this.shape.length || value.shape.some((d, i) => d !== this.shape[i])) {
      throw new Error(`assign: shape ${fmtShape(value.shape)} does not match ${fmtShape(this.shape)}`);
    }
    if (value.dtype !== this.dtype || value.device !== this.device) {
      throw new Error(`assign: ${value.dtype} on ${value.device} does not match ${this.dtype} on ${this.device}`);
    }
    const b = getBackend(this.device);
    const prev = this.storage;
    const next = b.view(value.storage, value.storage.view);
    this.#storage = next;
    this._held.storage = next; // the finalizer must free the new handle, not the released one
    this._version.v++;
    b.release(prev);
    return this;
  }

  /** A copy on another device, as a new leaf (requiresGrad is carried over). */
  to(device: Device): Tensor {
    if (device === this.device) return this;
    const src = getBackend(this.device);
    if (!src.readSync) {
      throw new Error(`to: reading from ${this.device} is asynchronous; use await t.toAsync('${device}')`);
    }
    const values = src.readSync(this.storage, this.shape as number[], this.dtype);
    return this.#moved(getBackend(device).upload(values, [...this.shape], this.dtype), device);
  }

  /** A copy on another device, from any device. */
  async toAsync(device: Device): Promise<Tensor> {
    if (device === this.device) return this;
    const values = await this.data();
    return this.#moved(getBackend(device).upload(values, [...this.shape], this.dtype), device);
  }

  /**
   * @internal Module.to: move this leaf's memory to `device` keeping the object (layers and
   * optimizers hold it), `values` being its contents (null: already there). The gradient moves
   * too, as a new leaf made from `gradValues` (its contents, read by the caller).
   */
  _relocate(device: Device, values: TypedArray | null, gradValues: TypedArray | null = null): void {
    if (values === null || device === this.device) return;
    if (!this.isLeaf) throw new Error(`to: tensor of shape ${fmtShape(this.shape)} is an op result; only leaves move in place`);
    const next = getBackend(device).upload(values, [...this.shape], this.dtype);
    const grad = this.grad;
    const movedGrad =
      grad && gradValues
        ? new Tensor(getBackend(device).upload(gradValues, [...grad.shape], grad.dtype), grad.shape, grad.dtype, device)
        : null;
    rehome(this, this.storage, next, device);
    this.#storage = next;
    (this as { device: Device }).device = device;
    this._version.v++;
    if (grad && grad.device !== device) {
      grad.dispose();
      this.grad = movedGrad;
    }
  }

  #moved(storage: Storage, device: Device): Tensor {
    const t = new Tensor(storage, this.shape, this.dtype, device);
    t.requiresGrad = this.requiresGrad;
    return t;
  }

  /** Mark as requiring grad (chainable). */
  requireGrad(flag = true): this {
    booleanArg('requireGrad', 'flag', flag);
    if (flag && this.dtype === 'int32') {
      throw new TypeError(`requireGrad: tensor of shape ${fmtShape(this.shape)} is int32; no gradient flows into integers (cast to a float dtype first)`);
    }
    if (!flag && !this.isLeaf) throw new Error('requireGrad: cannot turn off requiresGrad on an op result; use detach()');
    this.requiresGrad = flag;
    return this;
  }

  /**
   * The values and what they are, like PyTorch's repr: one number format for all elements,
   * aligned rows, nan/inf, `...` for the middle of long axes (see setPrintOptions), then the
   * dtype, device and grad state. Values on a device that reads asynchronously are left out
   * (use `await t.toStringAsync()`).
   *
   * @example
   * String(tensor([[1, -2.5], [NaN, Infinity]]))
   * // tensor([[ 1.0000, -2.5000],
   * //         [    nan,     inf]], dtype=float32, device=cpu)
   */
  toString(): string {
    if (this.isDisposed) return `tensor(<disposed>, ${this.#describe(true)})`;
    if (!getBackend(this.device).readSync) {
      return `tensor(<values on ${this.device}: await t.toStringAsync()>, ${this.#describe(true)})`;
    }
    return this.#format(this.dataSync());
  }

  /** toString() from any device: reads the values first. */
  async toStringAsync(): Promise<string> {
    if (this.isDisposed) return this.toString();
    return this.#format(await this.data());
  }

  /** What Node's console.log and util.inspect show (toString, not the private fields). */
  [INSPECT](): string {
    return this.toString();
  }

  #format(values: TypedArray): string {
    const body = formatValues(values, this.shape, 'tensor('.length);
    return `tensor(${body}, ${this.#describe(body.includes('...'))})`;
  }

  #describe(withShape: boolean): string {
    const parts = withShape ? [`shape=${fmtShape(this.shape)}`] : [];
    parts.push(`dtype=${this.dtype}`, `device=${this.device}`);
    if (this._node) parts.push(`gradFn=${this._node.op}`);
    else if (this.requiresGrad) parts.push('requiresGrad=true');
    if (this.name) parts.push(`name=${this.name}`);
    return parts.join(', ');
  }

  // ------------------------------------------------------------ op methods (see graph/functional)
  add(b: TensorLike) { return F.add(this, b); }
  sub(b: TensorLike) { return F.sub(this, b); }
  mul(b: TensorLike) { return F.mul(this, b); }
  div(b: TensorLike) { return F.div(this, b); }
  pow(b: TensorLike) { return F.pow(this, b); }
  maximum(b: TensorLike) { return F.maximum(this, b); }
  minimum(b: TensorLike) { return F.minimum(this, b); }
  eq(b: TensorLike) { return F.eq(this, b); }
  ne(b: TensorLike) { return F.ne(this, b); }
  lt(b: TensorLike) { return F.lt(this, b); }
  le(b: TensorLike) { return F.le(this, b); }
  gt(b: TensorLike) { return F.gt(this, b); }
  ge(b: TensorLike) { return F.ge(this, b); }
  neg() { return F.neg(this); }
  exp() { return F.exp(this); }
  log() { return F.log(this); }
  log1p() { return F.log1p(this); }
  sqrt() { return F.sqrt(this); }
  abs() { return F.abs(this); }
  sign() { return F.sign(this); }
  relu() { return F.relu(this); }
  /** this @ W + b as one op (a dense layer; see functional linear). */
  linear(w: Tensor, b?: Tensor | null) { return F.linear(this, w, b); }
  /** mean((this − target)²) as one op. */
  mse(target: Tensor) { return F.mse(this, target); }
  /** This gradient passed back through relu at x: this where x > 0, else 0. */
  reluGrad(x: TensorLike) { return F.reluGrad(this, x); }
  sigmoid() { return F.sigmoid(this); }
  tanh() { return F.tanh(this); }
  sin() { return F.sin(this); }
  cos() { return F.cos(this); }
  square() { return F.square(this); }
  leakyRelu(slope?: number) { return F.leakyRelu(this, slope); }
  softplus() { return F.softplus(this); }
  clamp(lo?: TensorLike, hi?: TensorLike) { return F.clamp(this, lo, hi); }
  /** this where cond ≠ 0, else other */
  where(cond: Tensor, other: TensorLike) { return F.where(cond, this, other); }
  cast(dtype: DType) { return F.cast(this, dtype); }
  /** torch.gather along `axis` at the int32 positions `index` (see functional gather). */
  gather(axis: number, index: Tensor) { return F.gather(this, axis, index); }
  /** The zeros of `shape` with this tensor's values added at `index` along `axis`. */
  scatterAdd(index: Tensor, axis: number, shape: readonly number[]) { return F.scatterAdd(this, index, axis, shape); }
  /** The slices at the int32 positions `index` (1-D) along `axis`. */
  indexSelect(axis: number, index: Tensor) { return F.indexSelect(this, axis, index); }
  /** int32 position of the largest value along axis (all elements, flattened, without one). */
  argmax(axis?: number, keepDims?: boolean) { return F.argmax(this, axis, keepDims); }
  /** int32 position of the smallest value along axis. */
  argmin(axis?: number, keepDims?: boolean) { return F.argmin(this, axis, keepDims); }
  /** One-hot rows of this int32 tensor (float32 unless opts.dtype says otherwise). */
  oneHot(numClasses: number, opts?: F.OneHotOptions) { return F.oneHot(this, numClasses, opts); }
  matmul(b: Tensor) { return F.matmul(this, b); }
  /** Sliding windows over `axes` as a view (see functional windows). */
  windows(axes: readonly number[], size: readonly number[], opts?: F.WindowOptions) { return F.windows(this, axes, size, opts); }
  /** windows' adjoint: these windows summed back into `shape` (see functional fold). */
  fold(shape: readonly number[], axes: readonly number[], size: readonly number[], opts?: F.WindowOptions) {
    return F.fold(this, shape, axes, size, opts);
  }
  /** 2-D convolution of this [N, C, H, W] (see functional conv2d). */
  conv2d(weight: Tensor, bias?: Tensor | null, opts?: F.Conv2dOptions) { return F.conv2d(this, weight, bias, opts); }
  maxPool2d(kernelSize: F.Pair, opts?: F.MaxPool2dOptions) { return F.maxPool2d(this, kernelSize, opts); }
  avgPool2d(kernelSize: F.Pair, opts?: F.AvgPool2dOptions) { return F.avgPool2d(this, kernelSize, opts); }
  sum(axis?: Axis, keepDims?: boolean) { return F.sum(this, axis, keepDims); }
  mean(axis?: Axis, keepDims?: boolean) { return F.mean(this, axis, keepDims); }
  max(axis?: Axis, keepDims?: boolean) { return F.max(this, axis, keepDims); }
  min(axis?: Axis, keepDims?: boolean) { return F.min(this, axis, keepDims); }
  logSumExp(axis?: number, keepDims?: boolean) { return F.logSumExp(this, axis, keepDims); }
  softmax(axis?: number) { return F.softmax(this, axis); }
  logSoftmax(axis?: number) { return F.logSoftmax(this, axis); }
  reshape(shape: readonly number[]) { return F.reshape(this, shape); }
  flatten() { return F.flatten(this); }
  permute(perm: readonly number[]) { return F.permute(this, perm); }
  transpose(perm?: readonly number[] | number, j?: number) { return F.transpose(this, perm, j); }
  /** The transpose (axes reversed). */
  get T() { return F.transpose(this); }
  expand(shape: readonly number[]) { return F.expand(this, shape); }
  broadcastTo(shape: readonly number[]) { return F.expand(this, shape); }
  squeeze(axis?: Axis) { return F.squeeze(this, axis); }
  unsqueeze(axis: number) { return F.unsqueeze(this, axis); }
  slice(begin: readonly number[], end?: readonly (number | undefined)[]) { return F.slice(this, begin, end); }
  pad(widths: readonly (readonly [number, number])[]) { return F.pad(this, widths); }
}

function nest(values: TypedArray, shape: readonly number[]): NestedArray {
  if (shape.length === 0) return values[0]!;
  const build = (axis: number, offset: number, stride: number): NestedArray[] => {
    const n = shape[axis]!;
    const inner = stride / n;
    const out: NestedArray[] = [];
    for (let i = 0; i < n; i++) {
      out.push(axis === shape.length - 1 ? values[offset + i]! : build(axis + 1, offset + i * inner, inner));
    }
    return out;
  };
  return build(0, 0, values.length === 0 ? sizeOf(shape) : values.length);
}

// the brand isTensor checks: non-enumerable, on the prototype, so every tensor has it for free
Object.defineProperty(Tensor.prototype, BRAND, { value: true });

/**
 * Whether `x` is a tapegrad Tensor, from this copy of the package or any other (ESM and CommonJS
 * builds, two installed versions): it checks a brand in the global symbol registry, not
 * `instanceof`. Ops accept only tensors of their own copy and say how to copy a foreign one in:
 * `tensor(x)`.
 *
 * @example
 * isTensor(tensor([1, 2]));   // true
 * isTensor([1, 2]);           // false
 */
export function isTensor(x: unknown): x is Tensor {
  return typeof x === 'object' && x !== null && (x as { [BRAND]?: unknown })[BRAND] === true;
}
