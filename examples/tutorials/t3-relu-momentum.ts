// Tutorial 3: a 1→100→1 ReLU net trained with PuzzleLib's momentum (v = 0.9·v + 0.01·g; p −= v)
// on shuffled batches of 100 fits y = 2 sin(x) + 5 on [−3, 3]. The tutorial's settings assume the
// ½·mean cost; with the full mean the gradient doubles and some seeds diverge.
import { Linear, MSE, Momentum, ReLU, Sequential, Trainer, linspace, manualSeed, noGrad, tidy, type Device } from '../../src';
import { values, type Curve, type RunOptions } from './common';

export interface ReluMomentumOptions extends RunOptions {
  epochs?: number;
  /** use ½·mean (the tutorial's cost, default) or the full mean as the loss */
  half?: boolean;
  /** stop at the first epoch whose loss is not finite (the history ends there) */
  stopOnNaN?: boolean;
  /** record every batch's loss (a device read per batch: for plots, not for speed) */
  recordBatches?: boolean;
}

export interface ReluMomentumResult {
  /** mean((p − t)²) over all 1024 points after training */
  mse: number;
  /** training loss per epoch (½·mean with `half`) */
  history: number[];
  /** each batch's loss, with its position in epochs (with recordBatches) */
  batches: { epoch: number[]; loss: number[] };
  fit: Curve;
}

/** The tutorial's net: 1 → 100 → ReLU → 1, Gaussian initial weights. */
export function reluNet(opts: { device?: Device } = {}): Sequential {
  return new Sequential(
    new Linear(1, 100, { initScheme: 'gaussian', ...opts }),
    new ReLU(),
    new Linear(100, 1, { initScheme: 'gaussian', ...opts }),
  );
}

export async function reluMomentum(opts: ReluMomentumOptions = {}): Promise<ReluMomentumResult> {
  const { seed = 0, device = 'cpu', epochs = 100, half = true, progress = false, stopOnNaN = false, recordBatches = false } = opts;
  manualSeed(seed);
  const x = linspace(-3, 3, 1024, { device }).reshape([-1, 1]);
  const y = noGrad(() => x.sin().mul(2).add(5));
  const net = reluNet({ device });
  const opt = new Momentum(net.parameters(), { lr: 0.01, momentum: 0.9 });
  const trainer = new Trainer(net, new MSE({ half }), opt, { batchSize: 100, shuffle: true, seed, progress, label: 'tutorial 3' });
  const before = trainer.predict(x);
  const batches: ReluMomentumResult['batches'] = { epoch: [], loss: [] };
  const { train } = await trainer.fit(x, y, {
    epochs,
    onBatchEnd: recordBatches
      ? async ({ epoch, batch, batches: n, loss }) => {
          batches.epoch.push(epoch - 1 + batch / n);
          batches.loss.push((await values(loss))[0]!);
        }
      : undefined,
    onEpochEnd: ({ loss }) => !(stopOnNaN && !Number.isFinite(loss)),
  });
  const after = trainer.predict(x);
  const mseT = tidy(() => noGrad(() => after.sub(y).square().mean()));
  const mse = (await values(mseT))[0]!;
  const fit: Curve = {
    x: await values(x),
    series: { 'y = 2 sin(x) + 5': await values(y), before: await values(before), after: await values(after) },
  };
  for (const t of [x, y, before, after, mseT, ...net.parameters()]) t.dispose();
  opt.dispose();
  return { mse, history: train, batches, fit };
}
