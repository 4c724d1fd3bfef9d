// Indexing kernels over strided views: gather, its transpose scatterAdd, and argmax/argmin. Each
// walks the output (or the index) in row-major order with one odometer, keeping a running offset
// per operand, so any view (a broadcast index from indexSelect, a permuted x) is read in place.
// Indices are checked before anything is allocated: one out of range is an error that names it.
import { sizeOf, type OutInfo } from '../backend';
import { fmtShape } from '../../ops/registry';
import { alloc, fresh, type CpuStorage, type CpuView } from './storage';

/**
 * Visit every position of `shape` in row-major order, calling f(k, offsets) with the running
 * offset of each view (views share `shape`; strides may be anything, 0 included).
 */
function walk(shape: readonly number[], views: readonly { offset: number; strides: readonly number[] }[], f: (k: number, at: number[]) => void): void {
  const n = sizeOf(shape);
  if (n === 0) return;
  const r = shape.length;
  const at = views.map((v) => v.offset);
  const idx = new Array<number>(r).fill(0);
  for (let k = 0; k < n; k++) {
    f(k, at);
    for (let d = r - 1; d >= 0; d--) {
      idx[d]!++;
      for (let t = 0; t < views.length; t++) at[t]! += views[t]!.strides[d]!;
      if (idx[d]! < shape[d]!) break;
      for (let t = 0; t < views.length; t++) at[t]! -= views[t]!.strides[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
}

/** Every index value in [0, size), else a RangeError naming the op, the value, the axis and its size. */
function checkIndices(op: string, index: CpuView, axis: number, size: number, xShape: readonly number[]): void {
  const data = index.data;
  walk(index.shape, [index], (k, [p]) => {
    const j = data[p!]!;
    if (j < 0 || j >= size) {
      const neg = j < 0 ? ' (negative indices are not allowed, as in PyTorch)' : '';
      throw new RangeError(
        `${op}: index ${j} at flat position ${k} of index shape ${fmtShape(index.shape)} is out of range for axis ${axis} of size ${size} (shape ${fmtShape(xShape)})${neg}`,
      );
    }
  });
}

/** x's view with `axis` frozen at 0 and stretched to `shape` (the positions gather reads around). */
function around(x: CpuView, shape: readonly number[], axis: number): { offset: number; strides: number[] } {
  return { offset: x.offset, strides: x.strides.map((s, i) => (i === axis ? 0 : s)).slice(0, shape.length) };
}

export function gather(x: CpuStorage, index: CpuStorage, axis: number, out: OutInfo): CpuStorage {
  const xv = x.view;
  const iv = index.view;
  checkIndices('gather', iv, axis, xv.shape[axis]!, xv.shape);
  const res = alloc(out.dtype, sizeOf(out.shape));
  const xd = xv.data;
  const id = iv.data;
  const sa = xv.strides[axis]!;
  walk(out.shape, [iv, around(xv, out.shape, axis)], (k, [pi, px]) => {
    res[k] = xd[px! + id[pi!]! * sa]!;
  });
  return fresh(res, out.shape);
}

export function scatterAdd(g: CpuStorage, index: CpuStorage, axis: number, out: OutInfo): CpuStorage {
  const gv = g.view;
  const iv = index.view;
  checkIndices('scatterAdd', iv, axis, out.shape[axis]!, out.shape);
  const res = alloc(out.dtype, sizeOf(out.shape), true);
  const gd = gv.data;
  const id = iv.data;
  // the output is row-major: position [.., j, ..] is the walk's base plus j·stride(axis)
  const strides = out.shape.map((_, i) => sizeOf(out.shape.slice(i + 1)));
  const sa = strides[axis]!;
  const base = { offset: 0, strides: strides.map((s, i) => (i === axis ? 0 : s)) };
  // float32 sums accumulate in the float32 output, in index order (a deterministic order)
  walk(gv.shape, [gv, iv, base], (_, [pg, pi, po]) => {
    res[po! + id[pi!]! * sa]! += gd[pg!]!;
  });
  return fresh(res, out.shape);
}

/** First position of the max (or min) along axis; the first NaN wins (as PyTorch). */
export function argReduce(op: 'argmax' | 'argmin', x: CpuStorage, axis: number, out: OutInfo): CpuStorage {
  const xv = x.view;
  const n = xv.shape[axis]!;
  const sa = xv.strides[axis]!;
  const kept = xv.shape.filter((_, i) => i !== axis);
  const keptStrides = xv.strides.filter((_, i) => i !== axis);
  const res = alloc('int32', sizeOf(kept));
  const d = xv.data;
  const sign = op === 'argmax' ? 1 : -1;
  walk(kept, [{ offset: xv.offset, strides: keptStrides }], (k, [p]) => {
    let best = 0;
    let m = d[p!]!;
    if (m === m) {
      for (let j = 1, q = p! + sa; j < n; j++, q += sa) {
        const v = d[q]!;
        if (v !== v) {
          best = j;
          break;
        }
        if (sign * v > sign * m) {
          m = v;
          best = j;
        }
      }
    }
    res[k] = best;
  });
  return fresh(res, out.shape);
}
