// The Trainer: epochs of mini-batch training with seeded shuffling, per-epoch train/validation
// loss and metrics, early stopping, a learning-rate schedule, a divergence guard, callbacks and
// progress. Each batch runs inside tidy, and the running loss is summed on the
// device and read once per epoch, so memory stays flat and no batch waits for a device read.
import { tensor } from '../graph/creation';
import { concat, stack } from '../graph/functional';
import { keep, noGrad, tidy } from '../graph/engine';
import { makeRandom, permutation } from '../graph/random';
import { Tensor } from '../graph/tensor';
import { typedArray, type TypedArray } from '../backends/backend';
import { fmtShape } from '../ops/registry';
import { Loss } from '../nn/losses';
import { accuracy } from '../nn/metrics';
import { Module, type StateDict } from '../nn/module';
import { clipGradNorm } from '../optim/clip';
import { Optimizer, type OptimizerState } from '../optim/optimizer';
import { Progress, type ProgressOptions } from './progress';

/** A loss as an object with forward(prediction, target), or as a plain function. */
export type LossLike = Loss | ((pred: Tensor, target: Tensor) => Tensor);

/**
 * A metric: a scalar tensor from a batch's predictions and targets, the mean over the batch's
 * rows (the Trainer weights batches by their size). It runs without grad.
 */
export type Metric = (pred: Tensor, target: Tensor) => Tensor;

/** Metrics by name; 'accuracy' stands for `accuracy(logits, labels)`. */
export type MetricsOption = Readonly<Record<string, Metric | 'accuracy'>> | readonly 'accuracy'[];

export interface TrainerOptions {
  /** rows per mini-batch; default 32 (Infinity or ≥ rows: full batch) */
  batchSize?: number;
  /** reshuffle the rows every epoch (seeded); default true */
  shuffle?: boolean;
  /** seed of the Trainer's own shuffling generator; default 0 */
  seed?: number;
  /** progress display: 'auto' (default; a bar on a terminal, plain lines otherwise), 'bar', 'lines', or false */
  progress?: ProgressOptions['mode'];
  /** label for the progress display */
  label?: string;
  /**
   * figures computed per epoch besides the loss, on the training batches and on the validation
   * data: `['accuracy']` or `{ name: (pred, target) => scalar }`
   */
  metrics?: MetricsOption;
  /**
   * stop with an Error naming the epoch and step when the training loss becomes NaN or ±∞, and
   * put back the weights and optimizer state of the start of that epoch; default true
   */
  divergenceGuard?: boolean;
  /** clip the gradients' joint 2-norm to this before each step (see clipGradNorm); default none */
  clipGradNorm?: number;
}

export interface BatchInfo {
  epoch: number;
  batch: number;
  batches: number;
  size: number;
  /** this batch's loss (a scalar tensor, valid during the callback; `await loss.data()` to read it) */
  loss: Tensor;
}

export interface EpochInfo {
  epoch: number;
  epochs: number;
  /** mean training loss over the epoch's batches, weighted by batch size */
  loss: number;
  /** loss on the validation data, when given */
  validationLoss?: number;
  /** each metric's mean over the epoch's training batches (before each batch's step) */
  metrics: Record<string, number>;
  /** each metric on the validation data, when given */
  validationMetrics: Record<string, number>;
  /** the learning rate of the optimizer's first group during this epoch */
  lr: number;
  history: History;
}

/**
 * Stop when a monitored figure has not improved for `patience` epochs in a row, and (by default)
 * put back the weights of the best epoch.
 */
export interface EarlyStoppingOptions {
  /** 'loss' (default) or the name of a metric */
  monitor?: string;
  /** which data the figure is taken on: 'validation' (default when validation data is given) or 'train' */
  on?: 'validation' | 'train';
  /** epochs in a row without improvement before stopping; default 5 */
  patience?: number;
  /** a change smaller than this is no improvement; default 0 */
  minDelta?: number;
  /** whether lower or higher is better; default 'max' for a name containing 'acc', else 'min' (as Keras) */
  mode?: 'min' | 'max';
  /** put back the weights (parameters and buffers) of the best epoch when training ends; default true */
  restoreBest?: boolean;
}

/** Something with a per-epoch `step()`: an LRScheduler, or your own. */
export interface SchedulerLike {
  step(): void;
}

