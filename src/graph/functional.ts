// The op frontend: argument normalization (scalars, negative axes, -1 in shapes, numpy's 1-D
// matmul rules) over the primitives, and the composed ops (mean, softmax, clamp, ...).
import { getBackend, type BinaryOp, type DType, type UnaryOp } from '../backends/backend';
import { fmtShape, normAxis } from '../ops/registry';
import { arrayArg, axisArg, booleanArg, countArg, entry, likeArg, numberArg, show, tensorArg, tensorList } from './args';
import { arange } from './creation';
import { apply, noGrad } from './engine';
import { recordCall } from './composites';
import { isTensor, Tensor } from './tensor';

export type TensorLike = Tensor | number;
export type Axis = number | readonly number[];

/** A number becomes a scalar tensor of `like`'s dtype and device (x is already checked by likeArg). */
function lift(x: TensorLike, like: Tensor, op = 'lift'): Tensor {
  if (isTensor(x)) return x;
  // an int32 scalar would truncate 1.5 to 1 silently (PyTorch promotes to float instead)
  if (like.dtype === 'int32' && !(Number.isInteger(x) && x >= -2147483648 && x <= 2147483647)) {
    throw new TypeError(`${op}: the number ${x} is not an int32 value, and the tensor is int32 (shape ${fmtShape(like.shape)}); cast the tensor to float32 first`);
  }
  return Tensor.scalar(x, like.dtype, like.device);
}

// Operands are checked before anything is lifted: a string, null or an array would otherwise be
// coerced by the typed array that holds the scalar ('1' → 1, null → 0, [1, 2] → NaN).
function binary(op: BinaryOp | 'reluGrad', a: TensorLike, b: TensorLike): Tensor {
  likeArg(op, a, 1);
  likeArg(op, b, 2);
  if (!isTensor(a) && !isTensor(b)) throw new TypeError(`${op}: expects at least one tensor, got two numbers`);
  const like = (isTensor(a) ? a : b) as Tensor;
  return apply(op, [lift(a, like, op), lift(b, like, op)], {});
}

const unary = (op: UnaryOp, x: Tensor) => apply(op, [tensorArg(op, x, 1)], {});

/**
 * a + b elementwise, with numpy broadcasting (either side may be a number).
 *
 * @example
 * add(tensor([1, 2]), 10);   // [11, 12]
 */
export const add = (a: TensorLike, b: TensorLike) => binary('add', a, b);
/**
 * a − b elementwise, with numpy broadcasting.
 *
 * @example
 * sub(tensor([5, 5]), tensor([1, 2]));   // [4, 3]
 */
export const sub = (a: TensorLike, b: TensorLike) => binary('sub', a, b);
/**
 * a · b elementwise, with numpy broadcasting.
 *
 * @example
 * mul(tensor([[1], [2]]), tensor([1, 10]));   // [[1, 10], [2, 20]]
 */
export const mul = (a: TensorLike, b: TensorLike) => binary('mul', a, b);
/**
 * a / b elementwise, with numpy broadcasting.
 *
 * @example
 * div(1, tensor([2, 4]));   // [0.5, 0.25]
 */
export const div = (a: TensorLike, b: TensorLike) => binary('div', a, b);
/**
 * aᵇ elementwise, with numpy broadcasting.
 *
 * @example
 * pow(tensor([2, 3]), 2);   // [4, 9]
 */
export const pow = (a: TensorLike, b: TensorLike) => binary('pow', a, b);
/**
 * The larger of a and b elementwise, with numpy broadcasting.
 *
 * @example
 * maximum(tensor([1, 5]), 3);   // [3, 5]
 */
export const maximum = (a: TensorLike, b: TensorLike) => binary('maximum', a, b);
/**
 * The smaller of a and b elementwise, with numpy broadcasting.
 *
 * @example
 * minimum(tensor([1, 5]), 3);   // [1, 3]
 */
