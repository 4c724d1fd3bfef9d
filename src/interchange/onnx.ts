// ONNX export: run the model once on example inputs while tracing every op it applies, then write
// the traced graph as an ONNX model (opset 17) with the parameters as named initializers. The
// protobuf schema (onnx-proto, the official onnx.proto compiled by protobufjs) is loaded only
// when a model is exported, so the main entry stays light for everyone else.
import type { DType, OpName } from '../backends/backend';
import { fmtShape } from '../ops/registry';
import { convCallOf } from '../graph/composites';
import { noGrad, tidy, traceOps, type TraceEntry } from '../graph/engine';
import { Tensor } from '../graph/tensor';
import { Module } from '../nn/module';
import {
  defaultBatch,
  ONNX_CALLS,
  ONNX_OPS,
  type CallOp,
  type OnnxAttr,
  type OnnxCallMapping,
  type OnnxMapping,
  type OnnxWriter,
} from './onnx-ops';
import type { onnx as OnnxNs } from 'onnx-proto';

/**
 * The opset written into every exported model.
 *
 * @example
 * const bytes = await exportOnnx(net, randn([1, 4]));   // a model of opset ONNX_OPSET (17)
 */
export const ONNX_OPSET = 17;

export interface OnnxExportOptions {
  /** names of the graph inputs, one per example input (default `input`, or `input0`, ...) */
  inputNames?: readonly string[];
  /** names of the graph outputs (default `output`, or `output0`, `output1`, ...) */
  outputNames?: readonly string[];
  /**
   * Make this axis of every input a symbolic dimension named `batch` (usually 0), so the model
   * accepts any batch size; an array gives each input its own axis, null for an input without a
   * batch. The exporter follows the axis through the graph and refuses (with an error naming the
   * op) any op that would freeze the example's batch size into the model.
   */
  batchAxis?: number | readonly (number | null)[];
  /** names for tensors the function closes over (a function's weights); others are `const_N` */
  names?: Record<string, Tensor>;
  /** the graph's name (default `tapegrad`) */
  graphName?: string;
}

type Fn = (...xs: Tensor[]) => Tensor | readonly Tensor[];

interface Leaf {
  t: Tensor;
  name: string;
  kind: 'input' | 'param' | 'const';
}

/**
 * Export a Module (its `forward`) or a function of tensors as an ONNX model (opset 17): the ops
 * applied to `exampleInputs` become nodes (a conv2d or pooling call one Conv, MaxPool or
 * AveragePool node), the parameters and buffers the model reads become initializers named as in
 * `namedParameters()` and `namedBuffers()` (`0.weight`, `1.running_mean`), other tensors the
 * function uses become constants. A module is exported in evaluation mode (its mode is restored
 * after). Resolves to the model's bytes.
 *
 * @example
 * const net = new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 2));
 * const bytes = await exportOnnx(net, randn([1, 4]), { batchAxis: 0 });   // any batch size
 * writeFileSync('net.onnx', bytes);
 */
