// Indexing primitives. gather reads x along one axis at int32 positions (torch.gather); its VJP is
// scatterAdd, which adds g back at those positions (repeated indices accumulate), and
// scatterAdd's VJP is gather again, so second order works. argmax/argmin return int32 positions
// and carry no gradient. indexSelect and oneHot are compositions (graph/functional.ts).
import type { DType, IndexOp } from '../backends/backend';
import { fmtShape, type OpSpec } from './registry';

/** index must be int32 and of x's rank, no longer than x on the other axes (torch.gather's rule). */
function checkIndex(op: string, x: number[], index: number[], axis: number, dtypes: DType[], what: string): void {
  if (dtypes[1] !== 'int32') {
    throw new TypeError(`${op}: index must be int32, got ${dtypes[1]} (shape ${fmtShape(index)}); cast it with .cast('int32')`);
  }
  const ok = index.length === x.length && index.every((d, i) => i === axis || d <= x[i]!);
  if (!ok) {
    throw new Error(
      `${op}: index of shape ${fmtShape(index)} does not fit ${what} of shape ${fmtShape(x)} on axis ${axis} ` +
        '(same rank, and no longer than it on the other axes)',
    );
  }
}

export const indexOps = {
  gather: {
    sameDtype: false,
    ints: true,
    saves: 'inputs',
    shape: ([x, index], { axis }, dtypes) => {
      checkIndex('gather', x!, index!, axis, dtypes, 'x');
      return { shape: [...index!], dtype: dtypes[0]! };
    },
    // d gather = the gradient added back where it was read from
    vjp: ({ g, inputs: [x, index], attrs: { axis }, needs }) => [
      needs[0] ? g.scatterAdd(index!, axis, x!.shape) : null,
      null,
    ],
  },
  scatterAdd: {
    sameDtype: false,
    ints: true,
    saves: 'inputs',
    shape: ([g, index], { axis, shape }, dtypes) => {
      if (dtypes[1] !== 'int32') {
        throw new TypeError(`scatterAdd: index must be int32, got ${dtypes[1]} (shape ${fmtShape(index!)})`);
      }
      const same = g!.length === index!.length && g!.every((d, i) => d === index![i]);
      const fits = index!.length === shape.length && index!.every((d, i) => i === axis || d <= shape[i]!);
      if (!same || !fits) {
        throw new Error(
          `scatterAdd: values ${fmtShape(g!)} and index ${fmtShape(index!)} must have one shape that fits ` +
            `the output ${fmtShape(shape)} on the axes other than ${axis}`,
        );
      }
      return { shape: [...shape], dtype: dtypes[0]! };
    },
    // scatterAdd is linear in g, and its transpose reads g back from where it was added: a gather
    vjp: ({ g, inputs: [, index], attrs: { axis }, needs }) => [needs[0] ? g.gather(axis, index!) : null, null],
  },
  argmax: { ints: true, vjp: null, shape: argShape('argmax') },
  argmin: { ints: true, vjp: null, shape: argShape('argmin') },
} satisfies { [K in IndexOp]: OpSpec<K> };

function argShape(op: 'argmax' | 'argmin'): OpSpec<'argmax'>['shape'] {
  return ([x], { axis, keepDims }) => {
    if (x![axis] === 0) throw new Error(`${op}: cannot reduce over axis ${axis} of size 0 (shape ${fmtShape(x!)})`);
    const shape = keepDims ? x!.map((d, i) => (i === axis ? 1 : d)) : x!.filter((_, i) => i !== axis);
    return { shape, dtype: 'int32' };
  };
}
