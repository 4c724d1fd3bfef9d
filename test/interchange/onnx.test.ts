// ONNX export, checked by running every exported model in onnxruntime-node on fast-check inputs
// (several batch sizes through the dynamic batch axis) against tapegrad's own forward.
import fc from 'fast-check';
import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BINARY_OPS,
  FUSED_OPS,
  INDEX_OPS,
  MOVEMENT_OPS,
  OTHER_OPS,
  REDUCE_OPS,
  UNARY_OPS,
  type OpName,
} from '../../src/backends/backend';
import {
  AvgPool2d,
  BatchNorm1d,
  BatchNorm2d,
  Conv2d,
  Dropout,
  Embedding,
  Flatten,
  LayerNorm,
  LeakyReLU,
  Linear,
  MaxPool2d,
  Module,
  ReLU,
  Sequential,
  Sigmoid,
  Softplus,
  Tanh,
  argmax,
  argmin,
  avgPool2d,
  concat,
  conv2d,
  exportOnnx,
  fold,
  gather,
  maxPool2d,
  manualSeed,
  memory,
  noGrad,
  randn,
  scatterAdd,
  tensor,
  tidy,
  where,
  windows,
  zeros,
  type DType,
  type Tensor,
} from '../../src';
import { ONNX_CALLS, ONNX_OPS } from '../../src/interchange/onnx-ops';
import { convCallOf } from '../../src/graph/composites';
import { irisNet } from '../../examples/tutorials/t4-iris';
import { makeNet } from '../../examples/digits-run';
import { WEBGPU } from '../helpers/devices';

type Fn = (...xs: Tensor[]) => Tensor | Tensor[];
type Dim = number | 'B';

/** tapegrad ops seen in the exported models (from each node's docString), for the coverage check */
const exercised = new Set<string>();

/** the parts of a decoded model the tests read (protobufjs fills every field it decodes) */
interface ValueInfo {
  name: string;
  type: {
    tensorType: { elemType: number; shape: { dim: { dimValue?: number; dimParam?: string }[] } };
  };
}
interface Model {
  opsetImport: { version: number }[];
  graph: {
    node: { opType: string; docString: string; input: string[]; output: string[] }[];
    initializer: { name: string; dims: number[]; rawData: Uint8Array }[];
    input: ValueInfo[];
    output: ValueInfo[];
  };
}

function decode(bytes: Uint8Array): Model {
  const m = onnx.ModelProto.toObject(onnx.ModelProto.decode(bytes), { longs: Number }) as Model;
  for (const n of m.graph.node) exercised.add(n.docString.replace('tapegrad op ', ''));
  return m;
}

/** quarter-integers in [−2, 2]: exact in float32, with zeros and ties for comparisons and kinks */
const quarters = fc.integer({ min: -8, max: 8 }).map((v) => v / 4);
const reals = fc.float({ min: -3, max: 3, noNaN: true });

function close(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  what: string,
  rtol = 1e-5,
  atol = 1e-5,
): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const [g, w] = [Number(got[i]), Number(want[i])];
    if (Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w))) continue;
    if (!(Math.abs(g - w) <= atol + rtol * Math.abs(w))) {
      throw new Error(`${what}: element ${i} is ${g} in onnxruntime, ${w} in tapegrad`);
    }
  }
}

interface Case {
  name: string;
  model: Module | Fn;
  /** input shapes; 'B' is the batch (exported as the symbolic dim, axis 0) */
  shapes: Dim[][];
  dtype?: DType;
  /** per input, overriding dtype (int32 indices) */
  dtypes?: DType[];
  /** the values of every input, or one arbitrary per input */
  values?: fc.Arbitrary<number> | fc.Arbitrary<number>[];
  /** every node type the model must contain */
  expectOps?: string[];
  /** node types the model must not contain (a call written as one node, not its primitives) */
  absentOps?: string[];
  /** relative and absolute tolerance (default 1e-5, float64 outputs 1e-12) */
  tol?: number;
}

/**
 * Export the case once (example batch 3, values drawn like the runs'), then on generated batch
 * sizes and values run it in onnxruntime and in tapegrad and require the same outputs (and shapes).
 */
async function verify(c: Case, runs = 8): Promise<Model> {
  const dtypeOf = (i: number) => c.dtypes?.[i] ?? c.dtype ?? 'float32';
  const valuesOf = (i: number) =>
    (Array.isArray(c.values) ? c.values[i] : c.values) ?? reals;
  const dynamic = c.shapes.some((s) => s.includes('B'));
  const make = (b: number, vals: number[][]) =>
    c.shapes.map((s, i) => {
      const shape = s.map((d) => (d === 'B' ? b : d));
      return tensor(vals[i]!, { shape, dtype: dtypeOf(i) });
    });
  const valuesAt = (b: number) =>
    fc.tuple(
      ...c.shapes.map((s, i) => {
        const n = s.reduce<number>((p, d) => p * (d === 'B' ? b : d), 1);
        return fc.array(valuesOf(i), { minLength: n, maxLength: n });
      }),
    );
  const example = make(3, fc.sample(valuesAt(3), { numRuns: 1, seed: 13 })[0]!);
  const batchAxis = c.shapes.map((s) => (s[0] === 'B' ? 0 : null));
  const bytes = await exportOnnx(c.model, example, dynamic ? { batchAxis } : {});
  example.forEach((t) => t.dispose());
  const model = decode(bytes);
  const types = new Set(model.graph.node.map((n) => n.opType));
  for (const t of c.expectOps ?? []) expect(types, `${c.name} has a ${t} node`).toContain(t);
  for (const t of c.absentOps ?? []) expect(types, `${c.name} has no ${t} node`).not.toContain(t);
  const session = await ort.InferenceSession.create(bytes);
  const inNames = model.graph.input.map((i) => i.name);
  const outNames = model.graph.output.map((o) => o.name);
  const batchArb = dynamic ? fc.integer({ min: 1, max: 7 }) : fc.constant(3);
  const arb = batchArb.chain((b) => fc.tuple(fc.constant(b), valuesAt(b)));
  await fc.assert(
    fc.asyncProperty(arb, async ([b, vals]) => {
      const xs = make(b, vals);
      const feeds: Record<string, ort.Tensor> = {};
      xs.forEach(
        (x, i) =>
          (feeds[inNames[i]!] = new ort.Tensor(
            dtypeOf(i),
            x.dataSync() as Float32Array | Float64Array | Int32Array,
            [...x.shape],
          )),
      );
      const got = await session.run(feeds);
      tidy(() => {
        const r = noGrad(() =>
          c.model instanceof Module ? c.model.forward(xs[0]!) : c.model(...xs),
        );
        const want = Array.isArray(r) ? r : [r];
        want.forEach((w, i) => {
          const o = got[outNames[i]!]!;
          expect([...o.dims], `${c.name} output ${i} shape at batch ${b}`).toEqual([...w.shape]);
          expect(o.type, `${c.name} output ${i} dtype`).toBe(w.dtype);
          // float64 outputs to 1e-12: a float32 rounding inside (an attribute) shows
          const tol = c.tol ?? (w.dtype === 'float64' ? 1e-12 : 1e-5);
          close(o.data as Float32Array, w.dataSync(), `${c.name} output ${i} at batch ${b}`, tol, tol);
        });
      });
      xs.forEach((x) => x.dispose());
    }),
    { numRuns: runs },
  );
  await session.release();
  return model;
}

