// One adapter per library: the handful of operations the cases need, each written with the
// library's own public ops. Loaded lazily, so a child process only ever holds one library.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** dist/index.js as a URL, or a clear error when the package has not been built. */
function distEntry(): string {
  const file = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'index.js');
  if (!existsSync(file)) throw new Error(`bench: ${file} is missing; run \`npm run build\` (npm run bench does)`);
  return pathToFileURL(file).href;
}

export type Impl = 'tapegrad' | 'tapegrad-js' | 'tapegrad-wasm1' | 'tfjs-cpu' | 'tfjs-wasm' | 'jax-js';

/** A dense layer stack: weights [in, out] and biases [out] per layer, ReLU between layers. */
export interface NetSpec {
  sizes: number[];
  weights: Float32Array[];
  biases: Float32Array[];
  x: Float32Array;
  y: Float32Array;
  batch: number;
  lr: number;
}

/**
 * The digit example's convnet (examples/digits-run.ts, without its dropout): conv 1→16 5×5, relu,
 * max-pool 2, conv 16→32 5×5, relu, max-pool 2, flatten (C, H, W order) → 512, linear → 128,
 * relu, linear → 10, softmax cross-entropy against one-hot targets (mean over the batch).
 * Weights in PyTorch's layouts (conv OIHW, linear [in, out]); x is NCHW [batch, 1, 28, 28].
 */
export interface ConvNetSpec {
  conv: { w: Float32Array; b: Float32Array; shape: [number, number, number, number] }[];
  dense: { w: Float32Array; b: Float32Array; shape: [number, number] }[];
  x: Float32Array;
  /** one-hot targets [batch, 10] */
  y: Float32Array;
  batch: number;
  lr: number;
}

export interface Trainer {
  /** forward + backward + SGD update, nothing read back */
  step(): void;
  /** the MSE loss at the current weights, read back */
  loss(): number;
}

export interface Lib {
  name: Impl;
  /** a tensor from data (row-major) */
  from(data: Float32Array, shape: number[]): unknown;
  read(t: unknown): Float32Array;
  dispose(t: unknown): void;
  /** run fn and free what it made, except the returned tensor */
  tidy<T>(fn: () => T): T;
  matmul(a: unknown, b: unknown): unknown;
  add(a: unknown, b: unknown): unknown;
  mul(a: unknown, b: unknown): unknown;
  relu(x: unknown): unknown;
  sum(x: unknown, axis?: number): unknown;
  trainer(spec: NetSpec): Trainer;
  /** one training step of the digit convnet: forward, backward, SGD on every parameter */
  convnet(spec: ConvNetSpec): Trainer;
  /**
   * conv2d (stride 1, no padding) of x [N, C, H, W] by w [O, C, k, k], then backward of
   * Σ y·cot: returns y [N, O, oH, oW] and dL/dw [O, C, k, k] (dL/dx is computed too, not returned).
   * Inputs and results in NCHW/OIHW whatever the library's own layout (converted outside timing).
   */
  convGrad(x: unknown, w: unknown, cot: unknown): [unknown, unknown];
  /** the inputs of convGrad in the library's layout, from NCHW x, OIHW w and NCHW cot */
  convInputs(x: Float32Array, xs: number[], w: Float32Array, ws: number[], cot: Float32Array, cs: number[]): unknown[];
  /** NCHW values of a convGrad result (y, or dw when `weight`) */
  convRead(t: unknown, weight: boolean): Float32Array;
  /** 2×2 max pooling (stride 2) of x, then backward of Σ y·cot: returns y; inputs as convInputs */
  poolGrad(x: unknown, cot: unknown): unknown;
}

/**
 * A library by name. Ours is the built package (dist/, what `import 'tapegrad'` gives users; `npm
 * run bench` builds it first); `fromSource` loads src/ through tsx instead (kernel-times.ts wraps
 * the source backend's kernels). Through tsx every cross-module call pays for an export getter and
 * every closure for a name helper, which made small kernels measure up to 2x slower than built.
 */
