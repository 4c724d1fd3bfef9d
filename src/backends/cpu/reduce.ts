// Reductions. The input is seen as [A, R, B] (row-major) when the reduced axes are one block, so
// that A·B outputs each combine R values B apart; otherwise it is first copied with the reduced
// axes moved last. Sums accumulate in float64; max/min let NaN win, like Math.max.
import type { OutInfo, ReduceOp, TypedArray } from '../backend';
import { config } from './config';
import { inHeap, scratch as wasmScratch } from './heap';
import { choosePath } from './policy';
import { wasm, type Wasm } from './wasm';
import { rowMajorStrides } from '../backend';
import { isRowMajor, permute } from '../view';
import { alloc, contiguous, copyInto, discard, dtypeOf, fresh, makeView, type CpuStorage } from './storage';

let scratch = new Float64Array(256);

/** The kernels when the policy puts a sum of `work` values per output of `data` on wasm. */
function sumWasm(data: ArrayLike<number>, work: number): Wasm | null {
  // the sum kernels are float kernels: int32 data is summed in JS (in float64, then wrapped)
  if (data instanceof Int32Array) return null;
  const w = config.wasm && ArrayBuffer.isView(data) ? wasm() : null;
  const path = choosePath({ family: 'sum', work, kernel: w !== null, inHeap: w !== null && inHeap(data as TypedArray) });
  return path === 'js' ? null : w;
}

/** out[a] = Σ of row a (R values) with the wasm kernel, for rows in the wasm heap; false if not. */
function sumRowsWasm(x: ArrayLike<number>, out: { [i: number]: number }, A: number, R: number): boolean {
  const w = sumWasm(x, R);
  if (w === null) return false;
  const data = x as TypedArray;
  const sz = data.BYTES_PER_ELEMENT;
  const f = sz === 8 ? w.sumF64 : w.sumF32;
  for (let a = 0, at = data.byteOffset; a < A; a++, at += R * sz) out[a] = f(at, R);
  return true;
}

/** Column sums (B > 1) with the wasm kernel, for a block in the wasm heap; false if not. */
function sumColsWasm(x: ArrayLike<number>, out: { [i: number]: number }, A: number, R: number, B: number): boolean {
  if (!ArrayBuffer.isView(out)) return false;
  const w = sumWasm(x, R * B);
  if (w === null) return false;
  const data = x as TypedArray;
  const res = out as TypedArray;
  if (res.BYTES_PER_ELEMENT !== data.BYTES_PER_ELEMENT) return false;
  const sz = data.BYTES_PER_ELEMENT;
  const outIn = inHeap(res);
  // f64 accumulators for float32 (B of them), and room for the sums when out is not in the heap
  const accBytes = sz === 4 ? (B * 8 + 63) & ~63 : 0;
  const base = wasmScratch(w, accBytes + (outIn ? 0 : A * B * sz));
  if (base < 0) return false;
  const o = outIn ? res.byteOffset : base + accBytes;
  const f = sz === 8 ? w.colsum.f64 : w.colsum.f32;
  for (let a = 0; a < A; a++) f(data.byteOffset + a * R * B * sz, o + a * B * sz, base, R, B);
  if (!outIn) res.set((sz === 8 ? w.f64 : w.f32).subarray(o / sz, o / sz + A * B));
  return true;
}

/** out[a·B + b] = Σ_r x[(a·R + r)·B + b] */
function sum(x: ArrayLike<number>, out: { [i: number]: number }, A: number, R: number, B: number): void {
  if (B === 1) {
    if (sumRowsWasm(x, out, A, R)) return;
    // a row (or everything) per output: one float64 accumulator
    for (let a = 0, base = 0; a < A; a++) {
      let s = 0;
      for (let end = base + R; base < end; base++) s += x[base]!;
      out[a] = s;
    }
    return;
  }
  if (sumColsWasm(x, out, A, R, B)) return;
  // columns: accumulate rows of B in float64, unit stride on both sides
  if (scratch.length < B) scratch = new Float64Array(B);
  const acc = scratch;
  for (let a = 0; a < A; a++) {
    for (let b = 0; b < B; b++) acc[b] = 0;
    for (let r = 0, base = a * R * B; r < R; r++, base += B) {
      for (let b = 0; b < B; b++) acc[b]! += x[base + b]!;
    }
    for (let b = 0, o = a * B; b < B; b++, o++) out[o] = acc[b]!;
  }
}

function extremum(sign: 1 | -1) {
  return (x: ArrayLike<number>, out: { [i: number]: number }, A: number, R: number, B: number): void => {
    for (let a = 0; a < A; a++) {
      for (let b = 0; b < B; b++) {
        let m = -sign * Infinity;
        for (let r = 0, i = a * R * B + b; r < R; r++, i += B) {
          const v = x[i]!;
          if (sign * v > sign * m || v !== v) {
            m = v;
            if (v !== v) break;
          }
        }
        out[a * B + b] = m;
      }
    }
  };
}

const combine = { sum, max: extremum(1), min: extremum(-1) };

/**
 * Reduce the trailing axes of a strided view in place, for a few values per output (the windows
 * of pooling): each output's taps are fixed offsets from its window's origin, so nothing is
 * copied. Copying the view first (then the [A, R, B] loops) cost 2.3× as much for 2×2 max-pooling
 * windows of a [64, 16, 24, 24] input (one full-size write and read more, and a carry every two
 * elements of the copy).
 */
