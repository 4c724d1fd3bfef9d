// The Trainer's metrics, evaluateAll, early stopping (with the best weights put back), the
// learning-rate schedule hook, gradient clipping, the divergence guard, and fit's option checks.
import { describe, expect, it } from 'vitest';
import {
  CrossEntropy, Linear, MSE, SGD, Sequential, StepLR, Tanh, Trainer, accuracy, crossEntropyLoss, linspace, manualSeed, memory,
  mseLoss, noGrad, randn, tensor, tidy, type Module, type Tensor,
} from '../../src';

const vals = (t: Tensor) => Array.from(t.dataSync());
const params = (m: Module) => m.parameters().map(vals);

/** Two classes split by x₀ + x₁ > 0, and a linear classifier. */
function classes(seed = 1, rows = 40) {
  manualSeed(seed);
  const x = randn([rows, 2]);
  const xv = vals(x);
  const y = tensor(Array.from({ length: rows }, (_, i) => (xv[2 * i]! + xv[2 * i + 1]! > 0 ? 1 : 0)));
  const net = new Linear(2, 2);
  return { x, y, net };
}

function regression(seed = 1) {
  manualSeed(seed);
  const x = linspace(-1, 1, 20).reshape([-1, 1]);
  const y = noGrad(() => x.mul(3).sub(1));
  const net = new Sequential(new Linear(1, 8), new Tanh(), new Linear(8, 1));
  return { x, y, net };
}

describe('metrics', () => {
  it("records 'accuracy' per epoch on the training batches and the validation data", async () => {
    const { x, y, net } = classes();
    // lr 0: the net does not move, so every figure is the fixed net's on the whole data
    const t = new Trainer(net, new CrossEntropy(), new SGD(net.parameters(), { lr: 0 }), { batchSize: 7, metrics: ['accuracy'], progress: false });
    const h = await t.fit(x, y, { epochs: 2, validation: [x, y] });
    const acc = tidy(() => accuracy(net.forward(x), y).item());
    expect(h.metrics.accuracy).toHaveLength(2);
    h.metrics.accuracy!.forEach((a) => expect(a).toBeCloseTo(acc, 6));
    h.validationMetrics.accuracy!.forEach((a) => expect(a).toBeCloseTo(acc, 6));
    expect(acc).toBeGreaterThan(0);
    expect(acc).toBeLessThan(1);
  });

  it('takes named metric functions; evaluateAll gives the loss and each metric', async () => {
    const { x, y, net } = regression();
    const mae = (p: Tensor, q: Tensor) => p.sub(q).abs().mean();
    const t = new Trainer(net, new MSE(), new SGD(net.parameters(), { lr: 0.05 }), { batchSize: 6, metrics: { mae, acc: 'accuracy' as const }, progress: false });
    expect(t.metricNames).toEqual(['mae', 'acc']);
    const s = await t.evaluateAll(x, y);
    const pred = noGrad(() => net.forward(x));
    expect(s.loss).toBeCloseTo(mseLoss(pred, y).item(), 5);
    expect(s.metrics.mae).toBeCloseTo(mae(pred, y).item(), 5);
    expect(await t.evaluate(x, y)).toBeCloseTo(s.loss, 6);
  });

  it('rejects metrics that are not functions or not scalars, and a metric named loss', async () => {
    const { x, y, net } = regression();
    const opt = new SGD(net.parameters(), { lr: 0.1 });
    expect(() => new Trainer(net, new MSE(), opt, { metrics: { f: 3 as never } })).toThrow("Trainer: metric 'f' must be 'accuracy' or a function (pred, target) => Tensor, got number");
    expect(() => new Trainer(net, new MSE(), opt, { metrics: { loss: 'accuracy' } })).toThrow("a metric cannot be named 'loss'");
    const t = new Trainer(net, new MSE(), opt, { metrics: { raw: (p) => p }, progress: false });
    await expect(t.fit(x, y)).rejects.toThrow("Trainer: metric 'raw' returned shape [20,1], expected a scalar tensor");
  });
});

