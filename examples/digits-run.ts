// The digit classifier of examples/07-digits.ts as a function: build the net, train it with Adam
// on the seeded 8,000/2,000 split of the mnist package's digits, report accuracy per epoch, and
// draw the pictures. Tests call it with small sizes; the script adds the command line.
import { join } from 'node:path';
import { Adam, Conv2d, CosineAnnealingLR, CrossEntropy, Dropout, Flatten, MaxPool2d, Linear, Module, ReLU, Sequential, Trainer, makeRandom, manualSeed, type Device, type Tensor } from '../src';
import { CLASSES, PIXELS, SIDE, loadDigits } from './data/digits';
import { confusionChart, pictureGrid, type Picture } from './digits-plots';
import { linesChart, longRows, panels, savePlot } from './plot';

/**
 * 'lenet' (default) is the net issue 11 asks for: 16 and 32 5×5 filters, 2×2 max pooling, a
 * 128-unit layer. 'mlp' (Flatten → Linear 784→128 → ReLU → Linear 128→10) is kept to compare.
 */
export type Arch = 'mlp' | 'lenet';
export const DEFAULT_ARCH: Arch = 'lenet';

/**
 * The convnet's dropout on the 512 pooled features, before the 128-unit layer: off by default (with
 * the shifts the net no longer fits the training digits exactly, and dropout on top kept it from
 * fitting them enough in the epochs given: 97.8% on seed 0 either way); `--dropout` turns it on.
 */
export const DEFAULT_DROPOUT = 0;
/** Epochs of the full run: the shifted digits take longer to fit (≥ 98% from epoch 11 on, seeds 0 and 1). */
export const DEFAULT_EPOCHS = 15;
/** The convnet's training batches are shifted by up to this many pixels (see RandomShift). */
export const DEFAULT_SHIFT = 2;

/**
 * Data augmentation as a layer: in training mode each batch [N, C, H, W] is moved by a random
 * whole number of pixels in [−max, max] along H and along W (one offset per batch, drawn from its
 * own seeded generator), with zeros coming in at the edges; the identity in eval mode. A digit
 * seen in 15 epochs is seen at up to 15 positions: without it the net fits the 8,000 training
 * digits almost exactly (99.3% against 97.5% on the test digits after 10 epochs).
 */
