// Tutorial 5: a 1→20→1 tanh net on 30 noisy samples of
// f(x) = 0.2 + 0.05(x + 10) + 0.4 sin(x + 10) + 0.2ε, x on [−10, 10]. Inputs and targets are
// standardized with the training mean and std; weights and biases start U(−0.1, 0.1); full-batch
// gradient descent on ½·Σ(p − t)² with rates 0.1/30 (hidden layer) and 0.01/30 (output layer).
// RMSE is reported in the data's own units, on the training points and on fresh test points.
import { Adam, Linear, MSE, SGD, Sequential, Tanh, Trainer, manualSeed, rand, randomNormal, tensor, tidy } from '../../src';
import { mean, std, values, type RunOptions } from './common';

export interface SineData {
  xTrain: number[];
  yTrain: number[];
  xTest: number[];
  yTest: number[];
}

const f = (x: number, e: number) => 0.2 + 0.05 * (x + 10) + 0.4 * Math.sin(x + 10) + 0.2 * e;
/** the noise-free curve */
export const fTrue = (x: number) => f(x, 0);

/** 30 training points evenly spaced on [−10, 10]; test x = train x + 0.1ε, with fresh noise. */
export function sineData(): SineData {
  const xTrain = Array.from({ length: 30 }, (_, i) => -10 + (20 * i) / 29);
  const yTrain = xTrain.map((x) => f(x, randomNormal()));
  const xTest = xTrain.map((x) => x + 0.1 * randomNormal());
  const yTest = xTest.map((x) => f(x, randomNormal()));
  return { xTrain, yTrain, xTest, yTest };
}

/**
 * The schedules shown: 'tutorial' is plain gradient descent at the tutorial's rates; 'fast' is the
 * same descent with both rates ×10 (10 epochs of it cover about the same gradient flow as 100 of
 * the tutorial's); 'adam' is Adam (lr 0.01 hidden, 0.001 output) on the same cost.
 */
export type Schedule = 'tutorial' | 'fast' | 'adam';

export interface TanhSineOptions extends RunOptions {
  schedule?: Schedule;
  epochs?: number;
}

export interface TanhSineResult {
  schedule: Schedule;
  epochs: number;
  /** RMSE in the data's units per epoch (measured before each epoch's step), train and test */
  trainRmse: number[];
  testRmse: number[];
  /** RMSE after the last step, train and test */
  final: { train: number; test: number };
  data: SineData;
  /** the trained net's prediction on a fine grid over [−10.5, 10.5] */
  grid: { x: number[]; y: number[] };
}

export const RATES: Record<Schedule, { hidden: number; output: number }> = {
  tutorial: { hidden: 0.1 / 30, output: 0.01 / 30 },
  fast: { hidden: 1 / 30, output: 0.1 / 30 },
  adam: { hidden: 0.01, output: 0.001 },
};

export async function tanhSine(opts: TanhSineOptions = {}): Promise<TanhSineResult> {
  const { seed = 0, device = 'cpu', schedule = 'fast', progress = false } = opts;
  const epochs = opts.epochs ?? { tutorial: 100_000, fast: 10_000, adam: 2_000 }[schedule];
  manualSeed(seed);
  const data = sineData();
  const [mx, sx, my, sy] = [mean(data.xTrain), std(data.xTrain), mean(data.yTrain), std(data.yTrain)];
  const col = (v: number[], m: number, s: number) => tensor(v.map((a) => [(a - m) / s]), { device });
  const [x, y, xt, yt] = [col(data.xTrain, mx, sx), col(data.yTrain, my, sy), col(data.xTest, mx, sx), col(data.yTest, my, sy)];

  const hidden = new Linear(1, 20, { initScheme: 'uniform', wscale: 0.1, device });
  const output = new Linear(20, 1, { initScheme: 'uniform', wscale: 0.1, device });
  tidy(() => {
    for (const l of [hidden, output]) l.bias!.assign(rand(l.bias!.shape, { low: -0.1, high: 0.1, device }));
  });
  const net = new Sequential(hidden, new Tanh(), output);
  const { hidden: lrH, output: lrO } = RATES[schedule];
  const groups = [
    { params: hidden.parameters(), lr: lrH },
    { params: output.parameters(), lr: lrO },
  ];
  const opt = schedule === 'adam' ? new Adam(groups) : new SGD(groups);
  const cost = new MSE({ half: true, reduction: 'sum' });
  const trainer = new Trainer(net, cost, opt, { batchSize: Infinity, shuffle: false, progress, label: `tutorial 5 (${schedule})` });
  // ½Σ over n points in standardized units → RMSE in the data's units
  const toRmse = (c: number, n: number) => Math.sqrt((2 * c) / n) * sy;
  const history = await trainer.fit(x, y, { epochs, validation: [xt, yt] });
  const final = { train: toRmse(await trainer.evaluate(x, y), 30), test: toRmse(await trainer.evaluate(xt, yt), 30) };

  const gx = Array.from({ length: 211 }, (_, i) => -10.5 + i * 0.1);
  const g = col(gx, mx, sx);
  const gp = trainer.predict(g);
  const grid = { x: gx, y: (await values(gp)).map((v) => v * sy + my) };
  for (const t of [x, y, xt, yt, g, gp, ...net.parameters()]) t.dispose();
  opt.dispose();
  return {
    schedule,
    epochs,
    trainRmse: history.train.map((c) => toRmse(c, 30)),
    testRmse: history.validation.map((c) => toRmse(c, 30)),
    final,
    data,
    grid,
  };
}

