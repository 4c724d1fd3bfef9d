import type { DType, Device } from '../backends/backend';
import { randn } from '../graph/creation';
import { Module, type Dim } from './module';
import { fmtShapeOf, type Tensor } from './util';

export interface EmbeddingOptions {
  dtype?: DType;
  device?: Device;
}

/**
 * A lookup table of `num` vectors of length `dim`: forward(indices) returns the rows at the
 * int32 `indices` (any shape), shaped [...indices.shape, dim]. The weight, named `weight` and
 * laid out [num, dim] as PyTorch's nn.Embedding (so safetensors files line up), starts N(0, 1)
 * as PyTorch's does. Its gradient is a scatter-add: rows looked up twice get both gradients.
 *
 * @example
 * const emb = new Embedding(10, 4);
 * emb.forward(tensor([[1, 2], [3, 1]], { dtype: 'int32' }));   // [2, 2, 4]
 */
export class Embedding extends Module {
  readonly num: number;
  readonly dim: number;
  readonly weight: Tensor;

  constructor(num: number, dim: number, opts: EmbeddingOptions = {}) {
    super();
    for (const [what, n] of [['num', num], ['dim', dim]] as const) {
      if (!Number.isInteger(n) || n <= 0) throw new Error(`Embedding: ${what} must be a positive integer, got ${n}`);
    }
    const { dtype = 'float32', device } = opts;
    if (dtype === 'int32') throw new Error('Embedding: the weight must be a float dtype (it is trained), got int32');
    this.num = num;
    this.dim = dim;
    this.weight = this.registerParameter('weight', randn([num, dim], { dtype, device }))!;
  }

  override describe(): string {
    return `Embedding(${this.num}, ${this.dim})`;
  }

  override outputShape(input: readonly Dim[]): Dim[] {
    return [...input, this.dim];
  }

  forward(indices: Tensor): Tensor {
    if (indices.dtype !== 'int32') {
      throw new TypeError(`${this.describe()}: indices must be int32, got ${indices.dtype} of shape ${fmtShapeOf(indices)}; cast them with .cast('int32')`);
    }
    if (indices.device !== this.weight.device) {
      throw new Error(`${this.describe()}: indices are on ${indices.device}, the weight on ${this.weight.device}`);
    }
    if (indices.device === 'cpu') {
      // named here rather than by the gather underneath (WebGPU cannot check: see docs/webgpu.md)
      const v = indices.dataSync();
      for (let i = 0; i < v.length; i++) {
        if (v[i]! < 0 || v[i]! >= this.num) {
          throw new RangeError(`${this.describe()}: index ${v[i]} at flat position ${i} of indices ${fmtShapeOf(indices)} is out of range [0, ${this.num})`);
        }
      }
    }
    const rows = this.weight.indexSelect(0, indices.reshape([-1]));
    return rows.reshape([...indices.shape, this.dim]);
  }
}