describe('early stopping', () => {
  it('stops after `patience` epochs without improvement and puts back the best weights', async () => {
    const { x, y, net } = regression();
    // validating on the negated target: the better the fit, the worse the validation loss, so
    // the best epoch is the first
    const yBad = noGrad(() => y.neg());
    const t = new Trainer(net, new MSE(), new SGD(net.parameters(), { lr: 0.1 }), { batchSize: 5, progress: false });
    let afterFirst: number[][] = [];
    let afterLast: number[][] = [];
    const h = await t.fit(x, y, {
      epochs: 50,
      validation: [x, yBad],
      earlyStopping: { patience: 3 },
      onEpochEnd: ({ epoch }) => {
        if (epoch === 1) afterFirst = params(net);
        afterLast = params(net);
      },
    });
    expect(h.bestEpoch).toBe(1);
    expect(h.stoppedEpoch).toBe(4);
    expect(h.train).toHaveLength(4);
    expect(afterLast).not.toEqual(afterFirst);
    expect(params(net)).toEqual(afterFirst);
  });

  it('monitors a metric (higher is better for accuracy), on the training data when there is no validation', async () => {
    const { x, y, net } = classes(2);
    const t = new Trainer(net, new CrossEntropy(), new SGD(net.parameters(), { lr: 0.5 }), { batchSize: 8, metrics: ['accuracy'], progress: false });
    const h = await t.fit(x, y, { epochs: 40, earlyStopping: { monitor: 'accuracy', patience: 2, restoreBest: false } });
    const acc = h.metrics.accuracy!;
    const best = h.bestEpoch!;
    // the best epoch has the highest accuracy seen, and no later epoch beat it
    expect(acc[best - 1]).toBe(Math.max(...acc));
    expect(acc.indexOf(Math.max(...acc))).toBe(best - 1);
    expect(h.stoppedEpoch).toBe(best + 2);
  });

  it('minDelta: smaller changes are no improvement', async () => {
    const { x, y, net } = regression();
    const t = new Trainer(net, new MSE(), new SGD(net.parameters(), { lr: 1e-4 }), { batchSize: 20, progress: false });
    // lr 1e-4 moves the loss by far less than 1 per epoch
    const h = await t.fit(x, y, { epochs: 20, earlyStopping: { minDelta: 1, patience: 2 } });
    expect([h.bestEpoch, h.stoppedEpoch]).toEqual([1, 3]);
    expect(h.train[2]!).toBeLessThan(h.train[0]!);
  });
});

describe('schedules and clipping', () => {
  it('steps the scheduler once per epoch and records the lr of each epoch', async () => {
    const { x, y, net } = regression();
    const opt = new SGD(net.parameters(), { lr: 0.2 });
    const t = new Trainer(net, new MSE(), opt, { batchSize: 5, progress: false });
    const lrs: number[] = [];
    const h = await t.fit(x, y, { epochs: 5, scheduler: new StepLR(opt, 2, 0.5), onEpochEnd: ({ lr }) => void lrs.push(lr) });
    expect(h.lr).toEqual([0.2, 0.2, 0.1, 0.1, 0.05]);
    expect(lrs).toEqual(h.lr);
    // stepped after each of the 5 epochs: 0.2·0.5^⌊5/2⌋
    expect(opt.lr).toBe(0.05);
  });

  it('clipGradNorm bounds each step: one full-batch SGD step moves the parameters by lr·maxNorm', async () => {
    const { x, y, net } = regression();
    const before = params(net).flat();
    const t = new Trainer(net, (p, q) => mseLoss(p, q).mul(1000), new SGD(net.parameters(), { lr: 1 }), { batchSize: Infinity, clipGradNorm: 0.1, progress: false });
    await t.fit(x, y, { epochs: 1 });
    const step = Math.hypot(...params(net).flat().map((v, i) => v - before[i]!));
    expect(step).toBeCloseTo(0.1, 4);
    expect(() => new Trainer(net, new MSE(), new SGD(net.parameters(), { lr: 1 }), { clipGradNorm: -1 })).toThrow('Trainer: clipGradNorm must be a positive number, got -1');
  });
});

