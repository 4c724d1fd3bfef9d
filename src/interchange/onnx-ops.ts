// How each tapegrad primitive is written in ONNX (opset 17), one table entry per op: `emit`
// writes the op's ONNX nodes, and `batch` says where the output's dynamic batch axis lies (and
// refuses an op that would freeze the example's batch size into the model). A new op is exported
// by adding its entry here; an op without one is an error that names it.
import type { AttrsOf, DType, OpName } from '../backends/backend';
import { fmtShape } from '../ops/registry';
import type { Tensor } from '../graph/tensor';

/** An ONNX attribute value: an int, a list of ints, a float ({ float: x }) or a string. */
export type OnnxAttr = number | readonly number[] | { float: number } | string;

/** What the exporter offers an op's `emit`: node and constant writers returning value names. */
export interface OnnxWriter {
  /** Append a node; returns the name of its (single) output. */
  node(type: string, inputs: readonly string[], attrs?: Record<string, OnnxAttr>): string;
  /** A 1-D int64 initializer (shapes, axes, pads). */
  ints(values: readonly number[]): string;
  /** A scalar initializer of a float dtype. */
  scalar(value: number, dtype: DType): string;
  /** The boolean form of a 0/1 tensor (Where's condition): reuses a comparison's bool output. */
  bool(name: string): string;
  /** Record that `name` (a float 0/1 tensor) was cast from the bool value `boolName`. */
  markBool(name: string, boolName: string): void;
  /** ONNX's code for a dtype (Cast's `to`). */
  dtypeCode(dtype: DType): number;
}

/** One recorded op application, with its inputs' ONNX names and the batch axes worked out. */
export interface OnnxNodeArgs<K extends OpName = OpName> {
  /** ONNX value names of the inputs, in order */
  x: readonly string[];
  inputs: readonly Tensor[];
  out: Tensor;
  attrs: AttrsOf<K>;
  /** each input's dynamic batch axis (null: none, or no dynamic batch in this export) */
  batchIn: readonly (number | null)[];
  /** the output's dynamic batch axis */
  batchOut: number | null;
}

export type BatchArgs<K extends OpName = OpName> = Omit<OnnxNodeArgs<K>, 'x' | 'batchOut'>;

export interface OnnxMapping<K extends OpName = OpName> {
  emit: (w: OnnxWriter, n: OnnxNodeArgs<K>) => string;
  /**
   * The output's batch axis from the inputs'; throws when the op would bake the example's batch
   * size into the model. Default: input 0's axis (shape-preserving ops, and later conv/pool).
   */
  batch?: (n: BatchArgs<K>) => number | null;
}

/** Partial on purpose: an op added without an ONNX entry still runs; its export says so. */
export type OnnxTable = { [K in OpName]?: OnnxMapping<K> };

const fail = (op: string, why: string): never => {
  throw new Error(
    `exportOnnx: ${op} ${why}; export with a fixed batch (no batchAxis) or keep the batch axis apart`,
  );
};

/**
 * numpy broadcasting aligns shapes on the right, so input i's batch axis b lands at
 * rank(out) − rank(i) + b. Every input that has one must land on the same axis, and an input
 * without one must be 1 there: a fixed tensor as wide as the example's batch would pin it.
 */
function broadcastBatch({ inputs, out, batchIn }: BatchArgs, op: string): number | null {
  const r = out.shape.length;
  let at: number | null = null;
  inputs.forEach((t, i) => {
    const b = batchIn[i];
    if (b === null || b === undefined) return;
    const p = r - t.shape.length + b;
    if (at !== null && at !== p)
      fail(op, `meets batch axes at two different output axes (${at} and ${p})`);
    at = p;
  });
  if (at === null) return null;
  inputs.forEach((t, i) => {
    if (batchIn[i] !== null) return;
    const d = t.shape[at! - (r - t.shape.length)];
    if (d !== undefined && d !== 1) {
      fail(
        op,
        `broadcasts a fixed tensor of shape ${fmtShape(t.shape)} along the batch axis ${at} of ${fmtShape(out.shape)}`,
      );
    }
  });
  return at;
}

const keepBatch = ({ batchIn }: BatchArgs): number | null => batchIn[0] ?? null;
const unary = (type: string): OnnxMapping => ({ emit: (w, { x }) => w.node(type, [x[0]!]) });
const binary = (type: string, op: string): OnnxMapping => ({
  emit: (w, { x }) => w.node(type, [x[0]!, x[1]!]),
  batch: (n) => broadcastBatch(n, op),
});
/** ONNX comparisons give bool; tapegrad's give 1/0 in the inputs' dtype. */
const compare = (type: string, op: string, negate = false): OnnxMapping => ({
  emit: (w, { x, out }) => {
    let b = w.node(type, [x[0]!, x[1]!]);
    if (negate) b = w.node('Not', [b]);
    const f = w.node('Cast', [b], { to: w.dtypeCode(out.dtype) });
    w.markBool(f, b);
    return f;
  },
  batch: (n) => broadcastBatch(n, op),
});

