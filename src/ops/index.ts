// The whole op table. `satisfies OpTable` makes a primitive without a shape rule or VJP a compile error.
import type { OpName } from '../backends/backend';
import { binaryOps, reluGradOp } from './binary';
import { linearOp, matmulOp, mseOp } from './matmul';
import { foldOp, movementOps } from './movement';
import { reduceOps } from './reduce';
import { broadcastShapes, fmtShape, type OpSpec, type OpTable } from './registry';
import { unaryOps } from './unary';

const otherOps = {
  matmul: matmulOp,
  // where(cond, a, b): a where cond ≠ 0, else b
  where: {
    shape: ([c, a, b], _attrs, dtypes) => ({ shape: broadcastShapes('where', c!, a!, b!), dtype: dtypes[1]! }),
    saves: 'inputs',
    vjp: ({ g, inputs: [c], needs }) => [null, needs[1] ? g.where(c!, 0) : null, needs[2] ? g.where(c!.eq(0), 0) : null],
  },
  cast: {
    sameDtype: false,
    saves: 'none',
    shape: ([x], { dtype }) => ({ shape: [...x!], dtype }),
    vjp: ({ g, inputs: [x] }) => [g.cast(x!.dtype)],
  },
  fold: foldOp,
} satisfies { [K in 'matmul' | 'where' | 'cast' | 'fold']: OpSpec<K> };

// fused ops: each with its decomposition into the primitives above (see registry's OpSpec)
const fusedOps = { linear: linearOp, mse: mseOp, reluGrad: reluGradOp };

export const OPS: OpTable = { ...unaryOps, ...binaryOps, ...reduceOps, ...movementOps, ...otherOps, ...fusedOps };

export function getOp<K extends OpName>(name: K): OpSpec<K> {
  return OPS[name] as OpSpec<K>;
}

export { broadcastShapes, fmtShape };
