// Normalization layers: BatchNorm1d/2d (statistics per channel over the batch, with running
// estimates for eval mode) and LayerNorm (statistics per sample over its last axes). Both are
// compositions of existing ops, so their gradients come from the op table.
//
//   x̂ = (x − μ) / √(σ² + eps),  y = x̂ · weight + bias
//
// with σ² the biased variance (divide by n), as PyTorch normalizes.
import type { DType, Device } from '../backends/backend';
import { full, ones, zeros } from '../graph/creation';
import { recordCall } from '../graph/composites';
import { noGrad, tidy } from '../graph/engine';
import { Module, type Dim } from './module';
import { fmtShape, fmtShapeOf, Tensor } from './util';

export interface BatchNormOptions {
  /** added to the variance before the square root; default 1e-5 */
  eps?: number;
  /**
   * weight of the newest batch in the running statistics, running ← (1 − m)·running + m·batch;
   * default 0.1. null: a cumulative average over every batch seen (1/num_batches_tracked), as PyTorch.
   */
  momentum?: number | null;
  /** learn a per-channel weight (starts at 1) and bias (starts at 0); default true */
  affine?: boolean;
  /** keep running statistics for eval mode; default true. Without them eval mode uses the batch's. */
  trackRunningStats?: boolean;
  dtype?: DType;
  device?: Device;
}

const fmtNum = (v: number) => String(v);

/** Checks the options' numbers, naming the layer. */
function checkNorm(name: string, eps: number, momentum?: number | null): void {
  if (typeof eps !== 'number' || !(eps >= 0) || !Number.isFinite(eps)) throw new Error(`${name}: eps must be a finite number ≥ 0, got ${eps}`);
  if (momentum !== undefined && momentum !== null && !(typeof momentum === 'number' && momentum >= 0 && momentum <= 1)) {
    throw new Error(`${name}: momentum must be in [0, 1] or null, got ${momentum}`);
  }
}

/**
 * The shared body of BatchNorm1d and BatchNorm2d: channels on axis 1, statistics over every
 * other axis. Parameters `weight`, `bias` and buffers `running_mean`, `running_var`,
 * `num_batches_tracked` carry PyTorch's names and shapes ([C], [C], [C], [C], []), so state dicts
 * line up with PyTorch's (num_batches_tracked is stored in the layer's float dtype, since tapegrad
 * has no integer dtype yet; PyTorch stores int64).
 */
abstract class BatchNorm extends Module {
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly runningMean: Tensor | null;
  readonly runningVar: Tensor | null;
  readonly numBatchesTracked: Tensor | null;

  protected constructor(
    readonly kind: string,
    readonly numFeatures: number,
    /** the input ranks the layer accepts */
    readonly ranks: readonly number[],
    opts: BatchNormOptions,
  ) {
    super();
    const { eps = 1e-5, momentum = 0.1, affine = true, trackRunningStats = true, dtype, device } = opts;
    if (!Number.isInteger(numFeatures) || numFeatures <= 0) throw new Error(`${kind}: numFeatures must be a positive integer, got ${numFeatures}`);
    checkNorm(kind, eps, momentum);
    this.eps = eps;
    this.momentum = momentum;
    this.affine = affine;
    this.trackRunningStats = trackRunningStats;
    const o = { dtype, device };
    this.weight = this.registerParameter('weight', affine ? ones([numFeatures], o) : null);
    this.bias = this.registerParameter('bias', affine ? zeros([numFeatures], o) : null);
    this.runningMean = this.registerBuffer('running_mean', trackRunningStats ? zeros([numFeatures], o) : null);
    this.runningVar = this.registerBuffer('running_var', trackRunningStats ? ones([numFeatures], o) : null);
    this.numBatchesTracked = this.registerBuffer('num_batches_tracked', trackRunningStats ? full([], 0, o) : null);
  }

  override describe(): string {
    const extra = [
      this.eps !== 1e-5 ? `eps=${fmtNum(this.eps)}` : '',
      this.momentum !== 0.1 ? `momentum=${this.momentum}` : '',
      this.affine ? '' : 'affine=false',
      this.trackRunningStats ? '' : 'trackRunningStats=false',
    ].filter(Boolean);
    return `${this.kind}(${[String(this.numFeatures), ...extra].join(', ')})`;
  }

