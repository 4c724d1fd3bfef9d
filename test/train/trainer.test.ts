// Trainer: history, seeded shuffling, callbacks, evaluate/predict, errors, flat memory, progress.
import { describe, expect, it } from 'vitest';
import { Linear, MSE, Progress, SGD, Sequential, Tanh, Trainer, linspace, manualSeed, memory, mseLoss, noGrad, tensor, type Tensor } from '../../src';

const vals = (t: Tensor) => Array.from(t.dataSync());

function problem(seed = 1) {
  manualSeed(seed);
  const x = linspace(-1, 1, 20).reshape([-1, 1]);
  const y = noGrad(() => x.mul(3).sub(1));
  const net = new Sequential(new Linear(1, 8), new Tanh(), new Linear(8, 1));
  return { x, y, net, opt: new SGD(net.parameters(), { lr: 0.05 }) };
}

describe('Trainer.fit', () => {
  it('returns one train loss per epoch, and the loss falls', async () => {
    const { x, y, net, opt } = problem();
    const h = await new Trainer(net, new MSE(), opt, { batchSize: 5, progress: false }).fit(x, y, { epochs: 30 });
    expect(h.train).toHaveLength(30);
    expect(h.validation).toEqual([]);
    expect(h.train.at(-1)!).toBeLessThan(h.train[0]! / 5);
  });

  it('the epoch loss is the batch losses weighted by batch size', async () => {
    const { x, y, net } = problem();
    // lr 0: the net does not move, so every batch loss is measured on the same net
    const opt = new SGD(net.parameters(), { lr: 0 });
    const h = await new Trainer(net, new MSE(), opt, { batchSize: 7, shuffle: true, progress: false }).fit(x, y, { epochs: 1 });
    const full = noGrad(() => mseLoss(net.forward(x), y)).item();
    expect(h.train[0]).toBeCloseTo(full, 5);
  });

  it('shuffles with its own seed: same seed, same history; another seed, another', async () => {
    const runWith = async (seed: number) => {
      const { x, y, net, opt } = problem(4);
      return (await new Trainer(net, new MSE(), opt, { batchSize: 4, seed, progress: false }).fit(x, y, { epochs: 3 })).train;
    };
    const a = await runWith(7);
    expect(await runWith(7)).toEqual(a);
    expect(await runWith(8)).not.toEqual(a);
  });

  it('records validation loss, calls callbacks, stops when onEpochEnd returns false', async () => {
    const { x, y, net, opt } = problem();
    const batches: number[] = [];
    const epochs: number[] = [];
    const trainer = new Trainer(net, (p, t) => p.sub(t).abs().mean(), opt, { batchSize: 8, progress: false });
    const h = await trainer.fit(x, y, {
      epochs: 10,
      validation: [x, y],
      onBatchEnd: async ({ loss, batch, batches: n }) => {
        expect(n).toBe(3); // 20 rows in batches of 8
        batches.push(batch);
        expect((await loss.data()).length).toBe(1);
      },
      onEpochEnd: ({ epoch, loss, validationLoss }) => {
        epochs.push(epoch);
        expect(Number.isFinite(loss) && Number.isFinite(validationLoss!)).toBe(true);
        return epoch < 4;
      },
    });
    expect(epochs).toEqual([1, 2, 3, 4]);
    expect(batches).toEqual([1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3]);
    expect(h.validation).toHaveLength(4);
    expect(h.validation[3]).toBeCloseTo(await trainer.evaluate(x, y), 6);
  });

  it('keeps the live tensor count flat across epochs', async () => {
    const { x, y, net, opt } = problem();
    const trainer = new Trainer(net, new MSE(), opt, { batchSize: 6, progress: false });
    await trainer.fit(x, y, { epochs: 1, validation: [x, y] });
    const live = memory().tensors;
    await trainer.fit(x, y, { epochs: 25, validation: [x, y] });
    expect(memory().tensors).toBe(live);
  });

  it('rejects bad data, batch sizes and losses with the shapes in the message', async () => {
    const { x, net, opt } = problem();
    const t = new Trainer(net, new MSE(), opt, { progress: false });
    await expect(t.fit(x, tensor([[1], [2]]), { epochs: 1 })).rejects.toThrow('Trainer.fit: x has 20 rows (shape [20,1]) but y has 2 (shape [2,1])');
    await expect(t.fit(x, x, { epochs: -1 })).rejects.toThrow('epochs must be a non-negative integer');
    expect(() => new Trainer(net, new MSE(), opt, { batchSize: 0 })).toThrow('Trainer: batchSize must be a positive integer, got 0');
    const bad = new Trainer(net, (p) => p, opt, { progress: false });
    await expect(bad.fit(x, x, { epochs: 1 })).rejects.toThrow('Trainer: the loss returned shape [20,1], expected a scalar tensor');
  });
});

describe('Trainer.evaluate and predict', () => {
  it('evaluate weights batches by size; predict batches in eval mode without grad', async () => {
    const { x, y, net, opt } = problem();
    const t = new Trainer(net, new MSE(), opt, { batchSize: 3, progress: false });
    const full = noGrad(() => mseLoss(net.forward(x), y)).item();
    expect(await t.evaluate(x, y)).toBeCloseTo(full, 5);
    const seen: boolean[] = [];
    const spy = new Linear(1, 1);
    const watched = new Sequential(net, spy);
    const orig = spy.forward.bind(spy);
    spy.forward = (v) => {
      seen.push(spy.training);
      return orig(v);
    };
    const p = new Trainer(watched, new MSE(), opt, { batchSize: 3, progress: false }).predict(x);
    expect(p.shape).toEqual([20, 1]);
    expect(p.requiresGrad).toBe(false);
    expect(seen).toHaveLength(7);
    expect(seen.every((m) => m === false)).toBe(true);
    expect(watched.training).toBe(true);
    expect(vals(p)).toEqual(vals(noGrad(() => watched.forward(x))));
  });
});

describe('Progress', () => {
  it('writes a bounded number of plain lines when not on a terminal', async () => {
    const lines: string[] = [];
    const bar = await Progress.create(1000, { mode: 'lines', label: 'fit', write: (l) => lines.push(l), lines: 5 });
    for (let i = 1; i <= 1000; i++) bar.update(i, { loss: 0.5 / i, val: i });
    bar.stop();
    expect(lines).toHaveLength(5);
    expect(lines.at(-1)).toBe('fit 1000/1000  loss 5.000e-4  val 1000.0000');
    expect(lines[0]).toBe('fit  200/1000  loss 0.0025  val 200.0000');
  });
});