describe('exportOnnx: the tutorial nets in onnxruntime', () => {
  manualSeed(13);
  const nets: [string, () => Module][] = [
    ['t1 one neuron', () => new Linear(1, 1)],
    ['t1 one neuron, no bias', () => new Linear(1, 1, { bias: false })],
    [
      't2 linear net 1→2→1',
      () =>
        new Sequential(
          new Linear(1, 2, { initScheme: 'gaussian' }),
          new Linear(2, 1, { initScheme: 'gaussian' }),
        ),
    ],
    [
      't3 ReLU net 1→100→1',
      () =>
        new Sequential(
          new Linear(1, 100, { initScheme: 'gaussian' }),
          new ReLU(),
          new Linear(100, 1, { initScheme: 'gaussian' }),
        ),
    ],
    ['t4 iris 2→3→1 sigmoid, no bias', () => irisNet()],
    [
      't5 tanh net 1→20→1',
      () =>
        new Sequential(
          new Linear(1, 20, { initScheme: 'uniform', wscale: 0.1 }),
          new Tanh(),
          new Linear(20, 1, { initScheme: 'uniform', wscale: 0.1 }),
        ),
    ],
  ];
  for (const [name, make] of nets) {
    it(name, async () => {
      const net = make();
      const inSize = (net instanceof Linear ? net : (net.namedChildren()[0]![1] as Linear)).inSize;
      const model = await verify({ name, model: net, shapes: [['B', inSize]] });
      // parameters are initializers under their module names, with their values
      const inits = new Map(model.graph.initializer.map((t) => [t.name, t]));
      for (const [k, p] of net.namedParameters()) {
        const init = inits.get(k);
        expect(init, `initializer ${k}`).toBeDefined();
        expect(init!.dims).toEqual([...p.shape]);
        const raw = init!.rawData;
        expect(Array.from(new Float32Array(new Uint8Array(raw).buffer))).toEqual(
          Array.from(p.dataSync()),
        );
      }
      const dims = model.graph.input[0]!.type.tensorType.shape.dim;
      expect(dims[0]!.dimParam).toBe('batch');
      expect(model.graph.output[0]!.type.tensorType.shape.dim[0]!.dimParam).toBe('batch');
      expect(model.opsetImport[0]!.version).toBe(17);
      net.parameters().forEach((t) => t.dispose());
    });
  }
});