export const minimum = (a: TensorLike, b: TensorLike) => binary('minimum', a, b);
/**
 * a = b elementwise as 1 or 0 (not differentiated), with numpy broadcasting.
 *
 * @example
 * eq(tensor([1, 2, 3]), 2);   // [0, 1, 0]
 */
export const eq = (a: TensorLike, b: TensorLike) => binary('eq', a, b);
/**
 * a ≠ b elementwise as 1 or 0 (not differentiated).
 *
 * @example
 * ne(tensor([1, 2, 3]), 2);   // [1, 0, 1]
 */
export const ne = (a: TensorLike, b: TensorLike) => binary('ne', a, b);
/**
 * a < b elementwise as 1 or 0 (not differentiated).
 *
 * @example
 * lt(tensor([1, 2, 3]), 2);   // [1, 0, 0]
 */
export const lt = (a: TensorLike, b: TensorLike) => binary('lt', a, b);
/**
 * a ≤ b elementwise as 1 or 0 (not differentiated).
 *
 * @example
 * le(tensor([1, 2, 3]), 2);   // [1, 1, 0]
 */
export const le = (a: TensorLike, b: TensorLike) => binary('le', a, b);
/**
 * a > b elementwise as 1 or 0 (not differentiated).
 *
 * @example
 * gt(tensor([1, 2, 3]), 2);   // [0, 0, 1]
 */
export const gt = (a: TensorLike, b: TensorLike) => binary('gt', a, b);
/**
 * a ≥ b elementwise as 1 or 0 (not differentiated).
 *
 * @example
 * ge(tensor([1, 2, 3]), 2);   // [0, 1, 1]
 */
export const ge = (a: TensorLike, b: TensorLike) => binary('ge', a, b);

/**
 * −x elementwise.
 *
 * @example
 * neg(tensor([1, -2]));   // [-1, 2]
 */
export const neg = (x: Tensor) => unary('neg', x);
/**
 * eˣ elementwise.
 *
 * @example
 * exp(tensor([0, 1]));   // [1, e]
 */
export const exp = (x: Tensor) => unary('exp', x);
/**
 * The natural logarithm elementwise (−inf at 0, NaN below).
 *
 * @example
 * log(tensor([1, Math.E]));   // [0, 1]
 */
export const log = (x: Tensor) => unary('log', x);
/**
 * log(1 + x), precise where x is small (where log(1 + x) rounds x away).
 *
 * @example
 * log1p(tensor([1e-10], { dtype: 'float64' }));   // [1e-10], not 0
 */
export const log1p = (x: Tensor) => unary('log1p', x);
/**
 * √x elementwise.
 *
 * @example
 * sqrt(tensor([4, 9]));   // [2, 3]
 */
export const sqrt = (x: Tensor) => unary('sqrt', x);
/**
 * |x| elementwise (gradient 0 at 0).
 *
 * @example
 * abs(tensor([-2, 3]));   // [2, 3]
 */
export const abs = (x: Tensor) => unary('abs', x);
/**
 * −1, 0 or 1 by the sign of x (not differentiated).
 *
 * @example
 * sign(tensor([-2, 0, 3]));   // [-1, 0, 1]
 */
export const sign = (x: Tensor) => unary('sign', x);
/**
 * max(x, 0) elementwise (gradient 0 at 0, as PyTorch).
 *
 * @example
 * relu(tensor([-1, 2]));   // [0, 2]
 */
export const relu = (x: Tensor) => unary('relu', x);
/**
 * relu's backward: g where x > 0, else 0 (one kernel; its own gradient flows to g only).
 *
 * @example
 * reluGrad(tensor([5, 5]), tensor([-1, 2]));   // [0, 5]
 */
export const reluGrad = (g: TensorLike, x: TensorLike) => binary('reluGrad', g, x);
/**
 * 1 / (1 + e⁻ˣ) elementwise.
 *
 * @example
 * sigmoid(tensor([0]));   // [0.5]
 */
