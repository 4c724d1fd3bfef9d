// Metrics: figures that describe a model's predictions, not differentiated (computed without grad).
import { arange, tensor } from '../graph/creation';
import { noGrad } from '../graph/engine';
import type { Labels } from './losses';
import { fmtShapeOf, sameShapeOf, Tensor } from './util';

/**
 * The first index of the largest value along the last axis, as a float tensor of the batch shape
 * (ties go to the lowest index, as NumPy and PyTorch argmax). Written with max/eq/where/min so it
 * runs on every backend until an argmax op exists: the entries equal to the row max keep their
 * index, the others become C, and the minimum is the first maximal index.
 */
function firstArgmax(x: Tensor): Tensor {
  const classes = x.shape[x.rank - 1]!;
  const idx = arange(classes, undefined, 1, { dtype: x.dtype, device: x.device });
  return idx.where(x.eq(x.max(-1, true)), classes).min(-1);
}

/**
 * The fraction of rows whose largest logit is at the true class, as a scalar tensor (read it with
 * `item()` or `await data()`). `logits` is `[..., C]`; `labels` is either class indices of the batch
 * shape `[...]` (a tensor of integer values, or a plain list), or one-hot / probability rows of
 * the logits' shape (the class is their largest entry). Ties in the logits count as the lowest
 * index, as argmax does. Nothing is differentiated.
 *
 * @example
 * accuracy(tensor([[2, 1], [0, 3], [1, 0]]), [0, 1, 1]).item();   // 2/3
 */
export function accuracy(logits: Tensor, labels: Labels): Tensor {
  if (!(logits instanceof Tensor) || logits.rank === 0 || logits.shape[logits.rank - 1] === 0) {
    throw new Error(`accuracy: logits must be a tensor of shape [..., classes], got ${logits instanceof Tensor ? fmtShapeOf(logits) : typeof logits}`);
  }
  const batch = logits.shape.slice(0, -1);
  const n = batch.reduce((p, d) => p * d, 1);
  if (n === 0) throw new Error(`accuracy: logits ${fmtShapeOf(logits)} have no rows`);
  return noGrad(() => {
    let truth: Tensor;
    if (labels instanceof Tensor) {
      if (labels.device !== logits.device) throw new Error(`accuracy: labels are on ${labels.device}, logits on ${logits.device}`);
      const lab = labels.dtype === logits.dtype ? labels : labels.cast(logits.dtype);
      if (sameShapeOf(labels, logits) && logits.rank > 1) truth = firstArgmax(lab);
      else if (labels.size === n) truth = lab.reshape(batch);
      else {
        throw new Error(`accuracy: labels of shape ${fmtShapeOf(labels)} fit neither the batch [${batch.join(', ')}] (class indices) nor the logits ${fmtShapeOf(logits)} (one-hot rows)`);
      }
    } else {
      if (labels === null || typeof labels !== 'object' || typeof labels.length !== 'number') {
        throw new Error(`accuracy: labels must be a tensor or a list of class indices, got ${labels === null ? 'null' : typeof labels}`);
      }
      if (labels.length !== n) throw new Error(`accuracy: ${labels.length} labels do not match logits ${fmtShapeOf(logits)} (expected ${n})`);
      truth = tensor(Array.from(labels), { shape: batch, dtype: logits.dtype, device: logits.device });
    }
    return firstArgmax(logits).eq(truth).mean();
  });
}
