import type { Tensor } from '../graph/tensor';
import { Optimizer, type BaseOptions, type ParamGroup, type ParamState, type ParamsArg } from './optimizer';

export interface AdaGradOptions extends BaseOptions {
  /** the step size decays as lr / (1 + (t − 1)·lrDecay); default 0 */
  lrDecay: number;
  /** L2 penalty added to the gradient (g + wd·p); default 0 */
  weightDecay: number;
  /** the starting value of the squared-gradient sum; default 0 */
  initialAccumulatorValue: number;
  /** added to the denominator; default 1e-10 */
  eps: number;
}

/**
 * AdaGrad (Duchi et al.), as PyTorch's `torch.optim.Adagrad`, at step t:
 *   g ← g + wd·p;  s ← s + g² (s starts at initialAccumulatorValue);
 *   p ← p − lr/(1 + (t−1)·lrDecay) · g / (√s + eps).
 *
 * @example
 * const opt = new AdaGrad(net.parameters(), { lr: 0.1 });
 */
export class AdaGrad extends Optimizer<AdaGradOptions> {
  constructor(params: ParamsArg<AdaGradOptions>, opts: Partial<AdaGradOptions> = {}) {
    super('AdaGrad', params, { lr: 0.01, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, ...opts });
  }
  protected override validate(g: ParamGroup<AdaGradOptions>, gi: number): void {
    super.validate(g, gi);
    if (!(g.lrDecay >= 0 && Number.isFinite(g.lrDecay))) throw new Error(`AdaGrad: group ${gi}: lrDecay must be a finite number ≥ 0, got ${g.lrDecay}`);
    if (!(g.weightDecay >= 0)) throw new Error(`AdaGrad: group ${gi}: weightDecay must be ≥ 0, got ${g.weightDecay}`);
    if (!(g.initialAccumulatorValue >= 0 && Number.isFinite(g.initialAccumulatorValue))) {
      throw new Error(`AdaGrad: group ${gi}: initialAccumulatorValue must be a finite number ≥ 0, got ${g.initialAccumulatorValue}`);
    }
    if (!(g.eps >= 0)) throw new Error(`AdaGrad: group ${gi}: eps must be ≥ 0, got ${g.eps}`);
  }
  protected update(p: Tensor, grad: Tensor, o: ParamGroup<AdaGradOptions>, state: ParamState): Tensor {
    const { lr, lrDecay, weightDecay, initialAccumulatorValue, eps } = o;
    const g = weightDecay ? grad.add(p.mul(weightDecay)) : grad;
    const prev = state.tensors.sum;
    const s = prev ? prev.add(g.square()) : g.square().add(initialAccumulatorValue);
    state.tensors.sum = s;
    const clr = lr / (1 + (state.step - 1) * lrDecay);
    return p.sub(g.div(s.sqrt().add(eps)).mul(clr));
  }
}