function reduceWindows(op: ReduceOp, v: CpuStorage['view'], nKept: number, res: { [i: number]: number }): void {
  const { shape, strides } = v;
  // the taps' offsets, in the reduced axes' row-major order (NaN stops max/min at the first)
  let taps = [0];
  for (let i = nKept; i < shape.length; i++) {
    const next: number[] = [];
    for (const t of taps) for (let j = 0; j < shape[i]!; j++) next.push(t + j * strides[i]!);
    taps = next;
  }
  const off = Int32Array.from(taps);
  const last = nKept > 0 ? shape[nKept - 1]! : 1;
  const ls = nKept > 0 ? strides[nKept - 1]! : 0;
  const outer = shape.slice(0, Math.max(nKept - 1, 0));
  const idx = new Int32Array(outer.length);
  const row = op === 'sum' ? sumTaps : op === 'max' ? maxTaps : minTaps;
  let p = v.offset;
  for (let o = 0, rows = outer.reduce((a, b) => a * b, 1); rows > 0; rows--, o += last) {
    row(v.data, p, ls, last, off, res, o);
    for (let k = outer.length - 1; k >= 0; k--) {
      idx[k]!++;
      p += strides[k]!;
      if (idx[k]! < outer[k]!) break;
      p -= strides[k]! * outer[k]!;
      idx[k] = 0;
    }
  }
}

type TapRow = (d: ArrayLike<number>, p: number, ls: number, n: number, off: Int32Array, res: { [i: number]: number }, o: number) => void;
// one row of outputs: n windows ls apart, each the taps at off from its origin
const sumTaps: TapRow = (d, p, ls, n, off, res, o) => {
  for (let j = 0; j < n; j++, p += ls) {
    let s = 0;
    for (let t = 0; t < off.length; t++) s += d[p + off[t]!]!;
    res[o + j] = s;
  }
};
const maxTaps: TapRow = (d, p, ls, n, off, res, o) => {
  for (let j = 0; j < n; j++, p += ls) {
    let m = d[p]!;
    for (let t = 1; t < off.length && m === m; t++) {
      const x = d[p + off[t]!]!;
      if (x > m || x !== x) m = x;
    }
    res[o + j] = m;
  }
};
const minTaps: TapRow = (d, p, ls, n, off, res, o) => {
  for (let j = 0; j < n; j++, p += ls) {
    let m = d[p]!;
    for (let t = 1; t < off.length && m === m; t++) {
      const x = d[p + off[t]!]!;
      if (x < m || x !== x) m = x;
    }
    res[o + j] = m;
  }
};

/** mean((p − t)²) of two same-shaped views: the difference in the dtype, squares summed in float64. */
export function mse(p: CpuStorage, t: CpuStorage, out: OutInfo): CpuStorage {
  const a = contiguous(p);
  const b = contiguous(t);
  const n = a.length;
  let s = 0;
  const wm = config.wasm ? wasm() : null;
  const w = choosePath({ family: 'fused', work: n, kernel: wm !== null, inHeap: inHeap(a) && inHeap(b) }) === 'js' ? null : wm;
  if (w !== null) {
    const sz = a.BYTES_PER_ELEMENT;
    s = (sz === 8 ? w.sqdiffF64 : w.sqdiffF32)(a.byteOffset, b.byteOffset, n);
  } else if (a instanceof Float32Array) {
    for (let i = 0; i < n; i++) {
      const d = Math.fround(a[i]! - b[i]!);
      s += d * d;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const d = a[i]! - b[i]!;
      s += d * d;
    }
  }
  // contiguous() copied the views that are not row-major: hand those buffers back
  if (!isRowMajor(p.view)) discard(a);
  if (!isRowMajor(t.view)) discard(b);
  const res = alloc(out.dtype, 1);
  res[0] = s / n;
  return fresh(res, out.shape);
}

export function reduce(op: ReduceOp, s: CpuStorage, axes: number[], out: OutInfo): CpuStorage {
  let shape = s.view.shape;
  let data: TypedArray;
  let first = axes[0] ?? 0;
  const block = axes.every((a, i) => a === first + i);
  // a copy made here goes back to the pool (or the wasm heap) afterwards
  let copied = true;
  // a few values per output at the end of a strided view (pooling's windows): reduce in place
  const trailing = block && first + axes.length === shape.length && axes.length > 0;
  if (trailing && !isRowMajor(s.view) && s.view.size > 0) {
    const R = axes.reduce((p, a) => p * shape[a]!, 1);
    // a whole row of R values (only the outer axes permuted) long enough for the wasm sum: the
    // copy and wasm rows win (a [256,128,64] permuted view's row sums: 5.8 ms against 6.8 in place)
    const row = isRowMajor({ shape: shape.slice(first), strides: s.view.strides.slice(first), offset: 0 });
    if (R <= config.windowReduceMax && !(op === 'sum' && row && R >= config.sumWasmMin)) {
      const res = alloc(out.dtype, s.view.size / R);
      reduceWindows(op, s.view, first, res);
      return fresh(res, out.shape);
    }
  }
  if (block) {
    data = contiguous(s);
    copied = !isRowMajor(s.view);
  } else {
    // move the reduced axes to the end (keeping order), then copy row-major
    const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
    const perm = [...kept, ...axes];
    const v = s.view;
    const moved = permute(v, perm);
    const pShape = moved.shape;
    const buf = alloc(dtypeOf(v.data), v.size);
    copyInto(makeView(buf, pShape, rowMajorStrides(pShape), 0), makeView(v.data, pShape, moved.strides, v.offset));
    data = buf;
    shape = pShape;
    first = kept.length;
  }
  let A = 1;
  let R = 1;
  let B = 1;
  for (let i = 0; i < shape.length; i++) {
    if (i < first) A *= shape[i]!;
    else if (i < first + axes.length) R *= shape[i]!;
    else B *= shape[i]!;
  }
  const res = alloc(out.dtype, A * B);
  combine[op](data, res, A, R, B);
  if (copied) discard(data);
  return fresh(res, out.shape);
}