export async function exportOnnx(
  model: Module | Fn,
  exampleInputs: Tensor | readonly Tensor[],
  options: OnnxExportOptions = {},
): Promise<Uint8Array> {
  const inputs = exampleInputs instanceof Tensor ? [exampleInputs] : [...exampleInputs];
  checkArgs(model, inputs, options);
  const batchAxes = inputs.map((_, i) => {
    const b = options.batchAxis;
    return b === undefined ? null : typeof b === 'number' ? b : (b[i] ?? null);
  });
  const inputNames = options.inputNames
    ? [...options.inputNames]
    : defaultNames('input', inputs.length);

  // leaves by tensor: inputs first, then parameters (a module's, or named by the caller)
  const leaves = new Map<Tensor, Leaf>();
  inputs.forEach((t, i) => leaves.set(t, { t, name: inputNames[i]!, kind: 'input' }));
  // a module's buffers (BatchNorm's running statistics) are initializers under their names too
  const paramList: [string, Tensor][] =
    model instanceof Module
      ? [...model.namedParameters(), ...model.namedBuffers()]
      : Object.entries(options.names ?? {});
  for (const [name, t] of paramList) if (!leaves.has(t)) leaves.set(t, { t, name, kind: 'param' });
  const taken = new Set([...leaves.values()].map((l) => l.name));
  if (taken.size !== leaves.size)
    throw new Error(
      `exportOnnx: input and parameter names collide (${[...leaves.values()].map((l) => l.name).join(', ')})`,
    );

  const forward: Fn = model instanceof Module ? (x) => model.forward(x!) : model;
  const modes =
    model instanceof Module ? model.namedModules().map(([, m]) => [m, m.training] as const) : [];
  if (model instanceof Module) model.eval();
  const trace: TraceEntry[] = [];
  // versions when made (or, for leaves, before the forward): an assign since is refused below
  const versions = new Map<Tensor, number>();
  for (const l of leaves.values()) versions.set(l.t, l.t._version.v);
  let outputs: Tensor[] = [];
  let consts: Tensor[] = [];
  let read = new Set<Tensor>();
  let copies: Tensor[];
  try {
    // Every tensor made by the forward dies with this tidy; the constants it reads (lifted
    // scalars, or tensors the function closes over) leave as detached handles, read below.
    copies = tidy(() => {
      const result = noGrad(() =>
        traceOps(
          () => forward(...inputs),
          (e) => {
            trace.push(e);
            versions.set(e.out, e.out._version.v);
          },
        ),
      );
      outputs = result instanceof Tensor ? [result] : Array.isArray(result) ? [...result] : [];
      if (outputs.length === 0 || !outputs.every((t) => t instanceof Tensor)) {
        throw new Error(
          `exportOnnx: the model must return a tensor or an array of tensors, got ${describe(result)}`,
        );
      }
      read = graphReads(outputs, trace);
      refuseAssigned(read, trace, leaves, versions);
      consts = graphConsts(outputs, trace, leaves);
      return consts.map((t) => t.detach());
    });
  } finally {
    for (const [m, mode] of modes) m.training = mode;
  }

  const values = new Map<Tensor, ArrayLike<number>>();
  let parts: GraphParts;
  try {
    const outputNames = options.outputNames
      ? [...options.outputNames]
      : defaultNames('output', outputs.length);
    if (outputNames.length !== outputs.length) {
      throw new Error(
        `exportOnnx: ${outputNames.length} output names for ${outputs.length} outputs`,
      );
    }
    const clash = outputNames.find((n) => taken.has(n));
    if (clash)
      throw new Error(
        `exportOnnx: output name '${clash}' is already the name of an input or parameter`,
      );
    let constIndex = 0;
    for (const [i, t] of consts.entries()) {
      let name = t.name && !taken.has(t.name) && !outputNames.includes(t.name) ? t.name : '';
      while (!name || taken.has(name) || outputNames.includes(name)) name = `const_${constIndex++}`;
      leaves.set(t, { t, name, kind: 'const' });
      taken.add(name);
      values.set(t, await copies[i]!.data());
    }
    // only what the graph reads: an unused parameter or buffer (BatchNorm's num_batches_tracked)
    // would be an initializer onnxruntime warns about and drops
    for (const l of leaves.values())
      if (l.kind === 'param' && read.has(l.t)) values.set(l.t, await l.t.data());
    for (const n of outputNames) taken.add(n);
    parts = { trace, outputs, outputNames, leaves, values, batchAxes, taken };
  } finally {
    for (const c of copies) c.dispose();
  }

  const { onnx } = await loadSchema();
  const graph = buildGraph(onnx, parts);
  const modelProto = onnx.ModelProto.create({
    irVersion: 8, // the IR that ONNX 1.12 writes with opset 17 (the schema package, ONNX 1.10, has it)
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'tapegrad',
    producerVersion: '0.1.0',
    graph: { ...graph, name: options.graphName ?? 'tapegrad' },
  });
  return onnx.ModelProto.encode(modelProto).finish();
}

