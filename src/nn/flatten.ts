// Flatten: a reshape that merges a run of axes, as the layer between convolutions and dense layers.
import { recordCall } from '../graph/composites';
import { Module, type Dim } from './module';
import { fmtShapeOf, Tensor } from './util';

/**
 * Merges the axes `startDim..endDim` (inclusive; negative counts from the end) into one, as
 * PyTorch's `nn.Flatten`: the default (1, −1) turns `[N, C, H, W]` into `[N, C·H·W]` and keeps the
 * batch axis. The values are not copied (a reshape), and the gradient is reshaped back.
 *
 * @example
 * new Flatten().forward(randn([8, 3, 4, 4])).shape;   // [8, 48]
 */
export class Flatten extends Module {
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
    for (const [what, d] of [['startDim', startDim], ['endDim', endDim]] as const) {
      if (!Number.isInteger(d)) throw new Error(`Flatten: ${what} must be an integer, got ${d}`);
    }
  }

  override describe(): string {
    return this.startDim === 1 && this.endDim === -1 ? 'Flatten' : `Flatten(${this.startDim}, ${this.endDim})`;
  }

  /** The axis range [lo, hi] for an input of rank r, or an error naming the layer and shape. */
  #range(r: number, shape: string): [number, number] {
    // a rank-0 input flattens like a rank-1 one (PyTorch: a scalar becomes [1])
    const rr = Math.max(r, 1);
    const lo = this.startDim < 0 ? this.startDim + rr : this.startDim;
    const hi = this.endDim < 0 ? this.endDim + rr : this.endDim;
    if (lo < 0 || lo >= rr || hi < 0 || hi >= rr || lo > hi) {
      throw new Error(`${this.describe()}: axes ${this.startDim}..${this.endDim} do not fit an input of shape ${shape}`);
    }
    return [lo, hi];
  }

  override outputShape(input: readonly Dim[]): Dim[] {
    const [lo, hi] = this.#range(input.length, `[${input.join(', ')}]`);
    if (input.length === 0) return [1];
    const run = input.slice(lo, hi + 1);
    const merged: Dim = run.every((d) => typeof d === 'number')
      ? (run as number[]).reduce((p, d) => p * d, 1)
      : run.join('·');
    return [...input.slice(0, lo), merged, ...input.slice(hi + 1)];
  }

  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor)) throw new Error(`${this.describe()}: expected a tensor, got ${typeof x}`);
    const [lo, hi] = this.#range(x.rank, fmtShapeOf(x));
    if (x.rank === 0) return x.reshape([1]);
    const merged = x.shape.slice(lo, hi + 1).reduce((p, d) => p * d, 1);
    const y = x.reshape([...x.shape.slice(0, lo), merged, ...x.shape.slice(hi + 1)]);
    // [N, ...] → [N, rest] is ONNX's Flatten (axis 1); other ranges export as the reshape
    return lo === 1 && hi === x.rank - 1 ? recordCall(y, { op: 'flatten', inputs: [x], attrs: {} }) : y;
  }
}