export const sigmoid = (x: Tensor) => unary('sigmoid', x);
/**
 * The hyperbolic tangent elementwise.
 *
 * @example
 * tanh(tensor([0, 100]));   // [0, 1]
 */
export const tanh = (x: Tensor) => unary('tanh', x);
/**
 * sin x elementwise (radians).
 *
 * @example
 * sin(tensor([0, Math.PI / 2]));   // [0, 1]
 */
export const sin = (x: Tensor) => unary('sin', x);
/**
 * cos x elementwise (radians).
 *
 * @example
 * cos(tensor([0, Math.PI]));   // [1, -1]
 */
export const cos = (x: Tensor) => unary('cos', x);
/**
 * x² elementwise (x · x).
 *
 * @example
 * square(tensor([-3, 2]));   // [9, 4]
 */
export const square = (x: Tensor) => mul(tensorArg('square', x, 1), x);

/**
 * where(cond, a, b): a where cond ≠ 0, else b (numpy broadcasting over all three).
 *
 * @example
 * where(gt(x, 0), x, 0);   // x where positive, else 0
 */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  tensorArg('where', cond, 1);
  likeArg('where', a, 2);
  likeArg('where', b, 3);
  const like = isTensor(a) ? a : isTensor(b) ? b : cond;
  return apply('where', [cond, lift(a, like, 'where'), lift(b, like, 'where')], {});
}

/**
 * clamp(x, lo, hi): the gradient passes where lo ≤ x ≤ hi (bounds included, as PyTorch).
 *
 * @example
 * clamp(tensor([-2, 0.5, 3]), 0, 1);   // [0, 0.5, 1]
 */
export function clamp(x: Tensor, lo?: TensorLike, hi?: TensorLike): Tensor {
  tensorArg('clamp', x, 1);
  if (lo !== undefined) likeArg('clamp', lo, 2);
  if (hi !== undefined) likeArg('clamp', hi, 3);
  let y = x;
  if (lo !== undefined) y = where(lt(y, lo), lo, y);
  if (hi !== undefined) y = where(gt(y, hi), hi, y);
  return y;
}

/**
 * x for x > 0, slope·x otherwise; the gradient at 0 is slope (the x ≤ 0 branch, as PyTorch).
 *
 * @example
 * leakyRelu(tensor([-2, 3]), 0.1);   // [-0.2, 3]
 */
export function leakyRelu(x: Tensor, slope = 0.01): Tensor {
  tensorArg('leakyRelu', x, 1);
  numberArg('leakyRelu', 'slope', slope);
  return recordCall(where(gt(x, 0), x, mul(x, slope)), { op: 'leakyRelu', inputs: [x], attrs: { slope } });
}

/**
 * softplus(x) = log1p(eˣ), and x itself above 40 (where e⁻ˣ < 1e-17 and eˣ would head for
 * overflow). log1p, not log(1 + eˣ): for x < −37, 1 + eˣ rounds to 1 in float64 (softplus(−40)
 * gave 0 for 4.25e-18). No kinks inside: the earlier max(x, 0) + log(1 + e^−|x|) gave wrong first
 * and second derivatives at exactly x = 0 (relu'(0) = abs'(0) = 0 do not add up to σ(0) = ½).
 *
 * @example
 * softplus(tensor([0, 50]));   // [log 2, 50]
 */
export function softplus(x: Tensor): Tensor {
  tensorArg('softplus', x, 1);
  const big = gt(x, 40);
  return recordCall(where(big, x, log1p(exp(where(big, 40, x)))), { op: 'softplus', inputs: [x], attrs: {} });
}

/**
 * x converted to `dtype`. float → int32 truncates toward zero (as PyTorch); values beyond the
 * int32 range saturate to its ends and NaN becomes 0 (PyTorch leaves these undefined).
 *
 * @example
 * cast(tensor([1, 2]), 'float64').dtype;   // 'float64'
 * cast(tensor([-1.7, 2.9]), 'int32');      // [-1, 2]
 */
