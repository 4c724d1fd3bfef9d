// Convolution and pooling, composed from primitives: pad → windows (a view: im2col without a
// copy) → a row-major copy of the columns → matmul (+ bias) for conv2d, a max or a mean over the
// taps for pooling. Their gradients need no rules of their own: windows' VJP is fold (col2im),
// matmul's and max's are the usual ones. Layouts as PyTorch: x [N, C, H, W], weight
// [out, in/groups, kH, kW].
import type { WindowAttrs } from '../backends/backend';
import { fmtShape } from '../ops/registry';
import { arrayArg, axisArg, booleanArg, entry, optionsArg, show, shapeArg, tensorArg } from './args';
import { apply, noGrad } from './engine';
import { add, div, linear, matmul, max, pad, sum, where } from './functional';
import { recordCall } from './composites';
import { isTensor, Tensor } from './tensor';

/** One number for both spatial axes, or [h, w]. */
export type Pair = number | readonly [number, number];

export interface WindowOptions {
  /** window origins step this far per window axis (default 1 each) */
  stride?: readonly number[];
  /** taps of a window are this far apart per window axis (default 1 each: adjacent) */
  dilation?: readonly number[];
}

export interface Conv2dOptions {
  /** default 1 */
  stride?: Pair;
  /** zeros added on both sides of H and W; default 0 */
  padding?: Pair;
  /** spacing of the kernel's taps; default 1 */
  dilation?: Pair;
  /** input and output channels split into this many independent groups; default 1 */
  groups?: number;
}

export interface MaxPool2dOptions {
  /** default: the kernel size (windows side by side) */
  stride?: Pair;
  /** −∞ added on both sides (never picked); at most half the kernel; default 0 */
  padding?: Pair;
  /** default 1 */
  dilation?: Pair;
}

export interface AvgPool2dOptions {
  /** default: the kernel size */
  stride?: Pair;
  /** zeros added on both sides; at most half the kernel; default 0 */
  padding?: Pair;
  /** divide by the whole window (true, default) or only by the taps inside the input */
  countIncludePad?: boolean;
}

/** An [h, w] pair of integers ≥ min from a number or a pair, or an error naming op and argument. */
function pairArg(op: string, name: string, v: unknown, min: number): [number, number] {
  const p = typeof v === 'number' ? [v, v] : Array.isArray(v) && v.length === 2 ? v : null;
  if (p === null) throw new TypeError(`${op}: ${name} must be a number or an [h, w] pair, got ${show(v)}`);
  if (!p.every((d) => Number.isSafeInteger(d) && d >= min)) {
    throw new RangeError(`${op}: ${name} must hold integers ≥ ${min}, got [${p.map(entry).join(',')}]`);
  }
  return p as [number, number];
}

/** A list of positive integers, one per window axis (default all 1). */
function perAxis(op: string, name: string, v: unknown, k: number): number[] {
  if (v === undefined) return new Array<number>(k).fill(1);
  const list = arrayArg(op, name, v, 'positive integers');
  if (list.length !== k || !list.every((d) => Number.isSafeInteger(d) && (d as number) >= 1)) {
    throw new RangeError(`${op}: ${name} must hold ${k} positive integers (one per axis), got [${list.map(entry).join(',')}]`);
  }
  return list as number[];
}

function windowAttrs(op: string, rank: number, shape: readonly number[], axes: unknown, size: unknown, opts: WindowOptions): WindowAttrs {
  const ax = arrayArg(op, 'axes', axes, 'axes').map((a) => axisArg(op, a, rank, shape));
  if (ax.some((a, i) => i > 0 && a <= ax[i - 1]!)) {
    throw new Error(`${op}: axes [${ax.join(',')}] must be increasing (after negative axes are counted from the end)`);
  }
  const o = optionsArg(op, opts);
  return {
    axes: ax,
    size: perAxis(op, 'size', size, ax.length),
    stride: perAxis(op, 'stride', o.stride, ax.length),
    dilation: perAxis(op, 'dilation', o.dilation, ax.length),
  };
}