export async function load(impl: Impl, fromSource = false): Promise<Lib> {
  if (impl.startsWith('tapegrad')) return loadOurs(impl, fromSource);
  if (impl === 'jax-js') return loadJax();
  return loadTfjs(impl);
}

async function loadOurs(impl: Impl, fromSource: boolean): Promise<Lib> {
  const tg: typeof import('../src/index') = fromSource ? await import('../src/index') : await import(distEntry());
  // plain SGD on the tape, as both peers' rows step: p ← p − lr·∂loss/∂p, gradients cleared
  const sgdTrainer = (forward: () => ReturnType<typeof tg.tensor>, params: ReturnType<typeof tg.tensor>[], lr: number): Trainer => ({
    step() {
      tg.tidy(() => {
        forward().backward();
        tg.noGrad(() => {
          for (const p of params) {
            p.assign(p.sub(p.grad!.mul(lr)));
            p.zeroGrad();
          }
        });
      });
    },
    loss: () => tg.tidy(() => tg.noGrad(() => forward().item())),
  });
  if (impl === 'tapegrad-js') tg.configureCpu({ wasm: false, threads: 1 });
  if (impl === 'tapegrad-wasm1') tg.configureCpu({ wasm: true, threads: 1 });
  type T = InstanceType<typeof tg.Tensor>;
  return {
    name: impl,
    from: (data, shape) => tg.tensor(data, { shape }),
    read: (t) => (t as T).dataSync() as Float32Array,
    dispose: (t) => (t as T).dispose(),
    tidy: (fn) => tg.tidy(fn),
    matmul: (a, b) => (a as T).matmul(b as T),
    add: (a, b) => (a as T).add(b as T),
    mul: (a, b) => (a as T).mul(b as T),
    relu: (x) => (x as T).relu(),
    sum: (x, axis) => (x as T).sum(axis),
    convInputs: (x, xs, w, ws, cot, cs) => [
      tg.tensor(x, { shape: xs, requiresGrad: true }),
      tg.tensor(w, { shape: ws, requiresGrad: true }),
      tg.tensor(cot, { shape: cs }),
    ],
    convGrad(x, w, cot) {
      const [X, W] = [x as T, w as T];
      const y = tg.tidy(() => {
        const y = X.conv2d(W);
        y.mul(cot as T).sum().backward();
        return y;
      });
      const dw = W.grad!;
      W.grad = null;
      X.zeroGrad();
      return [y, dw];
    },
    convRead: (t) => (t as T).dataSync() as Float32Array,
    poolGrad(x, cot) {
      const X = x as T;
      const y = tg.tidy(() => {
        const y = X.maxPool2d(2);
        y.mul(cot as T).sum().backward();
        return y;
      });
      X.zeroGrad();
      return y;
    },
    convnet(spec) {
      const conv = spec.conv.map((c) => [tg.tensor(c.w, { shape: c.shape, requiresGrad: true }), tg.tensor(c.b, { shape: [c.shape[0]], requiresGrad: true })] as const);
      const dense = spec.dense.map((d) => [tg.tensor(d.w, { shape: d.shape, requiresGrad: true }), tg.tensor(d.b, { shape: [d.shape[1]], requiresGrad: true })] as const);
      const x = tg.tensor(spec.x, { shape: [spec.batch, 1, 28, 28] });
      const y = tg.tensor(spec.y, { shape: [spec.batch, 10] });
      const params = [...conv, ...dense].flat();
      // what the example's Conv2d, ReLU, MaxPool2d, Flatten, Linear and CrossEntropy layers run
      const forward = () => {
        let h = x;
        for (const [w, b] of conv) h = h.conv2d(w, b).relu().maxPool2d(2);
        h = h.reshape([spec.batch, -1]);
        dense.forEach(([w, b], l) => {
          h = h.linear(w, b);
          if (l < dense.length - 1) h = h.relu();
        });
        return tg.crossEntropyLoss(h, y);
      };
      return sgdTrainer(forward, params, spec.lr);
    },
    trainer(spec) {
      const W = spec.weights.map((w, i) => tg.tensor(w, { shape: [spec.sizes[i]!, spec.sizes[i + 1]!], requiresGrad: true }));
      const b = spec.biases.map((v) => tg.tensor(v, { shape: [v.length], requiresGrad: true }));
      const x = tg.tensor(spec.x, { shape: [spec.batch, spec.sizes[0]!] });
      const y = tg.tensor(spec.y, { shape: [spec.batch, spec.sizes[spec.sizes.length - 1]!] });
      const params = [...W, ...b];
      // the fused ops nn.Linear and MSE use (x @ W + b in one op, the mean squared error in one)
      const forward = () => {
        let h = x;
        for (let l = 0; l < W.length; l++) {
          h = h.linear(W[l]!, b[l]!);
          if (l < W.length - 1) h = h.relu();
        }
        return h.mse(y);
      };
      return sgdTrainer(forward, params, spec.lr);
    },
  };
}