/** @internal the compiled schema, loaded on first use */
export async function loadSchema(): Promise<{ onnx: typeof OnnxNs }> {
  let mod: { onnx?: typeof OnnxNs; default?: { onnx: typeof OnnxNs } };
  try {
    mod = (await import('onnx-proto')) as unknown as typeof mod;
  } catch (e) {
    // an optional peer dependency: the main entry stays light for users who never export
    throw new Error('exportOnnx: needs the optional package onnx-proto (npm install onnx-proto)', { cause: e });
  }
  const onnx = mod.onnx ?? mod.default?.onnx;
  if (!onnx) throw new Error('exportOnnx: the onnx-proto package did not provide the ONNX schema');
  return { onnx };
}

function defaultNames(base: string, n: number): string[] {
  return n === 1 ? [base] : Array.from({ length: n }, (_, i) => `${base}${i}`);
}

function describe(v: unknown): string {
  return v instanceof Tensor ? 'a tensor' : Array.isArray(v) ? `an array of ${v.length}` : typeof v;
}

function checkArgs(model: Module | Fn, inputs: Tensor[], o: OnnxExportOptions): void {
  if (!(model instanceof Module) && typeof model !== 'function') {
    throw new Error(
      `exportOnnx: expects a Module or a function of tensors, got ${describe(model)}`,
    );
  }
  if (inputs.length === 0) throw new Error('exportOnnx: expects at least one example input');
  inputs.forEach((t, i) => {
    if (!(t instanceof Tensor))
      throw new Error(`exportOnnx: example input ${i} is ${describe(t)}, not a tensor`);
    if (t.isDisposed)
      throw new Error(`exportOnnx: example input ${i} of shape ${fmtShape(t.shape)} was disposed`);
  });
  if (model instanceof Module && inputs.length !== 1) {
    throw new Error(
      `exportOnnx: a Module's forward takes one input, got ${inputs.length} example inputs`,
    );
  }
  if (new Set(inputs).size !== inputs.length)
    throw new Error('exportOnnx: the same tensor is passed as two example inputs');
  if (o.inputNames && o.inputNames.length !== inputs.length) {
    throw new Error(
      `exportOnnx: ${o.inputNames.length} input names for ${inputs.length} example inputs`,
    );
  }
  for (const names of [o.inputNames, o.outputNames]) {
    if (
      names &&
      (new Set(names).size !== names.length || names.some((n) => typeof n !== 'string' || n === ''))
    ) {
      throw new Error(
        `exportOnnx: names must be distinct non-empty strings, got [${names.join(', ')}]`,
      );
    }
  }
  const b = o.batchAxis;
  if (b !== undefined && typeof b !== 'number' && b.length !== inputs.length) {
    throw new Error(`exportOnnx: ${b.length} batch axes for ${inputs.length} example inputs`);
  }
  inputs.forEach((t, i) => {
    const a = b === undefined ? null : typeof b === 'number' ? b : b[i];
    if (a !== null && a !== undefined && (!Number.isInteger(a) || a < 0 || a >= t.shape.length)) {
      throw new Error(
        `exportOnnx: batchAxis ${a} is out of range for example input ${i} of shape ${fmtShape(t.shape)}`,
      );
    }
  });
}

/**
 * One node-writing step: a traced primitive, or a whole composite call (ONNX_CALLS) whose
 * output the trace made; then the primitives inside it are not visited (unless something else
 * reads them) and the call's inputs are what the step reads.
 */
type Step = { e: TraceEntry; call: null } | { e: Pick<TraceEntry, 'inputs' | 'out' | 'attrs'>; call: CallOp };

