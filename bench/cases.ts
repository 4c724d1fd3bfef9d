// The bench cases. Each builds its inputs from seeded data, checks the library's result against a
// float64 reference (or reports a loss that the parent compares across libraries), then times it.
import { checkMatmul, rng, time, uniform, type Timing } from './common';
import type { ConvNetSpec, Lib, NetSpec, Trainer } from './libs';

export interface CaseResult {
  /** the figure reported: bigger is better unless `lowerIsBetter` */
  value: number;
  unit: string;
  lowerIsBetter: boolean;
  timing: Timing;
  /** max relative error against the reference, where the case computes one */
  relError?: number;
  /** losses the parent compares across libraries (same weights, same data) */
  losses?: number[];
}

export interface Case {
  name: string;
  group: 'matmul' | 'elementwise' | 'reduction' | 'convolution' | 'training' | 'overhead';
  /** `expected`: a peer's losses; a training case that disagrees throws before it is timed */
  run(lib: Lib, expected?: number[]): CaseResult;
}

function maxRelError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let worst = 0;
  if (got.length !== want.length) return Infinity;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i]! - want[i]!) / Math.max(1, Math.abs(want[i]!));
    if (!(e <= worst)) worst = e; // NaN counts as worst
  }
  return worst;
}

function matmulCase(n: number): Case {
  return {
    name: `matmul ${n}³ f32`,
    group: 'matmul',
    run(lib) {
      const a = uniform(n * n, 1);
      const b = uniform(n * n, 2);
      const A = lib.from(a, [n, n]);
      const B = lib.from(b, [n, n]);
      const C = lib.matmul(A, B);
      const error = checkMatmul(a, b, lib.read(C), n, n, n);
      lib.dispose(C);
      // Not read back while timed: every library here computes eagerly (tfjs's cpu and wasm
      // backends run the kernel inside matMul), and a fresh copy of the result costs the
      // allocator's page faults, not the product (measured here: 1.7-2.9 ms for 1 MB, 40 µs to
      // copy the same bytes into an existing array; 10-15 µs for 64 KB).
      const timing = time(() => {
        lib.dispose(lib.matmul(A, B));
      }, { budget: n >= 1024 ? 4 : 2, minSamples: n >= 1024 ? 3 : 5 });
      return { value: (2 * n * n * n) / timing.median / 1e9, unit: 'GFLOP/s', lowerIsBetter: false, timing, relError: error };
    },
  };
}

/** out = f(inputs) elementwise, figure in GB/s of float32 moved (each input read once, out written once). */
function elementwiseCase(
  name: string,
  group: Case['group'],
  shapes: number[][],
  op: (lib: Lib, xs: unknown[]) => unknown,
  reference: (xs: Float32Array[]) => Float64Array,
  outSize: number,
): Case {
  return {
    name,
    group,
    run(lib) {
      const data = shapes.map((s, i) => uniform(s.reduce((p, d) => p * d, 1), 10 + i));
      const xs = data.map((d, i) => lib.from(d, shapes[i]!));
      const out = op(lib, xs);
      const error = maxRelError(lib.read(out), reference(data));
      lib.dispose(out);
      const bytes = 4 * (data.reduce((p, d) => p + d.length, 0) + outSize);
      const timing = time(() => lib.dispose(op(lib, xs)));
      return { value: bytes / timing.median / 1e9, unit: 'GB/s', lowerIsBetter: false, timing, relError: error };
    },
  };
}

const M = 1 << 20;

const add = elementwiseCase(
  'add 1M+1M f32', 'elementwise', [[M], [M]], (l, [a, b]) => l.add(a, b),
  ([a, b]) => Float64Array.from(a!, (v, i) => v + b![i]!), M,
);
const biasAdd = elementwiseCase(
  'bias add [1024,1024]+[1024]', 'elementwise', [[1024, 1024], [1024]], (l, [a, b]) => l.add(a, b),
  ([a, b]) => Float64Array.from(a!, (v, i) => v + b![i % 1024]!), M,
);
const relu = elementwiseCase(
  'relu 1M f32', 'elementwise', [[M]], (l, [x]) => l.relu(x),
  ([x]) => Float64Array.from(x!, (v) => Math.max(v, 0)), M,
);
const sumAll = elementwiseCase(
  'sum 1M → scalar', 'reduction', [[M]], (l, [x]) => l.sum(x),
  ([x]) => Float64Array.of(x!.reduce((p, v) => p + v, 0)), 1,
);
const sumCols = elementwiseCase(
  'sum [1024,1024] axis 0', 'reduction', [[1024, 1024]], (l, [x]) => l.sum(x, 0),
  ([x]) => {
    const out = new Float64Array(1024);
    for (let i = 0; i < M; i++) out[i % 1024]! += x![i]!;
    return out;
  }, 1024,
);
const sumRows = elementwiseCase(
  'sum [1024,1024] axis 1', 'reduction', [[1024, 1024]], (l, [x]) => l.sum(x, 1),
  ([x]) => {
    const out = new Float64Array(1024);
    for (let i = 0; i < M; i++) out[i >> 10]! += x![i]!;
    return out;
  }, 1024,
);