describe('exportOnnx: functions of tensors, every mapping exercised', () => {
  it('an MLP with every activation of the nn layers', async () => {
    manualSeed(1);
    const net = new Sequential(
      new Linear(4, 8),
      new ReLU(),
      new Linear(8, 8),
      new Sigmoid(),
      new Linear(8, 8),
      new Tanh(),
      new Linear(8, 8),
      new LeakyReLU(0.2),
      new Linear(8, 8),
      new Softplus(),
      new Linear(8, 3),
    );
    // scaled up so softplus meets its x > 40 branch and leakyRelu both sides
    const model = await verify({
      name: 'mlp',
      model: net,
      shapes: [['B', 4]],
      values: reals.map((v) => v * 20),
      expectOps: ['Relu', 'Sigmoid', 'Tanh', 'LeakyRelu', 'Softplus', 'Gemm'],
    });
    expect(model.graph.initializer.map((t) => t.name)).toContain('10.weight');
    net.parameters().forEach((t) => t.dispose());
  });

  const cases: Case[] = [
    {
      name: 'reshape, transpose, slice, pad',
      model: (x) =>
        x
          .reshape([-1, 2, 3])
          .transpose(1, 2)
          .slice([0, 1], [undefined, 3])
          .pad([
            [0, 0],
            [1, 2],
            [0, 1],
          ]),
      shapes: [['B', 6]],
      expectOps: ['Reshape', 'Transpose', 'Slice', 'Pad'],
    },
    {
      name: 'reshape merges the batch with the axes after it, and splits it off again',
      model: (x) => {
        const flat = x.reshape([-1]); // [B·6]
        const rows = flat.reshape([-1, 3]).mul(tensor([1, -2, 0.5])); // [B·2, 3]
        // [B, 2, 3] → [B·2, 3]: the batch merged with a whole axis
        const split = x.reshape([-1, 2, 3]).reshape([-1, 3]);
        return [flat.mul(2), rows.sum(1), rows.reshape([-1, 2, 3]).add(x.reshape([-1, 2, 3])), split];
      },
      shapes: [['B', 6]],
      expectOps: ['Reshape'],
    },
    {
      name: 'concat, expand, unsqueeze/squeeze, a slice of the batch',
      model: (x, y) => [
        concat([x, y.mul(2)], 1)
          .unsqueeze(1)
          .expand([-1, 2, -1]),
        x.slice([0], [1]).squeeze(0),
        x.transpose().expand([2, 3, -1]),
      ],
      shapes: [
        ['B', 3],
        ['B', 3],
      ],
      expectOps: ['Concat', 'Expand'],
    },
    {
      name: 'elementwise unary and binary ops',
      model: (x, y) => {
        const pos = x.abs().add(1);
        return [
          pos.sqrt().add(pos.log()).sub(x.exp().neg()).mul(x.sign()).div(pos),
          x.sin().mul(x.cos()).add(pos.pow(y)),
          x.maximum(y).sub(x.minimum(0.5)).add(x.relu()).add(x.sigmoid()).add(x.tanh()),
          x.clamp(-1, 1),
        ];
      },
      shapes: [
        ['B', 4],
        ['B', 4],
      ],
      values: quarters,
    },
    {
      name: 'comparisons and where',
      model: (x, y) => [
        x
          .eq(y)
          .add(x.ne(y).mul(2))
          .add(x.lt(y).mul(4))
          .add(x.le(y).mul(8))
          .add(x.gt(y).mul(16))
          .add(x.ge(y).mul(32)),
        where(x.gt(0), x, y.mul(3)),
        // a condition that is not a comparison's output: Cast to bool
        where(x, y, 7),
        y.reluGrad(x),
      ],
      shapes: [
        ['B', 5],
        ['B', 5],
      ],
      values: quarters,
      expectOps: ['Equal', 'Not', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual', 'Where'],
    },
    {
      name: 'reductions over non-batch axes',
      model: (x) => [
        x.sum(2).add(x.max(2)).sub(x.min(2)).add(x.mean(-1)),
        x.max(1, true),
        x.sum([1, 2], true),
      ],
      shapes: [['B', 3, 4]],
      values: quarters,
      expectOps: ['ReduceSum', 'ReduceMax', 'ReduceMin'],
    },
    {
      name: 'reductions over every axis (fixed batch)',
      model: (x) => [x.sum(), x.max(), x.min(0), x.mean(), x.sum().sum()],
      shapes: [[3, 4]],
    },
    {
      name: 'softmax, logSoftmax, logSumExp',
      model: (x) => [x.softmax(-1), x.logSoftmax(1), x.logSumExp(2), x.softmax(1)],
      shapes: [['B', 3, 4]],
      values: reals.map((v) => v * 10),
      expectOps: ['Softmax', 'LogSoftmax'],
    },
    {
      name: 'softmax over the dynamic batch axis (one Softmax node: right at every batch size)',
      model: (x) => [x.softmax(0), x.logSoftmax(0).mul(2)],
      shapes: [['B', 3]],
      values: reals.map((v) => v * 10),
      expectOps: ['Softmax', 'LogSoftmax'],
    },
    {
      name: 'float64 softplus as its primitives (onnxruntime runs Softplus in float32 only); float64 LeakyRelu where float32 holds the slope',
      // alpha is a float32 attribute: 0.5 is exact, 0.1 is not (its primitives then), nor is ∞
      model: (x) => [x.softplus(), x.leakyRelu(0.5), x.mul(40).softplus(), x.leakyRelu(0.1).mul(3)],
      shapes: [['B', 3]],
      dtype: 'float64',
      expectOps: ['Log', 'Where', 'LeakyRelu'],
      absentOps: ['Softplus'],
    },
    {
      name: 'leakyRelu with a slope a float32 attribute cannot hold (non-finite) is its primitives',
      model: (x) => [x.leakyRelu(Infinity), x.leakyRelu(-2)],
      shapes: [['B', 4]],
      values: fc.constantFrom(0, -1, 2, -0.5),
    },
    {
      name: 'cast to float64 and back',
      model: (x) => x.cast('float64').mul(x.cast('float64')).cast('float32'),
      shapes: [['B', 3]],
      expectOps: ['Cast'],
    },
    {
      name: 'matmul: batched, with a constant, vector forms',
      model: (a, b, v) => {
        const w = tensor([
          [1, -2, 0.5, 3],
          [0.25, 1, -1, 2],
          [2, 0, 1, -0.5],
        ]);
        return [a.matmul(b), a.matmul(w), a.matmul(v), v.matmul(w)];
      },
      shapes: [['B', 2, 3], ['B', 3, 2], [3]],
      expectOps: ['MatMul'],
    },
    {
      name: 'linear of rank 2 (Gemm) and rank 3, mse',
      model: (x, x3, t) => {
        const w = tensor([
          [1, -2],
          [0.5, 3],
          [0.25, 1],
        ]);
        const b = tensor([0.5, -1]);
        return [x.linear(w, b), x3.linear(w, b), x.linear(w, b).mse(t)];
      },
      shapes: [
        ['B', 3],
        ['B', 2, 3],
        ['B', 2],
      ],
      expectOps: ['Gemm', 'ReduceMean'],
    },
    {
      name: 'float64 throughout',
      model: (x) => x.tanh().mul(x).sum(1).add(x.softmax(-1).max(1)),
      shapes: [['B', 5]],
      dtype: 'float64',
    },
  ];
  for (const c of cases) it(c.name, async () => void (await verify(c)));

  it('a function returning its input, a constant, and one tensor twice', async () => {
    const c = tensor([1, 2, 3]);
    const example = tensor([[1, 2, 3]]);
    const bytes = await exportOnnx(
      (x) => {
        const y = x.mul(2);
        return [x, c, y, y];
      },
      example,
      {
        outputNames: ['same', 'constant', 'twice_a', 'twice_b'],
        batchAxis: 0,
      },
    );
    const s = await ort.InferenceSession.create(bytes);
    const r = await s.run({
      input: new ort.Tensor('float32', Float32Array.from([4, 5, 6, 7, 8, 9]), [2, 3]),
    });
    expect(Array.from(r.same!.data as Float32Array)).toEqual([4, 5, 6, 7, 8, 9]);
    expect(Array.from(r.constant!.data as Float32Array)).toEqual([1, 2, 3]);
    expect(Array.from(r.twice_a!.data as Float32Array)).toEqual([8, 10, 12, 14, 16, 18]);
    expect(Array.from(r.twice_b!.data as Float32Array)).toEqual([8, 10, 12, 14, 16, 18]);
    c.dispose();
    example.dispose();
  });

  it("names a function's weights through options.names, and inputs through inputNames", async () => {
    const w = tensor([[2], [3]]);
    const example = tensor([[1, 1]]);
    const bytes = await exportOnnx((x) => x.matmul(w), example, {
      names: { 'head.weight': w },
      inputNames: ['features'],
      outputNames: ['score'],
    });
    const m = decode(bytes);
    expect(m.graph.initializer.map((t) => t.name)).toEqual(['head.weight']);
    const s = await ort.InferenceSession.create(bytes);
    const r = await s.run({
      features: new ort.Tensor('float32', Float32Array.from([1, 2]), [1, 2]),
    });
    expect(Array.from(r.score!.data as Float32Array)).toEqual([8]);
    w.dispose();
    example.dispose();
  });
});

/** int32 positions in [0, n) */
const positions = (n: number) => fc.integer({ min: 0, max: n - 1 });

describe('exportOnnx: windows, fold and the indexing ops as primitives', () => {
  const cases: Case[] = [
    {
      name: 'windows over two axes with stride and dilation, and over one',
      model: (x) => [
        windows(x, [1, 2], [2, 3], { stride: [1, 2], dilation: [2, 1] }),
        windows(x, [2], [4]),
        windows(x, [1, 2], [1, 1], { stride: [3, 3] }).mul(2),
      ],
      shapes: [['B', 5, 7]],
      expectOps: ['Gather', 'Transpose'],
    },
    {
      name: 'fold (col2im): overlapping taps add up, gaps stay zero',
      model: (g, h) => [
        // windows' adjoint: g shaped like windows(x [B, 5, 7], [1, 2], [2, 3], stride [1, 2], dilation [2, 1])
        fold(g, [g.shape[0]!, 5, 7], [1, 2], [2, 3], { stride: [1, 2], dilation: [2, 1] }),
        // stride 3 > size 2 leaves every third element untouched
        fold(h, [h.shape[0]!, 8], [1], [2], { stride: [3] }),
      ],
      shapes: [
        ['B', 3, 3, 2, 3],
        ['B', 3, 2],
      ],
      expectOps: ['Gather', 'ReduceSum', 'Pad'],
    },
    {
      name: 'gather (GatherElements) with a batched index, and indexSelect of a fixed table',
      model: (x, i, j) => {
        const table = tensor([
          [1, 2, 3],
          [4, 5, 6],
          [7, 8, 9],
          [10, 11, 12],
        ]);
        return [gather(x, 1, i), table.indexSelect(0, j), gather(x, 1, i.slice([0, 0], [i.shape[0]!, 2]))];
      },
      shapes: [['B', 4], ['B', 6], ['B']],
      dtypes: ['float32', 'int32', 'int32'],
      values: [reals, positions(4), positions(4)],
      expectOps: ['GatherElements'],
    },
    {
      name: 'scatterAdd (ScatterElements, reduction add) along a fixed axis and over the batch',
      model: (g, i, labels) => [
        // repeated positions accumulate
        scatterAdd(g, i, 1, [g.shape[0]!, 5]),
        // a histogram of the batch's labels: the batch is summed away
        scatterAdd(g.slice([0, 0], [g.shape[0]!, 1]).squeeze(1), labels, 0, [4]),
      ],
      shapes: [
        ['B', 3],
        ['B', 3],
        ['B'],
      ],
      dtypes: ['float32', 'int32', 'int32'],
      values: [quarters, positions(5), positions(4)],
      expectOps: ['ScatterElements'],
    },
    {
      name: 'argmax and argmin (first of tied extremes), int32 results and int32 constants',
      model: (x) => {
        const offset = tensor([10, 20, 30], { dtype: 'int32' });
        return [
          argmax(x, 1),
          argmin(x, 1, true),
          argmax(x, 2).add(offset),
          argmin(x, 0).cast('float32'),
        ];
      },
      shapes: [['B', 3, 5]],
      // quarters in [−2, 2]: ties are common
      values: quarters,
      expectOps: ['ArgMax', 'ArgMin', 'Cast'],
    },
    {
      name: 'scatterAdd of int32 values, gather of a constant int32 index (fixed batch)',
      model: (v, i) => {
        const at = tensor([[2, 0, 2]], { dtype: 'int32' });
        return [scatterAdd(v, i, 1, [2, 4]), gather(v, 1, at.expand([2, 3]))];
      },
      shapes: [
        [2, 3],
        [2, 3],
      ],
      dtypes: ['int32', 'int32'],
      values: [fc.integer({ min: -50, max: 50 }), positions(4)],
    },
  ];
  for (const c of cases) it(c.name, async () => void (await verify(c)));

  it('argmax and argmin pick the first NaN, as tapegrad does (ONNX ArgMax alone skips NaN)', async () => {
    const N = Number.NaN;
    const x = tensor([
      [1, N, 3, 0],
      [N, 2, N, -1],
      [4, 4, -2, -2],
      [0, 5, 2, N],
    ]);
    const fn = (t: Tensor) => [argmax(t, 1), argmin(t, 1), argmax(t, 0, true), argmin(t, 0, true)];
    const want = tidy(() => fn(x).map((r) => [...r.dataSync()]));
    // tapegrad's convention, spelled out: the first NaN along the axis wins both ways
    expect(want[0]).toEqual([1, 0, 0, 3]);
    expect(want[1]).toEqual([1, 0, 2, 3]);
    const bytes = await exportOnnx(fn, x, { batchAxis: 0 });
    const session = await ort.InferenceSession.create(bytes);
    const got = await session.run({ input: new ort.Tensor('float32', x.dataSync() as Float32Array, [4, 4]) });
    const outs = decode(bytes).graph.output.map((o) => [...(got[o.name!]!.data as Int32Array)]);
    expect(outs).toEqual(want);
    x.dispose();
    await session.release();
  });
});

describe('exportOnnx: convolution and pooling as ONNX Conv, MaxPool, AveragePool', () => {
  manualSeed(5);
  const w = randn([6, 2, 3, 2]);
  const wg = randn([6, 1, 3, 3]);
  const b = randn([6]);
  afterAll(() => [w, wg, b].forEach((t) => t.dispose()));
  const cases: Case[] = [
    {
      name: 'conv2d with stride, padding, dilation, bias, and groups',
      model: (x) => [
        conv2d(x, w, b, { stride: [2, 1], padding: [1, 2], dilation: [1, 2] }),
        conv2d(x, w),
        conv2d(x.slice([0, 0, 0, 0], [x.shape[0]!, 1, 7, 6]).expand([-1, 2, -1, -1]), w, null, {
          padding: 1,
        }),
      ],
      shapes: [['B', 2, 7, 6]],
      expectOps: ['Conv'],
      absentOps: ['Gather', 'MatMul', 'Gemm'],
      tol: 1e-4,
    },
    {
      name: 'grouped and depthwise conv2d',
      model: (x) => [
        conv2d(x, w.slice([0, 0, 0, 0], [6, 1, 3, 2]), b, { groups: 2 }),
        conv2d(x.slice([0, 0, 0, 0], [x.shape[0]!, 1, 7, 6]).expand([-1, 6, -1, -1]), wg, b, {
          groups: 6,
          padding: 1,
        }),
      ],
      shapes: [['B', 2, 7, 6]],
      expectOps: ['Conv'],
      absentOps: ['Gather'],
      tol: 1e-4,
    },
    {
      name: 'maxPool2d with padding, stride and dilation',
      model: (x) => [
        maxPool2d(x, 2),
        maxPool2d(x, [3, 2], { stride: [2, 1], padding: [1, 1], dilation: [1, 2] }),
        maxPool2d(x.neg(), 3, { stride: 1, padding: 1 }),
      ],
      shapes: [['B', 2, 7, 6]],
      values: quarters,
      expectOps: ['MaxPool'],
      absentOps: ['Gather', 'ReduceMax'],
    },
    {
      name: 'avgPool2d, padding counted in the divisor or not',
      model: (x) => [
        avgPool2d(x, 2),
        avgPool2d(x, 3, { stride: 2, padding: 1 }),
        avgPool2d(x, [3, 2], { stride: 1, padding: [1, 1], countIncludePad: false }),
      ],
      shapes: [['B', 2, 7, 6]],
      expectOps: ['AveragePool'],
      absentOps: ['Gather', 'ReduceSum'],
    },
    {
      // onnxruntime has no float64 Conv or AveragePool: Conv becomes windows and one batched
      // MatMul (the batch kept apart), avgPool2d its primitives; MaxPool takes float64
      name: 'float64 conv2d and pooling, with a dynamic batch',
      model: (x) => {
        const w64 = w.cast('float64');
        return [
          conv2d(x, w64, b.cast('float64'), { padding: [1, 2], stride: [2, 1], dilation: [1, 2] }),
          conv2d(x, w64.slice([0, 0, 0, 0], [6, 1, 3, 2]), null, { groups: 2 }),
          maxPool2d(x, 2, { padding: 1 }),
          avgPool2d(x, 3, { padding: 1, countIncludePad: false }),
        ];
      },
      shapes: [['B', 2, 7, 6]],
      dtype: 'float64',
      expectOps: ['Gather', 'MatMul', 'MaxPool'],
      absentOps: ['Conv', 'AveragePool'],
    },
  ];
  for (const c of cases) it(c.name, async () => void (await verify(c)));
});

/** Export fn at the example input, run it in onnxruntime on the same input, compare; false: skipped. */
async function sameInOrt(fn: (x: Tensor) => Tensor, x: Tensor, what: string, tol = 1e-5): Promise<boolean> {
  // a configuration tapegrad refuses (a kernel wider than the padded input, a window wholly in
  // the padding) is skipped: it has nothing to export
  try {
    tidy(() => void noGrad(() => fn(x)));
  } catch {
    return false;
  }
  const bytes = await exportOnnx(fn, x, { batchAxis: 0 });
  decode(bytes);
  const session = await ort.InferenceSession.create(bytes);
  const got = await session.run({
    input: new ort.Tensor('float32', x.dataSync() as Float32Array, [...x.shape]),
  });
  const want = tidy(() => noGrad(() => fn(x)));
  expect([...got.output!.dims], what).toEqual([...want.shape]);
  close(got.output!.data as Float32Array, want.dataSync(), what, tol, tol);
  want.dispose();
  await session.release();
  return true;
}

describe('exportOnnx: generated window and convolution configurations', () => {
  it('windows and fold over generated shapes, axes, sizes, strides and dilations', async () => {
    // per non-batch axis: extent, and whether it is a window axis with its size, stride, dilation
    const axisArb = fc.record({
      n: fc.integer({ min: 1, max: 7 }),
      win: fc.boolean(),
      k: fc.integer({ min: 1, max: 3 }),
      s: fc.integer({ min: 1, max: 3 }),
      d: fc.integer({ min: 1, max: 2 }),
    });
    const arb = fc.tuple(fc.integer({ min: 1, max: 3 }), fc.array(axisArb, { minLength: 1, maxLength: 3 }));
    let ran = 0;
    await fc.assert(
      fc.asyncProperty(arb, async ([B, spec]) => {
        const ax = spec.map((a) => ({ ...a, k: Math.min(a.k, Math.floor((a.n - 1) / a.d) + 1) }));
        const axes = ax.flatMap((a, i) => (a.win ? [i + 1] : []));
        if (axes.length === 0) return;
        const w = ax.filter((a) => a.win);
        const opts = { stride: w.map((a) => a.s), dilation: w.map((a) => a.d) };
        const size = w.map((a) => a.k);
        const x = randn([B, ...ax.map((a) => a.n)]);
        const what = `x ${fmtDims(x.shape)}, axes [${axes}], size [${size}], stride [${opts.stride}], dilation [${opts.dilation}]`;
        if (await sameInOrt((t) => windows(t, axes, size, opts), x, `windows: ${what}`)) ran++;
        // fold of the windows of x: every element times the number of windows that read it
        await sameInOrt(
          (t) => windows(t, axes, size, opts).fold([...t.shape], axes, size, opts),
          x,
          `fold: ${what}`,
        );
        x.dispose();
      }),
      { numRuns: 25, seed: 7 },
    );
    expect(ran, 'configurations exported').toBeGreaterThan(12);
  });

  it('conv2d, maxPool2d, avgPool2d over generated channels, groups, kernels, strides, padding, dilation', async () => {
    const arb = fc.record({
      B: fc.integer({ min: 1, max: 3 }),
      groups: fc.integer({ min: 1, max: 3 }),
      cg: fc.integer({ min: 1, max: 2 }),
      og: fc.integer({ min: 1, max: 2 }),
      H: fc.integer({ min: 4, max: 8 }),
      W: fc.integer({ min: 4, max: 8 }),
      k: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
      s: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
      p: fc.tuple(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: 1 })),
      d: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
      bias: fc.boolean(),
      countIncludePad: fc.boolean(),
    });
    let [ran, ranPool] = [0, 0];
    await fc.assert(
      fc.asyncProperty(arb, async (c) => {
        const C = c.groups * c.cg;
        const x = randn([c.B, C, c.H, c.W]);
        const w = randn([c.groups * c.og, c.cg, ...c.k]);
        const b = c.bias ? randn([c.groups * c.og]) : null;
        const what = JSON.stringify(c);
        const convRan = await sameInOrt(
          (t) => conv2d(t, w, b, { stride: c.s, padding: c.p, dilation: c.d, groups: c.groups }),
          x,
          `conv2d ${what}`,
          1e-4,
        );
        if (convRan) ran++;
        // pooling pads at most half the kernel
        const pp = c.p.map((p, i) => Math.min(p, Math.floor(c.k[i]! / 2))) as [number, number];
        if (await sameInOrt((t) => maxPool2d(t, c.k, { stride: c.s, padding: pp, dilation: c.d }), x, `maxPool2d ${what}`))
          ranPool++;
        await sameInOrt(
          (t) => avgPool2d(t, c.k, { stride: c.s, padding: pp, countIncludePad: c.countIncludePad }),
          x,
          `avgPool2d ${what}`,
        );
        [x, w, ...(b ? [b] : [])].forEach((t) => t.dispose());
      }),
      { numRuns: 25, seed: 11 },
    );
    expect(ran, 'conv2d configurations exported').toBeGreaterThan(12);
    expect(ranPool, 'maxPool2d configurations exported').toBeGreaterThan(12);
  });
});