/** The call that made t, when it may be written as one node: made in this trace, not assigned to since. */
function callStep(t: Tensor): Step | null {
  const c = convCallOf(t);
  if (!c || c.version !== t._version.v) return null;
  const m = ONNX_CALLS[c.op] as OnnxCallMapping;
  const args = { inputs: c.inputs, out: t, attrs: c.attrs as never, batchIn: [], factorIn: [] };
  if (!m.fits(args)) return null;
  return { e: { inputs: c.inputs, out: t, attrs: c.attrs as never }, call: c.op };
}

/** The steps the outputs depend on, found from the outputs back, in trace (run) order. */
function reachable(outputs: Tensor[], trace: TraceEntry[]): Step[] {
  const maker = new Map<Tensor, number>();
  trace.forEach((e, i) => maker.set(e.out, i));
  const used = new Map<number, Step>();
  const stack = [...outputs];
  while (stack.length) {
    const t = stack.pop()!;
    const i = maker.get(t);
    if (i === undefined || used.has(i)) continue;
    const step = callStep(t) ?? { e: trace[i]!, call: null };
    used.set(i, step);
    stack.push(...step.e.inputs);
  }
  return [...used.entries()].sort(([a], [b]) => a - b).map(([, step]) => step);
}

/**
 * A tensor the graph reads that was assigned to (`assign`) after it was made, or an input or
 * parameter assigned to during the forward: the ops before the write read the old values, and
 * ONNX has no in-place write to replay, so the model would compute something else. Refused.
 */
function refuseAssigned(read: Set<Tensor>, trace: TraceEntry[], leaves: Map<Tensor, Leaf>, versions: Map<Tensor, number>): void {
  for (const t of read) {
    const v = versions.get(t);
    if (v === undefined || v === t._version.v) continue;
    const leaf = leaves.get(t);
    const what = leaf
      ? `${leaf.kind === 'input' ? 'input' : 'parameter'} '${leaf.name}' (${fmtShape(t.shape)}) was assigned to during the forward`
      : `the result of '${trace.find((e) => e.out === t)!.op}' (${fmtShape(t.shape)}) was assigned to after it was computed`;
    throw new Error(`exportOnnx: ${what}; ONNX has no in-place write, so compute a new tensor instead of assign`);
  }
}

/** Every tensor a node of the graph reads, and the outputs. */
function graphReads(outputs: Tensor[], trace: TraceEntry[]): Set<Tensor> {
  const read = new Set(outputs);
  for (const { e } of reachable(outputs, trace)) e.inputs.forEach((t) => read.add(t));
  return read;
}

/** Leaves the graph reads that are neither inputs nor parameters: constants to write out. */
function graphConsts(outputs: Tensor[], trace: TraceEntry[], leaves: Map<Tensor, Leaf>): Tensor[] {
  const made = new Set(trace.map((e) => e.out));
  const found = new Set<Tensor>();
  const consider = (t: Tensor) => {
    if (!made.has(t) && !leaves.has(t)) found.add(t);
  };
  for (const { e } of reachable(outputs, trace)) e.inputs.forEach(consider);
  outputs.forEach(consider);
  return [...found];
}

// ONNX's FLOAT, DOUBLE, INT32
const DTYPE_CODES: Record<DType, number> = { float32: 1, float64: 11, int32: 6 };
const INT64 = 7;
const BOOL = 9;

interface GraphParts {
  trace: TraceEntry[];
  outputs: Tensor[];
  outputNames: string[];
  leaves: Map<Tensor, Leaf>;
  values: Map<Tensor, ArrayLike<number>>;
  /** per graph input, in order */
  batchAxes: (number | null)[];
  taken: Set<string>;
}

