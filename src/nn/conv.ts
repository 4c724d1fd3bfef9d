// Convolution and pooling layers over [N, C, H, W], with PyTorch's names, layouts and init.
import type { DType, Device } from '../backends/backend';
import { rand } from '../graph/creation';
import { avgPool2d, conv2d, maxPool2d, type Pair } from '../graph/functional';
import { Module, type Dim } from './module';
import type { Tensor } from './util';

export interface Conv2dLayerOptions {
  /** default 1 */
  stride?: Pair;
  /** zeros on both sides of H and W; default 0 */
  padding?: Pair;
  /** default 1 */
  dilation?: Pair;
  /** default 1; must divide inChannels and outChannels */
  groups?: number;
  /** add a bias per output channel; default true */
  bias?: boolean;
  dtype?: DType;
  device?: Device;
}

const pair = (v: Pair): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);
const fmtPair = (v: Pair) => (typeof v === 'number' ? String(v) : `[${v.join(',')}]`);

/** Spatial output size of one axis for a shape check (a symbolic dim passes through). */
function outDim(d: Dim, k: number, s: number, p: number, dil: number): Dim {
  if (typeof d !== 'number') return `${d}'`;
  return Math.floor((d + 2 * p - dil * (k - 1) - 1) / s) + 1;
}

/**
 * 2-D convolution: weight [outChannels, inChannels/groups, kH, kW] and bias [outChannels], both
 * drawn from U(−1/√fan_in, 1/√fan_in), fan_in = inChannels/groups·kH·kW (PyTorch's default).
 *
 * @example
 * const conv = new Conv2d(1, 16, 5, { padding: 2 });
 * conv.forward(randn([8, 1, 28, 28])).shape;   // [8, 16, 28, 28]
 */
export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    opts: Conv2dLayerOptions = {},
  ) {
    super();
    const { stride = 1, padding = 0, dilation = 1, groups = 1, bias = true, dtype, device } = opts;
    const name = `Conv2d(${inChannels}→${outChannels}, ${fmtPair(kernelSize)})`;
    for (const [what, n] of [['inChannels', inChannels], ['outChannels', outChannels], ['groups', groups]] as const) {
      if (!Number.isInteger(n) || n <= 0) throw new Error(`${name}: ${what} must be a positive integer, got ${n}`);
    }
    if (inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new Error(`${name}: groups ${groups} must divide inChannels ${inChannels} and outChannels ${outChannels}`);
    }
    this.kernelSize = pair(kernelSize);
    this.stride = pair(stride);
    this.padding = pair(padding);
    this.dilation = pair(dilation);
    this.groups = groups;
    for (const [what, v, min] of [['kernelSize', this.kernelSize, 1], ['stride', this.stride, 1], ['padding', this.padding, 0], ['dilation', this.dilation, 1]] as const) {
      if (!v.every((d) => Number.isSafeInteger(d) && d >= min)) throw new Error(`${name}: ${what} must hold integers ≥ ${min}, got [${v.join(',')}]`);
    }
    const [kH, kW] = this.kernelSize;
    const a = 1 / Math.sqrt((inChannels / groups) * kH * kW);
    this.weight = this.registerParameter('weight', rand([outChannels, inChannels / groups, kH, kW], { low: -a, high: a, dtype, device }))!;
    this.bias = this.registerParameter('bias', bias ? rand([outChannels], { low: -a, high: a, dtype, device }) : null);
  }

  override describe(): string {
    const extra = [
      this.stride.some((s) => s !== 1) ? `stride ${this.stride.join('×')}` : '',
      this.padding.some((p) => p !== 0) ? `padding ${this.padding.join('×')}` : '',
      this.dilation.some((d) => d !== 1) ? `dilation ${this.dilation.join('×')}` : '',
      this.groups !== 1 ? `groups ${this.groups}` : '',
      this.bias ? '' : 'bias=false',
    ].filter(Boolean);
    return `Conv2d(${this.inChannels}→${this.outChannels}, ${this.kernelSize.join('×')}${extra.length ? `, ${extra.join(', ')}` : ''})`;
  }

  override outputShape(input: readonly Dim[]): Dim[] {
    if (input.length !== 4 || (typeof input[1] === 'number' && input[1] !== this.inChannels)) {
      throw new Error(`${this.describe()}: expected input [N, ${this.inChannels}, H, W], got [${input.join(', ')}]`);
    }
    const [kH, kW] = this.kernelSize;
    return [
      input[0]!,
      this.outChannels,
      outDim(input[2]!, kH, this.stride[0], this.padding[0], this.dilation[0]),
      outDim(input[3]!, kW, this.stride[1], this.padding[1], this.dilation[1]),
    ];
  }

  forward(x: Tensor): Tensor {
    if (x.rank !== 4 || x.shape[1] !== this.inChannels) {
      throw new Error(`${this.describe()}: expected input [N, ${this.inChannels}, H, W], got [${x.shape.join(', ')}]`);
    }
    return conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups });
  }
}

export interface MaxPool2dLayerOptions {
  /** default: the kernel size */
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
}

/**
 * Max over kernelSize windows (see functional maxPool2d). No parameters.
 *
 * @example
 * new Sequential(new Conv2d(1, 8, 3), new ReLU(), new MaxPool2d(2));
 */
export class MaxPool2d extends Module {
  constructor(
    readonly kernelSize: Pair,
    readonly opts: MaxPool2dLayerOptions = {},
  ) {
    super();
  }

  override describe(): string {
    return `MaxPool2d(${fmtPair(this.kernelSize)}${this.opts.stride !== undefined ? `, stride ${fmtPair(this.opts.stride)}` : ''})`;
  }

  override outputShape(input: readonly Dim[]): Dim[] {
    if (input.length !== 4) throw new Error(`${this.describe()}: expected input [N, C, H, W], got [${input.join(', ')}]`);
    const k = pair(this.kernelSize);
    const s = pair(this.opts.stride ?? this.kernelSize);
    const p = pair(this.opts.padding ?? 0);
    const d = pair(this.opts.dilation ?? 1);
    return [input[0]!, input[1]!, outDim(input[2]!, k[0], s[0], p[0], d[0]), outDim(input[3]!, k[1], s[1], p[1], d[1])];
  }

  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, this.opts);
  }
}

export interface AvgPool2dLayerOptions {
  stride?: Pair;
  padding?: Pair;
  countIncludePad?: boolean;
}

/**
 * Mean over kernelSize windows (see functional avgPool2d). No parameters.
 *
 * @example
 * new AvgPool2d(2).forward(ones([1, 1, 4, 4])).shape;   // [1, 1, 2, 2]
 */
export class AvgPool2d extends Module {
  constructor(
    readonly kernelSize: Pair,
    readonly opts: AvgPool2dLayerOptions = {},
  ) {
    super();
  }

  override describe(): string {
    return `AvgPool2d(${fmtPair(this.kernelSize)}${this.opts.stride !== undefined ? `, stride ${fmtPair(this.opts.stride)}` : ''})`;
  }

  override outputShape(input: readonly Dim[]): Dim[] {
    if (input.length !== 4) throw new Error(`${this.describe()}: expected input [N, C, H, W], got [${input.join(', ')}]`);
    const k = pair(this.kernelSize);
    const s = pair(this.opts.stride ?? this.kernelSize);
    const p = pair(this.opts.padding ?? 0);
    return [input[0]!, input[1]!, outDim(input[2]!, k[0], s[0], p[0], 1), outDim(input[3]!, k[1], s[1], p[1], 1)];
  }

  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, this.opts);
  }
}
