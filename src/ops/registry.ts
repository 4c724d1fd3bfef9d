// The op registry: for every primitive, its shape rule and its vector-Jacobian product, side by side.
// VJPs are written with Tensor ops only, so every backend gets backward (and double backward) for free.
import type { AttrsOf, DType, FusedOp, OpName, PrimitiveOp } from '../backends/backend';
import { sameShape, type View } from '../backends/view';
import type { Tensor } from '../graph/tensor';

export interface VjpArgs<K extends OpName> {
  /** upstream gradient, shaped like the op's output */
  g: Tensor;
  inputs: Tensor[];
  out: Tensor;
  attrs: AttrsOf<K>;
  /** which inputs need a gradient; a VJP may skip the others (return null) */
  needs: boolean[];
}

/**
 * One entry per input: the gradient with the *output's* broadcast shape or the input's own shape.
 * The engine sums broadcast dims back to each input's shape (one place, not in every VJP).
 * null = no gradient flows to that input.
 */
export type Vjp<K extends OpName> = (args: VjpArgs<K>) => (Tensor | null)[];

export interface OpSpec<K extends OpName = OpName> {
  /** Output shape and dtype; throws an error naming the op and the shapes. Inputs are already checked for dtype agreement when `sameDtype`. */
  shape: (shapes: number[][], attrs: AttrsOf<K>, dtypes: DType[]) => { shape: number[]; dtype: DType };
  /** null: not differentiable (comparisons); no tape node is recorded. */
  vjp: Vjp<K> | null;
  /** Which forward tensors the VJP reads (so only those are version-checked). Default: both. */
  saves?: 'inputs' | 'out' | 'both' | 'none';
  /** All inputs must share one dtype (default true). */
  sameDtype?: boolean;
  /**
   * The op is defined on int32 inputs (default false: exp, div, matmul, ... refuse them with an
   * error that says to cast). Only ops whose integer result is exact or wraps as PyTorch's do.
   */
  ints?: boolean;
  /**
   * A view op: the output is input 0's buffer seen through the view this returns (computed by
   * the engine, no kernel), or null when no view can express it (a reshape of a transposed
   * input): the engine then makes a row-major copy and asks again. The output shares input 0's
   * version counter, as in-place writes would show through.
   */
  view?: (v: View, attrs: AttrsOf<K>, shape: number[]) => View | null;
  /**
   * A fused op's composition from primitives (Tensor ops, recorded on the tape as usual): `apply`
   * runs it on a backend without the fused kernel, and the tests check the kernel against it.
   */
  decompose?: (inputs: Tensor[], attrs: AttrsOf<K>) => Tensor;
}

/** A fused op's spec: it must say what it is made of. */
export type Fused<K extends FusedOp> = OpSpec<K> & { decompose: NonNullable<OpSpec<K>['decompose']> };

export type OpTable = { [K in PrimitiveOp]: OpSpec<K> } & { [K in FusedOp]: Fused<K> };

export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/**
 * numpy broadcasting of any number of shapes; throws `op: shapes [2,3] and [4] cannot broadcast`.
 *
 * @example
 * broadcastShapes('add', [2, 1, 3], [4, 3]);   // [2, 4, 3]
 */
export function broadcastShapes(op: string, ...shapes: (readonly number[])[]): number[] {
  // the common case, equal shapes, without the general walk
  const first = shapes[0] ?? [];
  let same = true;
  for (let k = 1; k < shapes.length && same; k++) same = sameShape(first, shapes[k]!);
  // spread, not slice(): tensor shapes are frozen arrays, and slice() of one is 10x slower (measured)
  if (same) return [...first];
  let rank = 0;
  for (const s of shapes) rank = Math.max(rank, s.length);
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const j = rank - s.length + i;
      const d = s[i]!;
      if (out[j] === 1) out[j] = d;
      else if (d !== 1 && d !== out[j]) {
        throw new Error(`${op}: shapes ${shapes.map(fmtShape).join(' and ')} cannot broadcast`);
      }
    }
  }
  return out;
}

/** Normalize a possibly negative axis; throws `op: axis 3 is out of range for shape [2,3]`. */
export function normAxis(op: string, axis: number, rank: number, shape?: readonly number[]): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    const what = shape ? `shape ${fmtShape(shape)}` : `rank ${rank}`;
    throw new Error(`${op}: axis ${axis} is out of range for ${what}`);
  }
  return axis < 0 ? axis + rank : axis;
}

export { sameShape };
