// Reductions. The input (made row-major) is seen as [A, R, B] when the reduced axes are one
// block; otherwise it is first permuted so that they are. Sums accumulate in float64.
import ndarray from 'ndarray';
import { sizeOf, type OutInfo, type ReduceOp } from '../backend';
import { alloc, contiguous, copyInto, dtypeOf, fresh, rowMajorStrides, type CpuStorage } from './storage';

type Combine = (acc: Float64Array, x: ArrayLike<number>, A: number, R: number, B: number) => void;

function sumInto(acc: Float64Array, x: ArrayLike<number>, A: number, R: number, B: number): void {
  for (let a = 0; a < A; a++) {
    for (let r = 0; r < R; r++) {
      const base = (a * R + r) * B;
      for (let b = 0, o = a * B; b < B; b++, o++) acc[o]! += x[base + b]!;
    }
  }
}

// NaN propagates (a NaN anywhere makes the extremum NaN), like Math.max
function extremum(sign: 1 | -1): Combine {
  return (acc, x, A, R, B) => {
    acc.fill(-sign * Infinity);
    for (let a = 0; a < A; a++) {
      for (let r = 0; r < R; r++) {
        const base = (a * R + r) * B;
        for (let b = 0, o = a * B; b < B; b++, o++) {
          const v = x[base + b]!;
          const cur = acc[o]!;
          if (sign * v > sign * cur || v !== v) acc[o] = v;
        }
      }
    }
  };
}

const combine: Record<ReduceOp, Combine> = { sum: sumInto, max: extremum(1), min: extremum(-1) };

export function reduce(op: ReduceOp, s: CpuStorage, axes: number[], out: OutInfo): CpuStorage {
  let shape = s.arr.shape;
  let data: ArrayLike<number>;
  let first = axes[0] ?? 0;
  const block = axes.every((a, i) => a === first + i);
  if (block) {
    data = contiguous(s);
  } else {
    // move the reduced axes to the end (keeping order), then copy row-major
    const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
    const perm = [...kept, ...axes];
    const v = s.arr.transpose(...perm);
    const buf = alloc(dtypeOf(s.arr.data), sizeOf(shape));
    copyInto(ndarray(buf, [...v.shape], rowMajorStrides(v.shape), 0), v);
    data = buf;
    shape = v.shape;
    first = kept.length;
  }
  const n = axes.length;
  const A = sizeOf(shape.slice(0, first));
  const R = sizeOf(shape.slice(first, first + n));
  const B = sizeOf(shape.slice(first + n));
  const acc = new Float64Array(A * B);
  if (R > 0 || op === 'sum') combine[op](acc, data, A, R, B);
  const res = alloc(out.dtype, A * B);
  res.set(acc);
  return fresh(res, out.shape);
}
