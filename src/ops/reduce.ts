// Reductions over a list of axes (already normalized, sorted, unique), optionally keeping dims.
import type { ReduceOp } from '../backends/backend';
import type { Tensor } from '../graph/tensor';
import type { OpSpec, Vjp } from './registry';

const reduced: OpSpec<ReduceOp>['shape'] = ([x], { axes, keepDims }, [dtype]) => ({
  shape: keepDims ? x!.map((d, i) => (axes.includes(i) ? 1 : d)) : x!.filter((_, i) => !axes.includes(i)),
  dtype: dtype!,
});

/** Put the reduced axes back as size-1 dims so `t` broadcasts against the input. */
function keepShape(t: Tensor, inShape: readonly number[], axes: number[], keepDims: boolean): Tensor {
  return keepDims ? t : t.reshape(inShape.map((d, i) => (axes.includes(i) ? 1 : d)));
}

// d max = g routed to the arg-max; ties share it evenly (the mean of the subgradients, as PyTorch's amax).
const extremumVjp = <K extends 'max' | 'min'>(): Vjp<K> => ({ g, inputs: [x], out, attrs: { axes, keepDims } }) => {
  const hit = x!.eq(keepShape(out, x!.shape, axes, keepDims));
  const count = hit.sum(axes, true);
  // g/count is the reduced size: one full-size pass (the mask times it), not two
  return [hit.mul(keepShape(g, x!.shape, axes, keepDims).div(count))];
};

export const reduceOps = {
  // d sum = g broadcast back over the reduced axes
  sum: {
    shape: reduced,
    ints: true,
    saves: 'none',
    vjp: ({ g, inputs: [x], attrs: { axes, keepDims } }) => [keepShape(g, x!.shape, axes, keepDims).expand(x!.shape)],
  },
  max: { shape: reduced, ints: true, vjp: extremumVjp<'max'>() },
  min: { shape: reduced, ints: true, vjp: extremumVjp<'min'>() },
} satisfies { [K in ReduceOp]: OpSpec<K> };
