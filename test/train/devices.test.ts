// nn, optim and the Trainer on every device: the same seeded run gives the same losses as on the
// CPU (float32 both), values are read with await data() only, and memory stays flat there.
// Every tensor is disposed at the end of its test: a parameter that was assign()ed and is then
// left to the garbage collector makes the engine's finalizer release its first buffer a second
// time, which WebGPU reports as an uncaught error (an engine bug, reported; not worked around here).
import { describe, expect, it } from 'vitest';
import { Adam, CrossEntropy, Linear, MSE, Momentum, Sequential, Tanh, Trainer, crossEntropyLoss, linspace, manualSeed, memory, noGrad, tensor, tidy, type Device, type StateDict } from '../../src';
import { DEVICES } from '../helpers/devices';

async function run(device: Device, epochs: number) {
  manualSeed(3);
  // no tensor is left to the garbage collector: its finalizer would change the live count mid-test
  const x = tidy(() => linspace(-2, 2, 24, { device }).reshape([-1, 1]));
  const y = tidy(() => noGrad(() => x.mul(1.5).sin()));
  const net = new Sequential(new Linear(1, 6, { device }), new Tanh(), new Linear(6, 1, { device }));
  const opt = new Adam(net.parameters(), { lr: 0.05 });
  const trainer = new Trainer(net, new MSE(), opt, { batchSize: 8, seed: 1, progress: false });
  const h = await trainer.fit(x, y, { epochs, validation: [x, y] });
  const p = trainer.predict(x);
  const dispose = () => {
    for (const t of [p, x, y, ...net.parameters()]) t.dispose();
    opt.dispose();
  };
  return { h, p, x, y, net, opt, trainer, dispose };
}

describe.each(DEVICES)('on %s', (device) => {
  it('a shuffled mini-batch fit gives the CPU run’s losses', async () => {
    const cpu = await run('cpu', 4);
    const dev = await run(device, 4);
    expect(dev.p.device).toBe(device);
    dev.h.train.forEach((v, i) => expect(v).toBeCloseTo(cpu.h.train[i]!, 4));
    dev.h.validation.forEach((v, i) => expect(v).toBeCloseTo(cpu.h.validation[i]!, 4));
    const [a, b] = [await cpu.p.data(), await dev.p.data()];
    a.forEach((v, i) => expect(b[i]).toBeCloseTo(v, 4));
    cpu.dispose();
    dev.dispose();
  });

  it('keeps the live tensor count flat across epochs', async () => {
    const { trainer, x, y, dispose } = await run(device, 1);
    try {
      const live = memory().tensors;
      await trainer.fit(x, y, { epochs: 3, validation: [x, y] });
      expect(memory().tensors).toBe(live);
    } finally {
      dispose();
    }
  });

  it('cross-entropy with labels on the device, and momentum', async () => {
    manualSeed(4);
    const x = tensor([[1, 0], [0, 1], [1, 1], [-1, 0]], { device });
    const labels = tensor([0, 1, 2, 0], { device });
    const net = new Linear(2, 3, { device });
    const opt = new Momentum(net.parameters(), { lr: 0.5 });
    const trainer = new Trainer(net, new CrossEntropy(), opt, { batchSize: Infinity, progress: false });
    const h = await trainer.fit(x, labels, { epochs: 30 });
    expect(h.train.at(-1)!).toBeLessThan(h.train[0]! / 2);
    // the loss is the CPU's for the same weights and labels
    const cpuNet = new Linear(2, 3);
    const dict: StateDict = {};
    for (const [k, t] of net.namedParameters()) dict[k] = tensor(await t.data(), { shape: t.shape });
    cpuNet.loadStateDict(dict);
    for (const t of Object.values(dict)) t.dispose();
    const cpuLoss = tidy(() => crossEntropyLoss(cpuNet.forward(tensor([[1, 0], [0, 1], [1, 1], [-1, 0]])), [0, 1, 2, 0]).item());
    expect(await trainer.evaluate(x, labels)).toBeCloseTo(cpuLoss, 4);
    for (const t of [x, labels, ...net.parameters(), ...cpuNet.parameters()]) t.dispose();
    opt.dispose();
  });
});
