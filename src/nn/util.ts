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
    let c: Tensor;
    try {
      c = v.cast(like.dtype);
    } finally {
      if (v !== t) v.dispose(); // the moved copy, whether or not the cast worked
    }
    v = c;
  }
  return v;
}