type Reduce = 'sum' | 'max' | 'min';
/**
 * Reducing over the batch axis is refused for sum: a mean's divisor (a constant) would keep the
 * example's batch size.
 */
const reduceBatch =
  (op: Reduce) =>
  ({ attrs: { axes, keepDims }, batchIn }: BatchArgs<Reduce>): number | null => {
    const b = batchIn[0] ?? null;
    if (b === null) return null;
    if (axes.includes(b)) {
      if (op === 'sum')
        fail(
          op,
          `reduces over the batch axis ${b} (a mean over it would divide by the example's batch size)`,
        );
      return null;
    }
    return keepDims ? b : b - axes.filter((a) => a < b).length;
  };

/** ONNX's reductions with no axes reduce everything; tapegrad's with none reduce nothing. */
const reduce = (op: Reduce, type: string, axesAsInput: boolean): OnnxMapping<Reduce> => ({
  emit: (w, { x, attrs: { axes, keepDims } }) => {
    if (axes.length === 0) return w.node('Identity', [x[0]!]);
    const keepdims = keepDims ? 1 : 0;
    return axesAsInput
      ? w.node(type, [x[0]!, w.ints(axes)], { keepdims })
      : w.node(type, [x[0]!], { axes, keepdims });
  },
  batch: reduceBatch(op),
});

const prod = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);

export const ONNX_OPS: OnnxTable = {
  neg: unary('Neg'),
  exp: unary('Exp'),
  log: unary('Log'),
  // ONNX has no Log1p: log(1 + x) (loses log1p's precision for |x| < 1e-8, as any ONNX runtime would)
  log1p: { emit: (w, { x, inputs }) => w.node('Log', [w.node('Add', [x[0]!, w.scalar(1, inputs[0]!.dtype)])]) },
  sqrt: unary('Sqrt'),
  abs: unary('Abs'),
  sign: unary('Sign'),
  relu: unary('Relu'),
  sigmoid: unary('Sigmoid'),
  tanh: unary('Tanh'),
  sin: unary('Sin'),
  cos: unary('Cos'),

  add: binary('Add', 'add'),
  sub: binary('Sub', 'sub'),
  mul: binary('Mul', 'mul'),
  div: binary('Div', 'div'),
  pow: binary('Pow', 'pow'),
  maximum: binary('Max', 'maximum'),
  minimum: binary('Min', 'minimum'),
  eq: compare('Equal', 'eq'),
  ne: compare('Equal', 'ne', true),
  lt: compare('Less', 'lt'),
  le: compare('LessOrEqual', 'le'),
  gt: compare('Greater', 'gt'),
  ge: compare('GreaterOrEqual', 'ge'),
  // reluGrad(g, x) = g where x > 0, else 0
  reluGrad: {
    emit: (w, { x, inputs }) =>
      w.node('Where', [
        w.node('Greater', [x[1]!, w.scalar(0, inputs[1]!.dtype)]),
        x[0]!,
        w.scalar(0, inputs[0]!.dtype),
      ]),
    batch: (n) => broadcastBatch(n, 'reluGrad'),
  },

  // opset 13 moved ReduceSum's axes to an input; ReduceMax/Min follow only in opset 18
  sum: reduce('sum', 'ReduceSum', true),
  max: reduce('max', 'ReduceMax', false),
  min: reduce('min', 'ReduceMin', false),

  reshape: {
    // the batch axis, once found, is written as −1: Reshape infers it from the element count
    emit: (w, { x, out, batchOut }) =>
      w.node('Reshape', [x[0]!, w.ints(out.shape.map((d, i) => (i === batchOut ? -1 : d)))]),
    // the batch axis survives when it stays an axis of its own: equal products before and after it
    batch: ({ inputs: [x], out, batchIn: [b] }) => {
      if (b === null || b === undefined) return null;
      const before = prod(x!.shape.slice(0, b));
      const after = prod(x!.shape.slice(b + 1));
      for (let j = 0; j < out.shape.length; j++) {
        if (
          out.shape[j] === x!.shape[b] &&
          prod(out.shape.slice(0, j)) === before &&
          prod(out.shape.slice(j + 1)) === after
        )
          return j;
      }
      return fail(
        'reshape',
        `from ${fmtShape(x!.shape)} to ${fmtShape(out.shape)} merges or splits the batch axis ${b}`,
      );
    },
  },
  permute: {
    emit: (w, { x, attrs: { perm } }) => w.node('Transpose', [x[0]!], { perm }),
    batch: ({ attrs: { perm }, batchIn: [b] }) =>
      b === null || b === undefined ? null : perm.indexOf(b),
  },
  expand: {
    // ONNX's Expand broadcasts both ways: a 1 in the target keeps the input's (dynamic) size
    emit: (w, { x, out, batchOut }) =>
      w.node('Expand', [x[0]!, w.ints(out.shape.map((d, i) => (i === batchOut ? 1 : d)))]),
    batch: ({ inputs: [x], out, batchIn: [b] }) =>
      b === null || b === undefined ? null : out.shape.length - x!.shape.length + b,
  },
  slice: {
    emit: (w, { x, inputs: [t], attrs: { begin, end }, batchOut }) => {
      const axes = begin.flatMap((b, i) => (b !== 0 || end[i] !== t!.shape[i] ? [i] : []));
      if (axes.length === 0) return w.node('Identity', [x[0]!]);
      // a whole batch axis is never sliced (batchOut is set only then): its end need not be known
      const ends = axes.map((i) => (i === batchOut ? Number.MAX_SAFE_INTEGER : end[i]!));
      return w.node('Slice', [
        x[0]!,
        w.ints(axes.map((i) => begin[i]!)),
        w.ints(ends),
        w.ints(axes),
      ]);
    },
    // a window of the batch is a fixed number of rows; the whole batch stays dynamic
    batch: ({ inputs: [x], attrs: { begin, end }, batchIn: [b] }) =>
      b === null || b === undefined || begin[b] !== 0 || end[b] !== x!.shape[b] ? null : b,
  },
  pad: {
    emit: (w, { x, attrs: { before, after } }) =>
      [...before, ...after].every((p) => p === 0)
        ? w.node('Identity', [x[0]!])
        : w.node('Pad', [x[0]!, w.ints([...before, ...after])]),
    batch: ({ attrs: { before, after }, batchIn: [b] }) => {
      if (b === null || b === undefined) return null;
      if (before[b] !== 0 || after[b] !== 0) fail('pad', `pads the batch axis ${b}`);
      return b;
    },
  },
  concat: {
    emit: (w, { x, attrs: { axis } }) => w.node('Concat', x, { axis }),
    batch: (n) => {
      const b = broadcastBatch(n, 'concat');
      if (b !== null && b === n.attrs.axis) fail('concat', `joins along the batch axis ${b}`);
      if (b !== null && n.batchIn.some((a) => a === null))
        fail('concat', `joins batched and fixed tensors (batch axis ${b})`);
      return b;
    },
  },

  where: {
    emit: (w, { x }) => w.node('Where', [w.bool(x[0]!), x[1]!, x[2]!]),
    batch: (n) => broadcastBatch(n, 'where'),
  },
  cast: {
    emit: (w, { x, attrs: { dtype } }) => w.node('Cast', [x[0]!], { to: w.dtypeCode(dtype) }),
  },
  matmul: { emit: (w, { x }) => w.node('MatMul', [x[0]!, x[1]!]), batch: matmulBatch },
  // x [m, k] @ W + b is Gemm; other ranks a MatMul and a broadcast Add
  linear: {
    emit: (w, { x, inputs: [t] }) =>
      t!.shape.length === 2
        ? w.node('Gemm', [x[0]!, x[1]!, x[2]!])
        : w.node('Add', [w.node('MatMul', [x[0]!, x[1]!]), x[2]!]),
    batch: ({ inputs: [x], batchIn: [b] }) => {
      if (b === null || b === undefined) return null;
      if (b === x!.shape.length - 1) fail('linear', `contracts over the batch axis ${b}`);
      return b;
    },
  },
  // mean((p − t)²): ReduceMean without axes reduces every axis (the batch included, dynamically)
  mse: {
    emit: (w, { x }) => {
      const d = w.node('Sub', [x[0]!, x[1]!]);
      return w.node('ReduceMean', [w.node('Mul', [d, d])], { keepdims: 0 });
    },
    batch: (n) => (broadcastBatch(n, 'mse'), null),
  },
};

