// The op frontend: argument normalization (scalars, negative axes, -1 in shapes, numpy's 1-D
// matmul rules) over the primitives, and the composed ops (mean, softmax, clamp, ...).
import type { BinaryOp, DType, UnaryOp } from '../backends/backend';
import { fmtShape, normAxis } from '../ops/registry';
import { arrayArg, axisArg, booleanArg, entry, likeArg, numberArg, show, tensorArg, tensorList } from './args';
import { apply, noGrad } from './engine';
import { isTensor, Tensor } from './tensor';

export type TensorLike = Tensor | number;
export type Axis = number | readonly number[];

/** A number becomes a scalar tensor of `like`'s dtype and device (x is already checked by likeArg). */
function lift(x: TensorLike, like: Tensor): Tensor {
  return isTensor(x) ? x : Tensor.scalar(x, like.dtype, like.device);
}

// Operands are checked before anything is lifted: a string, null or an array would otherwise be
// coerced by the typed array that holds the scalar ('1' → 1, null → 0, [1, 2] → NaN).
function binary(op: BinaryOp | 'reluGrad', a: TensorLike, b: TensorLike): Tensor {
  likeArg(op, a, 1);
  likeArg(op, b, 2);
  if (!isTensor(a) && !isTensor(b)) throw new TypeError(`${op}: expects at least one tensor, got two numbers`);
  const like = (isTensor(a) ? a : b) as Tensor;
  return apply(op, [lift(a, like), lift(b, like)], {});
}

const unary = (op: UnaryOp, x: Tensor) => apply(op, [tensorArg(op, x, 1)], {});

export const add = (a: TensorLike, b: TensorLike) => binary('add', a, b);
export const sub = (a: TensorLike, b: TensorLike) => binary('sub', a, b);
export const mul = (a: TensorLike, b: TensorLike) => binary('mul', a, b);
export const div = (a: TensorLike, b: TensorLike) => binary('div', a, b);
export const pow = (a: TensorLike, b: TensorLike) => binary('pow', a, b);
export const maximum = (a: TensorLike, b: TensorLike) => binary('maximum', a, b);
export const minimum = (a: TensorLike, b: TensorLike) => binary('minimum', a, b);
export const eq = (a: TensorLike, b: TensorLike) => binary('eq', a, b);
export const ne = (a: TensorLike, b: TensorLike) => binary('ne', a, b);
export const lt = (a: TensorLike, b: TensorLike) => binary('lt', a, b);
export const le = (a: TensorLike, b: TensorLike) => binary('le', a, b);
export const gt = (a: TensorLike, b: TensorLike) => binary('gt', a, b);
export const ge = (a: TensorLike, b: TensorLike) => binary('ge', a, b);

export const neg = (x: Tensor) => unary('neg', x);
export const exp = (x: Tensor) => unary('exp', x);
export const log = (x: Tensor) => unary('log', x);
/** log(1 + x), precise where x is small (where log(1 + x) rounds x away). */
export const log1p = (x: Tensor) => unary('log1p', x);
export const sqrt = (x: Tensor) => unary('sqrt', x);
export const abs = (x: Tensor) => unary('abs', x);
export const sign = (x: Tensor) => unary('sign', x);
export const relu = (x: Tensor) => unary('relu', x);
/** relu's backward: g where x > 0, else 0 (one kernel; its own gradient flows to g only). */
export const reluGrad = (g: TensorLike, x: TensorLike) => binary('reluGrad', g, x);
export const sigmoid = (x: Tensor) => unary('sigmoid', x);
export const tanh = (x: Tensor) => unary('tanh', x);
export const sin = (x: Tensor) => unary('sin', x);
export const cos = (x: Tensor) => unary('cos', x);
export const square = (x: Tensor) => mul(tensorArg('square', x, 1), x);

/** where(cond, a, b): a where cond ≠ 0, else b (numpy broadcasting over all three). */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  tensorArg('where', cond, 1);
  likeArg('where', a, 2);
  likeArg('where', b, 3);
  const like = isTensor(a) ? a : isTensor(b) ? b : cond;
  return apply('where', [cond, lift(a, like), lift(b, like)], {});
}

