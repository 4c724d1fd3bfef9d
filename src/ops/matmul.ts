// Batched matrix product: [...A, m, k] @ [...B, k, n] -> [...broadcast(A, B), m, n].
// 1-D operands (numpy's rules) are handled by the frontend with unsqueeze/squeeze.
import { broadcastShapes, fmtShape, type Fused, type OpSpec } from './registry';
import type { Tensor } from '../graph/tensor';

/** swap the last two axes */
export function mT(t: Tensor): Tensor {
  const r = t.shape.length;
  return t.permute([...Array(r - 2).keys(), r - 1, r - 2]);
}

/** x [..., m, k] @ W [k, n] + b [n] (a dense layer), one op: the bias is added as the product is written. */
export const linearOp: Fused<'linear'> = {
  shape: ([x, w, b], _attrs, [dtype]) => {
    const r = x!.length;
    if (r < 2 || w!.length !== 2 || b!.length !== 1 || x![r - 1] !== w![0] || b![0] !== w![1]) {
      throw new Error(`linear: expects x [..., m, k], W [k, n] and b [n], got ${fmtShape(x!)}, ${fmtShape(w!)} and ${fmtShape(b!)}`);
    }
    const shape = [...x!];
    shape[r - 1] = w![1]!;
    return { shape, dtype: dtype! };
  },
  saves: 'inputs',
  decompose: ([x, w, b]) => x!.matmul(w!).add(b!),
  // dx = g Wᵀ, dW = xᵀ g (summed over x's batch dims by the engine), db = g summed to [n]
  vjp: ({ g, inputs: [x, w], needs }) => [
    needs[0] ? g.matmul(mT(w!)) : null,
    needs[1] ? mT(x!).matmul(g) : null,
    needs[2] ? g : null,
  ],
};

/** mean((p − t)²) over every element of two same-shaped tensors, a scalar. */
export const mseOp: Fused<'mse'> = {
  shape: ([p, t], _attrs, [dtype]) => {
    if (p!.length !== t!.length || p!.some((d, i) => d !== t![i])) {
      throw new Error(`mse: prediction ${fmtShape(p!)} and target ${fmtShape(t!)} differ in shape`);
    }
    return { shape: [], dtype: dtype! };
  },
  saves: 'inputs',
  decompose: ([p, t]) => p!.sub(t!).square().mean(),
  // d/dp = 2(p − t)·g/N, d/dt = −d/dp
  vjp: ({ g, inputs: [p, t], needs }) => {
    const gp = p!.sub(t!).mul(g.mul(2 / p!.size));
    return [needs[0] ? gp : null, needs[1] ? gp.neg() : null];
  },
};

export const matmulOp: OpSpec<'matmul'> = {
  shape: ([a, b], _attrs, [dtype]) => {
    if (a!.length < 2 || b!.length < 2) {
      throw new Error(`matmul: expects operands of rank >= 2, got ${fmtShape(a!)} and ${fmtShape(b!)}`);
    }
    // indexing, not slice(): slice() of a tensor's frozen shape is slow (see broadcastShapes)
    const ra = a!.length;
    const rb = b!.length;
    const [m, k, k2, n] = [a![ra - 2]!, a![ra - 1]!, b![rb - 2]!, b![rb - 1]!];
    if (k !== k2) {
      throw new Error(`matmul: inner dimensions differ: ${fmtShape(a!)} @ ${fmtShape(b!)} (${k} vs ${k2})`);
    }
    if (ra === 2 && rb === 2) return { shape: [m, n], dtype: dtype! };
    let batch: number[];
    try {
      batch = broadcastShapes('matmul', [...a!].slice(0, -2), [...b!].slice(0, -2));
    } catch {
      // name the operands' full shapes, not just their batch parts
      throw new Error(`matmul: batch dimensions of ${fmtShape(a!)} and ${fmtShape(b!)} cannot broadcast`);
    }
    return { shape: [...batch, m, n], dtype: dtype! };
  },
  saves: 'inputs',
  // dA = g Bᵀ, dB = Aᵀ g  (batch broadcast is summed away by the engine)
  vjp: ({ g, inputs: [a, b], needs }) => [needs[0] ? g.matmul(mT(b!)) : null, needs[1] ? mT(a!).matmul(g) : null],
};