const fmtDims = (s: readonly number[]) => `[${s.join(',')}]`;

describe('exportOnnx: the nn layers in evaluation mode', () => {
  it('Conv2d, BatchNorm2d, MaxPool2d, AvgPool2d, Dropout, Flatten, BatchNorm1d, LayerNorm', async () => {
    manualSeed(3);
    const net = new Sequential(
      new Conv2d(2, 4, 3, { padding: 1 }),
      new BatchNorm2d(4),
      new ReLU(),
      new MaxPool2d(2),
      new Dropout(0.5),
      new AvgPool2d(2, { stride: 1 }),
      new Flatten(),
      new Linear(4 * 2 * 2, 6),
      new BatchNorm1d(6),
      new Dropout(0.3),
      new LayerNorm(6),
      new Linear(6, 3),
    );
    // a few training-mode forwards move BatchNorm's running statistics off 0 and 1
    net.train();
    for (let i = 0; i < 3; i++) tidy(() => void noGrad(() => net.forward(randn([5, 2, 6, 6]).mul(2).add(1))));
    net.eval();
    const model = await verify({
      name: 'layers',
      model: net,
      shapes: [['B', 2, 6, 6]],
      expectOps: ['Conv', 'BatchNormalization', 'MaxPool', 'AveragePool', 'Gemm'],
      absentOps: ['RandomUniform', 'RandomUniformLike'],
      tol: 1e-4,
    });
    // both BatchNorms, eval mode, are one node each
    expect(model.graph.node.filter((n) => n.opType === 'BatchNormalization')).toHaveLength(2);
    const inits = model.graph.initializer.map((t) => t.name);
    for (const n of ['0.weight', '1.running_mean', '1.running_var', '8.running_var', '10.weight'])
      expect(inits).toContain(n);
    // a buffer the forward does not read is left out (onnxruntime would warn and drop it)
    expect(inits).not.toContain('1.num_batches_tracked');
    // exported in eval mode, left in the mode it was in
    expect(net.training).toBe(false);
    [...net.parameters(), ...net.buffers()].forEach((t) => t.dispose());
  });

  it('Embedding: a batch of single indices, of sequences (flattened to batch·T rows and back), and fixed', async () => {
    manualSeed(4);
    const emb = new Embedding(7, 3);
    await verify({
      name: 'embedding 1-D',
      model: emb,
      shapes: [['B']],
      dtypes: ['int32'],
      values: positions(7),
      expectOps: ['GatherElements'],
    });
    const model = await verify({
      name: 'embedding of sequences',
      model: emb,
      shapes: [['B', 5]],
      dtypes: ['int32'],
      values: positions(7),
    });
    const dims = model.graph.output[0]!.type.tensorType.shape.dim;
    expect(dims.map((d) => d.dimParam || d.dimValue)).toEqual(['batch', 5, 3]);
    await verify({
      name: 'embedding, fixed batch',
      model: emb,
      shapes: [[2, 5]],
      dtypes: ['int32'],
      values: positions(7),
    });
    emb.weight.dispose();
  });
});

