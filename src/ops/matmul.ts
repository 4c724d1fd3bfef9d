// Batched matrix product: [...A, m, k] @ [...B, k, n] -> [...broadcast(A, B), m, n].
// 1-D operands (numpy's rules) are handled by the frontend with unsqueeze/squeeze.
import { broadcastShapes, fmtShape, type OpSpec } from './registry';
import type { Tensor } from '../graph/tensor';

/** swap the last two axes */
export function mT(t: Tensor): Tensor {
  const r = t.shape.length;
  return t.permute([...Array(r - 2).keys(), r - 1, r - 2]);
}

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
