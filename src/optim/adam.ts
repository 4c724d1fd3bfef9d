import type { Tensor } from '../graph/tensor';
import { Optimizer, type BaseOptions, type ParamGroup, type ParamState, type ParamsArg } from './optimizer';

export interface AdamOptions extends BaseOptions {
  /** decay rates of the first and second moment estimates; default [0.9, 0.999] */
  betas: [number, number];
  /** added to √v̂; default 1e-8 */
  eps: number;
  /** L2 penalty added to the gradient (g + wd·p), as PyTorch's Adam; default 0 */
  weightDecay: number;
}

/** The options Adam and AdamW share, checked with the optimizer's name in the message. */
export function checkAdamGroup(name: string, g: { betas: unknown; eps: number; weightDecay: number }, gi: number): void {
  const betas = g.betas;
  const [b1, b2] = Array.isArray(betas) && betas.length === 2 ? (betas as unknown[]) : [];
  const unit = (b: unknown) => typeof b === 'number' && b >= 0 && b < 1;
  if (!(unit(b1) && unit(b2))) {
    // String() keeps NaN readable (JSON writes null); strings are quoted, to show their type
    const show = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : String(v));
    const got = Array.isArray(betas) ? `[${betas.map(show).join(', ')}]` : show(betas);
    throw new Error(`${name}: group ${gi}: betas must be in [0, 1) (a pair of numbers), got ${got}`);
  }
  if (!(Number.isFinite(g.eps) && g.eps >= 0)) throw new Error(`${name}: group ${gi}: eps must be a finite number ≥ 0, got ${g.eps}`);
  if (!(Number.isFinite(g.weightDecay) && g.weightDecay >= 0)) {
    throw new Error(`${name}: group ${gi}: weightDecay must be a finite number ≥ 0, got ${g.weightDecay}`);
  }
}

/**
 * The Adam step both optimizers take from `from` (p, or AdamW's decayed p) with gradient g:
 * m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g² (kept in `state`); from − lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + eps),
 * which is lr · m̂ / (√v̂ + eps) in PyTorch's order of operations.
 */
export function adamStep(from: Tensor, g: Tensor, lr: number, [b1, b2]: [number, number], eps: number, state: ParamState): Tensor {
  const { m: m0, v: v0 } = state.tensors;
  const m = m0 ? m0.mul(b1).add(g.mul(1 - b1)) : g.mul(1 - b1);
  const v = v0 ? v0.mul(b2).add(g.square().mul(1 - b2)) : g.square().mul(1 - b2);
  state.tensors.m = m;
  state.tensors.v = v;
  const t = state.step;
  const denom = v.sqrt().div(Math.sqrt(1 - b2 ** t)).add(eps);
  return from.sub(m.div(denom).mul(lr / (1 - b1 ** t)));
}

/**
 * Adam (Kingma & Ba): m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²;
 * p ← p − lr · m̂ / (√v̂ + eps), with m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ).
 *
 * @example
 * const opt = new Adam(net.parameters(), { lr: 1e-3, weightDecay: 1e-4 });
 */
export class Adam extends Optimizer<AdamOptions> {
  constructor(params: ParamsArg<AdamOptions>, opts: Partial<AdamOptions> = {}) {
    super('Adam', params, { lr: 0.001, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, ...opts });
  }
  protected override validate(g: ParamGroup<AdamOptions>, gi: number): void {
    super.validate(g, gi);
    checkAdamGroup('Adam', g, gi);
  }
  protected override get stateNames(): readonly string[] {
    return ['m', 'v'];
  }
  protected update(p: Tensor, grad: Tensor, { lr, betas, eps, weightDecay }: ParamGroup<AdamOptions>, state: ParamState): Tensor {
    return adamStep(p, weightDecay ? grad.add(p.mul(weightDecay)) : grad, lr, betas, eps, state);
  }
}