export function cast(x: Tensor, dtype: DType): Tensor {
  tensorArg('cast', x, 1);
  if (dtype !== 'float32' && dtype !== 'float64' && dtype !== 'int32') {
    throw new TypeError(`cast: dtype must be 'float32', 'float64' or 'int32', got ${show(dtype)}`);
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

/**
 * Σ over `axis` (one axis, a list, or all when left out), keeping them as size 1 with keepDims.
 *
 * @example
 * sum(tensor([[1, 2], [3, 4]]));      // 10
 * sum(tensor([[1, 2], [3, 4]]), 0);   // [4, 6]
 */
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

/**
 * The largest value over `axis` (all axes when left out); tied maxima share the gradient evenly.
 *
 * @example
 * max(tensor([[1, 2], [3, 4]]), 1);   // [2, 4]
 */
export function max(x: Tensor, axis?: Axis, keepDims = false): Tensor {
  return apply('max', [x], { axes: extremumAxes('max', x, axis, keepDims), keepDims });
}

/**
 * The smallest value over `axis` (all axes when left out); tied minima share the gradient evenly.
 *
 * @example
 * min(tensor([[1, 2], [3, 4]]), 1);   // [1, 3]
 */
export function min(x: Tensor, axis?: Axis, keepDims = false): Tensor {
  return apply('min', [x], { axes: extremumAxes('min', x, axis, keepDims), keepDims });
}

/**
 * The mean over `axis` (all axes when left out): sum / count.
 *
 * @example
 * mean(tensor([[1, 2], [3, 4]]), -1, true);   // [[1.5], [3.5]]
 */
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
    const m = rowMax(x, axis);
    return where(eq(abs(m), Infinity), 0, m);
  });
}

/** max along axis, keeping it; 0 (a sum over nothing) for an empty axis, where max has no value. */
function rowMax(x: Tensor, axis: number): Tensor {
  return x.shape[axis] === 0 ? sum(x, axis, true) : max(x, axis, true);
}

/**
 * log Σ exp(x) along axis, stable: m + log Σ exp(x − m) with m = max (see shift). A row of
 * −inf, or an empty axis, gives −inf (as PyTorch) with a zero gradient (PyTorch: NaN, from
 * exp(−inf − (−inf))): the log takes Σ = 1 there, under a where that puts the −inf back, so no
 * 1/0 reaches the backward.
 *
 * @example
 * logSumExp(tensor([0, 0]));   // log 2
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

/**
 * eˣ / Σ eˣ along `axis` (default the last), computed with the row max subtracted.
 *
 * @example
 * softmax(tensor([[1, 1], [0, Math.log(3)]]));   // [[0.5, 0.5], [0.25, 0.75]]
 */
export function softmax(x: Tensor, axis = -1): Tensor {
  axis = axisArg('softmax', axis, tensorArg('softmax', x, 1).shape.length, x.shape);
  // the plain max: a row with +inf or all −inf is NaN throughout, as in PyTorch
  const m = noGrad(() => rowMax(x, axis));
  const e = exp(sub(x, m));
  return recordCall(div(e, sum(e, axis, true)), { op: 'softmax', inputs: [x], attrs: { axis } });
}

/**
 * log softmax(x) = (x − m) − log Σ exp(x − m), in that order: x − m is exact for the largest
 * entries, while x − (m + log Σ) would round m + log Σ to m's ulp first (float32
 * [1e4, 1e4, −1e4] gave −0.693359 for −0.693147). A row of −inf gives NaN, as in PyTorch.
 *
 * @example
 * const logp = logSoftmax(logits);   // [N, C]: each row's log-probabilities
 */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  axis = axisArg('logSoftmax', axis, tensorArg('logSoftmax', x, 1).shape.length, x.shape);
  const z = sub(x, shift(x, axis));
  return recordCall(sub(z, log(sum(exp(z), axis, true))), { op: 'logSoftmax', inputs: [x], attrs: { axis } });
}