/** clamp(x, lo, hi): the gradient passes where lo ≤ x ≤ hi (bounds included, as PyTorch). */
export function clamp(x: Tensor, lo?: TensorLike, hi?: TensorLike): Tensor {
  tensorArg('clamp', x, 1);
  if (lo !== undefined) likeArg('clamp', lo, 2);
  if (hi !== undefined) likeArg('clamp', hi, 3);
  let y = x;
  if (lo !== undefined) y = where(lt(y, lo), lo, y);
  if (hi !== undefined) y = where(gt(y, hi), hi, y);
  return y;
}

/** x for x > 0, slope·x otherwise; the gradient at 0 is slope (the x ≤ 0 branch, as PyTorch). */
export function leakyRelu(x: Tensor, slope = 0.01): Tensor {
  tensorArg('leakyRelu', x, 1);
  numberArg('leakyRelu', 'slope', slope);
  return where(gt(x, 0), x, mul(x, slope));
}

/**
 * softplus(x) = log1p(eˣ), and x itself above 40 (where e⁻ˣ < 1e-17 and eˣ would head for
 * overflow). log1p, not log(1 + eˣ): for x < −37, 1 + eˣ rounds to 1 in float64 (softplus(−40)
 * gave 0 for 4.25e-18). No kinks inside: the earlier max(x, 0) + log(1 + e^−|x|) gave wrong first
 * and second derivatives at exactly x = 0 (relu'(0) = abs'(0) = 0 do not add up to σ(0) = ½).
 */
export function softplus(x: Tensor): Tensor {
  tensorArg('softplus', x, 1);
  const big = gt(x, 40);
  return where(big, x, log1p(exp(where(big, 40, x))));
}

export function cast(x: Tensor, dtype: DType): Tensor {
  tensorArg('cast', x, 1);
  if (dtype !== 'float32' && dtype !== 'float64') {
    throw new TypeError(`cast: dtype must be 'float32' or 'float64', got ${show(dtype)}`);
  }
  return apply('cast', [x], { dtype });
}

// ---------------------------------------------------------------- reductions

/** A list of axes (one number or an array of numbers) as non-negative axes; throws for anything else. */
function axisList(op: string, axis: unknown, x: Tensor): number[] {
  const list: unknown[] = typeof axis === 'number' ? [axis] : Array.isArray(axis) ? axis : [axis];
  return list.map((a) => {
    if (typeof a !== 'number') throw new TypeError(`${op}: axis must be a number or an array of numbers, got ${show(a)}`);
    return normAxis(op, a, x.shape.length, x.shape);
  });
}

/** The checks every reduction shares: a tensor, axes, keepDims. */
function normAxes(op: string, x: Tensor, axis: Axis | undefined, keepDims: unknown = false): number[] {
  tensorArg(op, x, 1);
  booleanArg(op, 'keepDims', keepDims);
  const r = x.shape.length;
  if (axis === undefined) return [...Array(r).keys()];
  const axes = axisList(op, axis, x);
  if (new Set(axes).size !== axes.length) {
    throw new Error(`${op}: axis [${(Array.isArray(axis) ? axis : [axis]).join(',')}] repeats an axis`);
  }
  return axes.sort((a, b) => a - b);
}

export const sum = (x: Tensor, axis?: Axis, keepDims = false) =>
  apply('sum', [x], { axes: normAxes('sum', x, axis, keepDims), keepDims });

/** max/min have no identity: reducing over an empty axis is an error, but [0,3] → max over axis 1 → [0] is fine. */
function extremumAxes(op: 'max' | 'min', x: Tensor, axis: Axis | undefined, keepDims: boolean): number[] {
  const axes = normAxes(op, x, axis, keepDims);
  const empty = axes.find((a) => x.shape[a] === 0);
  if (empty !== undefined) {
    throw new Error(`${op}: cannot reduce over axis ${empty} of size 0 (shape ${fmtShape(x.shape)})`);
  }
  return axes;
}

export function max(x: Tensor, axis?: Axis, keepDims = false): Tensor {
  return apply('max', [x], { axes: extremumAxes('max', x, axis, keepDims), keepDims });
}

export function min(x: Tensor, axis?: Axis, keepDims = false): Tensor {
  return apply('min', [x], { axes: extremumAxes('min', x, axis, keepDims), keepDims });
}

export function mean(x: Tensor, axis?: Axis, keepDims = false): Tensor {
  const axes = normAxes('mean', x, axis, keepDims);
  const n = axes.reduce((p, a) => p * x.shape[a]!, 1);
  return div(apply('sum', [x], { axes, keepDims }), n);
}

