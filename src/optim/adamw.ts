import type { Tensor } from '../graph/tensor';
import { adamStep, checkAdamGroup } from './adam';
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
    checkAdamGroup('AdamW', g, gi);
  }
  protected override get stateNames(): readonly string[] {
    return ['m', 'v'];
  }
  protected update(p: Tensor, g: Tensor, { lr, betas, eps, weightDecay }: ParamGroup<AdamWOptions>, state: ParamState): Tensor {
    return adamStep(weightDecay ? p.mul(1 - lr * weightDecay) : p, g, lr, betas, eps, state);
  }
}
