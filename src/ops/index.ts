// The whole op table. `satisfies OpTable` makes a primitive without a shape rule or VJP a compile error.
import type { OpName } from '../backends/backend';
import { binaryOps, reluGradOp } from './binary';
import { linearOp, matmulOp, mseOp } from './matmul';
import { foldOp, movementOps } from './movement';
import { reduceOps } from './reduce';
import { broadcastShapes, fmtShape, type OpSpec, type OpTable } from './registry';
import { unaryOps } from './unary';
import { indexOps } from './indexing';

const otherOps = {
  matmul: matmulOp,
  // where(cond, a, b): a where cond ≠ 0, else b
  // the condition may be of any dtype (an int32 or float comparison); a and b share theirs
  where: {
    sameDtype: false,
    ints: true,
    shape: ([c, a, b], _attrs, dtypes) => {
      if (dtypes[1] !== dtypes[2]) {
        throw new Error(`where: dtypes ${dtypes[1]} and ${dtypes[2]} of the two branches differ (shapes ${fmtShape(a!)} and ${fmtShape(b!)})`);
      }
      return { shape: broadcastShapes('where', c!, a!, b!), dtype: dtypes[1]! };
    },
    saves: 'inputs',
    vjp: ({ g, inputs: [c], needs }) => [null, needs[1] ? g.where(c!, 0) : null, needs[2] ? g.where(c!.eq(0), 0) : null],
  },
  // float → int32 truncates toward zero (as PyTorch), saturating out of range, NaN → 0;
  // no gradient reaches an int32 input (none requires one)
  cast: {
    sameDtype: false,
    ints: true,
    saves: 'none',
    shape: ([x], { dtype }) => ({ shape: [...x!], dtype }),
    vjp: ({ g, inputs: [x] }) => [x!.dtype === 'int32' ? null : g.cast(x!.dtype)],
  },
  fold: foldOp,
} satisfies { [K in 'matmul' | 'where' | 'cast' | 'fold']: OpSpec<K> };

// fused ops: each with its decomposition into the primitives above (see registry's OpSpec)
const fusedOps = { linear: linearOp, mse: mseOp, reluGrad: reluGradOp };

export const OPS: OpTable = { ...unaryOps, ...binaryOps, ...reduceOps, ...movementOps, ...indexOps, ...otherOps, ...fusedOps };

export function getOp<K extends OpName>(name: K): OpSpec<K> {
  return OPS[name] as OpSpec<K>;
}

export { broadcastShapes, fmtShape };