/**
 * The row max used to shift exp's argument, detached (the results do not depend on it), and 0
 * where it is ±inf: x − (−inf) of an all −inf row, or inf − inf, would be NaN. With 0 the sum
 * becomes Σ exp(x) = 0 or inf, and the log gives the −inf or inf that PyTorch does.
 */
function shift(x: Tensor, axis: number): Tensor {
  return noGrad(() => {
    const m = max(x, axis, true);
    return where(eq(abs(m), Infinity), 0, m);
  });
}

/**
 * log Σ exp(x) along axis, stable: m + log Σ exp(x − m) with m = max (see shift). A row of
 * −inf gives −inf (as PyTorch) with a zero gradient (PyTorch: NaN, from exp(−inf − (−inf))): the
 * log takes Σ = 1 there, under a where that puts the −inf back, so no 1/0 reaches the backward.
 */
export function logSumExp(x: Tensor, axis: number = -1, keepDims = false): Tensor {
  // checked here so a bad axis is reported as logSumExp's, not as the inner max's
  tensorArg('logSumExp', x, 1);
  booleanArg('logSumExp', 'keepDims', keepDims);
  axis = axisArg('logSumExp', axis, x.shape.length, x.shape);
  const m = shift(x, axis);
  const s = sum(exp(sub(x, m)), axis, true);
  // s = 0 only for an all −inf row (otherwise the max term alone contributes e⁰ = 1)
  const none = noGrad(() => eq(s, 0));
  const lse = add(where(none, -Infinity, log(where(none, 1, s))), m);
  return keepDims ? lse : squeeze(lse, axis);
}

export function softmax(x: Tensor, axis = -1): Tensor {
  axis = axisArg('softmax', axis, tensorArg('softmax', x, 1).shape.length, x.shape);
  // the plain max: a row with +inf or all −inf is NaN throughout, as in PyTorch
  const m = noGrad(() => max(x, axis, true));
  const e = exp(sub(x, m));
  return div(e, sum(e, axis, true));
}

/**
 * log softmax(x) = (x − m) − log Σ exp(x − m), in that order: x − m is exact for the largest
 * entries, while x − (m + log Σ) would round m + log Σ to m's ulp first (float32
 * [1e4, 1e4, −1e4] gave −0.693359 for −0.693147). A row of −inf gives NaN, as in PyTorch.
 */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  axis = axisArg('logSoftmax', axis, tensorArg('logSoftmax', x, 1).shape.length, x.shape);
  const z = sub(x, shift(x, axis));
  return sub(z, log(sum(exp(z), axis, true)));
}

// ---------------------------------------------------------------- movement

export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  tensorArg('reshape', x, 1);
  arrayArg('reshape', 'shape', shape, 'integers (-1 for one inferred dim)');
  const free = shape.filter((d) => d === -1).length;
  const bad = shape.some((d) => !Number.isSafeInteger(d) || d < -1);
  if (free > 1 || bad) throw new Error(`reshape: invalid target shape ${fmtShape(shape)} for ${fmtShape(x.shape)}`);
  let out = [...shape];
  if (free === 1) {
    const known = shape.reduce((p, d) => (d === -1 ? p : p * d), 1);
    if (known === 0 || x.size % known !== 0) {
      throw new Error(`reshape: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) to ${fmtShape(shape)}`);
    }
    out = shape.map((d) => (d === -1 ? x.size / known : d));
  }
  return apply('reshape', [x], { shape: out });
}

export const flatten = (x: Tensor) => reshape(tensorArg('flatten', x, 1), [-1]);

export function permute(x: Tensor, perm: readonly number[]): Tensor {
  tensorArg('permute', x, 1);
  arrayArg('permute', 'perm', perm, 'axes');
  const r = x.shape.length;
  if (perm.length !== r) {
    throw new Error(`permute: [${perm.join(',')}] is not a permutation of the axes of shape ${fmtShape(x.shape)}`);
  }
  return apply('permute', [x], { perm: perm.map((p) => axisArg('permute', p, r, x.shape)) });
}