export interface FitOptions {
  /** epochs to train; default 1 (as Keras) */
  epochs?: number;
  /** [x, y] evaluated after every epoch (eval mode, no grad) */
  validation?: readonly [Tensor, Tensor];
  /** called after each optimizer step */
  onBatchEnd?: (info: BatchInfo) => void | Promise<void>;
  /** called after each epoch; returning false stops training */
  onEpochEnd?: (info: EpochInfo) => void | boolean | Promise<void | boolean>;
  /** early stopping on the validation (or training) loss or a metric */
  earlyStopping?: EarlyStoppingOptions;
  /** a learning-rate schedule, stepped once after every epoch (PyTorch's convention) */
  scheduler?: SchedulerLike;
}

/** Per-epoch figures recorded by fit(). */
export interface History {
  train: number[];
  validation: number[];
  /** each metric per epoch, on the training batches */
  metrics: Record<string, number[]>;
  /** each metric per epoch, on the validation data */
  validationMetrics: Record<string, number[]>;
  /** the learning rate (first group) used in each epoch */
  lr: number[];
  /** with early stopping: the epoch (1-based) with the best monitored figure */
  bestEpoch?: number;
  /** with early stopping: the epoch after which it stopped, when it stopped early */
  stoppedEpoch?: number;
}

/** The loss and every metric over a data set (see Trainer.evaluateAll). */
export interface Scores {
  loss: number;
  metrics: Record<string, number>;
}

const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);

function resolveMetrics(m: MetricsOption | undefined): [string, Metric][] {
  if (m === undefined) return [];
  const entries: [string, Metric | 'accuracy'][] = Array.isArray(m)
    ? (m as readonly string[]).map((k) => [k, k as 'accuracy'])
    : m !== null && typeof m === 'object'
      ? Object.entries(m)
      : (() => {
          throw new Error(`Trainer: metrics must be a list like ['accuracy'] or an object { name: (pred, target) => Tensor }, got ${typeOf(m)}`);
        })();
  return entries.map(([k, f]) => {
    if (k === 'loss') throw new Error("Trainer: a metric cannot be named 'loss' (the loss is always recorded)");
    if (f === 'accuracy') return [k, accuracy];
    if (typeof f !== 'function') {
      throw new Error(`Trainer: metric '${k}' must be 'accuracy' or a function (pred, target) => Tensor, got ${typeOf(f)}`);
    }
    return [k, f];
  });
}

/**
 * Trains `net` on (x, y) with `loss` and `optimizer`: rows are the first axis of x and y.
 * `fit` is async so it can read the epoch figures from any device with `await data()`.
 *
 * @example
 * const opt = new Adam(net.parameters(), { lr: 1e-3 });
 * const trainer = new Trainer(net, new CrossEntropy(), opt, { batchSize: 64 });
 * const history = await trainer.fit(x, y, { epochs: 10, validation: [xVal, yVal] });
 */
export class Trainer {
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly divergenceGuard: boolean;
  readonly #rand: () => number;
  readonly #progress: ProgressOptions['mode'];
  readonly #label: string;
  readonly #loss: (p: Tensor, t: Tensor) => Tensor;
  readonly #metrics: [string, Metric][];
  readonly #clip: number | null;

  constructor(
    readonly net: Module,
    loss: LossLike,
    readonly optimizer: Optimizer<{ lr: number }>,
    opts: TrainerOptions = {},
  ) {
    if (!(net instanceof Module)) throw new Error(`Trainer: net must be a Module, got ${typeOf(net)}`);
    if (!(optimizer instanceof Optimizer)) {
      throw new Error(`Trainer: optimizer must be an Optimizer (SGD, Adam, ...), got ${typeOf(optimizer)}`);
    }
    if (opts === null || typeof opts !== 'object') {
      throw new Error(`Trainer: options must be an object like { batchSize: 32 }, got ${typeOf(opts)}`);
    }
    const { batchSize = 32, shuffle = true, seed = 0, progress = 'auto', label = '', metrics } = opts;
    const { divergenceGuard = true, clipGradNorm: clip } = opts;
    if (!(batchSize === Infinity || (Number.isInteger(batchSize) && batchSize > 0))) {
      throw new Error(`Trainer: batchSize must be a positive integer, got ${batchSize}`);
    }
    if (typeof loss !== 'function' && !(loss instanceof Loss)) {
      throw new Error('Trainer: loss must be a Loss or a function (pred, target) => Tensor');
    }
    if (clip !== undefined && !(typeof clip === 'number' && clip > 0)) {
      throw new Error(`Trainer: clipGradNorm must be a positive number, got ${clip}`);
    }
    this.batchSize = batchSize;
    this.shuffle = shuffle;
    this.divergenceGuard = divergenceGuard;
    this.#rand = makeRandom(seed);
    this.#progress = progress;
    this.#label = label;
    this.#loss = loss instanceof Loss ? (p, t) => loss.forward(p, t) : loss;
    this.#metrics = resolveMetrics(metrics);
    this.#clip = clip ?? null;
  }