describe('exportOnnx: the digit convnet', () => {
  it('exports with a dynamic batch and matches tapegrad in onnxruntime on generated batches', async () => {
    manualSeed(11);
    // the example's net as it trains (random shifts first, identity in eval mode), in eval mode
    const net = makeNet('lenet', 'cpu');
    net.eval();
    const model = await verify(
      {
        name: 'digit convnet',
        model: net,
        shapes: [['B', 1, 28, 28]],
        // pixels in [0, 1], as the digits the net is trained on
        values: fc.integer({ min: 0, max: 255 }).map((v) => v / 255),
        expectOps: ['Conv', 'Relu', 'MaxPool', 'Flatten', 'Gemm'],
        absentOps: ['Gather', 'MatMul', 'ReduceMax'],
        tol: 1e-4,
      },
      6,
    );
    const inits = model.graph.initializer.map((t) => t.name);
    expect(inits).toEqual(expect.arrayContaining(['1.weight', '1.bias', '4.weight', '8.weight', '10.bias']));
    expect(model.graph.node.filter((n) => n.opType === 'Conv')).toHaveLength(2);
    expect(model.graph.node.filter((n) => n.opType === 'MaxPool')).toHaveLength(2);
    expect(model.graph.output[0]!.type.tensorType.shape.dim.map((d) => d.dimParam || d.dimValue)).toEqual(['batch', 10]);
    net.parameters().forEach((t) => t.dispose());
  });
});