  #expected(): string {
    return this.ranks.map((r) => (r === 2 ? '[N, C]' : r === 3 ? '[N, C, L]' : '[N, C, H, W]')).join(' or ');
  }

  override outputShape(input: readonly Dim[]): Dim[] {
    const c = input[1];
    if (!this.ranks.includes(input.length) || (typeof c === 'number' && c !== this.numFeatures)) {
      throw new Error(`${this.describe()}: expected input ${this.#expected()} with C = ${this.numFeatures}, got [${input.join(', ')}]`);
    }
    return [...input];
  }

  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor)) throw new Error(`${this.describe()}: expected a tensor, got ${typeof x}`);
    if (!this.ranks.includes(x.rank) || x.shape[1] !== this.numFeatures) {
      throw new Error(`${this.describe()}: expected input ${this.#expected()} with C = ${this.numFeatures}, got ${fmtShapeOf(x)}`);
    }
    const like = this.weight ?? this.runningMean;
    if (like && (x.dtype !== like.dtype || x.device !== like.device)) {
      throw new Error(`${this.describe()}: input ${fmtShapeOf(x)} is ${x.dtype} on ${x.device}, the layer is ${like.dtype} on ${like.device}`);
    }
    const c = this.numFeatures;
    const axes = [0, ...Array.from({ length: x.rank - 2 }, (_, i) => i + 2)];
    // per-channel vectors broadcast as [1, C, 1, ...]
    const bshape = [1, c, ...Array<number>(x.rank - 2).fill(1)];
    const n = x.size / c;
    let xhat: Tensor;
    if (this.training || !this.runningMean) {
      if (this.training && n <= 1) {
        throw new Error(`${this.describe()}: input ${fmtShapeOf(x)} has ${n} value per channel; training needs more than 1 (PyTorch refuses it too)`);
      }
      const mu = x.mean(axes, true);
      const centered = x.sub(mu);
      const v = centered.square().mean(axes, true); // biased: divides by n
      xhat = centered.div(v.add(this.eps).sqrt());
      if (this.training && this.runningMean) this.#track(mu, v, n);
    } else {
      xhat = x.sub(this.runningMean.reshape(bshape)).div(this.runningVar!.reshape(bshape).add(this.eps).sqrt());
    }
    if (!this.weight) return xhat;
    const y = xhat.mul(this.weight.reshape(bshape)).add(this.bias!.reshape(bshape));
    if (this.training || !this.runningMean) return y;
    // eval with running statistics: an exporter may write the whole as one BatchNormalization
    return recordCall(y, {
      op: 'batchNorm',
      inputs: [x, this.weight, this.bias!, this.runningMean, this.runningVar!],
      attrs: { eps: this.eps },
    });
  }

  /**
   * running ← running + f·(batch − running), f = momentum (or 1/num_batches_tracked when it is
   * null); the running variance takes the unbiased batch variance σ²·n/(n − 1), as PyTorch.
   */
  #track(mu: Tensor, v: Tensor, n: number): void {
    const rm = this.runningMean!;
    const rv = this.runningVar!;
    const nb = this.numBatchesTracked!;
    tidy(() =>
      noGrad(() => {
        nb.assign(nb.add(1));
        const f: Tensor | number = this.momentum ?? nb.pow(-1);
        const c = [this.numFeatures];
        rm.assign(rm.add(mu.reshape(c).sub(rm).mul(f)));
        rv.assign(rv.add(v.reshape(c).mul(n / (n - 1)).sub(rv).mul(f)));
      }),
    );
  }
}

/**
 * Batch normalization over [N, C] or [N, C, L] inputs, per channel C, as PyTorch's
 * `nn.BatchNorm1d`. In training mode it normalizes with the batch's mean and biased variance and
 * updates the running statistics (unbiased variance, momentum 0.1); in eval mode it normalizes
 * with the running statistics. Training on a batch with one value per channel is an error.
 *
 * @example
 * new Sequential(new Linear(16, 32), new BatchNorm1d(32), new ReLU());
 */
export class BatchNorm1d extends BatchNorm {
  constructor(numFeatures: number, opts: BatchNormOptions = {}) {
    super('BatchNorm1d', numFeatures, [2, 3], opts);
  }
}

