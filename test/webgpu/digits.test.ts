// The digit example's convnet (examples/digits-run.ts makeNet('lenet')) trained a few Adam steps
// on WebGPU (SwiftShader here) and on the CPU from the same seeded init and batches: the loss
// falls on WebGPU, and each step's loss equals the CPU's within float32 tolerance (the kernels
// differ in summation order only).
import { expect, it } from 'vitest';
import { Adam, crossEntropyLoss, manualSeed, tidy, type Device } from '../../src';
import { loadDigits } from '../../examples/data/digits';
import { makeNet } from '../../examples/digits-run';
import { describeGPU } from './helpers';

const STEPS = 4;
const BATCH = 8;

async function losses(device: Device): Promise<number[]> {
  manualSeed(3);
  // without the example's dropout and random shifts: the same batch two steps later is the same input
  const net = makeNet('lenet', device, 0, 0);
  const opt = new Adam(net.parameters(), { lr: 1e-3 });
  const data = loadDigits({ seed: 1, train: BATCH * 2, test: 1, device });
  const out: number[] = [];
  try {
    for (let s = 0; s < STEPS; s++) {
      const begin = (s % 2) * BATCH;
      const loss = tidy(() => {
        const x = data.train.x.slice([begin], [begin + BATCH]);
        const y = data.train.y.slice([begin], [begin + BATCH]);
        opt.zeroGrad();
        const l = crossEntropyLoss(net.forward(x), y);
        l.backward();
        opt.step();
        return l;
      });
      out.push((await loss.data())[0]!);
      loss.dispose();
    }
  } finally {
    for (const t of [data.train.x, data.train.y, data.test.x, data.test.y, ...net.parameters()]) t.dispose();
  }
  return out;
}

describeGPU('the digits convnet on WebGPU', () => {
  it('a few Adam steps: the loss falls and equals the CPU loss step by step', async () => {
    const cpu = await losses('cpu');
    const gpu = await losses('webgpu');
    // the same batch again two steps later: Adam has moved the weights downhill on it
    expect(gpu[STEPS - 2]!).toBeLessThan(gpu[0]!);
    expect(gpu[STEPS - 1]!).toBeLessThan(gpu[1]!);
    gpu.forEach((l, i) => expect(Math.abs(l - cpu[i]!), `step ${i}: webgpu ${l}, cpu ${cpu[i]}`).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(cpu[i]!))));
  }, 400_000);
});
