// The new layers, optimizers, clipGradNorm, accuracy and the divergence guard on every device:
// the same seeded computation gives the CPU's values (float32 both), read with await data().
// Every tensor is disposed at the end of its test (see test/train/devices.test.ts for why).
import { describe, expect, it } from 'vitest';
import {
  AdaGrad, AdamW, BatchNorm2d, Dropout, Flatten, LayerNorm, Linear, MSE, RMSProp, SGD, Sequential, Trainer, accuracy, clipGradNorm,
  manualSeed, mseLoss, randn, tensor, tidy, type Device, type Module, type Optimizer, type Tensor,
} from '../../src';
import { DEVICES } from '../helpers/devices';

const read = async (t: Tensor) => Array.from(await t.data());
const near = (a: number[], b: number[], tol = 1e-4) => {
  expect(a.length).toBe(b.length);
  a.forEach((v, i) => expect(Math.abs(v - b[i]!)).toBeLessThanOrEqual(tol * (1 + Math.abs(b[i]!))));
};

/** A small net with every new layer, built the same way (same seed) on `device`. */
function build(device: Device) {
  manualSeed(11);
  const net = new Sequential(new BatchNorm2d(2, { device }), new Dropout(0.3), new Flatten(), new LayerNorm(18, { device }), new Linear(18, 3, { device }));
  const x = randn([4, 2, 3, 3], { device, mean: 1, std: 2 });
  const y = randn([4, 3], { device });
  return { net, x, y };
}

/** Forward (training mode), backward, one step of `make`'s optimizer; returns everything read back. */
async function step(device: Device, make: (ps: Tensor[]) => Optimizer<{ lr: number }>) {
  const { net, x, y } = build(device);
  const opt = make(net.parameters());
  manualSeed(12); // the dropout mask
  const loss = tidy(() => {
    const l = mseLoss(net.forward(x), y);
    l.backward();
    return l;
  });
  const norm = clipGradNorm(net.parameters(), 0.5);
  const grads = await Promise.all(net.parameters().map((p) => read(p.grad!)));
  opt.step();
  const out = {
    loss: await read(loss),
    norm: await read(norm),
    grads,
    params: await Promise.all(net.parameters().map(read)),
    buffers: await Promise.all(net.buffers().map(read)),
    evalOut: await read(tidy(() => net.eval().forward(x))),
  };
  dispose(net, [x, y, loss, norm]);
  opt.dispose();
  return out;
}

function dispose(net: Module, ts: Tensor[]) {
  for (const t of [...ts, ...net.parameters(), ...net.buffers()]) t.dispose();
}

describe.each(DEVICES)('on %s', (device) => {
  it.each([
    ['AdamW', (ps: Tensor[]) => new AdamW(ps, { lr: 0.01, weightDecay: 0.1 })],
    ['RMSProp', (ps: Tensor[]) => new RMSProp(ps, { lr: 0.01, momentum: 0.9, centered: true })],
    ['AdaGrad', (ps: Tensor[]) => new AdaGrad(ps, { lr: 0.1, lrDecay: 0.1, initialAccumulatorValue: 0.1 })],
  ] as const)('BatchNorm2d, Dropout, Flatten, LayerNorm, clipGradNorm and %s give the CPU’s values', async (_, make) => {
    const cpu = await step('cpu', make);
    const dev = await step(device, make);
    near(dev.loss, cpu.loss);
    near(dev.norm, cpu.norm);
    dev.grads.forEach((g, i) => near(g, cpu.grads[i]!));
    dev.params.forEach((p, i) => near(p, cpu.params[i]!));
    dev.buffers.forEach((b, i) => near(b, cpu.buffers[i]!));
    near(dev.evalOut, cpu.evalOut);
  });

  it('accuracy on the device, with index and one-hot labels', async () => {
    const logits = tensor([[0.1, 2, -1], [3, 0, 0], [0, 0, 5], [1, 1, 0]], { device });
    const idx = tensor([1, 0, 1, 0], { device });
    const hot = tensor([[0, 1, 0], [1, 0, 0], [0, 1, 0], [0, 1, 0]], { device });
    const [a, b] = [accuracy(logits, idx), accuracy(logits, hot)];
    expect(await read(a)).toEqual([0.75]);
    expect(await read(b)).toEqual([0.5]);
    for (const t of [logits, idx, hot, a, b]) t.dispose();
  });

  it('the divergence guard sees a NaN loss on the device', async () => {
    manualSeed(1);
    const net = new Linear(2, 1, { device });
    const x = randn([8, 2], { device });
    const y = randn([8, 1], { device });
    let calls = 0;
    const loss = (p: Tensor, q: Tensor) => (++calls === 3 ? mseLoss(p, q).mul(NaN) : mseLoss(p, q));
    const opt = new SGD(net.parameters(), { lr: 0.1 });
    const t = new Trainer(net, loss, opt, { batchSize: 4, progress: false });
    await expect(t.fit(x, y, { epochs: 3 })).rejects.toThrow('the training loss became NaN or infinite at epoch 2, step 1 of 2');
    expect((await read(net.weight)).every(Number.isFinite)).toBe(true);
    const ok = new Trainer(net, new MSE(), opt, { batchSize: 4, progress: false });
    expect((await ok.fit(x, y, { epochs: 1 })).train).toHaveLength(1);
    dispose(net, [x, y]);
  });
});
