import type { Tensor } from '../graph/tensor';
import { Optimizer, type BaseOptions, type ParamGroup, type ParamState, type ParamsArg } from './optimizer';

export interface AdamWOptions extends BaseOptions {
  /** decay rates of the first and second moment estimates; default [0.9, 0.999] */
  betas: [number, number];
  /** added to √v̂; default 1e-8 */
  eps: number;
  /** decoupled weight decay λ: p ← p·(1 − lr·λ) before the Adam step; default 0.01 (as PyTorch) */
  weightDecay: number;
}

/**
 * AdamW (Loshchilov & Hutter), as PyTorch's `torch.optim.AdamW` (without amsgrad): the weight
 * decay shrinks the parameter directly instead of entering the gradient, so it is not rescaled by
 * the adaptive denominator:
 *   p ← p·(1 − lr·λ);  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;
 *   p ← p − lr · m̂ / (√v̂ + eps),  m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ).
 *
 * @example
 * const opt = new AdamW(net.parameters(), { lr: 1e-3, weightDecay: 0.05 });
 */
export class AdamW extends Optimizer<AdamWOptions> {
  constructor(params: ParamsArg<AdamWOptions>, opts: Partial<AdamWOptions> = {}) {
    super('AdamW', params, { lr: 0.001, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01, ...opts });
  }
  protected override validate(g: ParamGroup<AdamWOptions>, gi: number): void {
    super.validate(g, gi);
    const [b1, b2] = Array.isArray(g.betas) ? g.betas : [];
    if (!(b1! >= 0 && b1! < 1 && b2! >= 0 && b2! < 1)) throw new Error(`AdamW: group ${gi}: betas must be in [0, 1), got ${JSON.stringify(g.betas)}`);
    if (!(g.eps >= 0)) throw new Error(`AdamW: group ${gi}: eps must be ≥ 0, got ${g.eps}`);
    if (!(g.weightDecay >= 0)) throw new Error(`AdamW: group ${gi}: weightDecay must be ≥ 0, got ${g.weightDecay}`);
  }
  protected update(p: Tensor, g: Tensor, { lr, betas: [b1, b2], eps, weightDecay }: ParamGroup<AdamWOptions>, state: ParamState): Tensor {
    const decayed = weightDecay ? p.mul(1 - lr * weightDecay) : p;
    const { m: m0, v: v0 } = state.tensors;
    const m = m0 ? m0.mul(b1).add(g.mul(1 - b1)) : g.mul(1 - b1);
    const v = v0 ? v0.mul(b2).add(g.square().mul(1 - b2)) : g.square().mul(1 - b2);
    state.tensors.m = m;
    state.tensors.v = v;
    const t = state.step;
    // lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + eps), in PyTorch's order of operations
    const denom = v.sqrt().div(Math.sqrt(1 - b2 ** t)).add(eps);
    return decayed.sub(m.div(denom).mul(lr / (1 - b1 ** t)));
  }
}
