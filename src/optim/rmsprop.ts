import type { Tensor } from '../graph/tensor';
import { Optimizer, type BaseOptions, type ParamGroup, type ParamState, type ParamsArg } from './optimizer';

export interface RMSPropOptions extends BaseOptions {
  /** smoothing constant of the squared-gradient average; default 0.99 */
  alpha: number;
  /** added to the denominator; default 1e-8 */
  eps: number;
  /** L2 penalty added to the gradient (g + wd·p); default 0 */
  weightDecay: number;
  /** momentum of the step; default 0 (none) */
  momentum: number;
  /** divide by an estimate of the gradient's variance instead of its second moment; default false */
  centered: boolean;
}

/**
 * RMSProp (Hinton), as PyTorch's `torch.optim.RMSprop` (averages start at zero):
 *   g ← g + wd·p;  s ← αs + (1−α)g²;  d = √s + eps
 *   (centered: ḡ ← αḡ + (1−α)g;  d = √(s − ḡ²) + eps)
 *   momentum μ > 0: b ← μb + g/d;  p ← p − lr·b;  otherwise p ← p − lr·g/d.
 *
 * @example
 * const opt = new RMSProp(net.parameters(), { lr: 1e-3, momentum: 0.9 });
 */
export class RMSProp extends Optimizer<RMSPropOptions> {
  constructor(params: ParamsArg<RMSPropOptions>, opts: Partial<RMSPropOptions> = {}) {
    super('RMSProp', params, { lr: 0.01, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, ...opts });
  }
  protected override validate(g: ParamGroup<RMSPropOptions>, gi: number): void {
    super.validate(g, gi);
    if (!(g.alpha >= 0 && g.alpha <= 1)) throw new Error(`RMSProp: group ${gi}: alpha must be in [0, 1], got ${g.alpha}`);
    if (!(g.eps >= 0)) throw new Error(`RMSProp: group ${gi}: eps must be ≥ 0, got ${g.eps}`);
    if (!(g.weightDecay >= 0)) throw new Error(`RMSProp: group ${gi}: weightDecay must be ≥ 0, got ${g.weightDecay}`);
    if (!(g.momentum >= 0 && g.momentum < 1)) throw new Error(`RMSProp: group ${gi}: momentum must be in [0, 1), got ${g.momentum}`);
    if (typeof g.centered !== 'boolean') throw new Error(`RMSProp: group ${gi}: centered must be true or false, got ${String(g.centered)}`);
  }
  protected update(p: Tensor, grad: Tensor, o: ParamGroup<RMSPropOptions>, state: ParamState): Tensor {
    const { lr, alpha, eps, weightDecay, momentum, centered } = o;
    const g = weightDecay ? grad.add(p.mul(weightDecay)) : grad;
    const { s: s0, gAvg: a0, buf: b0 } = state.tensors;
    const s = s0 ? s0.mul(alpha).add(g.square().mul(1 - alpha)) : g.square().mul(1 - alpha);
    state.tensors.s = s;
    let var_ = s;
    if (centered) {
      const a = a0 ? a0.mul(alpha).add(g.mul(1 - alpha)) : g.mul(1 - alpha);
      state.tensors.gAvg = a;
      var_ = s.sub(a.square());
    }
    const d = var_.sqrt().add(eps);
    if (momentum > 0) {
      const b = b0 ? b0.mul(momentum).add(g.div(d)) : g.div(d);
      state.tensors.buf = b;
      return p.sub(b.mul(lr));
    }
    return p.sub(g.div(d).mul(lr));
  }
}