/**
 * Sliding windows (unfold, im2col) as a view, without copying: each of `axes` (extent n) becomes
 * the ⌊(n − dilation·(size − 1) − 1) / stride⌋ + 1 window origins, and each window's taps are
 * appended as trailing axes. For [N, C, H, W], axes [2, 3] and size [kH, kW]: [N, C, oH, oW, kH, kW].
 *
 * @example
 * windows(arange(5), [0], [3]);   // [[0, 1, 2], [1, 2, 3], [2, 3, 4]]
 */
export function windows(x: Tensor, axes: readonly number[], size: readonly number[], opts: WindowOptions = {}): Tensor {
  tensorArg('windows', x, 1);
  return apply('windows', [x], windowAttrs('windows', x.rank, x.shape, axes, size, opts));
}

/**
 * The adjoint of windows (col2im): g, shaped like windows(x) for an x of `shape`, summed back
 * into `shape`: each tap lands on the element it was read from, overlapping taps add up.
 *
 * @example
 * fold(ones([3, 3]), [5], [0], [3]);   // [1, 2, 3, 2, 1]: how often each element is read
 */
export function fold(
  g: Tensor,
  shape: readonly number[],
  axes: readonly number[],
  size: readonly number[],
  opts: WindowOptions = {},
): Tensor {
  tensorArg('fold', g, 1);
  const s = shapeArg('fold', shape);
  return apply('fold', [g], { ...windowAttrs('fold', s.length, s, axes, size, opts), shape: s });
}

/** The spatial output size, or an error when the (dilated) kernel does not fit the padded input. */
function outSize(op: string, x: Tensor, k: number[], s: number[], p: number[], d: number[]): [number, number] {
  const o = [0, 1].map((i) => {
    const n = x.shape[2 + i]! + 2 * p[i]!;
    const span = d[i]! * (k[i]! - 1) + 1;
    if (n < span) {
      throw new Error(
        `${op}: kernel [${k.join(',')}] with dilation [${d.join(',')}] spans [${[0, 1].map((j) => d[j]! * (k[j]! - 1) + 1).join(',')}], more than the padded input [${[0, 1].map((j) => x.shape[2 + j]! + 2 * p[j]!).join(',')}] (input ${fmtShape(x.shape)}, padding [${p.join(',')}])`,
      );
    }
    return Math.floor((n - span) / s[i]!) + 1;
  });
  return o as [number, number];
}

const spatialPad = (p: number[]) => [[0, 0], [0, 0], [p[0]!, p[0]!], [p[1]!, p[1]!]] as [number, number][];