function buildGraph(onnx: typeof OnnxNs, p: GraphParts): OnnxNs.IGraphProto {
  const nodes: OnnxNs.INodeProto[] = [];
  const initializers: OnnxNs.ITensorProto[] = [];
  const names = new Map<Tensor, string>();
  const batch = new Map<Tensor, number | null>();
  // rows per batch entry on the batch axis (1 unless a reshape merged the batch with later axes)
  const factor = new Map<Tensor, number>();
  const bools = new Map<string, string>();
  const intCache = new Map<string, string>();
  let counter = 0;
  let opName = '';
  const fresh = (base: string) => {
    let n: string;
    do n = `${base}_${counter++}`;
    while (p.taken.has(n));
    return n;
  };
  const init = (name: string, dataType: number, dims: readonly number[], rawData: Uint8Array) => {
    initializers.push({ name, dataType, dims: [...dims], rawData });
    return name;
  };
  const bytesOf = (v: ArrayLike<number>, dtype: DType) =>
    littleEndian(
      dtype === 'float64'
        ? Float64Array.from(v)
        : dtype === 'int32'
          ? Int32Array.from(v)
          : Float32Array.from(v),
    );
  const attr = (name: string, v: OnnxAttr): OnnxNs.IAttributeProto => {
    const T = onnx.AttributeProto.AttributeType;
    if (typeof v === 'number') return { name, type: T.INT, i: v };
    if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
    if ('float' in v) return { name, type: T.FLOAT, f: v.float };
    return { name, type: T.INTS, ints: [...v] };
  };

  const w: OnnxWriter = {
    node(type, inputs, attrs = {}) {
      const out = fresh(type.toLowerCase());
      nodes.push({
        opType: type,
        name: fresh(opName),
        domain: '',
        input: [...inputs],
        output: [out],
        attribute: Object.entries(attrs).map(([k, v]) => attr(k, v)),
        docString: `tapegrad op ${opName}`,
      });
      return out;
    },
    ints(values) {
      const key = values.join(',');
      let name = intCache.get(key);
      if (!name) {
        name = init(
          fresh('ints'),
          INT64,
          [values.length],
          littleEndian(BigInt64Array.from(values, (v) => BigInt(v))),
        );
        intCache.set(key, name);
      }
      return name;
    },
    intTensor(values, dims) {
      return init(
        fresh('index'),
        INT64,
        dims,
        littleEndian(BigInt64Array.from(values, (v) => BigInt(v))),
      );
    },
    scalar(value, dtype) {
      return init(fresh('scalar'), DTYPE_CODES[dtype], [], bytesOf([value], dtype));
    },
    bool(name) {
      let b = bools.get(name);
      if (!b) {
        b = w.node('Cast', [name], { to: BOOL });
        bools.set(name, b);
      }
      return b;
    },
    markBool(name, boolName) {
      bools.set(name, boolName);
    },
    dtypeCode: (dtype) => DTYPE_CODES[dtype],
  };

  const valueInfo = (name: string, t: Tensor, axis: number | null): OnnxNs.IValueInfoProto => ({
    name,
    type: {
      tensorType: {
        elemType: DTYPE_CODES[t.dtype],
        shape: {
          dim: t.shape.map((d, i) => {
            const f = factor.get(t) ?? 1;
            return i === axis ? { dimParam: f === 1 ? 'batch' : `batch*${f}` } : { dimValue: d };
          }),
        },
      },
    },
  });

  // leaves: inputs are graph inputs, parameters and constants are initializers
  const graphInputs: OnnxNs.IValueInfoProto[] = [];
  let inputIndex = 0;
  for (const l of p.leaves.values()) {
    names.set(l.t, l.name);
    batch.set(l.t, l.kind === 'input' ? p.batchAxes[inputIndex++]! : null);
    if (l.kind === 'input') graphInputs.push(valueInfo(l.name, l.t, batch.get(l.t)!));
    else if (p.values.has(l.t))
      init(l.name, DTYPE_CODES[l.t.dtype], l.t.shape, bytesOf(p.values.get(l.t)!, l.t.dtype));
  }

  for (const { e, call } of reachable(p.outputs, p.trace)) {
    const op = call ?? (e as TraceEntry).op;
    const mapping = (call ? ONNX_CALLS[call] : ONNX_OPS[op as OpName]) as
      | OnnxMapping
      | OnnxCallMapping
      | undefined;
    if (!mapping) {
      throw new Error(
        `exportOnnx: op '${op}' (output ${fmtShape(e.out.shape)} ${e.out.dtype}) has no ONNX ` +
          `mapping; add an entry for it to ONNX_OPS in src/interchange/onnx-ops.ts`,
      );
    }
    const x = e.inputs.map((t) => {
      const n = names.get(t);
      if (n === undefined)
        throw new Error(
          `exportOnnx: '${op}' reads a tensor of shape ${fmtShape(t.shape)} the trace does not know`,
        );
      return n;
    });
    const batchIn = e.inputs.map((t) => batch.get(t) ?? null);
    const factorIn = e.inputs.map((t) => factor.get(t) ?? 1);
    const args = { inputs: e.inputs, out: e.out, attrs: e.attrs as never, batchIn, factorIn };
    const batchOut = (mapping.batch ?? defaultBatch)(args);
    opName = op;
    names.set(e.out, mapping.emit(w, { ...args, x, batchOut }));
    batch.set(e.out, batchOut);
    if (batchOut !== null) factor.set(e.out, outFactor(op, args, batchOut));
  }

  // outputs: rename the value that makes each one; a leaf or a repeated output gets an Identity
  const rename = new Map<string, string>();
  const made = new Set(nodes.map((n) => n.output![0]!));
  const graphOutputs = p.outputs.map((t, i) => {
    const want = p.outputNames[i]!;
    const have = names.get(t)!;
    if (made.has(have) && !rename.has(have)) rename.set(have, want);
    else
      nodes.push({
        opType: 'Identity',
        name: `output_identity_${i}`,
        input: [have],
        output: [want],
      });
    return valueInfo(want, t, batch.get(t) ?? null);
  });
  const swap = (n: string) => rename.get(n) ?? n;
  for (const n of nodes) {
    n.input = n.input!.map(swap);
    n.output = n.output!.map(swap);
  }
  return { node: nodes, initializer: initializers, input: graphInputs, output: graphOutputs };
}

