// Losses: each maps (prediction, target) to a scalar tensor. Targets are data: they are never
// differentiated and never modified.
import { tensor } from '../graph/creation';
import { mse } from '../graph/functional';
import { fmtShape, fmtShapeOf, isTensor, sameShapeOf, Tensor } from './util';

export type Reduction = 'mean' | 'sum';

function checkReduction(name: string, r: string): asserts r is Reduction {
  if (r !== 'mean' && r !== 'sum') throw new Error(`${name}: reduction must be 'mean' or 'sum', got '${r}'`);
}

function checkPair(name: string, pred: Tensor, target: Tensor): void {
  if (!isTensor(pred) || !isTensor(target)) throw new Error(`${name}: expects two tensors (prediction, target)`);
  if (!sameShapeOf(pred, target)) {
    throw new Error(`${name}: target shape ${fmtShapeOf(target)} does not match prediction shape ${fmtShapeOf(pred)}`);
  }
  if (pred.dtype !== target.dtype || pred.device !== target.device) {
    throw new Error(`${name}: target is ${target.dtype} on ${target.device}, prediction is ${pred.dtype} on ${pred.device}`);
  }
}

const reduce = (x: Tensor, r: Reduction) => (r === 'sum' ? x.sum() : x.mean());

/**
 * A loss: a callable-like object with `forward(prediction, target)` returning a scalar.
 *
 * @example
 * class Huber extends Loss {
 *   forward(p: Tensor, t: Tensor) { const d = p.sub(t).abs(); return d.where(d.gt(1), d.square().mul(0.5)).mean(); }
 * }
 */
export abstract class Loss {
  abstract forward(pred: Tensor, target: Tensor): Tensor;
  /** The loss's name (subclasses return a literal: minifiers rename classes). */
  describe(): string {
    return this.constructor.name;
  }
  toString(): string {
    return this.describe();
  }
}

export interface MSEOptions {
  /** multiply by ½ (the cost PuzzleLib and the tutorials report); default false */
  half?: boolean;
  /** 'mean' over all elements (default) or 'sum' */
  reduction?: Reduction;
}

/**
 * mean((p − t)²), or ½·mean with `half`, or the sum with `reduction: 'sum'`.
 *
 * @example
 * mseLoss(tensor([1, 2]), tensor([1, 4]));                 // (0 + 4) / 2 = 2
 * mseLoss(tensor([1, 2]), tensor([1, 4]), { half: true }); // 1
 */
export function mseLoss(pred: Tensor, target: Tensor, { half = false, reduction = 'mean' }: MSEOptions = {}): Tensor {
  checkReduction('MSE', reduction);
  checkPair('MSE', pred, target);
  // the mean is one fused op (forward and gradient); the sum stays a composition
  const r = reduction === 'mean' ? mse(pred, target) : pred.sub(target).square().sum();
  return half ? r.mul(0.5) : r;
}

/**
 * Mean squared error (see mseLoss).
 *
 * @example
 * const trainer = new Trainer(net, new MSE({ half: true }), opt);
 */
export class MSE extends Loss {
  constructor(readonly opts: MSEOptions = {}) {
    super();
    checkReduction('MSE', opts.reduction ?? 'mean');
  }
  forward(pred: Tensor, target: Tensor): Tensor {
    return mseLoss(pred, target, this.opts);
  }
  override describe(): string {
    const { half = false, reduction = 'mean' } = this.opts;
    return `MSE(${[half ? 'half' : '', reduction !== 'mean' ? reduction : ''].filter(Boolean).join(', ')})`;
  }
}

/**
 * mean(|p − t|) (or the sum).
 *
 * @example
 * l1Loss(tensor([1, 2]), tensor([2, 0]));   // (1 + 2) / 2 = 1.5
 */
export function l1Loss(pred: Tensor, target: Tensor, { reduction = 'mean' }: { reduction?: Reduction } = {}): Tensor {
  checkReduction('L1', reduction);
  checkPair('L1', pred, target);
  return reduce(pred.sub(target).abs(), reduction);
}

/**
 * Mean absolute error (see l1Loss).
 *
 * @example
 * new L1().forward(tensor([1, 2]), tensor([2, 0]));   // 1.5
 */
export class L1 extends Loss {
  constructor(readonly opts: { reduction?: Reduction } = {}) {
    super();
    checkReduction('L1', opts.reduction ?? 'mean');
  }
  forward(pred: Tensor, target: Tensor): Tensor {
    return l1Loss(pred, target, this.opts);
  }
  override describe(): string {
    return this.opts.reduction === 'sum' ? 'L1(sum)' : 'L1';
  }
}

/** Integer class labels: a tensor, a typed array or a plain list. */
export type Labels = Tensor | ArrayLike<number>;