/** transpose(x): reverse the axes; transpose(x, perm): permute; transpose(x, i, j): swap two axes. */
export function transpose(x: Tensor, perm?: readonly number[] | number, j?: number): Tensor {
  const r = tensorArg('transpose', x, 1).shape.length;
  if (typeof perm === 'number') {
    const p = [...Array(r).keys()];
    const a = axisArg('transpose', perm, r, x.shape);
    const b = axisArg('transpose', j ?? -1, r, x.shape);
    [p[a], p[b]] = [p[b]!, p[a]!];
    return permute(x, p);
  }
  if (perm !== undefined && !Array.isArray(perm)) {
    throw new TypeError(`transpose: perm must be an array of axes or an axis, got ${show(perm)}`);
  }
  return permute(x, perm ?? [...Array(r).keys()].reverse());
}

/** Broadcast to `shape` (numpy's broadcast_to; -1 keeps a dim). A view: no copy on the CPU. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  tensorArg('expand', x, 1);
  arrayArg('expand', 'shape', shape, 'non-negative integers (or -1 to keep a dim)');
  const off = shape.length - x.shape.length;
  const full = shape.map((d, i) => {
    if (d === -1) {
      if (i < off) throw new RangeError(`expand: shape ${fmtShape(shape)}: -1 at dim ${i} is a new axis, with no size to keep`);
      return x.shape[i - off]!;
    }
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new RangeError(
        `expand: shape ${fmtShape(shape)} must hold non-negative integers (or -1 to keep a dim); dim ${i} is ${entry(d)}`,
      );
    }
    return d;
  });
  return apply('expand', [x], { shape: full });
}
export const broadcastTo = expand;

export function squeeze(x: Tensor, axis?: Axis): Tensor {
  tensorArg('squeeze', x, 1);
  let axes: number[];
  if (axis === undefined) axes = x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
  else {
    axes = axisList('squeeze', axis, x);
    for (const a of axes) {
      if (x.shape[a] !== 1) throw new Error(`squeeze: axis ${a} of shape ${fmtShape(x.shape)} has size ${x.shape[a]}, not 1`);
    }
  }
  return reshape(x, x.shape.filter((_, i) => !axes.includes(i)));
}

export function unsqueeze(x: Tensor, axis: number): Tensor {
  const r = tensorArg('unsqueeze', x, 1).shape.length + 1;
  const a = axisArg('unsqueeze', axis, r, x.shape);
  const shape = [...x.shape];
  shape.splice(a, 0, 1);
  return reshape(x, shape);
}

/** begin/end of a slice: integers (negative ones count from the end); end entries may be undefined. */
function bounds(name: 'begin' | 'end', v: unknown): readonly (number | undefined)[] {
  const list = arrayArg('slice', name, v, name === 'end' ? 'integers (or undefined)' : 'integers');
  list.forEach((b, i) => {
    if (Number.isSafeInteger(b) || (name === 'end' && b === undefined)) return;
    const or = name === 'end' ? ' (or undefined)' : '';
    throw new RangeError(`slice: ${name} ${fmtShape(list as number[])} must hold integers${or}; entry ${i} is ${entry(b)}`);
  });
  return list as readonly (number | undefined)[];
}

/**
 * slice(x, begin, end?): the window begin ≤ i < end per axis. Missing trailing axes take their
 * whole range; negative indices count from the end; `end` entries may be undefined (to the end).
 */
export function slice(x: Tensor, begin: readonly number[], end?: readonly (number | undefined)[]): Tensor {
  tensorArg('slice', x, 1);
  bounds('begin', begin);
  if (end !== undefined) bounds('end', end);
  const r = x.shape.length;
  if (begin.length > r || (end && end.length > r)) {
    throw new Error(`slice: [${begin.join(',')}] has more axes than shape ${fmtShape(x.shape)}`);
  }
  const fix = (v: number, d: number) => (v < 0 ? v + d : v);
  const b = x.shape.map((d, i) => (i < begin.length ? fix(begin[i]!, d) : 0));
  const e = x.shape.map((d, i) => (end && end[i] !== undefined ? fix(end[i]!, d) : d));
  return apply('slice', [x], { begin: b, end: e });
}

