// Dropout: zero each element with probability p while training, and scale the survivors by
// 1/(1 − p) so the expected value of every element is unchanged; the identity in eval mode.
import { rand } from '../graph/creation';
import { Module } from './module';
import { Tensor } from './util';

/**
 * Dropout(p), as PyTorch's `nn.Dropout`: in training mode y = x · m / (1 − p) with m ~ Bernoulli(1 − p)
 * drawn per element from the library's seeded generator (`manualSeed`), so a seeded run drops the
 * same elements; in eval mode y = x. p = 0 is the identity and p = 1 gives zeros (as PyTorch).
 * The gradient is g · m / (1 − p), with the same mask.
 *
 * @example
 * const net = new Sequential(new Linear(16, 32), new ReLU(), new Dropout(0.2), new Linear(32, 1));
 * net.eval();   // dropout off for evaluation
 */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new Error(`Dropout: p must be a probability in [0, 1], got ${p}`);
  }

  override describe(): string {
    return `Dropout(p=${this.p})`;
  }

  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor)) throw new Error(`${this.describe()}: expected a tensor, got ${typeof x}`);
    if (!this.training || this.p === 0) return x;
    if (this.p === 1) return x.mul(0);
    // u ~ U[0, 1): keep where u ≥ p, which happens with probability 1 − p; the mask already
    // carries the scale, so the forward and the gradient are one multiply each
    // (the draws and the mask are freed by the caller's tidy, like any intermediate)
    const mask = rand(x.shape, { dtype: x.dtype, device: x.device }).ge(this.p).mul(1 / (1 - this.p));
    return x.mul(mask);
  }
}