/**
 * One-hot rows for `labels` over `classes` classes, on `like`'s dtype and device. Labels on the
 * host or the CPU are checked (integers in [0, classes)); labels on another device are compared
 * there without reading them back, so out-of-range labels give all-zero rows instead of an error.
 */
function oneHot(labels: Labels, classes: number, batch: readonly number[], like: Tensor): Tensor {
  const n = batch.reduce((p, d) => p * d, 1);
  if (isTensor(labels)) {
    if (labels.size !== n) {
      throw new Error(`CrossEntropy: labels of shape ${fmtShapeOf(labels)} do not match logits ${fmtShapeOf(like)} (expected ${n} labels, shape ${fmtShape(batch)})`);
    }
    if (labels.device !== 'cpu' && labels.dtype === 'int32') {
      // int32 class indices: one-hot rows on the device (no read back; see docs/webgpu.md for
      // what a label out of range does there)
      return labels.reshape([...batch]).oneHot(classes, { dtype: like.dtype });
    }
    if (labels.device !== 'cpu') {
      const idx = tensor(Array.from({ length: classes }, (_, i) => i), { dtype: like.dtype, device: labels.device });
      const lab = labels.dtype === like.dtype ? labels : labels.cast(like.dtype);
      return lab.reshape([...batch, 1]).eq(idx);
    }
    labels = labels.dataSync();
  }
  if (labels.length !== n) {
    throw new Error(`CrossEntropy: ${labels.length} labels do not match logits ${fmtShapeOf(like)} (expected ${n})`);
  }
  const hot = new Float64Array(n * classes);
  for (let i = 0; i < n; i++) {
    const c = labels[i]!;
    if (!Number.isInteger(c) || c < 0 || c >= classes) {
      throw new Error(`CrossEntropy: label ${c} at index ${i} is out of range for ${classes} classes (expected an integer in [0, ${classes - 1}])`);
    }
    hot[i * classes + c] = 1;
  }
  return tensor(hot, { shape: [...batch, classes], dtype: like.dtype, device: like.device });
}

/**
 * Cross-entropy of logits `[..., C]` against integer labels `[...]` (an int32 tensor, a float
 * tensor of whole numbers, or a plain list; or class probabilities of the logits' shape): −Σ_c t_c · logSoftmax(z)_c per row, averaged over rows (or summed). Stable for
 * large logits (log-softmax subtracts the row max).
 *
 * @example
 * crossEntropyLoss(tensor([[2, 0, -1]]), [0]);   // −log softmax([2, 0, −1])₀
 */
export function crossEntropyLoss(logits: Tensor, labels: Labels, { reduction = 'mean' }: { reduction?: Reduction } = {}): Tensor {
  checkReduction('CrossEntropy', reduction);
  if (!isTensor(logits) || logits.rank === 0) {
    throw new Error(`CrossEntropy: logits must be a tensor of shape [..., classes], got ${isTensor(logits) ? fmtShapeOf(logits) : typeof logits}`);
  }
  const classes = logits.shape[logits.rank - 1]!;
  const batch = logits.shape.slice(0, -1);
  // int32 labels are class indices, never probabilities (even when their shape is the logits')
  const probs = isTensor(labels) && labels.dtype !== 'int32' && sameShapeOf(labels, logits);
  if (probs && (labels.dtype !== logits.dtype || labels.device !== logits.device)) {
    throw new Error(`CrossEntropy: target is ${labels.dtype} on ${labels.device}, logits are ${logits.dtype} on ${logits.device}`);
  }
  const t = probs ? labels : oneHot(labels, classes, batch, logits);
  // 0 · log p counts as 0 (its limit as t → 0): a −inf logit with no target mass has log p = −inf,
  // and 0 · (−inf) made the row NaN. log p is picked where t ≠ 0 (one-hot rows need no product at
  // all); the where sits inside t's product, so neither gradient (t's: log p) meets the −inf.
  const picked = logits.logSoftmax(-1).where(t, 0);
  const perRow = (probs ? t.mul(picked) : picked).sum(-1).neg();
  return reduce(perRow, reduction);
}

/**
 * Cross-entropy on logits with integer labels (see crossEntropyLoss).
 *
 * @example
 * const trainer = new Trainer(classifier, new CrossEntropy(), new Adam(classifier.parameters()));
 */
export class CrossEntropy extends Loss {
  constructor(readonly opts: { reduction?: Reduction } = {}) {
    super();
    checkReduction('CrossEntropy', opts.reduction ?? 'mean');
  }
  forward(logits: Tensor, labels: Tensor): Tensor {
    return crossEntropyLoss(logits, labels, this.opts);
  }
  override describe(): string {
    return this.opts.reduction === 'sum' ? 'CrossEntropy(sum)' : 'CrossEntropy';
  }
}
