// fold (col2im), windows' adjoint: out = 0, then every element of g is added to the output
// element its tap was read from. The output seen through windows(rowMajor(out)) has g's shape, so
// this is one strided walk over two views of one shape, with += where a copy has =.
import { sizeOf, type OutInfo, type WindowAttrs } from '../backend';
import { rowMajor, windows } from '../view';
import { alloc, fresh, type CpuStorage } from './storage';

export function fold(g: CpuStorage, attrs: WindowAttrs, out: OutInfo): CpuStorage {
  const res = fresh(alloc(out.dtype, sizeOf(out.shape), true), out.shape);
  const dst = windows(rowMajor(out.shape), attrs);
  const src = g.view;
  const shape = dst.shape;
  const n = sizeOf(shape);
  if (n === 0) return res;
  const r = shape.length;
  const dd = res.view.data;
  const sd = src.data;
  const ds = dst.strides;
  const ss = src.strides;
  // the innermost axis is a tap axis (stride = dilation along the last window axis)
  const last = shape[r - 1]!;
  const dj = ds[r - 1]!;
  const sj = ss[r - 1]!;
  const idx = new Int32Array(r);
  let dp = dst.offset;
  let sp = src.offset;
  for (let k = 0, outer = n / last; k < outer; k++) {
    for (let j = 0; j < last; j++) dd[dp + j * dj] += sd[sp + j * sj]!;
    for (let d = r - 2; d >= 0; d--) {
      idx[d]!++;
      dp += ds[d]!;
      sp += ss[d]!;
      if (idx[d]! < shape[d]!) break;
      dp -= ds[d]! * shape[d]!;
      sp -= ss[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
  return res;
}
