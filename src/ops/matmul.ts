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
    const [m, k] = a!.slice(-2) as [number, number];
    const [k2, n] = b!.slice(-2) as [number, number];
    if (k !== k2) {
      throw new Error(`matmul: inner dimensions differ: ${fmtShape(a!)} @ ${fmtShape(b!)} (${k} vs ${k2})`);
    }
    let batch: number[];
    try {
      batch = broadcastShapes('matmul', a!.slice(0, -2), b!.slice(0, -2));
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