/**
 * 2-D convolution (cross-correlation, as PyTorch): x [N, C, H, W], weight [O, C/groups, kH, kW],
 * bias [O] or none; returns [N, O, oH, oW]. Computed as im2col: the windows of the padded input
 * copied row-major as columns [N·oH·oW, C·kH·kW] and multiplied by the weight seen as
 * [C·kH·kW, O] (groups: one batched product per group).
 *
 * @example
 * const x = randn([8, 1, 28, 28]);
 * const w = randn([16, 1, 5, 5], { requiresGrad: true });
 * conv2d(x, w, null, { padding: 2 }).shape;   // [8, 16, 28, 28]
 */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  tensorArg('conv2d', x, 1);
  tensorArg('conv2d', weight, 2);
  if (bias !== undefined && bias !== null && !isTensor(bias)) {
    throw new TypeError(`conv2d: argument 3 (bias) must be a Tensor (or null), got ${show(bias)}`);
  }
  const o = optionsArg('conv2d', opts);
  const stride = pairArg('conv2d', 'stride', o.stride ?? 1, 1);
  const padding = pairArg('conv2d', 'padding', o.padding ?? 0, 0);
  const dilation = pairArg('conv2d', 'dilation', o.dilation ?? 1, 1);
  const groups = o.groups ?? 1;
  if (!Number.isSafeInteger(groups) || groups < 1) throw new RangeError(`conv2d: groups must be a positive integer, got ${entry(groups)}`);
  const b = bias ?? null;
  const shapes = `x ${fmtShape(x.shape)}, weight ${fmtShape(weight.shape)}${b ? `, bias ${fmtShape(b.shape)}` : ''}`;
  if (x.rank !== 4 || weight.rank !== 4) {
    throw new Error(`conv2d: expects x [N, C, H, W] and weight [out, in/groups, kH, kW], got ${shapes}`);
  }
  const [N, C] = x.shape as [number, number];
  const [O, Cg, kH, kW] = weight.shape as [number, number, number, number];
  if (C % groups !== 0 || O % groups !== 0 || Cg !== C / groups || (b && (b.rank !== 1 || b.shape[0] !== O))) {
    throw new Error(`conv2d: ${shapes} with groups ${groups} do not fit (weight needs [out, ${C}/${groups}, kH, kW], out divisible by groups, bias [out])`);
  }
  for (const t of [weight, ...(b ? [b] : [])]) {
    if (t.dtype !== x.dtype || t.device !== x.device) {
      throw new Error(`conv2d: ${shapes}: x is ${x.dtype} on ${x.device}, a parameter is ${t.dtype} on ${t.device}`);
    }
  }
  const k = [kH, kW];
  const [oH, oW] = outSize('conv2d', x, k, stride, padding, dilation);
  const call = { op: 'conv2d' as const, inputs: b ? [x, weight, b] : [x, weight], attrs: { kernel: k, stride, padding, dilation, groups } };
  const xp = padding[0] || padding[1] ? pad(x, spatialPad(padding)) : x;
  const win = windows(xp, [2, 3], k, { stride, dilation }); // [N, C, oH, oW, kH, kW]
  const rows = N * oH * oW;
  if (groups === 1) {
    const K = C * kH * kW;
    // the columns: one row per output position (the reshape copies the overlapping windows)
    const cols = win.permute([0, 2, 3, 1, 4, 5]).reshape([rows, K]);
    const w2 = weight.reshape([O, K]).permute([1, 0]); // [K, O], a view
    const y = b ? linear(cols, w2, b) : matmul(cols, w2); // [N·oH·oW, O]
    return recordCall(y.reshape([N, oH, oW, O]).permute([0, 3, 1, 2]), call);
  }
  const Og = O / groups;
  const K = Cg * kH * kW;
  const cols = win
    .reshape([N, groups, Cg, oH, oW, kH, kW])
    .permute([1, 0, 3, 4, 2, 5, 6])
    .reshape([groups, rows, K]);
  const w3 = weight.reshape([groups, Og, K]).permute([0, 2, 1]); // [G, K, Og]
  const y = matmul(cols, w3) // [G, N·oH·oW, Og]
    .reshape([groups, N, oH, oW, Og])
    .permute([1, 0, 4, 2, 3])
    .reshape([N, O, oH, oW]);
  return recordCall(b ? add(y, b.reshape([O, 1, 1])) : y, call);
}