describe('exportOnnx: errors leave everything as it was', () => {
  const x = tensor([
    [1, 2, 3, 4],
    [5, 6, 7, 8],
    [9, 10, 11, 12],
  ]);
  afterAll(() => x.dispose());

  it('an op without a mapping is named', async () => {
    const saved = ONNX_OPS.sin;
    delete ONNX_OPS.sin;
    const before = memory().tensors;
    try {
      await expect(exportOnnx((t) => t.sin().add(1), x)).rejects.toThrow(
        /op 'sin' \(output \[3,4\] float32\) has no ONNX mapping/,
      );
    } finally {
      ONNX_OPS.sin = saved;
    }
    expect(memory().tensors).toBe(before);
    // the trace was switched off: a second export works
    await expect(exportOnnx((t) => t.sin(), x)).resolves.toBeInstanceOf(Uint8Array);
  });

  it('ops that would freeze the example batch size into the model are refused', async () => {
    const before = memory().tensors;
    const opts = { batchAxis: 0 };
    await expect(exportOnnx((t) => t.reshape([4, 3]), x, opts)).rejects.toThrow(
      /reshape from \[3,4\] to \[4,3\] splits the batch axis 0 or moves it behind another axis/,
    );
    await expect(exportOnnx((t) => t.reshape([3, 2, 2]).reshape([2, 3, 2]), x, opts)).rejects.toThrow(
      /reshape from \[3,2,2\] to \[2,3,2\] splits the batch axis 0/,
    );
    // at batch 3, [3, 6] → [6, 3] may be [B, 6] → [6, B]: the batch takes part of an axis
    // it was not merged with; writing [−1, 3] would give [B·2, 3] at other batch sizes
    const wide = randn([3, 6]);
    await expect(exportOnnx((t) => t.reshape([t.shape[1]!, t.shape[0]!]), wide, opts)).rejects.toThrow(
      /reshape from \[3,6\] to \[6,3\] splits the batch axis 0 .*split that axis off first/,
    );
    wide.dispose();
    await expect(exportOnnx((t) => t.T.reshape([-1]), x, opts)).rejects.toThrow(
      /reshape from \[4,3\] to \[12\] splits the batch axis 1/,
    );
    await expect(exportOnnx((t) => t.mean(0), x, opts)).rejects.toThrow(
      /sum reduces over the batch axis 0/,
    );
    const fixed = zeros([3, 4]);
    await expect(exportOnnx((t) => t.add(fixed), x, opts)).rejects.toThrow(
      /add broadcasts a fixed tensor of shape \[3,4\] along the batch axis 0/,
    );
    await expect(exportOnnx((t) => concat([t, t], 0), x, opts)).rejects.toThrow(
      /concat joins along the batch axis 0/,
    );
    await expect(exportOnnx((t) => t.pad([[1, 0]]), x, opts)).rejects.toThrow(
      /pad pads the batch axis 0/,
    );
    await expect(exportOnnx((t) => t.T.matmul(t), x, opts)).rejects.toThrow(
      /matmul contracts over the batch axis/,
    );
    fixed.dispose();
    expect(memory().tensors).toBe(before);
    // the same functions export with a fixed batch
    await expect(exportOnnx((t) => t.reshape([4, 3]), x)).resolves.toBeInstanceOf(Uint8Array);
  });

  it('bad arguments are named; a module keeps its training mode', async () => {
    const net = new Sequential(new Linear(4, 2), new ReLU());
    net.train();
    await expect(exportOnnx(net, [x, x])).rejects.toThrow(
      /a Module's forward takes one input, got 2/,
    );
    const narrow = tensor([[1, 2, 3]]);
    await expect(exportOnnx(net, narrow)).rejects.toThrow(
      /Linear\(4→2\): expected input \[\.\.\., 4\], got \[1, 3\]/,
    );
    expect(net.training && net.at(0).training).toBe(true);
    await exportOnnx(net, x);
    expect(net.at(1).training).toBe(true);
    await expect(exportOnnx((t) => t, x, { batchAxis: 2 })).rejects.toThrow(
      /batchAxis 2 is out of range for example input 0 of shape \[3,4\]/,
    );
    await expect(exportOnnx((t) => t, x, { inputNames: ['a', 'b'] })).rejects.toThrow(
      /2 input names for 1 example inputs/,
    );
    await expect(exportOnnx(net, x, { outputNames: ['0.weight'] })).rejects.toThrow(
      /output name '0.weight' is already the name of an input or parameter/,
    );
    await expect(exportOnnx((() => 3) as unknown as Fn, x)).rejects.toThrow(
      /must return a tensor or an array of tensors, got number/,
    );
    const gone = tensor([1]);
    gone.dispose();
    await expect(exportOnnx((t) => t, gone)).rejects.toThrow(
      /example input 0 of shape \[1\] was disposed/,
    );
    [...net.parameters(), narrow].forEach((t) => t.dispose());
  });
});

