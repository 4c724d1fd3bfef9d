// How each tapegrad primitive is written in ONNX (opset 17), one table entry per op: `emit`
// writes the op's ONNX nodes, and `batch` says where the output's dynamic batch axis lies (and
// refuses an op that would freeze the example's batch size into the model). A new op is exported
// by adding its entry here; an op without one is an error that names it. ONNX_CALLS, at the end,
// writes a whole composite call (conv2d, pooling, softmax, leakyRelu, softplus, Flatten, BatchNorm in eval
// mode; remembered by graph/composites.ts during the export) as one ONNX node.
import type { AttrsOf, DType, OpName, WindowAttrs } from '../backends/backend';
import { fmtShape } from '../ops/registry';
import type { ConvCall } from '../graph/composites';
import type { Tensor } from '../graph/tensor';

/** An ONNX attribute value: an int, a list of ints, a float ({ float: x }) or a string. */
export type OnnxAttr = number | readonly number[] | { float: number } | string;

/** What the exporter offers an op's `emit`: node and constant writers returning value names. */
export interface OnnxWriter {
  /** Append a node; returns the name of its (single) output. */
  node(type: string, inputs: readonly string[], attrs?: Record<string, OnnxAttr>): string;
  /** A 1-D int64 initializer (shapes, axes, pads). */
  ints(values: readonly number[]): string;
  /** An int64 initializer of any shape (constant Gather indices), `values` row-major. */
  intTensor(values: readonly number[], dims: readonly number[]): string;
  /** A scalar initializer of any dtype. */
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
  /**
   * per input, how many rows its batch axis holds per batch entry: 1, or more after a reshape
   * merged the batch with the axes after it ([batch, T] → [batch·T] has factor T)
   */
  factorIn: readonly number[];
  /** the output's dynamic batch axis */
  batchOut: number | null;
}

export type BatchArgs<K extends OpName = OpName> = Omit<OnnxNodeArgs<K>, 'x' | 'batchOut'>;