async function loadTfjs(impl: Impl): Promise<Lib> {
  // tfjs greets Node users on stdout, which carries our results: silence it while it loads
  const log = console.log;
  console.log = () => {};
  const tf = await import('@tensorflow/tfjs');
  if (impl === 'tfjs-wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const require = createRequire(import.meta.url);
    const dir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
    wasm.setWasmPaths(path.join(dir, 'dist') + path.sep);
    await tf.setBackend('wasm');
  } else {
    await tf.setBackend('cpu');
  }
  await tf.ready();
  console.log = log;
  if (tf.getBackend() !== impl.slice(5)) throw new Error(`tfjs backend is ${tf.getBackend()}, wanted ${impl}`);
  type T = import('@tensorflow/tfjs').Tensor;
  type T4 = import('@tensorflow/tfjs').Tensor4D;
  // the wasm backend has no Conv2DBackpropFilter: there a valid, stride-1 conv of NHWC x by HWIO
  // w runs as a conv3d of depth 1 (Conv3DBackpropFilterV2 and Conv3DBackpropInputV2 are there)
  const conv3dOfDepth1 = (x: T4, w: T4): T4 => {
    const [n, hh, ww, c] = x.shape;
    const y3 = tf.conv3d(x.reshape([n, 1, hh, ww, c]) as import('@tensorflow/tfjs').Tensor5D, w.reshape([1, ...w.shape]) as import('@tensorflow/tfjs').Tensor5D, 1, 'valid');
    return y3.reshape([n, y3.shape[2], y3.shape[3], w.shape[3]]);
  };
  // plain SGD through tfjs's own gradients, as our rows step
  const sgdTrainer = (forward: () => import('@tensorflow/tfjs').Scalar, params: import('@tensorflow/tfjs').Variable[], lr: number): Trainer => ({
    step() {
      tf.tidy(() => {
        const { grads } = tf.variableGrads(forward, params);
        for (const p of params) p.assign(tf.sub(p, tf.mul(grads[p.name]!, lr)));
      });
    },
    loss: () => tf.tidy(() => forward().dataSync()[0]!),
  });
  return {
    name: impl,
    from: (data, shape) => tf.tensor(data, shape, 'float32'),
    read: (t) => (t as T).dataSync() as Float32Array,
    dispose: (t) => (t as T).dispose(),
    tidy: (fn) => tf.tidy(fn as () => T) as never,
    matmul: (a, b) => tf.matMul(a as T, b as T),
    add: (a, b) => tf.add(a as T, b as T),
    mul: (a, b) => tf.mul(a as T, b as T),
    relu: (x) => tf.relu(x as T),
    sum: (x, axis) => tf.sum(x as T, axis),
    // tfjs convolves NHWC inputs with HWIO filters: the data is transposed before timing
    convInputs: (x, xs, w, ws, cot, cs) => [
      tf.transpose(tf.tensor(x, xs), [0, 2, 3, 1]),
      tf.transpose(tf.tensor(w, ws), [2, 3, 1, 0]),
      tf.transpose(tf.tensor(cot, cs), [0, 2, 3, 1]),
    ],
    convGrad(x, w, cot) {
      const conv = (a: T4, b: T4) => (impl === 'tfjs-wasm' ? conv3dOfDepth1(a, b) : tf.conv2d(a, b, 1, 'valid'));
      let y: T | null = null;
      const dw = tf.tidy(() => {
        const f = (a: T, b: T) => {
          const out = conv(a as T4, b as T4);
          y = tf.keep(out.clone());
          return tf.sum(tf.mul(out, cot as T));
        };
        const [, gw] = tf.grads(f)([x as T, w as T]);
        return gw!;
      });
      return [y!, dw];
    },
    convRead: (t, weight) => tf.tidy(() => tf.transpose(t as T, weight ? [3, 2, 0, 1] : [0, 3, 1, 2]).dataSync() as Float32Array),
    poolGrad(x, cot) {
      let y: T | null = null;
      tf.tidy(() => {
        const f = (a: T) => {
          const out = tf.maxPool(a as import('@tensorflow/tfjs').Tensor4D, 2, 2, 'valid');
          y = tf.keep(out.clone());
          return tf.sum(tf.mul(out, cot as T));
        };
        tf.grads(f)([x as T]);
      });
      return y!;
    },
    convnet(spec) {
      type T2 = import('@tensorflow/tfjs').Tensor2D;
      // NHWC data, HWIO filters; the first dense layer's rows reordered from our (C, H, W) flatten
      // order to tfjs's (H, W, C), so both compute the same function of the same weights
      const conv = spec.conv.map((c) => ({
        w: tf.variable(tf.tidy(() => tf.transpose(tf.tensor4d(c.w, c.shape), [2, 3, 1, 0]))),
        b: tf.variable(tf.tensor1d(c.b)),
      }));
      const last = spec.conv[spec.conv.length - 1]!.shape[0];
      const dense = spec.dense.map((d, l) => {
        let w = d.w;
        if (l === 0) {
          const side = Math.round(Math.sqrt(d.shape[0] / last));
          w = new Float32Array(d.w.length);
          for (let c = 0; c < last; c++)
            for (let p = 0; p < side * side; p++) w.set(d.w.subarray((c * side * side + p) * d.shape[1], (c * side * side + p + 1) * d.shape[1]), (p * last + c) * d.shape[1]);
        }
        return { w: tf.variable(tf.tensor2d(w, d.shape)), b: tf.variable(tf.tensor1d(d.b)) };
      });
      const x = tf.tidy(() => tf.transpose(tf.tensor4d(spec.x, [spec.batch, 1, 28, 28]), [0, 2, 3, 1]));
      const y = tf.tensor2d(spec.y, [spec.batch, 10]);
      const params = [...conv, ...dense].flatMap((p) => [p.w, p.b]);
      // on wasm each conv runs as conv3dOfDepth1, with the bias and relu apart
      const asConv3d = impl === 'tfjs-wasm';
      const forward = () => {
        let h: T4 = x as T4;
        for (const { w, b } of conv) {
          if (asConv3d) {
            h = tf.relu(tf.add(conv3dOfDepth1(h, w as T4), b)) as T4;
          } else {
            h = tf.fused.conv2d({ x: h, filter: w as T4, strides: 1, pad: 'valid', bias: b, activation: 'relu' });
          }
          h = tf.maxPool(h, 2, 2, 'valid');
        }
        let z: T2 = h.reshape([spec.batch, -1]);
        dense.forEach(({ w, b }, l) => {
          z = tf.fused.matMul({ a: z, b: w as T2, bias: b, activation: l < dense.length - 1 ? 'relu' : 'linear' }) as T2;
        });
        return tf.losses.softmaxCrossEntropy(y, z) as import('@tensorflow/tfjs').Scalar;
      };
      return sgdTrainer(forward, params, spec.lr);
    },
    trainer(spec) {
      const W = spec.weights.map((w, i) => tf.variable(tf.tensor2d(w, [spec.sizes[i]!, spec.sizes[i + 1]!])));
      const b = spec.biases.map((v) => tf.variable(tf.tensor1d(v)));
      const x = tf.tensor2d(spec.x, [spec.batch, spec.sizes[0]!]);
      const y = tf.tensor2d(spec.y, [spec.batch, spec.sizes[spec.sizes.length - 1]!]);
      const params = [...W, ...b];
      // tfjs's fused ops too: matMul with bias and activation in one op (what its dense layers use)
      const forward = () => {
        let h: T = x;
        for (let l = 0; l < W.length; l++) {
          const activation = l < W.length - 1 ? 'relu' : 'linear';
          h = tf.fused.matMul({ a: h as import('@tensorflow/tfjs').Tensor2D, b: W[l]!, bias: b[l]!, activation });
        }
        return tf.losses.meanSquaredError(y, h) as import('@tensorflow/tfjs').Scalar;
      };
      return sgdTrainer(forward, params, spec.lr);
    },
  };
}