describe.skipIf(!WEBGPU.available)('exportOnnx on WebGPU', () => {
  it('a net on WebGPU exports the same model as on the CPU (parameters read asynchronously)', async () => {
    const make = (device: 'cpu' | 'webgpu') => {
      manualSeed(21);
      return new Sequential(
        new Linear(3, 6, { device }),
        new Tanh(),
        new Linear(6, 2, { device }),
        new Softplus(),
      );
    };
    const [cpu, gpu] = [make('cpu'), make('webgpu')];
    const x = tensor([
      [1, -2, 0.5],
      [0, 3, -1],
    ]);
    const a = await exportOnnx(cpu, x, { batchAxis: 0 });
    const xg = x.to('webgpu');
    const b = await exportOnnx(gpu, xg, { batchAxis: 0 });
    expect(Buffer.from(b).equals(Buffer.from(a))).toBe(true);
    const s = await ort.InferenceSession.create(b);
    const r = await s.run({
      input: new ort.Tensor('float32', x.dataSync() as Float32Array, [2, 3]),
    });
    const want = tidy(() => noGrad(() => gpu.forward(xg)));
    close(r.output!.data as Float32Array, await want.data(), 'webgpu net');
    for (const t of [x, xg, want, ...cpu.parameters(), ...gpu.parameters()]) t.dispose();
  });
});

