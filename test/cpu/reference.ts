// Simple references in float64, for the fast paths to be checked against.

/** Row-major data of `shape` from a function of the index. */
export function fill(shape: number[], f: (idx: number[]) => number): Float64Array {
  const n = shape.reduce((p, d) => p * d, 1);
  const out = new Float64Array(n);
  const idx = shape.map(() => 0);
  for (let i = 0; i < n; i++) {
    out[i] = f(idx);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

/** Element of row-major `data` of `shape` at a (broadcast) index of a higher rank. */
export function at(data: ArrayLike<number>, shape: number[], idx: number[]): number {
  let o = 0;
  const off = idx.length - shape.length;
  for (let d = 0; d < shape.length; d++) o = o * shape[d]! + (shape[d] === 1 ? 0 : idx[off + d]!);
  return data[o]!;
}

/** Batched matmul with broadcast batch dims, and Σ|a·b| per output element (for tolerances). */
export function matmulRef(a: ArrayLike<number>, aShape: number[], b: ArrayLike<number>, bShape: number[]) {
  const m = aShape[aShape.length - 2]!;
  const k = aShape[aShape.length - 1]!;
  const n = bShape[bShape.length - 1]!;
  const ab = aShape.slice(0, -2);
  const bb = bShape.slice(0, -2);
  const rank = Math.max(ab.length, bb.length);
  const pad = (s: number[]) => [...new Array<number>(rank - s.length).fill(1), ...s];
  const [pa, pb] = [pad(ab), pad(bb)];
  const batch = pa.map((d, i) => Math.max(d, pb[i]!));
  const shape = [...batch, m, n];
  const value = new Float64Array(shape.reduce((p, d) => p * d, 1));
  const mag = new Float64Array(value.length);
  const batches = batch.reduce((p, d) => p * d, 1);
  for (let t = 0; t < batches; t++) {
    // this batch's offsets into a and b (broadcast dims stay at 0)
    let rest = t;
    let ao = 0;
    let bo = 0;
    let aStride = m * k;
    let bStride = k * n;
    for (let d = rank - 1; d >= 0; d--) {
      const i = rest % batch[d]!;
      rest = Math.floor(rest / batch[d]!);
      if (pa[d] !== 1) ao += i * aStride;
      if (pb[d] !== 1) bo += i * bStride;
      aStride *= pa[d]!;
      bStride *= pb[d]!;
    }
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        let abs = 0;
        for (let p = 0; p < k; p++) {
          const v = a[ao + i * k + p]! * b[bo + p * n + j]!;
          s += v;
          abs += Math.abs(v);
        }
        value[t * m * n + i * n + j] = s;
        mag[t * m * n + i * n + j] = abs;
      }
    }
  }
  return { shape, value, mag };
}

/** Index of the first element outside tolerance (NaN must match NaN, ±Inf must match), or -1. */
export function firstMismatch(got: ArrayLike<number>, want: ArrayLike<number>, tol: (i: number) => number): number {
  if (got.length !== want.length) return 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (Number.isNaN(w) ? !Number.isNaN(g) : !Number.isFinite(w) ? g !== w : !(Math.abs(g - w) <= tol(i))) return i;
  }
  return -1;
}