/** Pooling's shared argument checks: x [N, C, H, W], kernel, stride (default kernel), padding ≤ kernel/2. */
function poolArgs(op: string, x: Tensor, kernelSize: unknown, o: { stride?: Pair; padding?: Pair; dilation?: Pair }) {
  tensorArg(op, x, 1);
  if (x.rank !== 4) throw new Error(`${op}: expects x [N, C, H, W], got ${fmtShape(x.shape)}`);
  const k = pairArg(op, 'kernelSize', kernelSize, 1);
  const stride = pairArg(op, 'stride', o.stride ?? k, 1);
  const padding = pairArg(op, 'padding', o.padding ?? 0, 0);
  const dilation = pairArg(op, 'dilation', o.dilation ?? 1, 1);
  // a window made only of padding would have no input element to pick (max: −∞) or to average
  if (padding[0]! > Math.floor(k[0] / 2) || padding[1]! > Math.floor(k[1] / 2)) {
    throw new RangeError(`${op}: padding [${padding.join(',')}] must be at most half the kernel [${k.join(',')}]`);
  }
  const out = outSize(op, x, k, stride, padding, dilation);
  // with dilation a window can still fall wholly in the padding (k 2, dilation 2, padding 1 on a
  // 1-pixel input): no element to pick or average, refused rather than giving −∞ or 0/0
  for (const i of [0, 1]) {
    const n = x.shape[2 + i]!;
    for (let o = 0; o < out[i]!; o++) {
      let hit = false;
      for (let t = 0; t < k[i]! && !hit; t++) {
        const at = o * stride[i]! + t * dilation[i]! - padding[i]!;
        hit = at >= 0 && at < n;
      }
      if (!hit) {
        throw new RangeError(
          `${op}: window ${o} along ${i ? 'W' : 'H'} lies wholly in the padding (input ${fmtShape(x.shape)}, kernel [${k.join(',')}], stride [${stride.join(',')}], padding [${padding.join(',')}], dilation [${dilation.join(',')}])`,
        );
      }
    }
  }
  return { k, stride, padding, dilation };
}

/** 1 on x's [H, W] and 0 on the padding around it, shaped [1, 1, H + 2p, W + 2p] (no gradient). */
function insideMask(x: Tensor, padding: number[]): Tensor {
  return noGrad(() => pad(Tensor.scalar(1, x.dtype, x.device).expand([1, 1, x.shape[2]!, x.shape[3]!]), spatialPad(padding)));
}

/**
 * Max over each kernelSize window of x [N, C, H, W] → [N, C, oH, oW]. Padding is −∞ (never the
 * max). The gradient goes to each window's max; tied maxima share it evenly (as max does).
 *
 * @example
 * maxPool2d(randn([8, 16, 24, 24]), 2).shape;   // [8, 16, 12, 12]
 */
export function maxPool2d(x: Tensor, kernelSize: Pair, opts: MaxPool2dOptions = {}): Tensor {
  const o = optionsArg('maxPool2d', opts);
  const { k, stride, padding, dilation } = poolArgs('maxPool2d', x, kernelSize, o);
  let xp = x;
  if (padding[0] || padding[1]) xp = where(insideMask(x, padding), pad(x, spatialPad(padding)), -Infinity);
  return recordCall(max(windows(xp, [2, 3], k, { stride, dilation }), [4, 5]), {
    op: 'maxPool2d',
    inputs: [x],
    attrs: { kernel: k, stride, padding, dilation },
  });
}

/**
 * Mean over each kernelSize window of x [N, C, H, W] → [N, C, oH, oW]. Padding is zeros; with
 * countIncludePad false a window is divided only by its taps inside x.
 *
 * @example
 * avgPool2d(ones([1, 1, 4, 4]), 2, { stride: 1 });   // [1, 1, 3, 3] of ones
 */
export function avgPool2d(x: Tensor, kernelSize: Pair, opts: AvgPool2dOptions = {}): Tensor {
  const o = optionsArg('avgPool2d', opts);
  const { k, stride, padding } = poolArgs('avgPool2d', x, kernelSize, { stride: o.stride, padding: o.padding });
  const countIncludePad = booleanArg('avgPool2d', 'countIncludePad', o.countIncludePad ?? true);
  const padded = padding[0] || padding[1];
  const xp = padded ? pad(x, spatialPad(padding)) : x;
  const call = { op: 'avgPool2d' as const, inputs: [x], attrs: { kernel: k, stride, padding, countIncludePad } };
  const s = sum(windows(xp, [2, 3], k, { stride }), [4, 5]);
  if (countIncludePad || !padded) return recordCall(div(s, k[0] * k[1]), call);
  // taps inside x per window: the windows of the inside mask, summed
  const count = noGrad(() => sum(windows(insideMask(x, padding), [2, 3], k, { stride }), [4, 5]));
  return recordCall(div(s, count), call);
}
