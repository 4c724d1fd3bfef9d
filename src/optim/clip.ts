// Gradient clipping by the global norm, as PyTorch's torch.nn.utils.clip_grad_norm_.
import { tensor } from '../graph/creation';
import { noGrad, tidy } from '../graph/engine';
import { Tensor } from '../graph/tensor';

/**
 * Scale every gradient of `params` in place so that their joint norm is at most `maxNorm`, and
 * return the joint norm before clipping as a scalar tensor (on the gradients' device; read it with
 * `item()` or `await data()`, and dispose it). As PyTorch's `clip_grad_norm_`:
 *   total = (Σₚ ‖gₚ‖ₙⁿ)^(1/n)  (n = Infinity: max |g|),  gₚ ← gₚ · min(1, maxNorm / (total + 1e-6)).
 * Parameters without a gradient are skipped. The scaling runs on the device without reading the
 * norm back, so a step does not wait for it. A non-finite norm (a NaN or an overflow) makes the
 * gradients NaN, as PyTorch's default; the Trainer's divergence guard reports it.
 *
 * @example
 * loss.backward();
 * clipGradNorm(net.parameters(), 1.0).dispose();   // joint ‖g‖₂ ≤ 1
 * opt.step();
 */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number, normType = 2): Tensor {
  if (params === null || typeof (params as Iterable<Tensor>)?.[Symbol.iterator] !== 'function') {
    throw new Error(`clipGradNorm: params must be a list of tensors, got ${params === null ? 'null' : typeof params}`);
  }
  const list = [...params];
  list.forEach((p, i) => {
    if (!(p instanceof Tensor)) throw new Error(`clipGradNorm: parameter ${i} is not a Tensor`);
  });
  if (typeof maxNorm !== 'number' || !(maxNorm >= 0)) throw new Error(`clipGradNorm: maxNorm must be a number ≥ 0, got ${maxNorm}`);
  if (typeof normType !== 'number' || !(normType > 0)) throw new Error(`clipGradNorm: normType must be a positive number or Infinity, got ${normType}`);
  const grads = list.map((p) => p.grad).filter((g): g is Tensor => g !== null);
  if (grads.length === 0) return tensor(0, { dtype: list[0]?.dtype, device: list[0]?.device });
  const { dtype, device } = grads[0]!;
  grads.forEach((g, i) => {
    if (g.dtype !== dtype || g.device !== device) {
      throw new Error(`clipGradNorm: gradients mix ${dtype} on ${device} with ${g.dtype} on ${g.device} (gradient ${i})`);
    }
  });
  return tidy(() =>
    noGrad(() => {
      const n = normType;
      const parts = grads.map((g) => (n === Infinity ? g.abs().max() : n === 1 ? g.abs().sum() : n === 2 ? g.square().sum() : g.abs().pow(n).sum()));
      let acc = parts[0]!;
      for (const p of parts.slice(1)) acc = n === Infinity ? acc.maximum(p) : acc.add(p);
      const total = n === Infinity || n === 1 ? acc : n === 2 ? acc.sqrt() : acc.pow(1 / n);
      const coef = total.add(1e-6).pow(-1).mul(maxNorm).minimum(1);
      for (const g of grads) g.assign(g.mul(coef));
      return total; // moves to the caller's scope (tidy keeps what it returns)
    }),
  );
}