// ---------------------------------------------------------------- movement

/**
 * The same elements in row-major order under a new shape; one entry may be −1 (inferred).
 *
 * @example
 * reshape(arange(6), [2, -1]).shape;   // [2, 3]
 */
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

/**
 * x as a vector of its elements (row-major): reshape(x, [-1]).
 *
 * @example
 * flatten(zeros([2, 3])).shape;   // [6]
 */
export const flatten = (x: Tensor) => reshape(tensorArg('flatten', x, 1), [-1]);

/**
 * Reorder the axes: output axis i is input axis perm[i].
 *
 * @example
 * permute(zeros([2, 3, 4]), [2, 0, 1]).shape;   // [4, 2, 3]
 */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  tensorArg('permute', x, 1);
  arrayArg('permute', 'perm', perm, 'axes');
  const r = x.shape.length;
  if (perm.length !== r) {
    throw new Error(`permute: [${perm.join(',')}] is not a permutation of the axes of shape ${fmtShape(x.shape)}`);
  }
  return apply('permute', [x], { perm: perm.map((p) => axisArg('permute', p, r, x.shape)) });
}

/**
 * transpose(x): reverse the axes; transpose(x, perm): permute; transpose(x, i, j): swap two axes.
 *
 * @example
 * transpose(zeros([2, 3])).shape;         // [3, 2]
 * transpose(zeros([2, 3, 4]), 0, 2).shape;   // [4, 3, 2]
 */
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

/**
 * Broadcast to `shape` (numpy's broadcast_to; -1 keeps a dim). A view: no copy on the CPU.
 *
 * @example
 * expand(tensor([[1], [2]]), [2, 3]);   // [[1, 1, 1], [2, 2, 2]]
 */
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
/**
 * Another name for expand (numpy's broadcast_to).
 *
 * @example
 * broadcastTo(tensor([1, 2]), [3, 2]).shape;   // [3, 2]
 */
export const broadcastTo = expand;

/**
 * Drop axes of size 1: the given ones (each must have size 1), or all of them.
 *
 * @example
 * squeeze(zeros([1, 3, 1])).shape;      // [3]
 * squeeze(zeros([1, 3, 1]), 0).shape;   // [3, 1]
 */
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

/**
 * Insert an axis of size 1 at `axis` (negative counts from the end of the result).
 *
 * @example
 * unsqueeze(zeros([3]), 0).shape;    // [1, 3]
 * unsqueeze(zeros([3]), -1).shape;   // [3, 1]
 */
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
 *
 * @example
 * slice(arange(10), [2], [5]);   // [2, 3, 4]
 * slice(x, [0, 1]);              // x[:, 1:] of a matrix
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

/**
 * Zero padding: widths[i] = [before, after] for axis i (missing trailing axes: none).
 *
 * @example
 * pad(tensor([1, 2]), [[1, 2]]);   // [0, 1, 2, 0, 0]
 */
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

/**
 * Join tensors of one rank along an existing axis (the other axes must agree).
 *
 * @example
 * concat([zeros([2, 3]), ones([1, 3])]).shape;   // [3, 3]
 */
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

/**
 * Join tensors of one shape along a new axis.
 *
 * @example
 * stack([zeros([3]), ones([3])]).shape;      // [2, 3]
 * stack([zeros([3]), ones([3])], 1).shape;   // [3, 2]
 */
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

/**
 * numpy's matmul: 1-D operands are promoted (a row for a, a column for b) and the added axis removed.
 *
 * @example
 * matmul(randn([8, 2, 3]), randn([3, 4])).shape;   // [8, 2, 4]
 * matmul(tensor([1, 2]), tensor([[1], [1]]));      // [3]
 */
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
 *
 * @example
 * linear(randn([32, 3]), randn([3, 2]), zeros([2])).shape;   // [32, 2]
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