/**
 * a [..., m, k] @ b [..., k, n]: a batch on a's m axis or b's n axis moves to the output's m or
 * n; a batch among the leading axes broadcasts as in elementwise ops; one on k is contracted away.
 */
function matmulBatch(n: BatchArgs<'matmul'>): number | null {
  const [a, b] = n.inputs as [Tensor, Tensor];
  const [ba, bb] = n.batchIn;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const r = n.out.shape.length;
  if (ba === ra - 1 || bb === rb - 2)
    fail('matmul', `contracts over the batch axis (${fmtShape(a.shape)} @ ${fmtShape(b.shape)})`);
  const fromA = ba === null || ba === undefined ? null : ba === ra - 2 ? r - 2 : r - ra + ba;
  const fromB = bb === null || bb === undefined ? null : bb === rb - 1 ? r - 1 : r - rb + bb;
  if (fromA !== null && fromB !== null && fromA !== fromB) {
    fail(
      'matmul',
      `has batch axes on both operands that land on different output axes (${fromA} and ${fromB})`,
    );
  }
  const at = fromA ?? fromB;
  if (at !== null && at < r - 2) {
    // a leading (broadcast) axis: the operand without the batch must be 1 there
    for (const [t, bt] of [
      [a, ba],
      [b, bb],
    ] as const) {
      if (bt !== null && bt !== undefined) continue;
      const d = t.shape[at - (r - t.shape.length)];
      if (d !== undefined && d !== 1)
        fail(
          'matmul',
          `broadcasts a fixed operand of shape ${fmtShape(t.shape)} along the batch axis ${at}`,
        );
    }
  }
  return at;
}

export const defaultBatch = keepBatch;