/** Zero padding: widths[i] = [before, after] for axis i (missing trailing axes: none). */
export function pad(x: Tensor, widths: readonly (readonly [number, number])[]): Tensor {
  tensorArg('pad', x, 1);
  arrayArg('pad', 'widths', widths, '[before, after] pairs');
  if (widths.length > x.shape.length) {
    throw new RangeError(`pad: ${widths.length} pairs of widths for shape ${fmtShape(x.shape)} (rank ${x.shape.length})`);
  }
  widths.forEach((w: unknown, i) => {
    const ok = Array.isArray(w) && w.length === 2 && w.every((p) => Number.isSafeInteger(p) && p >= 0);
    if (!ok) {
      const got = Array.isArray(w) ? `[${w.map(entry).join(',')}]` : show(w);
      throw new RangeError(`pad: widths[${i}] must be a pair of non-negative integers, got ${got}`);
    }
  });
  const before = x.shape.map((_, i) => widths[i]?.[0] ?? 0);
  const after = x.shape.map((_, i) => widths[i]?.[1] ?? 0);
  return apply('pad', [x], { before, after });
}

export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  tensorList('concat', tensors);
  if (tensors.length === 0) throw new Error('concat: expects at least one tensor');
  const a = axisArg('concat', axis, tensors[0]!.shape.length, tensors[0]!.shape);
  for (const t of tensors) {
    if (t.shape.length !== tensors[0]!.shape.length) {
      throw new Error(`concat: shapes ${tensors.map((t) => fmtShape(t.shape)).join(', ')} have different ranks`);
    }
  }
  return apply('concat', [...tensors], { axis: a });
}

export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  tensorList('stack', tensors);
  if (tensors.length === 0) throw new Error('stack: expects at least one tensor');
  const s0 = tensors[0]!.shape;
  for (const t of tensors) {
    if (t.shape.length !== s0.length || t.shape.some((d, i) => d !== s0[i])) {
      throw new Error(`stack: shapes ${tensors.map((t) => fmtShape(t.shape)).join(', ')} differ`);
    }
  }
  const a = axisArg('stack', axis, s0.length + 1, s0);
  return concat(tensors.map((t) => unsqueeze(t, a)), a);
}

// ---------------------------------------------------------------- matmul

/** numpy's matmul: 1-D operands are promoted (a row for a, a column for b) and the added axis removed. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  tensorArg('matmul', a, 1);
  tensorArg('matmul', b, 2);
  if (a.shape.length === 0 || b.shape.length === 0) {
    throw new Error(`matmul: scalars are not allowed (shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)}); use mul`);
  }
  const va = a.shape.length === 1;
  const vb = b.shape.length === 1;
  const ka = a.shape[a.shape.length - 1]!;
  const kb = b.shape[vb ? 0 : b.shape.length - 2]!;
  if (ka !== kb) throw new Error(`matmul: inner dimensions differ: ${fmtShape(a.shape)} @ ${fmtShape(b.shape)} (${ka} vs ${kb})`);
  const a2 = va ? unsqueeze(a, 0) : a;
  const b2 = vb ? unsqueeze(b, 1) : b;
  let out = apply('matmul', [a2, b2], {});
  if (vb) out = squeeze(out, -1);
  if (va) out = squeeze(out, va && vb ? -1 : -2);
  return out;
}

/**
 * A dense layer, x @ W + b, as one op (the bias is added as the product is written; its
 * gradients are the composition's). x [..., k] (a vector is one row), W [k, n], b [n] or none.
 */
export function linear(x: Tensor, w: Tensor, b?: Tensor | null): Tensor {
  tensorArg('linear', x, 1);
  tensorArg('linear', w, 2);
  if (b !== undefined && b !== null && !isTensor(b)) {
    throw new TypeError(`linear: argument 3 must be a Tensor (or null), got ${show(b)}`);
  }
  if (w.shape.length !== 2) throw new Error(`linear: W must be [k, n], got ${fmtShape(w.shape)}`);
  if (!b) return matmul(x, w);
  if (x.shape.length === 1) return squeeze(linear(unsqueeze(x, 0), w, b), 0);
  return apply('linear', [x, w, b], {});
}

/** mean((p − t)²) over every element, one op (prediction and target of one shape). */
export function mse(p: Tensor, t: Tensor): Tensor {
  tensorArg('mse', p, 1);
  tensorArg('mse', t, 2);
  return apply('mse', [p, t], {});
}

/** Inner product of two vectors of one length, or of the last axes as matmul. */
export const dot = matmul;

// convolution and pooling (windows, fold, conv2d, maxPool2d, avgPool2d) live in conv.ts
export * from './conv';