describe('divergence guard', () => {
  it('stops with an Error naming the epoch and first bad step, and puts back that epoch’s starting weights', async () => {
    const { x, y, net } = regression();
    let calls = 0;
    // 20 rows in batches of 5: call 7 is epoch 2, step 3
    const loss = (p: Tensor, q: Tensor) => {
      calls++;
      const l = mseLoss(p, q);
      return calls === 7 ? l.mul(NaN) : l;
    };
    const t = new Trainer(net, loss, new SGD(net.parameters(), { lr: 0.05 }), { batchSize: 5, progress: false });
    let startOf2: number[][] = [];
    await expect(
      t.fit(x, y, {
        epochs: 5,
        onEpochEnd: () => void (startOf2 = params(net)),
      }),
    ).rejects.toThrow('Trainer.fit: the training loss became NaN or infinite at epoch 2, step 3 of 4 (lr 0.05)');
    expect(params(net)).toEqual(startOf2);
    expect(params(net).flat().every(Number.isFinite)).toBe(true);
  });

  it('catches a real divergence (SGD with a learning rate far too large), and can be turned off', async () => {
    const run = (guard: boolean) => {
      const { x, y, net } = regression();
      return new Trainer(net, new MSE(), new SGD(net.parameters(), { lr: 50 }), { batchSize: 4, divergenceGuard: guard, progress: false }).fit(x, y, { epochs: 30 });
    };
    await expect(run(true)).rejects.toThrow(/the training loss became NaN or infinite at epoch \d+, step \d of 5/);
    const h = await run(false);
    expect(h.train).toHaveLength(30);
    expect(Number.isFinite(h.train.at(-1)!)).toBe(false);
  });
});

describe('fit options', () => {
  it('fit(x, y) with no options trains one epoch', async () => {
    const { x, y, net } = regression();
    const h = await new Trainer(net, new MSE(), new SGD(net.parameters(), { lr: 0.1 }), { progress: false }).fit(x, y);
    expect(h.train).toHaveLength(1);
  });

  it('wrong-typed options get messages that say what was expected', async () => {
    const { x, y, net } = regression();
    const t = new Trainer(net, new MSE(), new SGD(net.parameters(), { lr: 0.1 }), { progress: false });
    await expect(t.fit(x, y, 5 as never)).rejects.toThrow('Trainer.fit: options must be an object like { epochs: 10 }, got number');
    await expect(t.fit(x, y, null as never)).rejects.toThrow('Trainer.fit: options must be an object like { epochs: 10 }, got null');
    await expect(t.fit(x, y, { epochs: '3' as never })).rejects.toThrow('Trainer.fit: epochs must be a non-negative integer, got string');
    await expect(t.fit(x, y, { validation: x as never })).rejects.toThrow('Trainer.fit: validation must be a pair [x, y] of tensors, got object');
    await expect(t.fit(x, y, { onEpochEnd: 1 as never })).rejects.toThrow('Trainer.fit: onEpochEnd must be a function, got number');
    await expect(t.fit(x, y, { scheduler: {} as never })).rejects.toThrow('Trainer.fit: scheduler must have a step() method');
    await expect(t.fit(x, y, { earlyStopping: { monitor: 'accuracy' } })).rejects.toThrow(
      "Trainer.fit: earlyStopping.monitor 'accuracy' is neither 'loss' nor a metric of this Trainer (it has none)",
    );
    await expect(t.fit(x, y, { earlyStopping: { on: 'validation' } })).rejects.toThrow("earlyStopping.on is 'validation' but no validation data was given");
    await expect(t.fit(x, y, { earlyStopping: { patience: 0 } })).rejects.toThrow('earlyStopping.patience must be a positive integer, got 0');
    await expect(t.fit(x, 3 as never)).rejects.toThrow('Trainer.fit: x and y must be tensors');
    expect(() => new Trainer(net, new MSE(), {} as never)).toThrow('Trainer: optimizer must be an Optimizer (SGD, Adam, ...), got object');
    expect(() => new Trainer(null as never, new MSE(), new SGD(net.parameters(), { lr: 1 }))).toThrow('Trainer: net must be a Module, got null');
    expect(() => new Trainer(net, new MSE(), new SGD(net.parameters(), { lr: 1 }), 3 as never)).toThrow('Trainer: options must be an object');
  });

  it('keeps the live tensor count flat with metrics, validation, early stopping, a schedule and the guard', async () => {
    const { x, y, net } = classes(3);
    const opt = new SGD(net.parameters(), { lr: 0.1 });
    const t = new Trainer(net, (p, q) => crossEntropyLoss(p, q), opt, { batchSize: 6, metrics: ['accuracy'], clipGradNorm: 5, progress: false });
    const fit = () => t.fit(x, y, { epochs: 6, validation: [x, y], earlyStopping: { patience: 100 }, scheduler: new StepLR(opt, 2) });
    await fit();
    const live = memory().tensors;
    await fit();
    expect(memory().tensors).toBe(live);
  });
});