export interface OnnxMapping<K extends OpName = OpName> {
  emit: (w: OnnxWriter, n: OnnxNodeArgs<K>) => string;
  /**
   * The output's batch axis from the inputs'; throws when the op would bake the example's batch
   * size into the model. Default: input 0's axis (shape-preserving ops).
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

const keepBatch = ({ batchIn }: Pick<BatchArgs, 'batchIn'>): number | null => batchIn[0] ?? null;
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
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/**
 * windows in ONNX: per window axis a Gather with a constant [origins, taps] index
 * (o·stride + t·dilation) turns axis a into two; a Transpose then moves the tap axes to the end,
 * as windows lays them out.
 */
function emitWindows(
  w: OnnxWriter,
  x: string,
  shape: readonly number[],
  { axes, size, stride, dilation }: WindowAttrs,
): string {
  let v = x;
  // from the last window axis back, so the earlier ones keep their positions
  for (let i = axes.length - 1; i >= 0; i--) {
    const a = axes[i]!;
    const [k, s, d] = [size[i]!, stride[i]!, dilation[i]!];
    const o = Math.floor((shape[a]! - d * (k - 1) - 1) / s) + 1;
    const index: number[] = [];
    for (let j = 0; j < o; j++) for (let q = 0; q < k; q++) index.push(j * s + q * d);
    v = w.node('Gather', [v, w.intTensor(index, [o, k])], { axis: a });
  }
  // window axis i now sits at a_i + i, its taps right after it
  const rank = shape.length + axes.length;
  const taps = axes.map((a, i) => a + i + 1);
  const perm = [...range(rank).filter((p) => !taps.includes(p)), ...taps];
  return w.node('Transpose', [v], { perm });
}

function argReduce(type: 'ArgMax' | 'ArgMin'): OnnxMapping<'argmax' | 'argmin'> {
  return {
    emit: (w, { x, inputs: [t], attrs: { axis, keepDims } }) => {
      const attrs = { axis, keepdims: keepDims ? 1 : 0, select_last_index: 0 };
      let index = w.node(type, [x[0]!], attrs);
      if (t!.dtype !== 'int32') {
        // ONNX's ArgMax/ArgMin skip NaN; here the first NaN wins (as PyTorch): where a row
        // holds a NaN, the first position of the NaN mask's max is the answer
        const nan = w.node('Cast', [w.node('IsNaN', [x[0]!])], { to: w.dtypeCode(t!.dtype) });
        const has = w.node('Greater', [
          w.node('ReduceMax', [nan], { axes: [axis], keepdims: attrs.keepdims }),
          w.scalar(0, t!.dtype),
        ]);
        index = w.node('Where', [has, w.node('ArgMax', [nan], attrs), index]);
      }
      return w.node('Cast', [index], { to: w.dtypeCode('int32') });
    },
    // an index along the batch axis is a number in [0, batch): fine, but that axis is gone
    batch: ({ attrs: { axis, keepDims }, batchIn: [b] }) =>
      b === null || b === undefined || b === axis ? null : keepDims || b < axis ? b : b - 1,
  };
}

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
    // The batch stays the outermost part of one axis: merged with whole axes after it
    // ([B, T, C] → [B·T, C]) or split off again ([B·T, C] → [B, T, C]); the elements before it
    // must stay the same. Moving it behind another axis, or splitting it, is refused.
    batch: ({ inputs: [x], out, batchIn: [b], factorIn: [f = 1] }) => {
      if (b === null || b === undefined) return null;
      const B = x!.shape[b]! / f;
      const before = prod(x!.shape.slice(0, b));
      // One batch entry is the f elements already merged with the batch (flat), then the axes
      // after the batch. The output's axes after the batch must cover whole axes of those, or
      // a part of the merged f: the batch never takes a part of an axis it was not merged
      // with, since at batch 3, [3, 6] → [6, 3] may as well be [B, 6] → [6, B] as [B·2, 3].
      const post = x!.shape.slice(b + 1);
      const whole = new Set(post.map((_, i) => prod(post.slice(i))).concat(1));
      const P = prod(post);
      const fits = (s: number) => whole.has(s) || (s % P === 0 && f % (s / P) === 0);
      for (let j = 0; j < out.shape.length; j++) {
        if (prod(out.shape.slice(0, j)) === before && fits(prod(out.shape.slice(j + 1)))) return j;
      }
      return fail(
        'reshape',
        `from ${fmtShape(x!.shape)} to ${fmtShape(out.shape)} splits the batch axis ${b} or moves it behind another axis` +
          ' (to merge the batch with part of an axis, split that axis off first: [B, 6] → [B, 2, 3] → [B·2, 3])',
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
  windows: {
    emit: (w, { x, inputs: [t], attrs }) => emitWindows(w, x[0]!, t!.shape, attrs),
    batch: ({ attrs: { axes }, batchIn: [b] }) => {
      if (b === null || b === undefined) return null;
      if (axes.includes(b)) fail('windows', `slides windows along the batch axis ${b}`);
      return b;
    },
  },
  // fold (col2im) in opset 17: ScatterElements would need the dynamic batch in its zeros and index,
  // and Col2Im is opset 18. Per window axis, the (origin, tap) pair is flattened into one axis with
  // a zero appended; a constant [n, J] index lists for each output position the J entries that land
  // on it (the zero where fewer do), and a ReduceSum over J adds them.
  fold: {
    emit: (w, { x, inputs: [g], attrs: { axes, size, stride, dilation, shape }, batchOut }) => {
      const r = shape.length;
      // [..., o_i, ..., t_1..t_m] → [..., o_i, t_i, ...]: each window axis with its taps beside it
      const perm: number[] = [];
      for (let p = 0; p < r; p++) {
        perm.push(p);
        const i = axes.indexOf(p);
        if (i >= 0) perm.push(r + i);
      }
      let v = w.node('Transpose', [x[0]!], { perm });
      const cur: (number | 'B')[] = perm.map((p) => (p === batchOut ? 'B' : g!.shape[p]!));
      for (let i = axes.length - 1; i >= 0; i--) {
        const q = axes[i]! + i;
        const [k, s, d, n] = [size[i]!, stride[i]!, dilation[i]!, shape[axes[i]!]!];
        const o = cur[q] as number;
        cur.splice(q, 2, o * k);
        v = w.node('Reshape', [v, w.ints(cur.map((c) => (c === 'B' ? -1 : c)))]);
        const pads = new Array<number>(2 * cur.length).fill(0);
        pads[cur.length + q] = 1;
        v = w.node('Pad', [v, w.ints(pads)]);
        const lands: number[][] = Array.from({ length: n }, () => []);
        for (let j = 0; j < o; j++) for (let t = 0; t < k; t++) lands[j * s + t * d]?.push(j * k + t);
        const J = Math.max(1, ...lands.map((l) => l.length));
        const index = lands.flatMap((l) => [...l, ...new Array<number>(J - l.length).fill(o * k)]);
        v = w.node('Gather', [v, w.intTensor(index, [n, J])], { axis: q });
        v = w.node('ReduceSum', [v, w.ints([q + 1])], { keepdims: 0 });
        cur[q] = n;
      }
      return v;
    },
    batch: ({ attrs: { axes, shape }, batchIn: [b] }) => {
      if (b === null || b === undefined) return null;
      if (b >= shape.length) fail('fold', `sums over the batch axis ${b} (a tap axis)`);
      if (axes.includes(b)) fail('fold', `folds windows along the batch axis ${b}`);
      return b;
    },
  },
  // torch.gather is GatherElements (int32 indices are allowed as they are)
  gather: {
    emit: (w, { x, attrs: { axis } }) => w.node('GatherElements', [x[0]!, x[1]!], { axis }),
    batch: ({ attrs: { axis }, batchIn: [bx, bi] }) => {
      const [a, b] = [bx ?? null, bi ?? null];
      // a fixed index as long as the example's batch would read that many rows at any batch size
      if (a !== null && b === null)
        fail('gather', `reads a batched tensor (batch axis ${a}) at a fixed index`);
      if (a !== null && b !== null && a !== b)
        fail('gather', `meets batch axes ${a} (x) and ${b} (index)`);
      if (b !== null && a === null && b !== axis)
        fail('gather', `reads a fixed tensor along the batch axis ${b} of its index`);
      return b;
    },
  },
  // scatterAdd: zeros of the output's shape, then ScatterElements with reduction add (opset 16+)
  scatterAdd: {
    emit: (w, { x, inputs: [g], attrs: { axis, shape }, batchOut }) => {
      let dims: string;
      if (batchOut === null) dims = w.ints(shape);
      else {
        const b = batchOut;
        const parts = [
          ...(b > 0 ? [w.ints(shape.slice(0, b))] : []),
          w.node('Shape', [x[0]!], { start: b, end: b + 1 }),
          ...(b < shape.length - 1 ? [w.ints(shape.slice(b + 1))] : []),
        ];
        dims = parts.length === 1 ? parts[0]! : w.node('Concat', parts, { axis: 0 });
      }
      const zeros = w.node('Expand', [w.scalar(0, g!.dtype), dims]);
      return w.node('ScatterElements', [zeros, x[1]!, x[0]!], { axis, reduction: 'add' });
    },
    batch: ({ inputs: [g], attrs: { axis, shape }, batchIn: [bg, bi] }) => {
      const [a, b] = [bg ?? null, bi ?? null];
      if (a === null && b === null) return null;
      if (a !== b) fail('scatterAdd', `has values and index batched differently (${a} and ${b})`);
      // added over the batch into a fixed output (a histogram of the batch): nothing batched remains
      if (a === axis) return null;
      if (shape[a!] !== g!.shape[a!])
        fail('scatterAdd', `adds a batch of ${g!.shape[a!]} into a fixed ${shape[a!]} rows (output ${fmtShape(shape)})`);
      return a;
    },
  },
  // ONNX's ArgMax/ArgMin give int64 and, with select_last_index 0, the first extremum (as here);
  // NaN is handled in argReduce
  argmax: argReduce('ArgMax'),
  argmin: argReduce('ArgMin'),

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

/** The calls the exporter writes as one ONNX node each (see graph/composites.ts). */
export type CallOp = ConvCall['op'];
type CallAttrs<K extends CallOp> = Extract<ConvCall, { op: K }>['attrs'];

export interface OnnxCallArgs<K extends CallOp = CallOp> {
  x: readonly string[];
  inputs: readonly Tensor[];
  out: Tensor;
  attrs: CallAttrs<K>;
  batchIn: readonly (number | null)[];
  batchOut: number | null;
}

export interface OnnxCallMapping<K extends CallOp = CallOp> {
  /** false: export this call as its primitives instead (a dtype ONNX's node does not take) */
  fits: (n: Omit<OnnxCallArgs<K>, 'x' | 'batchOut'>) => boolean;
  emit: (w: OnnxWriter, n: OnnxCallArgs<K>) => string;
  batch: (n: Omit<OnnxCallArgs<K>, 'x' | 'batchOut'>) => number | null;
}

/** x [N, C, ...] may have its batch on N; the other inputs (weights, per-channel vectors) never. */
const firstInputBatch =
  (op: CallOp, x: string, others: string) =>
  ({ batchIn }: { batchIn: readonly (number | null)[] }): number | null => {
    const [b, ...rest] = batchIn;
    if (rest.some((r) => r !== null && r !== undefined))
      fail(op, `has a batched ${others} (only x ${x} may carry the batch, on N)`);
    if (b === null || b === undefined) return null;
    if (b !== 0) fail(op, `has the batch on axis ${b} of x ${x} (only N may be the batch)`);
    return 0;
  };
const imageBatch = (op: CallOp) => firstInputBatch(op, '[N, C, H, W]', 'weight or bias');
const float32 = ({ inputs }: { inputs: readonly Tensor[] }) => inputs[0]!.dtype === 'float32';
const floating = ({ inputs }: { inputs: readonly Tensor[] }) => inputs[0]!.dtype !== 'int32';
const pads = (p: readonly number[]) => [p[0]!, p[1]!, p[0]!, p[1]!];

export const ONNX_CALLS: { [K in CallOp]: OnnxCallMapping<K> } = {
  conv2d: {
    fits: () => true,
    emit: (w, n) => {
      const { kernel, stride, padding, dilation, groups } = n.attrs;
      if (n.inputs[0]!.dtype !== 'float32') return convByMatMul(w, n);
      return w.node('Conv', n.x, {
        kernel_shape: kernel,
        strides: stride,
        pads: pads(padding),
        dilations: dilation,
        group: groups,
      });
    },
    batch: imageBatch('conv2d'),
  },
  // onnxruntime's MaxPool takes float64 too; its AveragePool does not (float64: the primitives)
  maxPool2d: {
    fits: floating,
    // ONNX's pads are never picked by MaxPool, as the −∞ padding here
    emit: (w, { x, attrs: { kernel, stride, padding, dilation } }) =>
      w.node('MaxPool', [x[0]!], {
        kernel_shape: kernel,
        strides: stride,
        pads: pads(padding),
        dilations: dilation,
      }),
    batch: imageBatch('maxPool2d'),
  },
  avgPool2d: {
    fits: float32,
    emit: (w, { x, attrs: { kernel, stride, padding, countIncludePad } }) =>
      w.node('AveragePool', [x[0]!], {
        kernel_shape: kernel,
        strides: stride,
        pads: pads(padding),
        count_include_pad: countIncludePad ? 1 : 0,
      }),
    batch: imageBatch('avgPool2d'),
  },
  // eval mode (training_mode 0): (x − mean)/√(var + ε)·weight + bias with the running statistics
  batchNorm: {
    fits: floating,
    emit: (w, { x, attrs: { eps } }) => w.node('BatchNormalization', [...x], { epsilon: { float: eps } }),
    batch: firstInputBatch('batchNorm', '[N, C, ...]', 'weight, bias or running statistic'),
  },
  // opset 13 on: Softmax/LogSoftmax normalize along the one axis given, as here; over the batch
  // axis too, at any batch size (the primitives' ReduceSum with keepdims would be as dynamic)
  softmax: {
    fits: floating,
    emit: (w, { x, attrs: { axis } }) => w.node('Softmax', [x[0]!], { axis }),
    batch: keepBatch,
  },
  logSoftmax: {
    fits: floating,
    emit: (w, { x, attrs: { axis } }) => w.node('LogSoftmax', [x[0]!], { axis }),
    batch: keepBatch,
  },
  // onnxruntime's LeakyRelu takes float64 too, its Softplus float32 only (float64: the primitives).
  // alpha is a float32 attribute: a slope it cannot hold exactly for float64 data (0.1), or a
  // non-finite one (0·∞ is NaN here, 0 in onnxruntime), is written as the primitives instead
  leakyRelu: {
    fits: ({ inputs: [x], attrs: { slope } }) =>
      Number.isFinite(slope) && (x!.dtype === 'float32' || (x!.dtype === 'float64' && Math.fround(slope) === slope)),
    emit: (w, { x, attrs: { slope } }) => w.node('LeakyRelu', [x[0]!], { alpha: { float: slope } }),
    batch: keepBatch,
  },
  // ONNX's Softplus is log(eˣ + 1); onnxruntime evaluates it without overflow, as softplus here
  softplus: { fits: float32, emit: (w, { x }) => w.node('Softplus', [x[0]!]), batch: keepBatch },
  // [d0, ...] → [d0, rest]: a batch on d0 stays there, a batch on axis 1 becomes the outer part
  // of the merged axis (Flatten computes it at run time); further in, fixed axes would come before it
  flatten: {
    fits: () => true,
    emit: (w, { x }) => w.node('Flatten', [x[0]!], { axis: 1 }),
    batch: ({ inputs: [x], batchIn: [b] }) => {
      if (b === null || b === undefined || b <= 1) return b ?? null;
      return fail('flatten', `merges the batch axis ${b} of ${fmtShape(x!.shape)} behind the fixed axes before it`);
    },
  },
};

/**
 * Conv for a dtype onnxruntime's Conv does not take (float64): the windows of the padded input
 * (Gather), the taps of each group beside each other, one batched MatMul with the weight. Unlike
 * the primitives (which fold N into the rows of one matrix) the batch stays an axis of its own.
 */
function convByMatMul(w: OnnxWriter, { x, inputs, out, attrs, batchOut }: OnnxCallArgs<'conv2d'>): string {
  const { kernel, stride, padding, dilation, groups } = attrs;
  const [N, C, H, W] = inputs[0]!.shape as [number, number, number, number];
  const [, O, oH, oW] = out.shape as [number, number, number, number];
  const [G, Cg, Og, K] = [groups, C / groups, O / groups, (C / groups) * kernel[0]! * kernel[1]!];
  const n = batchOut === 0 ? -1 : N;
  let v = x[0]!;
  if (padding[0] || padding[1])
    v = w.node('Pad', [v, w.ints([0, 0, padding[0]!, padding[1]!, 0, 0, padding[0]!, padding[1]!])]);
  const shape = [N, C, H + 2 * padding[0]!, W + 2 * padding[1]!];
  v = emitWindows(w, v, shape, { axes: [2, 3], size: kernel, stride, dilation }); // [N, C, oH, oW, kH, kW]
  v = w.node('Reshape', [v, w.ints([n, G, Cg, oH * oW, kernel[0]! * kernel[1]!])]);
  v = w.node('Transpose', [v], { perm: [0, 1, 3, 2, 4] }); // [N, G, oH·oW, Cg, kH·kW]
  v = w.node('Reshape', [v, w.ints([n, G, oH * oW, K])]);
  // weight [O, Cg, kH, kW] → [G, K, Og]
  const wt = w.node('Transpose', [w.node('Reshape', [x[1]!, w.ints([G, Og, K])])], { perm: [0, 2, 1] });
  v = w.node('MatMul', [v, wt]); // [N, G, oH·oW, Og]
  v = w.node('Transpose', [v], { perm: [0, 1, 3, 2] });
  v = w.node('Reshape', [v, w.ints([n, O, oH, oW])]);
  return x[2] ? w.node('Add', [v, w.node('Reshape', [x[2], w.ints([O, 1, 1])])]) : v;
}