/**
 * jax-js (`@jax-js/jax`) on its WebAssembly backend, the one it has in Node. Its arrays are lazy
 * and reference-counted with move semantics: an op consumes its inputs (`.ref` keeps one), and
 * nothing runs until a result is read. So every timed result is realized here with `dataSync()`,
 * which also copies it out (for 512³ that copy is 1 MB against a product of several ms); the
 * training steps are jax's idiom, one `jit`-compiled function of the parameters that returns the
 * updated ones (value, gradient and SGD together), whose new parameters are realized each step.
 */
async function loadJax(): Promise<Lib> {
  const jax = await import('@jax-js/jax');
  const { numpy: np, lax, nn } = jax;
  await jax.init('wasm');
  jax.defaultDevice('wasm');
  type A = import('@jax-js/jax').Array;
  // every result is realized where it is made (a lazy result that is only disposed never runs);
  // the arrays made since the innermost tidy began are freed at its end
  let made: A[] | null = null;
  const realize = (a: A) => void a.ref.dataSync();
  const track = (a: A): A => (realize(a), made?.push(a), a);
  /** a trainer over a jit-compiled step (params → params after SGD) and a jit-compiled loss */
  const jitTrainer = (params: A[], loss: (ps: A[]) => A, lr: number): Trainer => {
    const step = jax.jit((ps: A[]) => {
      const [l, g] = jax.valueAndGrad(loss)(ps.map((p) => p.ref));
      l.dispose();
      return ps.map((p, i) => p.sub(g[i]!.mul(lr)));
    });
    const lossJ = jax.jit(loss);
    return {
      step() {
        params = step(params) as A[];
        for (const p of params) realize(p);
      },
      loss: () => (lossJ(params.map((p) => p.ref)) as A).dataSync()[0]!,
    };
  };
  const mse = (h: A, y: A) => {
    const d = h.sub(y);
    return d.ref.mul(d).mean();
  };
  const poolMax = (x: A) => lax.reduceWindow(x, (w: A) => np.max(w), [2, 2], [2, 2]);
  return {
    name: 'jax-js',
    from: (data, shape) => np.array(data, { shape }),
    read: (t) => (t as A).ref.dataSync() as Float32Array,
    dispose: (t) => (t as A).dispose(),
    tidy<T>(fn: () => T): T {
      const outer = made;
      made = [];
      try {
        const r = fn();
        for (const a of made) if (a !== (r as unknown)) a.dispose();
        return r;
      } finally {
        made = outer;
      }
    },
    matmul: (a, b) => track(np.matmul((a as A).ref, (b as A).ref)),
    add: (a, b) => track((a as A).ref.add((b as A).ref)),
    mul: (a, b) => track((a as A).ref.mul((b as A).ref)),
    relu: (x) => track(nn.relu((x as A).ref)),
    sum: (x, axis) => track(np.sum((x as A).ref, axis)),
    trainer(spec) {
      const L = spec.weights.length;
      const params = [
        ...spec.weights.map((w, i) => np.array(w, { shape: [spec.sizes[i]!, spec.sizes[i + 1]!] })),
        ...spec.biases.map((v) => np.array(v, { shape: [v.length] })),
      ];
      const x = np.array(spec.x, { shape: [spec.batch, spec.sizes[0]!] });
      const y = np.array(spec.y, { shape: [spec.batch, spec.sizes[L]!] });
      return jitTrainer(params, (ps) => {
        let h = x.ref;
        for (let l = 0; l < L; l++) {
          h = np.matmul(h, ps[l]!).add(ps[L + l]!);
          if (l < L - 1) h = nn.relu(h);
        }
        return mse(h, y.ref);
      }, spec.lr);
    },
    convnet(spec) {
      // NCHW and OIHW, as ours: the same weights as they are
      const params = [
        ...spec.conv.flatMap((c) => [np.array(c.w, { shape: c.shape }), np.array(c.b, { shape: [c.shape[0], 1, 1] })]),
        ...spec.dense.flatMap((d) => [np.array(d.w, { shape: d.shape }), np.array(d.b, { shape: [d.shape[1]] })]),
      ];
      const x = np.array(spec.x, { shape: [spec.batch, 1, 28, 28] });
      const y = np.array(spec.y, { shape: [spec.batch, 10] });
      const C = spec.conv.length;
      const D = spec.dense.length;
      return jitTrainer(params, (ps) => {
        let h = x.ref;
        for (let l = 0; l < C; l++) h = poolMax(nn.relu(lax.conv(h, ps[2 * l]!, [1, 1], 'VALID').add(ps[2 * l + 1]!)));
        let z = h.reshape([spec.batch, -1]);
        for (let l = 0; l < D; l++) {
          z = np.matmul(z, ps[2 * C + 2 * l]!).add(ps[2 * C + 2 * l + 1]!);
          if (l < D - 1) z = nn.relu(z);
        }
        // softmax cross-entropy against one-hot targets, mean over the batch
        return nn.logSoftmax(z, -1).mul(y.ref).sum().mul(-1 / spec.batch);
      }, spec.lr);
    },
    convInputs: (x, xs, w, ws, cot, cs) => [np.array(x, { shape: xs }), np.array(w, { shape: ws }), np.array(cot, { shape: cs })],
    convGrad: (() => {
      const f = jax.jit((x: A, w: A, cot: A) => {
        const y = lax.conv(x.ref, w.ref, [1, 1], 'VALID');
        const [gx, gw] = jax.grad((xw: A[], c: A) => lax.conv(xw[0]!, xw[1]!, [1, 1], 'VALID').mul(c).sum())([x, w], cot) as A[];
        return [y, gw!, gx!];
      });
      return (x: unknown, w: unknown, cot: unknown): [unknown, unknown] => {
        const [y, gw, gx] = f((x as A).ref, (w as A).ref, (cot as A).ref) as A[];
        for (const a of [y!, gw!, gx!]) realize(a);
        gx!.dispose();
        return [y!, gw!];
      };
    })(),
    convRead: (t) => (t as A).ref.dataSync() as Float32Array,
    poolGrad: (() => {
      const f = jax.jit((x: A, cot: A) => {
        const y = poolMax(x.ref);
        const gx = jax.grad((x: A, c: A) => poolMax(x).mul(c).sum())(x, cot) as A;
        return [y, gx];
      });
      return (x: unknown, cot: unknown): unknown => {
        const [y, gx] = f((x as A).ref, (cot as A).ref) as A[];
        realize(y!);
        realize(gx!);
        gx!.dispose();
        return y!;
      };
    })(),
  };
}