export class RandomShift extends Module {
  readonly #rand: () => number;
  constructor(
    readonly max: number,
    seed = 0,
  ) {
    super();
    if (!Number.isInteger(max) || max < 0) throw new Error(`RandomShift: max must be an integer ≥ 0, got ${max}`);
    this.#rand = makeRandom(seed);
  }
  override describe(): string {
    return `RandomShift(±${this.max})`;
  }
  forward(x: Tensor): Tensor {
    if (x.rank !== 4) throw new Error(`${this.describe()}: expected input [N, C, H, W], got [${x.shape.join(', ')}]`);
    if (!this.training || this.max === 0) return x;
    const m = this.max;
    const [n, c, h, w] = x.shape as [number, number, number, number];
    const dy = Math.floor(this.#rand() * (2 * m + 1));
    const dx = Math.floor(this.#rand() * (2 * m + 1));
    if (dy === m && dx === m) return x;
    return x.pad([[0, 0], [0, 0], [m, m], [m, m]]).slice([0, 0, dy, dx], [n, c, dy + h, dx + w]);
  }
}

/**
 * The net. The convnet's layers start as PyTorch's do (Conv2d's default, and Linear with
 * initScheme 'pytorch': weight and bias U(±1/√fan_in)), so it is the net PyTorch's figures are for.
 */
export function makeNet(arch: Arch, device: Device, dropout = DEFAULT_DROPOUT, shift = DEFAULT_SHIFT, seed = 0): Module {
  if (arch === 'mlp') {
    return new Sequential(new Flatten(), new Linear(PIXELS, 128, { device }), new ReLU(), new Linear(128, CLASSES, { device }));
  }
  // 28 → conv5 24 → pool 12 → conv5 8 → pool 4: 32·4·4 = 512 features
  return new Sequential(
    ...(shift > 0 ? [new RandomShift(shift, seed)] : []),
    new Conv2d(1, 16, 5, { device }),
    new ReLU(),
    new MaxPool2d(2),
    new Conv2d(16, 32, 5, { device }),
    new ReLU(),
    new MaxPool2d(2),
    new Flatten(),
    ...(dropout > 0 ? [new Dropout(dropout)] : []),
    new Linear(32 * 4 * 4, 128, { device, initScheme: 'pytorch' }),
    new ReLU(),
    new Linear(128, CLASSES, { device, initScheme: 'pytorch' }),
  );
}

export interface DigitsOptions {
  arch?: Arch;
  epochs?: number;
  device?: Device;
  /** seed of the init, the split and the shuffling; default 0 */
  seed?: number;
  batchSize?: number;
  /** Adam's learning rate at the start; default 1e-3 */
  lr?: number;
  /** 'cosine' (default): the lr falls from lr to 0 over the epochs (CosineAnnealingLR); 'constant' */
  schedule?: 'cosine' | 'constant';
  /** the convnet's dropout before its 128-unit layer (default DEFAULT_DROPOUT; 0: none) */
  dropout?: number;
  /** the convnet's training batches move by up to this many pixels (default DEFAULT_SHIFT; 0: none) */
  shift?: number;
  /** rows to train and test on (default 8000 and 2000) */
  train?: number;
  test?: number;
  /** folder for the pictures; null: no pictures */
  outDir?: string | null;
  progress?: 'auto' | 'bar' | 'lines' | false;
  /** one line per epoch (default: console.log) */
  log?: (line: string) => void;
}

export interface EpochRow {
  epoch: number;
  loss: number;
  accuracy: number;
  testLoss: number;
  testAccuracy: number;
  seconds: number;
}

export interface DigitsResult {
  epochs: EpochRow[];
  testAccuracy: number;
  /** confusion[true][predicted] on the test set */
  confusion: number[][];
  secondsPerEpoch: number;
  plots: string[];
}

/** The first index of the largest of each row of `classes` values. */
function argmaxRows(logits: ArrayLike<number>, classes: number): number[] {
  const out: number[] = [];
  for (let r = 0; r * classes < logits.length; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[r * classes + c]! > logits[r * classes + best]!) best = c;
    out.push(best);
  }
  return out;
}

/** The first layer's weights as pictures: conv filters [O, 1, kH, kW], or a dense layer's first 16 units. */
async function firstLayerPictures(net: Module): Promise<{ pictures: Picture[]; what: string }> {
  const [name, w] = net.namedParameters()[0]!;
  const v = await w.data();
  if (w.rank === 4) {
    const [o, , kh, kw] = w.shape as [number, number, number, number];
    const size = kh * kw;
    // the first input channel of each filter
    const per = v.length / o;
    return {
      pictures: Array.from({ length: o }, (_, i) => ({ values: v.subarray(i * per, i * per + size), width: kw, height: kh, caption: String(i) })),
      what: `${name}: ${o} filters ${kh}×${kw}`,
    };
  }
  // a Linear weight is (in, out): column j holds unit j's 784 input weights
  const [inSize, outSize] = w.shape as [number, number];
  const units = Math.min(16, outSize);
  return {
    pictures: Array.from({ length: units }, (_, j) => ({
      values: Float32Array.from({ length: inSize }, (_, i) => v[i * outSize + j]!),
      width: SIDE,
      height: SIDE,
      caption: `unit ${j}`,
    })),
    what: `${name}: the input weights of the first ${units} of ${outSize} units`,
  };
}

/** Train the digit classifier and draw its pictures. */
export async function trainDigits(o: DigitsOptions = {}): Promise<DigitsResult> {
  const { arch = DEFAULT_ARCH, epochs = DEFAULT_EPOCHS, device = 'cpu', seed = 0, batchSize = 64, lr = 1e-3, outDir = 'out', progress = false } = o;
  const { schedule = 'cosine', dropout = DEFAULT_DROPOUT, shift = DEFAULT_SHIFT } = o;
  const log = o.log ?? ((l: string) => console.log(l));
  manualSeed(seed);
  const net = makeNet(arch, device, dropout, shift, seed);
  // the split has its own generator: loading after the init leaves the init's draws alone
  const data = loadDigits({ seed, train: o.train ?? 8000, test: o.test ?? 2000, device });
  const opt = new Adam(net.parameters(), { lr });
  const scheduler = schedule === 'cosine' && epochs > 0 ? new CosineAnnealingLR(opt, epochs) : undefined;
  const trainer = new Trainer(net, new CrossEntropy(), opt, { batchSize, seed, metrics: ['accuracy'], progress, label: 'digits' });
  const rows: EpochRow[] = [];
  let t0 = performance.now();
  const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
  const setup = [`Adam ${lr}${scheduler ? ' cosine to 0' : ''}`, `batch ${batchSize}`, ...(arch === 'lenet' && dropout > 0 ? [`dropout ${dropout}`] : []), ...(arch === 'lenet' && shift > 0 ? [`shifts ±${shift} px`] : [])];
  log(`digits: ${arch} (${net.numParameters().toLocaleString('en-US')} parameters) on ${device}, ${data.train.labels.length} train / ${data.test.labels.length} test, ${setup.join(', ')}`);
  const disposeAll: Tensor[] = [data.train.x, data.train.y, data.test.x, data.test.y];
  try {
    await trainer.fit(data.train.x, data.train.y, {
      epochs,
      scheduler,
      validation: [data.test.x, data.test.y],
      onEpochEnd: ({ epoch, loss, validationLoss, metrics, validationMetrics }) => {
        // the epoch's time includes the test-set evaluation
        const seconds = (performance.now() - t0) / 1000;
        rows.push({ epoch, loss, accuracy: metrics.accuracy!, testLoss: validationLoss!, testAccuracy: validationMetrics.accuracy!, seconds });
        log(
          `epoch ${String(epoch).padStart(2)}  loss ${loss.toFixed(4)}  train ${pct(metrics.accuracy!)}  ` +
            `test loss ${validationLoss!.toFixed(4)}  test ${pct(validationMetrics.accuracy!)}  ${seconds.toFixed(2)} s`,
        );
        t0 = performance.now();
      },
    });
    const logits = trainer.predict(data.test.x);
    const pred = argmaxRows(await logits.data(), CLASSES);
    logits.dispose();
    const truth = Array.from(data.test.labels);
    const confusion = Array.from({ length: CLASSES }, () => new Array<number>(CLASSES).fill(0));
    pred.forEach((p, i) => confusion[truth[i]!]![p]!++);
    const testAccuracy = pred.filter((p, i) => p === truth[i]).length / pred.length;
    const secondsPerEpoch = rows.reduce((s, r) => s + r.seconds, 0) / Math.max(1, rows.length);
    const plots: string[] = [];
    if (outDir !== null && rows.length) {
      const ep = rows.map((r) => r.epoch);
      const curves = panels(
        [
          linesChart({ title: 'Loss (cross-entropy)', rows: longRows(ep, { train: rows.map((r) => r.loss), test: rows.map((r) => r.testLoss) }), xTitle: 'epoch', yTitle: 'loss' }),
          linesChart({
            title: 'Accuracy',
            rows: longRows(ep, { train: rows.map((r) => r.accuracy), test: rows.map((r) => r.testAccuracy) }),
            xTitle: 'epoch',
            yTitle: 'fraction correct',
          }),
        ],
        `Digits, ${arch}: ${pct(testAccuracy)} on ${truth.length} test digits after ${rows.length} epochs`,
      );
      plots.push(await savePlot(curves, join(outDir, 'digits-curves')));
      plots.push(await savePlot(confusionChart(confusion, `Confusion matrix on the test set (${pct(testAccuracy)} correct)`), join(outDir, 'digits-confusion')));
      const wrong = pred.map((p, i) => i).filter((i) => pred[i] !== truth[i]).slice(0, 40);
      const gallery: Picture[] = wrong.map((i) => ({
        values: data.test.pixels.subarray(i * PIXELS, (i + 1) * PIXELS),
        width: SIDE,
        height: SIDE,
        caption: `${pred[i]} (is ${truth[i]})`,
      }));
      if (gallery.length) {
        const title = `Misclassified test digits: predicted (true), the first ${gallery.length} of ${pred.filter((p, i) => p !== truth[i]).length}`;
        plots.push(await savePlot(pictureGrid(gallery, { title, cols: 10, scale: 'grey' }), join(outDir, 'digits-misclassified')));
      }
      const first = await firstLayerPictures(net);
      plots.push(
        await savePlot(pictureGrid(first.pictures, { title: `First layer (${first.what}); red +, blue −`, cols: 8, scale: 'signed', cell: first.pictures[0]!.width < 10 ? 12 : 3 }), join(outDir, 'digits-filters')),
      );
    }
    return { epochs: rows, testAccuracy, confusion, secondsPerEpoch, plots };
  } finally {
    for (const t of [...disposeAll, ...net.parameters(), ...net.buffers()]) t.dispose();
    opt.dispose();
  }
}
