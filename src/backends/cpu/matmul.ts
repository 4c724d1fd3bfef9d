// Batched matmul over strided views: batch dims broadcast by stride 0; each (m×k)·(k×n)
// product packs B row-major once and runs an i-p-j loop (a saxpy per row of A).
import { sizeOf, type OutInfo } from '../backend';
import { alloc, fresh, type CpuStorage } from './storage';

export function matmul(a: CpuStorage, b: CpuStorage, out: OutInfo): CpuStorage {
  const rank = out.shape.length;
  const [m, n] = out.shape.slice(-2) as [number, number];
  const k = a.arr.shape[a.arr.shape.length - 1]!;
  const batchShape = out.shape.slice(0, -2);
  const batches = sizeOf(batchShape);
  const c = alloc(out.dtype, batches * m * n);

  const batchStrides = (s: CpuStorage) => {
    const sh = s.arr.shape;
    const st = s.arr.stride;
    const off = rank - sh.length;
    return batchShape.map((d, i) => {
      const j = i - off;
      return j < 0 || (sh[j] === 1 && d !== 1) ? 0 : st[j]!;
    });
  };
  const aBS = batchStrides(a);
  const bBS = batchStrides(b);
  const ra = a.arr.shape.length;
  const rb = b.arr.shape.length;
  const [sam, sak] = [a.arr.stride[ra - 2]!, a.arr.stride[ra - 1]!];
  const [sbk, sbn] = [b.arr.stride[rb - 2]!, b.arr.stride[rb - 1]!];
  const A = a.arr.data;
  const B = b.arr.data;
  const packed = new Float64Array(k * n);
  const row = new Float64Array(n);
  const idx = new Array<number>(batchShape.length).fill(0);

  for (let batch = 0; batch < batches; batch++) {
    let ao = a.arr.offset;
    let bo = b.arr.offset;
    for (let d = 0; d < idx.length; d++) {
      ao += idx[d]! * aBS[d]!;
      bo += idx[d]! * bBS[d]!;
    }
    for (let p = 0; p < k; p++) {
      for (let j = 0; j < n; j++) packed[p * n + j] = B[bo + p * sbk + j * sbn]!;
    }
    const co = batch * m * n;
    for (let i = 0; i < m; i++) {
      row.fill(0);
      const ai = ao + i * sam;
      for (let p = 0; p < k; p++) {
        const av = A[ai + p * sak]!;
        const pp = p * n;
        for (let j = 0; j < n; j++) row[j]! += av * packed[pp + j]!;
      }
      c.set(row, co + i * n);
    }
    for (let d = idx.length - 1; d >= 0; d--) {
      if (++idx[d]! < batchShape[d]!) break;
      idx[d] = 0;
    }
  }
  return fresh(c, out.shape);
}
