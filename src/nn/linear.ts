import type { DType, Device } from '../backends/backend';
import { zeros } from '../graph/creation';
import { linear } from '../graph/functional';
import { initWeight, INIT_SCHEMES, type InitScheme } from './init';
import { Module, type Dim } from './module';
import type { Tensor } from './util';

export interface LinearOptions {
  /** add a bias vector (starts at zero; with initScheme 'pytorch', U(±1/√inSize) as PyTorch); default true */
  bias?: boolean;
  /** how the weights are drawn; default 'xavierUniform' (see InitScheme) */
  initScheme?: InitScheme;
  /** the std of 'gaussian' and the half-width of 'uniform'; default 1 */
  wscale?: number;
  dtype?: DType;
  device?: Device;
}

/**
 * A fully connected layer: y = x @ W + b, with W of shape (inSize, outSize), as in PuzzleLib.
 *
 * @example
 * const layer = new Linear(3, 2);            // weight [3, 2], bias [2]
 * layer.forward(randn([8, 3])).shape;     // [8, 2]
 */
export class Linear extends Module {
  readonly inSize: number;
  readonly outSize: number;
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(inSize: number, outSize: number, opts: LinearOptions = {}) {
    super();
    for (const [what, n] of [['inSize', inSize], ['outSize', outSize]] as const) {
      if (!Number.isInteger(n) || n <= 0) throw new Error(`Linear: ${what} must be a positive integer, got ${n}`);
    }
    const { bias = true, initScheme = 'xavierUniform', wscale = 1, dtype, device } = opts;
    if (!INIT_SCHEMES.includes(initScheme)) {
      throw new Error(`Linear(${inSize}→${outSize}): unknown initScheme '${initScheme}' (known: ${INIT_SCHEMES.join(', ')})`);
    }
    this.inSize = inSize;
    this.outSize = outSize;
    this.weight = this.registerParameter('weight', initWeight(initScheme, [inSize, outSize], inSize, wscale, { dtype, device }))!;
    // PyTorch's nn.Linear draws its bias from the weight's range; PuzzleLib's start at zero
    const b = !bias ? null : initScheme === 'pytorch' ? initWeight('pytorch', [outSize], inSize, 1, { dtype, device }) : zeros([outSize], { dtype, device });
    this.bias = this.registerParameter('bias', b);
  }

  /** PyTorch's nn.Linear keeps its weight as (out, in) and computes x Wᵀ + b; ours is (in, out). */
  protected override torchTransposed(): readonly string[] {
    return ['weight'];
  }

  override describe(): string {
    return `Linear(${this.inSize}→${this.outSize}${this.bias ? '' : ', bias=false'})`;
  }

  override outputShape(input: readonly Dim[]): Dim[] {
    const last = input[input.length - 1];
    if (input.length === 0 || (typeof last === 'number' && last !== this.inSize)) {
      throw new Error(`${this.describe()}: expected input [..., ${this.inSize}], got [${input.join(', ')}]`);
    }
    return [...input.slice(0, -1), this.outSize];
  }

  forward(x: Tensor): Tensor {
    if (x.rank === 0 || x.shape[x.rank - 1] !== this.inSize) {
      throw new Error(`${this.describe()}: expected input [..., ${this.inSize}], got [${x.shape.join(', ')}]`);
    }
    if (x.dtype !== this.weight.dtype || x.device !== this.weight.device) {
      throw new Error(
        `${this.describe()}: input [${x.shape.join(', ')}] is ${x.dtype} on ${x.device}, the weights are ${this.weight.dtype} on ${this.weight.device}`,
      );
    }
    // one fused op: x @ W + b (see functional linear)
    return linear(x, this.weight, this.bias);
  }
}
