// The Trainer: epochs of mini-batch training with seeded shuffling, per-epoch train/validation
// loss, callbacks and progress. Each batch runs inside tidy, and the running loss is summed on the
// device and read once per epoch, so memory stays flat and no batch waits for a device read.
import { tensor } from '../graph/creation';
import { concat } from '../graph/functional';
import { keep, noGrad, tidy } from '../graph/engine';
import { makeRandom, permutation } from '../graph/random';
import { Tensor } from '../graph/tensor';
import { typedArray, type TypedArray } from '../backends/backend';
import { fmtShape } from '../ops/registry';
import { Loss } from '../nn/losses';
import type { Module } from '../nn/module';
import type { Optimizer } from '../optim/optimizer';
import { Progress, type ProgressOptions } from './progress';

/** A loss as an object with forward(prediction, target), or as a plain function. */
export type LossLike = Loss | ((pred: Tensor, target: Tensor) => Tensor);

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
  history: History;
}

export interface FitOptions {
  epochs: number;
  /** [x, y] evaluated after every epoch (eval mode, no grad) */
  validation?: readonly [Tensor, Tensor];
  /** called after each optimizer step */
  onBatchEnd?: (info: BatchInfo) => void | Promise<void>;
  /** called after each epoch; returning false stops training */
  onEpochEnd?: (info: EpochInfo) => void | boolean | Promise<void | boolean>;
}

/** Per-epoch losses recorded by fit(). */
export interface History {
  train: number[];
  validation: number[];
}

/**
 * Trains `net` on (x, y) with `loss` and `optimizer`: rows are the first axis of x and y.
 * `fit` is async so it can read the epoch loss from any device with `await data()`.
 */
export class Trainer {
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly #rand: () => number;
  readonly #progress: ProgressOptions['mode'];
  readonly #label: string;
  readonly #loss: (p: Tensor, t: Tensor) => Tensor;

  constructor(
    readonly net: Module,
    loss: LossLike,
    readonly optimizer: Optimizer<{ lr: number }>,
    opts: TrainerOptions = {},
  ) {
    const { batchSize = 32, shuffle = true, seed = 0, progress = 'auto', label = '' } = opts;
    if (!(batchSize === Infinity || (Number.isInteger(batchSize) && batchSize > 0))) {
      throw new Error(`Trainer: batchSize must be a positive integer, got ${batchSize}`);
    }
    if (typeof loss !== 'function' && !(loss instanceof Loss)) throw new Error('Trainer: loss must be a Loss or a function (pred, target) => Tensor');
    this.batchSize = batchSize;
    this.shuffle = shuffle;
    this.#rand = makeRandom(seed);
    this.#progress = progress;
    this.#label = label;
    this.#loss = loss instanceof Loss ? (p, t) => loss.forward(p, t) : loss;
  }

  #lossOf(pred: Tensor, target: Tensor): Tensor {
    const l = this.#loss(pred, target);
    if (!(l instanceof Tensor) || l.size !== 1) {
      throw new Error(`Trainer: the loss returned ${l instanceof Tensor ? `shape ${fmtShape(l.shape)}` : typeof l}, expected a scalar tensor`);
    }
    return l;
  }

  /**
   * Train for `epochs` epochs and return the per-epoch losses. With shuffling, rows are gathered
   * on the host from one read of x and y per fit, and each batch is uploaded to their device.
   */
  async fit(x: Tensor, y: Tensor, opts: FitOptions): Promise<History> {
    const { epochs, validation, onBatchEnd, onEpochEnd } = opts;
    if (!Number.isInteger(epochs) || epochs < 0) throw new Error(`Trainer.fit: epochs must be a non-negative integer, got ${epochs}`);
    const n = checkData('Trainer.fit', x, y);
    if (validation) checkData('Trainer.fit (validation)', validation[0], validation[1]);
    const bs = Math.min(this.batchSize, n);
    const batches = Math.ceil(n / bs);
    const batchesOf = await this.#batcher(x, y, bs);
    const history: History = { train: [], validation: [] };
    const progress = await Progress.create(epochs, { mode: this.#progress, label: this.#label });
    const wasTraining = this.net.training;
    this.net.train();
    try {
      for (let epoch = 1; epoch <= epochs; epoch++) {
        let total: Tensor | null = null;
        const order = this.shuffle && batches > 1 ? permutation(n, this.#rand) : null;
        for (let b = 0; b < batches; b++) {
          const lo = b * bs;
          const hi = Math.min(n, lo + bs);
          let last: Tensor | null = null;
          tidy(() => {
            const [xb, yb] = batchesOf(order, lo, hi);
            this.net.zeroGrad();
            this.optimizer.zeroGrad();
            const l = this.#lossOf(this.net.forward(xb), yb);
            l.backward();
            this.optimizer.step();
            const d = l.detach();
            const next = noGrad(() => (total ? total.add(d.mul(hi - lo)) : d.mul(hi - lo)));
            keep(next);
            total?.dispose();
            total = next;
            if (onBatchEnd) last = keep(d);
          });
          if (onBatchEnd && last) {
            try {
              await onBatchEnd({ epoch, batch: b + 1, batches, size: hi - lo, loss: last });
            } finally {
              (last as Tensor).dispose();
            }
          }
        }
        const t = total as Tensor | null;
        const loss = t ? (await t.data())[0]! / n : NaN;
        t?.dispose();
        history.train.push(loss);
        let validationLoss: number | undefined;
        if (validation) {
          validationLoss = await this.evaluate(validation[0], validation[1]);
          this.net.train();
          history.validation.push(validationLoss);
        }
        progress.update(epoch, { loss, val: validationLoss });
        if (onEpochEnd) {
          const r = await onEpochEnd({ epoch, epochs, loss, validationLoss, history });
          if (r === false) break;
        }
      }
    } finally {
      progress.stop();
      this.net.train(wasTraining);
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
    const n = checkData('Trainer.evaluate', x, y);
    const bs = Math.min(this.batchSize, n);
    const wasTraining = this.net.training;
    this.net.eval();
    try {
      const total = tidy(() =>
        noGrad(() => {
          let acc: Tensor | null = null;
          for (let lo = 0; lo < n; lo += bs) {
            const hi = Math.min(n, lo + bs);
            const [xb, yb] = bs >= n ? [x, y] : [x.slice([lo], [hi]), y.slice([lo], [hi])];
            const l = this.#lossOf(this.net.forward(xb), yb).mul(hi - lo);
            acc = acc ? acc.add(l) : l;
          }
          return acc!;
        }),
      );
      const v = (await total.data())[0]! / n;
      total.dispose();
      return v;
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

function checkData(where: string, x: Tensor, y: Tensor): number {
  if (!(x instanceof Tensor) || !(y instanceof Tensor)) throw new Error(`${where}: x and y must be tensors`);
  if (x.rank === 0 || y.rank === 0) throw new Error(`${where}: x ${fmtShape(x.shape)} and y ${fmtShape(y.shape)} need rows on their first axis`);
  if (x.shape[0] !== y.shape[0]) throw new Error(`${where}: x has ${x.shape[0]} rows (shape ${fmtShape(x.shape)}) but y has ${y.shape[0]} (shape ${fmtShape(y.shape)})`);
  if (x.shape[0] === 0) throw new Error(`${where}: no rows`);
  if (x.device !== y.device) throw new Error(`${where}: x is on ${x.device}, y on ${y.device}`);
  return x.shape[0]!;
}
