// Small helpers shared by the nn files.
import { isTensor, Tensor } from '../graph/tensor';
import { noGrad } from '../graph/engine';
import { fmtShape, sameShape } from '../ops/registry';

export { Tensor, isTensor, noGrad, fmtShape, sameShape };

export const fmtShapeOf = (t: Tensor) => fmtShape(t.shape);
export const sameShapeOf = (a: Tensor, b: Tensor) => sameShape(a.shape, b.shape);

/** `t` with `like`'s dtype and device: `t` itself when they already match, else a new tensor. */
export function convertLike(t: Tensor, like: Tensor): Tensor {
  let v = t;
  if (v.device !== like.device) v = v.to(like.device);
  if (v.dtype !== like.dtype) {
    const c = v.cast(like.dtype);
    if (v !== t) v.dispose();
    v = c;
  }
  return v;
}
