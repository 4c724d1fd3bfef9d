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

export type Impl = 'tapegrad' | 'tapegrad-js' | 'tapegrad-wasm1' | 'tfjs-cpu' | 'tfjs-wasm';

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
  return loadTfjs(impl);
}

async function loadOurs(impl: Impl, fromSource: boolean): Promise<Lib> {
  const tg: typeof import('../src/index') = fromSource ? await import('../src/index') : await import(distEntry());
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
      return {
        step() {
          tg.tidy(() => {
            forward().backward();
            tg.noGrad(() => {
              for (const p of params) {
                p.assign(p.sub(p.grad!.mul(spec.lr)));
                p.zeroGrad();
              }
            });
          });
        },
        loss: () => tg.tidy(() => tg.noGrad(() => forward().item())),
      };
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
      let y: T | null = null;
      const dw = tf.tidy(() => {
        const f = (a: T, b: T) => {
          const out = tf.conv2d(a as import('@tensorflow/tfjs').Tensor4D, b as import('@tensorflow/tfjs').Tensor4D, 1, 'valid');
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
      return {
        step() {
          tf.tidy(() => {
            const { grads } = tf.variableGrads(forward, params);
            for (const p of params) p.assign(tf.sub(p, tf.mul(grads[p.name]!, spec.lr)));
          });
        },
        loss: () => tf.tidy(() => forward().dataSync()[0]!),
      };
    },
  };
}
