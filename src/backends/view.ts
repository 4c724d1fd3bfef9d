// Strided views, device-neutral. A view is { shape, strides, offset } over a flat buffer: element
// (i₀, …, iₙ₋₁) lives at offset + Σ iₖ·strides[k] (in elements). Movement ops (reshape, permute,
// expand, slice) and sliding windows only compute a new view; the engine applies them without a
// kernel call, and a backend sees views only as the layout of a compute kernel's operands or of
// the one copy it provides ("materialize this view row-major").
//
// Views are plain immutable objects: every function here returns a new one and never writes to
// its arguments (their arrays may be shared with other views).
import { rowMajorStrides, sizeOf } from './backend';

export interface View {
  readonly shape: readonly number[];
  /** in elements; 0 on broadcast (expanded) axes */
  readonly strides: readonly number[];
  /** in elements */
  readonly offset: number;
}

/** The row-major view of a fresh buffer of this shape. */
export function rowMajor(shape: readonly number[], offset = 0): View {
  return { shape, strides: rowMajorStrides(shape), offset };
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Row-major with unit inner stride (any offset): the elements are one dense run in order.
 * Size-1 axes may have any stride (they are never stepped along).
 */
export function isRowMajor(v: View): boolean {
  const { shape, strides } = v;
  let expect = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i]!;
    if (d !== 1 && strides[i] !== expect) return false;
    expect *= d;
  }
  return true;
}

/** Axis i of the result is axis perm[i] of v (perm is a permutation, checked by the op's rule). */
export function permute(v: View, perm: readonly number[]): View {
  const r = perm.length;
  const shape = new Array<number>(r);
  const strides = new Array<number>(r);
  for (let i = 0; i < r; i++) {
    shape[i] = v.shape[perm[i]!]!;
    strides[i] = v.strides[perm[i]!]!;
  }
  return { shape, strides, offset: v.offset };
}

/**
 * v's strides read as if broadcast to `shape` (numpy rules: leading axes added, size-1 axes
 * stretched): 0 on the new and the stretched axes. `shape` must be a broadcast of v.shape.
 */
export function broadcastStrides(v: View, shape: readonly number[]): number[] {
  const off = shape.length - v.shape.length;
  const out = new Array<number>(shape.length);
  for (let i = 0; i < shape.length; i++) {
    const j = i - off;
    out[i] = j < 0 || (v.shape[j] === 1 && shape[i] !== 1) ? 0 : v.strides[j]!;
  }
  return out;
}

/** v broadcast to `shape` (numpy's broadcast_to): stride 0 on the new and stretched axes. */
export function expand(v: View, shape: readonly number[]): View {
  return { shape, strides: broadcastStrides(v, shape), offset: v.offset };
}
export const broadcastTo = expand;

/** The window begin ≤ i < end per axis (0 ≤ begin ≤ end ≤ dim, checked by the op's rule). */
export function slice(v: View, begin: readonly number[], end: readonly number[]): View {
  let offset = v.offset;
  const shape = new Array<number>(begin.length);
  for (let i = 0; i < begin.length; i++) {
    offset += begin[i]! * v.strides[i]!;
    shape[i] = end[i]! - begin[i]!;
  }
  // an empty window reads nothing: its offset may point past the buffer, so keep v's
  return { shape, strides: v.strides, offset: sizeOf(shape) === 0 ? v.offset : offset };
}

/**
 * v seen with another shape of the same size, in row-major element order, without moving data;
 * null when the layout does not allow it (a transposed or broadcast axis split across the new
 * dims), and the caller materializes a row-major copy first.
 *
 * The old axes are cut into runs that step through memory as one axis would (axis i and i+1
 * merge when strides[i] = strides[i+1]·shape[i+1]); a new dim may only split or merge within one
 * run. Within a run with inner stride s, a new dim whose dims to its right (in the run) multiply
 * to q gets stride s·q.
 */