  /** The names of the metrics recorded per epoch. */
  get metricNames(): string[] {
    return this.#metrics.map(([k]) => k);
  }

  #lossOf(pred: Tensor, target: Tensor): Tensor {
    const l = this.#loss(pred, target);
    if (!(l instanceof Tensor) || l.size !== 1) {
      throw new Error(`Trainer: the loss returned ${l instanceof Tensor ? `shape ${fmtShape(l.shape)}` : typeof l}, expected a scalar tensor`);
    }
    return l;
  }

  #metricOf(name: string, f: Metric, pred: Tensor, target: Tensor): Tensor {
    const m = noGrad(() => f(pred, target));
    if (!(m instanceof Tensor) || m.size !== 1) {
      throw new Error(`Trainer: metric '${name}' returned ${m instanceof Tensor ? `shape ${fmtShape(m.shape)}` : typeof m}, expected a scalar tensor`);
    }
    return m;
  }

  /**
   * Train for `epochs` epochs (default 1) and return the per-epoch figures. With shuffling, rows
   * are gathered on the host from one read of x and y per fit, and each batch is uploaded to
   * their device. The epoch's losses and metrics are summed on the device and read once per
   * epoch. With the divergence guard on (the default), an epoch whose loss became NaN or ±∞ ends
   * the run with an Error naming the epoch and the first such step, after putting back the
   * weights and optimizer state of that epoch's start.
   */
  async fit(x: Tensor, y: Tensor, opts: FitOptions = {}): Promise<History> {
    const fit = checkFitOptions(opts, this.metricNames);
    const { epochs, validation, onBatchEnd, onEpochEnd, scheduler, early } = fit;
    const n = checkData('Trainer.fit', x, y);
    if (validation) checkData('Trainer.fit (validation)', validation[0], validation[1]);
    const bs = Math.min(this.batchSize, n);
    const batches = Math.ceil(n / bs);
    const batchesOf = await this.#batcher(x, y, bs);
    const names = this.metricNames;
    const history: History = {
      train: [],
      validation: [],
      metrics: Object.fromEntries(names.map((k) => [k, []])),
      validationMetrics: Object.fromEntries(validation ? names.map((k) => [k, []]) : []),
      lr: [],
    };
    const progress = await Progress.create(epochs, { mode: this.#progress, label: this.#label });
    const wasTraining = this.net.training;
    // snapshots are detached handles on the old values (cheap: updates replace values, never
    // write into them); each is disposed when replaced and in the finally block
    let best: StateDict | null = null;
    let start: { net: StateDict; opt: OptimizerState } | null = null;
    const dropStart = () => {
      if (!start) return;
      disposeDict(start.net);
      disposeOptState(start.opt);
      start = null;
    };
    this.net.train();
    try {
      let bestValue = NaN;
      let wait = 0;
      for (let epoch = 1; epoch <= epochs; epoch++) {
        if (this.divergenceGuard) {
          dropStart();
          start = { net: this.net.stateDict(), opt: this.optimizer.stateDict() };
        }
        const lr = this.optimizer.lr;
        // device-side sums: [loss, ...metrics] weighted by batch size; and, for the guard, the
        // number of steps after which the running loss sum was still finite
        let totals: Tensor[] | null = null;
        let finiteSteps: Tensor | null = null;
        const order = this.shuffle && batches > 1 ? permutation(n, this.#rand) : null;
        for (let b = 0; b < batches; b++) {
          const lo = b * bs;
          const hi = Math.min(n, lo + bs);
          let last: Tensor | null = null;
          tidy(() => {
            const [xb, yb] = batchesOf(order, lo, hi);
            this.net.zeroGrad();
            this.optimizer.zeroGrad();
            const pred = this.net.forward(xb);
            const l = this.#lossOf(pred, yb);
            const p = pred.detach();
            const figures = [l.detach(), ...this.#metrics.map(([k, f]) => this.#metricOf(k, f, p, yb))];
            l.backward();
            if (this.#clip !== null) clipGradNorm(this.optimizer.params, this.#clip);
            this.optimizer.step();
            noGrad(() => {
              const next = figures.map((v, i) => {
                const w = v.reshape([]).mul(hi - lo);
                return keep(totals ? totals[i]!.add(w) : w);
              });
              totals?.forEach((t) => t.dispose());
              totals = next;
              if (this.divergenceGuard) {
                // s − s is 0 for a finite s and NaN for NaN or ±∞. Once a loss is NaN or ±∞ the
                // running sum stays so (NaN + a = NaN, ∞ + finite = ∞, ∞ − ∞ = NaN), so counting
                // the steps with a finite sum gives the first bad step (3 scalar ops a step, and
                // read only when the epoch's sum is not finite)
                const s = next[0]!;
                const ok = s.sub(s).eq(0);
                const count = keep(finiteSteps ? finiteSteps.add(ok) : ok);
                finiteSteps?.dispose();
                finiteSteps = count;
              }
            });
            if (onBatchEnd) last = keep(figures[0]!);
          });
          if (onBatchEnd && last) {
            try {
              await onBatchEnd({ epoch, batch: b + 1, batches, size: hi - lo, loss: last });
            } finally {
              (last as Tensor).dispose();
            }
          }
        }
        const sums = totals as Tensor[] | null;
        const read = sums ? Array.from(await readAll(sums)) : [];
        sums?.forEach((t) => t.dispose());
        const loss = read.length ? read[0]! / n : NaN;
        const counted = finiteSteps as Tensor | null;
        const diverged = this.divergenceGuard && !Number.isFinite(loss) && counted;
        const badStep = diverged ? (await counted.data())[0]! + 1 : 0;
        counted?.dispose();
        if (badStep > 0) {
          this.net.loadStateDict(start!.net);
          this.optimizer.loadStateDict(start!.opt);
          // (a sum of finite losses that overflows ends up here too, at the step where it did)
          throw new Error(
            `Trainer.fit: the training loss became NaN or infinite at epoch ${epoch}, step ${badStep} of ${batches} (lr ${lr}); ` +
              `training stopped and the weights and optimizer state of the start of epoch ${epoch} were put back. ` +
              'Try a lower learning rate or clipGradNorm, or pass { divergenceGuard: false } to the Trainer to go on regardless.',
          );
        }
        const metrics = Object.fromEntries(names.map((k, i) => [k, read[i + 1]! / n]));
        history.train.push(loss);
        history.lr.push(lr);
        names.forEach((k) => history.metrics[k]!.push(metrics[k]!));
        let validationLoss: number | undefined;
        let validationMetrics: Record<string, number> = {};
        if (validation) {
          const s = await this.evaluateAll(validation[0], validation[1]);
          this.net.train();
          validationLoss = s.loss;
          validationMetrics = s.metrics;
          history.validation.push(validationLoss);
          names.forEach((k) => history.validationMetrics[k]!.push(s.metrics[k]!));
        }
        const shown = { loss, val: validationLoss, ...metrics, ...prefixed(validationMetrics, 'val_') };
        progress.update(epoch, shown);
        scheduler?.step();
        let stop = false;
        if (early) {
          const onVal = early.on === 'validation';
          const value =
            early.monitor === 'loss' ? (onVal ? validationLoss! : loss) : (onVal ? validationMetrics : metrics)[early.monitor]!;
          const better =
            Number.isNaN(bestValue) ||
            (early.mode === 'min' ? value < bestValue - early.minDelta : value > bestValue + early.minDelta);
          if (better) {
            bestValue = value;
            wait = 0;
            history.bestEpoch = epoch;
            if (early.restoreBest) {
              if (best) disposeDict(best);
              best = this.net.stateDict();
            }
          } else if (++wait >= early.patience) {
            history.stoppedEpoch = epoch;
            stop = true;
          }
        }
        if (onEpochEnd) {
          const r = await onEpochEnd({ epoch, epochs, loss, validationLoss, metrics, validationMetrics, lr, history });
          if (r === false) stop = true;
        }
        if (stop) break;
      }
      if (best) this.net.loadStateDict(best);
    } finally {
      progress.stop();
      this.net.train(wasTraining);
      if (best) disposeDict(best);
      dropStart();
    }
    return history;
  }

  /**
   * A function giving the batch of rows lo..hi (in `order`, when shuffling) as tensors on the
   * data's device. Full batches and unshuffled batches are views; shuffled ones are gathered on
   * the host.
   */
  async #batcher(x: Tensor, y: Tensor, bs: number) {
    const n = x.shape[0]!;
    if (bs >= n) return () => [x, y] as const;
    if (!this.shuffle) return (_: number[] | null, lo: number, hi: number) => [x.slice([lo], [hi]), y.slice([lo], [hi])] as const;
    const [xv, yv] = await Promise.all([x.data(), y.data()]);
    const gather = (t: Tensor, v: TypedArray, rows: number[]) => {
      const w = t.size / n;
      const out = typedArray(t.dtype, rows.length * w);
      rows.forEach((r, i) => out.set(v.subarray(r * w, r * w + w), i * w));
      return tensor(out, { shape: [rows.length, ...t.shape.slice(1)], dtype: t.dtype, device: t.device });
    };
    return (order: number[] | null, lo: number, hi: number) => {
      const rows = order ? order.slice(lo, hi) : Array.from({ length: hi - lo }, (_, i) => lo + i);
      return [gather(x, xv, rows), gather(y, yv, rows)] as const;
    };
  }

  /** The loss over (x, y), batched, in eval mode without grad: the batch losses weighted by batch size. */
  async evaluate(x: Tensor, y: Tensor): Promise<number> {
    return (await this.#score('Trainer.evaluate', x, y, false)).loss;
  }

  /** The loss and every metric over (x, y), batched, in eval mode without grad (weighted by batch size). */
  async evaluateAll(x: Tensor, y: Tensor): Promise<Scores> {
    return this.#score('Trainer.evaluateAll', x, y, true);
  }

  async #score(where: string, x: Tensor, y: Tensor, withMetrics: boolean): Promise<Scores> {
    const n = checkData(where, x, y);
    const bs = Math.min(this.batchSize, n);
    const metrics = withMetrics ? this.#metrics : [];
    const wasTraining = this.net.training;
    this.net.eval();
    try {
      const totals = tidy(() =>
        noGrad(() => {
          let acc: Tensor[] | null = null;
          for (let lo = 0; lo < n; lo += bs) {
            const hi = Math.min(n, lo + bs);
            const [xb, yb] = bs >= n ? [x, y] : [x.slice([lo], [hi]), y.slice([lo], [hi])];
            const pred = this.net.forward(xb);
            const figures = [this.#lossOf(pred, yb), ...metrics.map(([k, f]) => this.#metricOf(k, f, pred, yb))];
            const w = figures.map((v) => v.reshape([]).mul(hi - lo));
            acc = acc ? acc.map((a, i) => a.add(w[i]!)) : w;
          }
          return stack(acc!);
        }),
      );
      const v = await totals.data();
      totals.dispose();
      return { loss: v[0]! / n, metrics: Object.fromEntries(metrics.map(([k], i) => [k, v[i + 1]! / n])) };
    } finally {
      this.net.train(wasTraining);
    }
  }

  /** The net's output for x, batched, in eval mode without grad (a new tensor: dispose it when done). */
  predict(x: Tensor): Tensor {
    if (!(x instanceof Tensor) || x.rank === 0) throw new Error('Trainer.predict: x must be a tensor with rows on its first axis');
    const n = x.shape[0]!;
    const bs = Math.min(this.batchSize, Math.max(1, n));
    const wasTraining = this.net.training;
    this.net.eval();
    try {
      return tidy(() =>
        noGrad(() => {
          if (bs >= n) return this.net.forward(x);
          const parts: Tensor[] = [];
          for (let lo = 0; lo < n; lo += bs) parts.push(this.net.forward(x.slice([lo], [Math.min(n, lo + bs)])));
          return concat(parts, 0);
        }),
      );
    } finally {
      this.net.train(wasTraining);
    }
  }
}

/** One read for several scalars (one device round trip instead of one per figure). */
async function readAll(ts: Tensor[]): Promise<ArrayLike<number>> {
  const all = tidy(() => noGrad(() => stack(ts.map((t) => t.reshape([])))));
  try {
    return await all.data();
  } finally {
    all.dispose();
  }
}

function disposeDict(d: StateDict): void {
  for (const t of Object.values(d)) t.dispose();
}

function disposeOptState(s: OptimizerState): void {
  for (const p of Object.values(s.state)) for (const t of Object.values(p.tensors)) t.dispose();
}

const prefixed = (m: Record<string, number>, pre: string) =>
  Object.fromEntries(Object.entries(m).map(([k, v]) => [pre + k, v]));

interface ResolvedEarly {
  monitor: string;
  on: 'validation' | 'train';
  patience: number;
  minDelta: number;
  mode: 'min' | 'max';
  restoreBest: boolean;
}

/** fit's options with defaults, each checked with a message that says what was expected. */
function checkFitOptions(opts: FitOptions, metricNames: string[]) {
  const fail = (why: string): never => {
    throw new TypeError(`Trainer.fit: ${why}`);
  };
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    fail(`options must be an object like { epochs: 10 }, got ${typeOf(opts)}`);
  }
  const { epochs = 1, validation, onBatchEnd, onEpochEnd, earlyStopping, scheduler } = opts;
  if (typeof epochs !== 'number' || !Number.isInteger(epochs) || epochs < 0) {
    fail(`epochs must be a non-negative integer, got ${typeof epochs === 'number' ? epochs : typeOf(epochs)}`);
  }
  if (validation !== undefined && (!Array.isArray(validation) || validation.length !== 2)) {
    fail(`validation must be a pair [x, y] of tensors, got ${typeOf(validation)}`);
  }
  if (onBatchEnd !== undefined && typeof onBatchEnd !== 'function') fail(`onBatchEnd must be a function, got ${typeOf(onBatchEnd)}`);
  if (onEpochEnd !== undefined && typeof onEpochEnd !== 'function') fail(`onEpochEnd must be a function, got ${typeOf(onEpochEnd)}`);
  if (scheduler !== undefined && (scheduler === null || typeof (scheduler as SchedulerLike).step !== 'function')) {
    fail(`scheduler must have a step() method (an LRScheduler), got ${typeOf(scheduler)}`);
  }
  let early: ResolvedEarly | null = null;
  if (earlyStopping !== undefined) {
    if (earlyStopping === null || typeof earlyStopping !== 'object') {
      fail(`earlyStopping must be an object like { patience: 5 }, got ${typeOf(earlyStopping)}`);
    }
    const { monitor = 'loss', on = validation ? 'validation' : 'train', patience = 5, minDelta = 0 } = earlyStopping;
    const { mode, restoreBest = true } = earlyStopping;
    if (monitor !== 'loss' && !metricNames.includes(monitor)) {
      const known = metricNames.length ? metricNames.join(', ') : 'it has none';
      fail(`earlyStopping.monitor '${monitor}' is neither 'loss' nor a metric of this Trainer (${known})`);
    }
    if (on !== 'validation' && on !== 'train') fail(`earlyStopping.on must be 'validation' or 'train', got ${String(on)}`);
    if (on === 'validation' && !validation) fail("earlyStopping.on is 'validation' but no validation data was given");
    if (!Number.isInteger(patience) || patience < 1) fail(`earlyStopping.patience must be a positive integer, got ${patience}`);
    if (typeof minDelta !== 'number' || !(minDelta >= 0)) fail(`earlyStopping.minDelta must be a number ≥ 0, got ${minDelta}`);
    if (mode !== undefined && mode !== 'min' && mode !== 'max') fail(`earlyStopping.mode must be 'min' or 'max', got ${String(mode)}`);
    // as Keras: higher is better for a name containing 'acc', lower for anything else
    const auto = monitor !== 'loss' && /acc/i.test(monitor) ? 'max' : 'min';
    early = { monitor, on, patience, minDelta, mode: mode ?? auto, restoreBest: !!restoreBest };
  }
  return { epochs, validation, onBatchEnd, onEpochEnd, scheduler, early };
}

function checkData(where: string, x: Tensor, y: Tensor): number {
  if (!(x instanceof Tensor) || !(y instanceof Tensor)) throw new Error(`${where}: x and y must be tensors`);
  if (x.rank === 0 || y.rank === 0) throw new Error(`${where}: x ${fmtShape(x.shape)} and y ${fmtShape(y.shape)} need rows on their first axis`);
  if (x.shape[0] !== y.shape[0]) throw new Error(`${where}: x has ${x.shape[0]} rows (shape ${fmtShape(x.shape)}) but y has ${y.shape[0]} (shape ${fmtShape(y.shape)})`);
  if (x.shape[0] === 0) throw new Error(`${where}: no rows`);
  if (x.device !== y.device) throw new Error(`${where}: x is on ${x.device}, y on ${y.device}`);
  return x.shape[0]!;
}