/** A net with uniform(±1/√fanIn) weights, and data from `target`. */
function netSpec(sizes: number[], batch: number, lr: number, target: (x: Float32Array, i: number) => number): NetSpec {
  const weights = sizes.slice(0, -1).map((n, l) => uniform(n * sizes[l + 1]!, 100 + l, -1 / Math.sqrt(n), 1 / Math.sqrt(n)));
  const biases = sizes.slice(1).map((n, l) => uniform(n, 200 + l, -0.1, 0.1));
  const x = uniform(batch * sizes[0]!, 300);
  const out = sizes[sizes.length - 1]!;
  const y = new Float32Array(batch * out);
  for (let i = 0; i < y.length; i++) y[i] = target(x, i);
  return { sizes, weights, biases, x, y, batch, lr };
}

function trainCase(name: string, make: (lib: Lib) => Trainer): Case {
  return {
    name,
    group: 'training',
    run(lib, expected) {
      const t = make(lib);
      // losses before and after three steps: every library must agree before it is timed
      const losses = [t.loss()];
      for (let i = 0; i < 3; i++) t.step();
      losses.push(t.loss());
      const close = (l: number, i: number) => Math.abs(l - expected![i]!) <= 1e-4 * Math.max(1, Math.abs(expected![i]!));
      if (expected && !losses.every(close)) {
        throw new Error(`${name}: losses ${JSON.stringify(losses)} differ from the peer's ${JSON.stringify(expected)}`);
      }
      if (!(losses[1]! < losses[0]!)) throw new Error(`${name}: the loss did not decrease: ${JSON.stringify(losses)}`);
      const timing = time(() => t.step(), { budget: 3 });
      return { value: timing.median * 1e3, unit: 'ms/step', lowerIsBetter: true, timing, losses };
    },
  };
}

const mlp = trainCase('train step 784-256-128-10 b128', (lib) => {
  const r = rng(5);
  const labels = Array.from({ length: 128 }, () => Math.floor(r() * 10));
  // one-hot targets of a random labelling
  return lib.trainer(netSpec([784, 256, 128, 10], 128, 0.05, (_x, i) => (labels[Math.floor(i / 10)] === i % 10 ? 1 : 0)));
});

const tiny = trainCase('train step 1-100-1 b100 (tutorial)', (lib) =>
  lib.trainer(netSpec([1, 100, 1], 100, 0.05, (x, i) => Math.sin(3 * x[i]!))),
);

/**
 * The digit example's convnet (see ConvNetSpec), batch 64: weights and biases U(±1/√fan_in) as
 * PyTorch's defaults, inputs in [0, 1) like the digits, a random labelling; SGD with lr 0.05.
 */
function convnetSpec(batch: number): ConvNetSpec {
  const conv = ([[16, 1, 5, 5], [32, 16, 5, 5]] as [number, number, number, number][]).map((shape, l) => {
    const a = 1 / Math.sqrt(shape[1] * shape[2] * shape[3]);
    return { shape, w: uniform(shape.reduce((p, d) => p * d, 1), 400 + l, -a, a), b: uniform(shape[0], 410 + l, -a, a) };
  });
  const dense = ([[512, 128], [128, 10]] as [number, number][]).map((shape, l) => {
    const a = 1 / Math.sqrt(shape[0]);
    return { shape, w: uniform(shape[0] * shape[1], 420 + l, -a, a), b: uniform(shape[1], 430 + l, -a, a) };
  });
  const r = rng(6);
  const y = new Float32Array(batch * 10);
  for (let i = 0; i < batch; i++) y[i * 10 + Math.floor(r() * 10)] = 1;
  return { conv, dense, x: uniform(batch * 784, 440, 0, 1), y, batch, lr: 0.05 };
}

const convnet = trainCase('train step digit convnet b64', (lib) => lib.convnet(convnetSpec(64)));

/** A tiny op (4 + 4 elements) applied 1000 times: the per-op cost of allocation and dispatch. */
const overhead: Case = {
  name: 'tiny op (add [4]+[4])',
  group: 'overhead',
  run(lib) {
    const a = lib.from(Float32Array.of(1, 2, 3, 4), [4]);
    const b = lib.from(Float32Array.of(5, 6, 7, 8), [4]);
    const error = maxRelError(lib.read(lib.add(a, b)), [6, 8, 10, 12]);
    const timing = time(() => {
      lib.tidy(() => {
        for (let i = 0; i < 1000; i++) lib.add(a, b);
        return undefined;
      });
    });
    return { value: (timing.median / 1000) * 1e6, unit: 'µs/op', lowerIsBetter: true, timing, relError: error };
  },
};