/**
 * mean((p − t)²) over every element, one op (prediction and target of one shape).
 *
 * @example
 * mse(tensor([1, 2]), tensor([1, 4]));   // 2
 */
export function mse(p: Tensor, t: Tensor): Tensor {
  tensorArg('mse', p, 1);
  tensorArg('mse', t, 2);
  return apply('mse', [p, t], {});
}

/**
 * Inner product of two vectors of one length, or of the last axes as matmul.
 *
 * @example
 * dot(tensor([1, 2, 3]), tensor([4, 5, 6]));   // 32
 */
export const dot = matmul;

// ---------------------------------------------------------------- indexing

/** An int32 index tensor argument. */
function indexArg(op: string, index: unknown, pos: number): Tensor {
  const t = tensorArg(op, index, pos);
  if (t.dtype !== 'int32') {
    throw new TypeError(`${op}: index must be an int32 tensor, got ${t.dtype} (shape ${fmtShape(t.shape)}); cast it with .cast('int32')`);
  }
  return t;
}

/**
 * torch.gather: out[i][j][k] = x[index[i][j][k]][j][k] for axis 0 (likewise for other axes).
 * `index` is int32, of x's rank, and no longer than x on the other axes; the output has its
 * shape. Indices must lie in [0, x.shape[axis]): negative ones are refused, as in PyTorch (on
 * the CPU an index out of range is an error; on WebGPU it reads 0, see docs/webgpu.md).
 *
 * @example
 * const x = tensor([[1, 2], [3, 4]]);
 * gather(x, 1, tensor([[0, 0], [1, 0]], { dtype: 'int32' }));   // [[1, 1], [4, 3]]
 */
export function gather(x: Tensor, axis: number, index: Tensor): Tensor {
  tensorArg('gather', x, 1);
  const a = axisArg('gather', axis, x.shape.length, x.shape);
  indexArg('gather', index, 3);
  return apply('gather', [x, index], { axis: a });
}

/**
 * The transpose of gather: zeros of `shape`, with values[i][j][k] added at [index[i][j][k]][j][k]
 * for axis 0 (repeated indices accumulate). values and index share one shape.
 *
 * @example
 * const i = tensor([0, 2, 0], { dtype: 'int32' });
 * scatterAdd(tensor([1, 2, 3]), i, 0, [3]);   // [4, 0, 2]
 */
export function scatterAdd(values: Tensor, index: Tensor, axis: number, shape: readonly number[]): Tensor {
  tensorArg('scatterAdd', values, 1);
  indexArg('scatterAdd', index, 2);
  const s = shapeArgOf('scatterAdd', shape);
  const a = axisArg('scatterAdd', axis, s.length, s);
  return apply('scatterAdd', [values, index], { axis: a, shape: s });
}

function shapeArgOf(op: string, shape: unknown): number[] {
  const list = arrayArg(op, 'shape', shape, 'non-negative integers');
  list.forEach((d, i) => {
    if (!Number.isSafeInteger(d) || (d as number) < 0) throw new RangeError(`${op}: shape dim ${i} is ${entry(d)}`);
  });
  return [...(list as number[])];
}

/**
 * The slices of x at positions `index` (a 1-D int32 tensor) along `axis`: the output is x's shape
 * with that axis's size replaced by index's length (torch.index_select). Repeated positions
 * repeat; their gradients add up.
 *
 * @example
 * const x = tensor([[1, 2], [3, 4], [5, 6]]);
 * indexSelect(x, 0, tensor([2, 0], { dtype: 'int32' }));   // [[5, 6], [1, 2]]
 */