/**
 * The output's rows per batch entry on its batch axis: its size there over the example's batch
 * (read off a batched input). Not a whole number means an op moved part of the batch elsewhere.
 */
function outFactor(
  op: string,
  { inputs, out, batchIn, factorIn }: { inputs: readonly Tensor[]; out: Tensor; batchIn: readonly (number | null)[]; factorIn: readonly number[] },
  axis: number,
): number {
  const i = batchIn.findIndex((b) => b !== null);
  if (i < 0) return 1;
  const B = inputs[i]!.shape[batchIn[i]!]! / factorIn[i]!;
  const f = out.shape[axis]! / B;
  if (!Number.isInteger(f) || f < 1) {
    throw new Error(
      `exportOnnx: ${op} gives ${fmtShape(out.shape)}, whose axis ${axis} is not a whole number of batches of ${B}`,
    );
  }
  return f;
}

function littleEndian(a: Float32Array | Float64Array | Int32Array | BigInt64Array): Uint8Array {
  const out = new Uint8Array(a.byteLength);
  const dv = new DataView(out.buffer);
  const n = a.BYTES_PER_ELEMENT;
  for (let i = 0; i < a.length; i++) {
    if (a instanceof BigInt64Array) dv.setBigInt64(i * n, a[i]!, true);
    else if (a instanceof Int32Array) dv.setInt32(i * n, a[i]!, true);
    else if (n === 8) dv.setFloat64(i * n, a[i] as number, true);
    else dv.setFloat32(i * n, a[i] as number, true);
  }
  return out;
}

/** @internal for tests: the tapegrad ops that have an ONNX mapping */
export function mappedOps(): OpName[] {
  return Object.keys(ONNX_OPS) as OpName[];
}
