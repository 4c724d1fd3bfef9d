// A plain-JS float64 reference for every op: nd-arrays as { shape, data } in row-major order,
// computed element by element from index arithmetic (no strides, no views, nothing shared with
// the CPU backend), so a kernel bug cannot hide in a shared helper.

export interface Ref {
  shape: number[];
  data: number[];
}

export const size = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);

export function ref(shape: readonly number[], data: readonly number[]): Ref {
  if (data.length !== size(shape)) throw new Error(`reference: ${data.length} values for shape [${shape}]`);
  return { shape: [...shape], data: [...data] };
}

/** multi-index of flat position i in shape */
export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d]!;
    i = Math.floor(i / shape[d]!);
  }
  return idx;
}

export function ravel(idx: readonly number[], shape: readonly number[]): number {
  let i = 0;
  for (let d = 0; d < shape.length; d++) i = i * shape[d]! + idx[d]!;
  return i;
}

export function broadcastShape(...shapes: (readonly number[])[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  return Array.from({ length: rank }, (_, j) => {
    let d = 1;
    for (const s of shapes) {
      const k = s.length - rank + j;
      const v = k < 0 ? 1 : s[k]!;
      if (v !== 1) {
        if (d !== 1 && d !== v) throw new Error(`reference: shapes ${shapes.map((s) => `[${s}]`).join(' ')} do not broadcast`);
        d = v;
      }
    }
    return d;
  });
}

/** the value of x at an output index of a (broadcast) shape */
function at(x: Ref, outIdx: readonly number[]): number {
  const off = outIdx.length - x.shape.length;
  const idx = x.shape.map((d, i) => (d === 1 ? 0 : outIdx[i + off]!));
  return x.data[ravel(idx, x.shape)]!;
}

/** elementwise f over any number of broadcast operands */
export function zip(f: (...v: number[]) => number, ...xs: Ref[]): Ref {
  const shape = broadcastShape(...xs.map((x) => x.shape));
  const data = Array.from({ length: size(shape) }, (_, i) => {
    const idx = unravel(i, shape);
    return f(...xs.map((x) => at(x, idx)));
  });
  return { shape, data };
}

export const expand = (x: Ref, shape: readonly number[]): Ref => zip((v) => v, x, { shape: [...shape], data: new Array(size(shape)).fill(0) });

export function reduce(x: Ref, axes: readonly number[], keepDims: boolean, init: number, f: (acc: number, v: number) => number): Ref {
  const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const data = new Array<number>(size(kept)).fill(init);
  for (let i = 0; i < x.data.length; i++) {
    const idx = unravel(i, x.shape).map((v, d) => (axes.includes(d) ? 0 : v));
    const o = ravel(idx, kept);
    data[o] = f(data[o]!, x.data[i]!);
  }
  return { shape: keepDims ? kept : x.shape.filter((_, i) => !axes.includes(i)), data };
}

export function permute(x: Ref, perm: readonly number[]): Ref {
  const shape = perm.map((p) => x.shape[p]!);
  const data = Array.from({ length: x.data.length }, (_, i) => {
    const o = unravel(i, shape);
    const src = new Array<number>(perm.length);
    perm.forEach((p, k) => (src[p] = o[k]!));
    return x.data[ravel(src, x.shape)]!;
  });
  return { shape, data };
}

export const reshape = (x: Ref, shape: readonly number[]): Ref => ref(shape, x.data);

export function slice(x: Ref, begin: readonly number[], end: readonly number[]): Ref {
  const shape = begin.map((b, i) => end[i]! - b);
  const data = Array.from({ length: size(shape) }, (_, i) => x.data[ravel(unravel(i, shape).map((v, d) => v + begin[d]!), x.shape)]!);
  return { shape, data };
}

export function pad(x: Ref, before: readonly number[], after: readonly number[], fill = 0): Ref {
  const shape = x.shape.map((d, i) => before[i]! + d + after[i]!);
  const data = Array.from({ length: size(shape) }, (_, i) => {
    const idx = unravel(i, shape).map((v, d) => v - before[d]!);
    return idx.every((v, d) => v >= 0 && v < x.shape[d]!) ? x.data[ravel(idx, x.shape)]! : fill;
  });
  return { shape, data };
}

export function concat(xs: readonly Ref[], axis: number): Ref {
  const shape = [...xs[0]!.shape];
  shape[axis] = xs.reduce((n, x) => n + x.shape[axis]!, 0);
  const data = Array.from({ length: size(shape) }, (_, i) => {
    const idx = unravel(i, shape);
    let k = idx[axis]!;
    for (const x of xs) {
      if (k < x.shape[axis]!) {
        idx[axis] = k;
        return x.data[ravel(idx, x.shape)]!;
      }
      k -= x.shape[axis]!;
    }
    throw new Error('unreachable');
  });
  return { shape, data };
}

/** numpy matmul, 1-D rules included, summing p = 0..k-1 in order */
export function matmul(a: Ref, b: Ref): Ref {
  const a2 = a.shape.length === 1 ? reshape(a, [1, a.shape[0]!]) : a;
  const b2 = b.shape.length === 1 ? reshape(b, [b.shape[0]!, 1]) : b;
  const [m, k] = a2.shape.slice(-2) as [number, number];
  const n = b2.shape[b2.shape.length - 1]!;
  const batch = broadcastShape(a2.shape.slice(0, -2), b2.shape.slice(0, -2));
  const shape = [...batch, m, n];
  const data = Array.from({ length: size(shape) }, (_, o) => {
    const idx = unravel(o, shape);
    const bi = idx.slice(0, -2);
    const [i, j] = idx.slice(-2) as [number, number];
    let s = 0;
    for (let p = 0; p < k; p++) s += at(a2, [...bi, i, p]) * at(b2, [...bi, p, j]);
    return s;
  });
  // a 1-D operand's added axis (m for a, n for b) is removed again
  return ref([...batch, ...(a.shape.length === 1 ? [] : [m]), ...(b.shape.length === 1 ? [] : [n])], data);
}

export const map = (x: Ref, f: (v: number) => number): Ref => zip(f, x);