describe('exportOnnx: coverage', () => {
  const all: OpName[] = [
    ...UNARY_OPS,
    ...BINARY_OPS,
    ...REDUCE_OPS,
    ...MOVEMENT_OPS,
    ...OTHER_OPS,
    ...INDEX_OPS,
    ...FUSED_OPS,
  ];
  it('every primitive op and every call written as one node has a mapping, and the tests above ran each one through onnxruntime', () => {
    expect(all.filter((op) => !ONNX_OPS[op])).toEqual([]);
    const mapped = [...all, ...Object.keys(ONNX_CALLS)];
    expect(mapped.filter((op) => !exercised.has(op))).toEqual([]);
  });

  it('Flatten with the batch on axis 1 is one Flatten node, right at other batch sizes', async () => {
    const x = randn([3, 2, 4, 5]);
    const fn = (t: Tensor) => new Flatten().forward(t.transpose(0, 1)).mul(2); // [2, B, 4, 5] → [2, B·20]
    const bytes = await exportOnnx(fn, x, { batchAxis: 0 });
    expect(decode(bytes).graph.node.map((n) => n.opType)).toContain('Flatten');
    const session = await ort.InferenceSession.create(bytes);
    for (const b of [1, 3, 5]) {
      const xb = randn([b, 2, 4, 5]);
      const got = (await session.run({ input: new ort.Tensor('float32', xb.dataSync() as Float32Array, [b, 2, 4, 5]) })).output!;
      const want = tidy(() => fn(xb));
      expect([...got.dims]).toEqual([2, b * 20]);
      close(got.data as Float32Array, want.dataSync(), `flatten at batch ${b}`);
      [xb, want].forEach((t) => t.dispose());
    }
    await session.release();
    x.dispose();
  });

  it('a tensor the graph reads that was assigned to is refused, by name, leaving nothing behind', async () => {
    const x = randn([3, 4]);
    const before = memory().tensors;
    await expect(
      exportOnnx((t) => {
        const y = t.softmax(1);
        y.assign(zeros([3, 4]));
        return y.add(1);
      }, x),
    ).rejects.toThrow(/the result of 'div' \(\[3,4\]\) was assigned to after it was computed; ONNX has no in-place write/);
    await expect(
      exportOnnx((t) => {
        const y = t.mul(2);
        t.assign(t.neg());
        return y.add(t);
      }, x),
    ).rejects.toThrow(/input 'input' \(\[3,4\]\) was assigned to during the forward/);
    expect(memory().tensors).toBe(before);
    x.dispose();
  });

  it('composite calls are remembered only while an export traces (training keeps no call inputs alive)', async () => {
    const x = randn([2, 3]);
    const y = x.softmax(1);
    expect(convCallOf(y)).toBeUndefined();
    let inside: ReturnType<typeof convCallOf>;
    await exportOnnx((t) => {
      const s = t.softmax(1);
      inside = convCallOf(s);
      return s;
    }, x);
    expect(inside!).toMatchObject({ op: 'softmax', attrs: { axis: 1 } });
    [x, y].forEach((t) => t.dispose());
  });

  it('the new mappings refuse to freeze the example batch, by name, and leak nothing', async () => {
    const x = randn([3, 2, 6, 6]);
    const w = randn([2, 2, 3, 3]);
    const idx = tensor([[0, 1, 1]], { dtype: 'int32' });
    const models: [RegExp, (t: Tensor) => Tensor][] = [
      [/windows slides windows along the batch axis 0/, (t) => windows(t, [0, 2], [2, 2])],
      [/fold folds windows along the batch axis 0/, (t) => fold(t.unsqueeze(4).expand([-1, -1, -1, -1, 2]), [4, 2, 6, 6], [0], [2])],
      [/gather reads a batched tensor \(batch axis 0\) at a fixed index/, (t) => gather(t, 3, zeros([3, 2, 6, 1]).cast('int32'))],
      [/scatterAdd has values and index batched differently/, (t) => scatterAdd(t.reshape([3, 72]).slice([0, 0], [3, 3]), idx.expand([3, 3]), 1, [3, 4])],
      [/conv2d has the batch on axis 1 of x/, (t) => conv2d(t.transpose(0, 1), w.slice([0, 0, 0, 0], [2, 1, 3, 3]).expand([2, 3, 3, 3]))],
      [/maxPool2d has a batched weight|maxPool2d has the batch on axis 1/, (t) => maxPool2d(t.transpose(0, 1), 2)],
      [/flatten merges the batch axis 2 of \[2,6,3,6\] behind the fixed axes before it/, (t) => new Flatten().forward(t.permute([1, 2, 0, 3]))],
    ];
    for (const [msg, fn] of models) {
      const before = memory().tensors;
      await expect(exportOnnx(fn, x, { batchAxis: 0 })).rejects.toThrow(msg);
      expect(memory().tensors).toBe(before);
    }
    [x, w, idx].forEach((t) => t.dispose());
  });
});
