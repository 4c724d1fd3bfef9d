// Function transforms for users of JAX and TensorFlow.js: valueAndGrad(f) and gradOf(f) turn a
// scalar function of tensors into one that also returns its gradient. Named gradOf, not grad:
// `grad(output, inputs)` is already the tape-level call (PyTorch's autograd.grad) in ./engine.
import { enableGrad, grad, tidy } from './engine';
import { zerosLike } from './creation';
import { isTensor, type Tensor } from './tensor';

/** What a function made by {@link valueAndGrad} returns. */
export interface ValueAndGrads {
  /** f's output (a scalar tensor, cut from the tape) */
  value: Tensor;
  /** ∂f/∂(argument i), one per argument, each of that argument's shape (zeros where f ignores it) */
  grads: Tensor[];
}

function check(op: string, args: readonly unknown[]): asserts args is Tensor[] {
  args.forEach((a, i) => {
    if (!isTensor(a)) throw new TypeError(`${op}: argument ${i} is ${a === null ? 'null' : typeof a}, expected a Tensor`);
  });
}

/**
 * Turn a scalar function of tensors into one that returns its value and its gradient with respect
 * to every argument (jax.value_and_grad, tf.valueAndGrads). The arguments are not changed: f sees
 * fresh leaves that share their memory, so nothing accumulates in anyone's `.grad`, and every
 * intermediate tensor is freed before the call returns.
 *
 * @example
 * const f = (w: Tensor, b: Tensor) => x.matmul(w).add(b).sub(y).square().mean();
 * const { value, grads: [dw, db] } = valueAndGrad(f)(w, b);
 */
export function valueAndGrad(f: (...args: Tensor[]) => Tensor): (...args: Tensor[]) => ValueAndGrads {
  return (...args: Tensor[]) => {
    check('valueAndGrad', args);
    return tidy(() =>
      enableGrad(() => {
        const leaves = args.map((a) => a.detach().requireGrad());
        const out = f(...leaves);
        if (!isTensor(out) || out.size !== 1) {
          throw new Error(`valueAndGrad: f must return a one-element tensor, got ${isTensor(out) ? `shape [${out.shape.join(', ')}]` : typeof out}`);
        }
        const gs = grad(out, leaves);
        return { value: out.detach(), grads: gs.map((g, i) => g ?? zerosLike(args[i]!)) };
      }),
    );
  };
}

/**
 * Turn a scalar function of tensors into one that returns its gradients, one per argument
 * (jax.grad over all arguments, tf.grads). Named gradOf because `grad(output, inputs)` is the
 * tape-level call that differentiates an output already computed.
 *
 * @example
 * const dfdx = gradOf((x: Tensor) => x.pow(3).sum());
 * dfdx(tensor([1, 2]))[0];   // 3x² = [3, 12]
 */
export function gradOf(f: (...args: Tensor[]) => Tensor): (...args: Tensor[]) => Tensor[] {
  const vg = valueAndGrad(f);
  return (...args: Tensor[]) => {
    const { value, grads } = vg(...args);
    value.dispose();
    return grads;
  };
}