/**
 * Batch normalization over [N, C, H, W] inputs, per channel C, as PyTorch's `nn.BatchNorm2d`
 * (statistics over N, H and W; see BatchNorm1d for the modes).
 *
 * @example
 * new BatchNorm2d(3).forward(randn([8, 3, 5, 5])).shape;   // [8, 3, 5, 5]
 */
export class BatchNorm2d extends BatchNorm {
  constructor(numFeatures: number, opts: BatchNormOptions = {}) {
    super('BatchNorm2d', numFeatures, [4], opts);
  }
}

export interface LayerNormOptions {
  /** added to the variance before the square root; default 1e-5 */
  eps?: number;
  /** learn a weight (starts at 1) and bias (starts at 0) of the normalized shape; default true */
  elementwiseAffine?: boolean;
  /** with elementwiseAffine, also learn the bias; default true */
  bias?: boolean;
  dtype?: DType;
  device?: Device;
}

/**
 * Layer normalization, as PyTorch's `nn.LayerNorm(normalizedShape)`: each sample is normalized
 * over its last axes (those of `normalizedShape`) with their mean and biased variance, then scaled
 * and shifted elementwise. The same in training and eval mode (no running statistics).
 *
 * @example
 * new LayerNorm(64).forward(randn([2, 10, 64]));   // each row of 64 to mean 0, variance 1
 */
export class LayerNorm extends Module {
  readonly normalizedShape: readonly number[];
  readonly eps: number;
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;

  constructor(normalizedShape: number | readonly number[], opts: LayerNormOptions = {}) {
    super();
    const shape = typeof normalizedShape === 'number' ? [normalizedShape] : [...(normalizedShape ?? [])];
    if (shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
      throw new Error(`LayerNorm: normalizedShape must be a positive integer or a non-empty list of them, got ${JSON.stringify(normalizedShape)}`);
    }
    const { eps = 1e-5, elementwiseAffine = true, bias = true, dtype, device } = opts;
    checkNorm('LayerNorm', eps);
    this.normalizedShape = shape;
    this.eps = eps;
    const o = { dtype, device };
    this.weight = this.registerParameter('weight', elementwiseAffine ? ones(shape, o) : null);
    this.bias = this.registerParameter('bias', elementwiseAffine && bias ? zeros(shape, o) : null);
  }

  override describe(): string {
    const extra = [this.eps !== 1e-5 ? `eps=${fmtNum(this.eps)}` : '', this.weight ? '' : 'elementwiseAffine=false'].filter(Boolean);
    return `LayerNorm(${[fmtShape(this.normalizedShape), ...extra].join(', ')})`;
  }

  #fits(shape: readonly Dim[]): boolean {
    const k = this.normalizedShape.length;
    if (shape.length < k) return false;
    return this.normalizedShape.every((d, i) => {
      const s = shape[shape.length - k + i];
      return typeof s !== 'number' || s === d;
    });
  }

  override outputShape(input: readonly Dim[]): Dim[] {
    if (!this.#fits(input)) throw new Error(`${this.describe()}: expected input [..., ${this.normalizedShape.join(', ')}], got [${input.join(', ')}]`);
    return [...input];
  }

  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor)) throw new Error(`${this.describe()}: expected a tensor, got ${typeof x}`);
    if (!this.#fits(x.shape)) throw new Error(`${this.describe()}: expected input [..., ${this.normalizedShape.join(', ')}], got ${fmtShapeOf(x)}`);
    if (this.weight && (x.dtype !== this.weight.dtype || x.device !== this.weight.device)) {
      throw new Error(`${this.describe()}: input ${fmtShapeOf(x)} is ${x.dtype} on ${x.device}, the layer is ${this.weight.dtype} on ${this.weight.device}`);
    }
    const k = this.normalizedShape.length;
    const axes = Array.from({ length: k }, (_, i) => x.rank - k + i);
    const mu = x.mean(axes, true);
    const centered = x.sub(mu);
    const xhat = centered.div(centered.square().mean(axes, true).add(this.eps).sqrt());
    if (!this.weight) return xhat;
    const y = xhat.mul(this.weight);
    return this.bias ? y.add(this.bias) : y;
  }
}