export function indexSelect(x: Tensor, axis: number, index: Tensor): Tensor {
  tensorArg('indexSelect', x, 1);
  const a = axisArg('indexSelect', axis, x.shape.length, x.shape);
  indexArg('indexSelect', index, 3);
  if (index.shape.length !== 1) {
    throw new Error(`indexSelect: index must be 1-D, got shape ${fmtShape(index.shape)}`);
  }
  // the index as a column along `axis`, broadcast over the other axes (a view, no copy)
  const k = index.shape[0]!;
  const col = reshape(index, x.shape.map((_, i) => (i === a ? k : 1)));
  const out = gather(x, a, expand(col, x.shape.map((d, i) => (i === a ? k : d))));
  return out;
}

function argReduce(op: 'argmax' | 'argmin', x: Tensor, axis: number | undefined, keepDims: boolean): Tensor {
  tensorArg(op, x, 1);
  booleanArg(op, 'keepDims', keepDims);
  if (axis === undefined) {
    // over every element, as PyTorch: the position in the flattened tensor
    if (x.size === 0) throw new Error(`${op}: cannot reduce an empty tensor (shape ${fmtShape(x.shape)})`);
    const flat = apply(op, [reshape(x, [-1])], { axis: 0, keepDims: false });
    return keepDims ? reshape(flat, x.shape.map(() => 1)) : flat;
  }
  const a = axisArg(op, axis, x.shape.length, x.shape);
  return apply(op, [x], { axis: a, keepDims });
}

/**
 * The int32 position of the largest value along `axis` (over every element, flattened, when
 * axis is left out). Ties give the first position, as NumPy and PyTorch; NaN counts as the largest.
 *
 * @example
 * argmax(tensor([[1, 5, 5], [7, 0, 2]]), 1);   // int32 [1, 0] (ties: the first)
 */
export const argmax = (x: Tensor, axis?: number, keepDims = false) => argReduce('argmax', x, axis, keepDims);

/**
 * The int32 position of the smallest value along `axis`; ties: the first; NaN counts as the smallest.
 *
 * @example
 * argmin(tensor([3, 1, 1]));   // int32 1
 */
export const argmin = (x: Tensor, axis?: number, keepDims = false) => argReduce('argmin', x, axis, keepDims);

export interface OneHotOptions {
  /** the output's dtype (default float32) */
  dtype?: DType;
}

/**
 * One-hot rows: out[..., c] = 1 where index[...] = c, else 0, for c in [0, numClasses). index is
 * int32; on the CPU a value outside [0, numClasses) is an error (on WebGPU its row is all zeros).
 *
 * @example
 * oneHot(tensor([2, 0], { dtype: 'int32' }), 3);   // [[0, 0, 1], [1, 0, 0]]
 */
export function oneHot(index: Tensor, numClasses: number, opts: OneHotOptions = {}): Tensor {
  indexArg('oneHot', index, 1);
  countArg('oneHot', 'numClasses', numClasses);
  const dtype = opts?.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float64' && dtype !== 'int32') {
    throw new TypeError(`oneHot: dtype must be 'float32', 'float64' or 'int32', got ${show(dtype)}`);
  }
  checkRange('oneHot', index, numClasses, 'numClasses');
  const classes = arange(0, numClasses, 1, { device: index.device, dtype: 'int32' });
  const hit = eq(unsqueeze(index, -1), classes);
  classes.dispose();
  return dtype === 'int32' ? hit : cast(hit, dtype);
}

/** On a device that reads synchronously (the CPU): every index lies in [0, n), else an error naming it. */
function checkRange(op: string, index: Tensor, n: number, what: string): void {
  const b = getBackend(index.device);
  if (!b.readSync) return;
  const v = b.readSync(index.storage, index.shape as number[], index.dtype);
  for (let i = 0; i < v.length; i++) {
    const j = v[i]!;
    if (j < 0 || j >= n) {
      throw new RangeError(`${op}: index ${j} (at flat position ${i} of index shape ${fmtShape(index.shape)}) is out of range for ${what} ${n}`);
    }
  }
}

// convolution and pooling (windows, fold, conv2d, maxPool2d, avgPool2d) live in conv.ts
export * from './conv';
