import type { Tensor } from '../graph/tensor';
import { Optimizer, type BaseOptions, type ParamGroup, type ParamState, type ParamsArg } from './optimizer';

/**
 * Plain gradient descent: p ← p − lr·g.
 *
 * @example
 * const opt = new SGD(net.parameters(), { lr: 0.1 });
 */
export class SGD extends Optimizer<BaseOptions> {
  /** `opts.lr` may be left out when every group sets its own. */
  constructor(params: ParamsArg<BaseOptions>, opts: Partial<BaseOptions> = {}) {
    super('SGD', params, opts as BaseOptions);
  }
  protected override get stateNames(): readonly string[] {
    return [];
  }
  protected update(p: Tensor, g: Tensor, { lr }: ParamGroup<BaseOptions>, _state: ParamState): Tensor {
    return p.sub(g.mul(lr));
  }
}

export interface MomentumOptions extends BaseOptions {
  /** μ, default 0.9 */
  momentum: number;
  /** Nesterov's look-ahead: p ← p − (μ·v + lr·g) with the new v; default false */
  nesterov: boolean;
}

/**
 * Gradient descent with momentum, as PuzzleLib's MomentumSGD: v ← μ·v + lr·g; p ← p − v
 * (v starts at zero). With `nesterov`: p ← p − (μ·v + lr·g), using the updated v.
 *
 * @example
 * const opt = new Momentum(net.parameters(), { lr: 0.01, momentum: 0.9 });
 */
export class Momentum extends Optimizer<MomentumOptions> {
  /** `opts.lr` may be left out when every group sets its own. */
  constructor(params: ParamsArg<MomentumOptions>, opts: Partial<MomentumOptions> = {}) {
    super('Momentum', params, { momentum: 0.9, nesterov: false, ...opts } as MomentumOptions);
  }
  protected override validate(g: ParamGroup<MomentumOptions>, gi: number): void {
    super.validate(g, gi);
    if (!(typeof g.momentum === 'number' && g.momentum >= 0 && g.momentum < 1)) throw new Error(`Momentum: group ${gi}: momentum must be in [0, 1), got ${g.momentum}`);
    if (typeof g.nesterov !== 'boolean') throw new Error(`Momentum: group ${gi}: nesterov must be true or false, got ${String(g.nesterov)}`);
  }
  protected override get stateNames(): readonly string[] {
    return ['v'];
  }
  protected update(p: Tensor, g: Tensor, { lr, momentum, nesterov }: ParamGroup<MomentumOptions>, state: ParamState): Tensor {
    const step = g.mul(lr);
    const prev = state.tensors.v;
    const v = prev ? prev.mul(momentum).add(step) : step;
    state.tensors.v = v;
    return p.sub(nesterov ? v.mul(momentum).add(step) : v);
  }
}