/** Naive float64 conv2d (stride 1, valid) of NCHW x by OIHW w: the reference for the conv rows. */
function naiveConv(x: Float32Array, [N, C, H, W]: number[], w: Float32Array, [O, , k]: number[]): Float64Array {
  const oH = H - k + 1;
  const oW = W - k + 1;
  const y = new Float64Array(N * O * oH * oW);
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++)
      for (let c = 0; c < C; c++)
        for (let a = 0; a < k; a++)
          for (let e = 0; e < k; e++) {
            const wv = w[((o * C + c) * k + a) * k + e]!;
            for (let i = 0; i < oH; i++) {
              const yr = ((n * O + o) * oH + i) * oW;
              const xr = ((n * C + c) * H + i + a) * W + e;
              for (let j = 0; j < oW; j++) y[yr + j]! += wv * x[xr + j]!;
            }
          }
  return y;
}

/**
 * conv2d forward + backward (dx and dw) of a batch, k×k, stride 1, valid. Checked before timing:
 * y against the naive loops, and dw against the same loops read as a correlation of x with cot
 * (dw[o, c, a, e] = Σ cot[n, o, i, j]·x[n, c, i + a, j + e]). Figure: ms per forward + backward.
 */
function convCase(n: number, c: number, o: number, hw: number, k: number): Case {
  return {
    name: `conv2d fwd+bwd b${n} ${c}→${o} ${k}×${k} on ${hw}×${hw}`,
    group: 'convolution',
    run(lib) {
      const xs = [n, c, hw, hw];
      const ws = [o, c, k, k];
      const cs = [n, o, hw - k + 1, hw - k + 1];
      const x = uniform(n * c * hw * hw, 21);
      const w = uniform(o * c * k * k, 22, -0.2, 0.2);
      const cot = uniform(cs.reduce((p, d) => p * d, 1), 23);
      const [X, W, COT] = lib.convInputs(x, xs, w, ws, cot, cs);
      const [y, dw] = lib.convGrad(X, W, COT);
      let error = maxRelError(lib.convRead(y, false), naiveConv(x, xs, w, ws));
      // dw: for each (o, c), the correlation of x[:, c] with cot[:, o] (a conv of x by cot, summed over n)
      const want = new Float64Array(o * c * k * k);
      const oh = hw - k + 1;
      for (let b = 0; b < n; b++)
        for (let oo = 0; oo < o; oo++)
          for (let cc = 0; cc < c; cc++)
            for (let a = 0; a < k; a++)
              for (let e = 0; e < k; e++) {
                let s = 0;
                for (let i = 0; i < oh; i++)
                  for (let j = 0; j < oh; j++) s += cot[((b * o + oo) * oh + i) * oh + j]! * x[((b * c + cc) * hw + i + a) * hw + j + e]!;
                want[((oo * c + cc) * k + a) * k + e]! += s;
              }
      // dw sums n·oh² products: compare relative to its scale
      const got = lib.convRead(dw, true);
      const scale = Math.max(...want.map(Math.abs));
      error = Math.max(error, ...Array.from(got, (g, i) => Math.abs(g - want[i]!) / scale));
      lib.dispose(y);
      lib.dispose(dw);
      const timing = time(() => {
        const [a, b] = lib.convGrad(X, W, COT);
        lib.dispose(a);
        lib.dispose(b);
      }, { budget: 3 });
      for (const t of [X, W, COT]) lib.dispose(t);
      return { value: timing.median * 1e3, unit: 'ms', lowerIsBetter: true, timing, relError: error };
    },
  };
}

/** 2×2 max pooling (stride 2) forward + backward, the forward checked against plain loops. */
function poolCase(n: number, c: number, hw: number): Case {
  return {
    name: `maxPool2d 2×2 fwd+bwd b${n}×${c}×${hw}×${hw}`,
    group: 'convolution',
    run(lib) {
      const xs = [n, c, hw, hw];
      const h = hw / 2;
      const cs = [n, c, h, h];
      const x = uniform(n * c * hw * hw, 31);
      const cot = uniform(n * c * h * h, 32);
      const [X, dummy, COT] = lib.convInputs(x, xs, Float32Array.of(0), [1, 1, 1, 1], cot, cs);
      lib.dispose(dummy);
      const y = lib.poolGrad(X, COT);
      const want = new Float64Array(n * c * h * h);
      for (let p = 0; p < n * c; p++)
        for (let i = 0; i < h; i++)
          for (let j = 0; j < h; j++) {
            const at = p * hw * hw + 2 * i * hw + 2 * j;
            want[(p * h + i) * h + j] = Math.max(x[at]!, x[at + 1]!, x[at + hw]!, x[at + hw + 1]!);
          }
      const error = maxRelError(lib.convRead(y, false), want);
      lib.dispose(y);
      const timing = time(() => lib.dispose(lib.poolGrad(X, COT)), { budget: 3 });
      lib.dispose(X);
      lib.dispose(COT);
      return { value: timing.median * 1e3, unit: 'ms', lowerIsBetter: true, timing, relError: error };
    },
  };
}

export const CASES: Case[] = [
  matmulCase(128), matmulCase(256), matmulCase(512), matmulCase(1024),
  add, biasAdd, relu, sumAll, sumCols, sumRows,
  convCase(64, 1, 8, 28, 5), convCase(64, 8, 16, 12, 5), poolCase(64, 16, 24),
  mlp, tiny, convnet, overhead,
];