export function reshape(v: View, shape: readonly number[]): View | null {
  if (isRowMajor(v)) return rowMajor(shape, v.offset);
  const n = sizeOf(shape);
  if (n === 0) return rowMajor(shape, v.offset);
  // the old axes without size-1 ones (their stride is meaningless)
  const os: number[] = [];
  const ost: number[] = [];
  for (let i = 0; i < v.shape.length; i++) {
    if (v.shape[i] !== 1) {
      os.push(v.shape[i]!);
      ost.push(v.strides[i]!);
    }
  }
  const strides = new Array<number>(shape.length).fill(0);
  let i = 0; // next old axis
  let j = 0; // next new axis
  while (j < shape.length) {
    if (shape[j] === 1) {
      j++;
      continue;
    }
    if (i >= os.length) return null;
    // one run of old axes [i0, i) and the new axes [j0, j) covering the same number of elements
    const j0 = j;
    let oldSize = os[i++]!;
    let newSize = shape[j++]!;
    while (oldSize !== newSize) {
      if (oldSize < newSize) {
        if (i >= os.length) return null;
        // old axis i joins the run only if it continues it in memory
        if (ost[i - 1] !== ost[i]! * os[i]!) return null;
        oldSize *= os[i++]!;
      } else {
        if (j >= shape.length) return null;
        newSize *= shape[j++]!;
      }
    }
    let s = ost[i - 1]!;
    for (let k = j - 1; k >= j0; k--) {
      strides[k] = s;
      s *= shape[k]!;
    }
  }
  if (i !== os.length) return null;
  return { shape, strides, offset: v.offset };
}

/**
 * Merge axes that every operand walks as one (axis d-1 and d merge when, for every operand,
 * stepping d-1 equals walking all of d) and drop size-1 axes. `strides[k]` are operand k's
 * strides over `shape`; returns the merged shape and strides in the same order. A row-major
 * elementwise op over [64, 32, 10] becomes one axis of 20480 (TensorIterator's coalescing).
 */
export function coalesce(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((st, k) => outStrides[k]![last] === st[d]! * n)) {
      outShape[last] = outShape[last]! * n;
      strides.forEach((st, k) => (outStrides[k]![last] = st[d]!));
    } else {
      outShape.push(n);
      strides.forEach((st, k) => outStrides[k]!.push(st[d]!));
    }
  }
  return { shape: outShape, strides: outStrides };
}

export interface WindowSpec {
  /** the spatial axes of v, in order (e.g. [2, 3] for the H, W of [N, C, H, W]) */
  axes: readonly number[];
  /** the window's extent per spatial axis (kH, kW) */
  size: readonly number[];
  /** step between window origins per axis (default 1) */
  stride?: readonly number[];
  /** step between a window's taps per axis (default 1: adjacent elements) */
  dilation?: readonly number[];
}

/** Output positions along a spatial axis of extent n: ⌊(n − d·(k − 1) − 1) / s⌋ + 1, at least 0. */
export function windowCount(n: number, k: number, s = 1, d = 1): number {
  const span = d * (k - 1) + 1;
  return n < span ? 0 : Math.floor((n - span) / s) + 1;
}

/**
 * The sliding-window (unfold, im2col) view: each spatial axis a of extent n becomes an axis of
 * the output positions o (stride s·strides[a]) in place, and the window's taps t are appended as
 * trailing axes (stride d·strides[a]), so element (…, o, …, t) is v's element at o·s + t·d along a.
 * For [N, C, H, W] (already padded) and axes [2, 3] the result is [N, C, outH, outW, kH, kW];
 * convolution is then a permute/reshape of it and a matmul, pooling a max or mean over the taps.
 * No data moves: the windows overlap in memory when s < k·d.
 */
export function windows(v: View, spec: WindowSpec): View {
  const { axes, size } = spec;
  const shape = [...v.shape];
  const strides = [...v.strides];
  const tapShape: number[] = [];
  const tapStrides: number[] = [];
  for (let i = 0; i < axes.length; i++) {
    const a = axes[i]!;
    const k = size[i]!;
    const s = spec.stride?.[i] ?? 1;
    const d = spec.dilation?.[i] ?? 1;
    if (!(a >= 0 && a < v.shape.length) || !(k >= 1 && s >= 1 && d >= 1)) {
      throw new Error(
        `windows: axis ${a}, size ${k}, stride ${s}, dilation ${d} do not fit shape [${v.shape.join(',')}]`,
      );
    }
    shape[a] = windowCount(v.shape[a]!, k, s, d);
    strides[a] = v.strides[a]! * s;
    tapShape.push(k);
    tapStrides.push(v.strides[a]! * d);
  }
  return { shape: [...shape, ...tapShape], strides: [...strides, ...tapStrides], offset: v.offset };
}

/** Buffer index of every element of v, in row-major order of v's shape (for tests and references). */
export function indices(v: View): number[] {
  const n = sizeOf(v.shape);
  const out = new Array<number>(n);
  const r = v.shape.length;
  const idx = new Array<number>(r).fill(0);
  let p = v.offset;
  for (let o = 0; o < n; o++) {
    out[o] = p;
    for (let d = r - 1; d >= 0; d--) {
      idx[d]!++;
      p += v.strides[d]!;
      if (idx[d]! < v.shape[d]!) break;
      p -= v.strides[d]! * v.shape[d]!;
      idx[d] = 0;
    }
  }
  return out;
}
