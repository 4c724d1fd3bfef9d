// A training loop on WebGPU from raw tensor ops: a 2-16-1 tanh MLP fitting y = sin(2x₀)·x₁ by
// full-batch SGD, each step inside tidy() with the update done by assign(). Over 2,000 steps
// the live tensors, live buffers and bytes stay flat, and the pool stops growing: every buffer a
// step makes goes back to the pool and the next step takes it again.
import { expect, it } from 'vitest';
import { manualSeed, memory, noGrad, randn, tensor, tidy, type Device, type Tensor } from '../../src';
import { webgpuStats } from '../../src/backends/webgpu';
import { describeGPU, expectClose } from './helpers';

interface Net {
  params: Tensor[];
  step: () => Tensor;
}

function makeNet(device: Device, lr = 0.1): Net {
  manualSeed(7);
  const n = 64;
  const Xc = randn([n, 2]);
  const x = Xc.dataSync();
  const X = Xc.to(device);
  const Y = tensor(Array.from({ length: n }, (_, i) => Math.sin(2 * x[2 * i]!) * x[2 * i + 1]!), { shape: [n, 1], device });
  const W1 = randn([2, 16], { device, std: 0.5, requiresGrad: true });
  const b1 = tensor(new Array(16).fill(0), { device, requiresGrad: true });
  const W2 = randn([16, 1], { device, std: 0.5, requiresGrad: true });
  const b2 = tensor([0], { device, requiresGrad: true });
  const params = [W1, b1, W2, b2];
  const step = () =>
    tidy(() => {
      const out = X.matmul(W1).add(b1).tanh().matmul(W2).add(b2);
      const loss = out.sub(Y).square().mean();
      loss.backward();
      noGrad(() => {
        for (const p of params) {
          p.assign(p.sub(p.grad!.mul(lr)));
          p.zeroGrad();
        }
      });
      return loss;
    });
  return { params, step };
}

describeGPU('training on webgpu', () => {
  it('2,000 SGD steps keep memory() flat and the pool bounded', async () => {
    const net = makeNet('webgpu');
    const losses: number[] = [];
    let snapshot: { mem: unknown; pooled: number; created: number } | null = null;
    for (let i = 1; i <= 2000; i++) {
      const loss = net.step();
      if (i % 100 === 0) {
        // reading back every 100 steps keeps the CPU from running far ahead of the queue
        losses.push((await loss.data())[0]!);
        const s = webgpuStats()!;
        const now = { mem: memory().devices.webgpu, pooled: s.pooledBuffers, created: s.created };
        if (i === 100) snapshot = now;
        else expect(now, `after step ${i}`).toEqual(snapshot);
      }
      loss.dispose();
    }
    // and it learned something
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! * 0.5);
    for (const p of net.params) p.dispose();
  }, 180_000);

  it('100 steps on WebGPU end at the CPU parameters (float32, same seed)', async () => {
    const gpu = makeNet('webgpu');
    const cpu = makeNet('cpu');
    for (let i = 0; i < 100; i++) {
      gpu.step().dispose();
      cpu.step().dispose();
    }
    for (let k = 0; k < gpu.params.length; k++) {
      expectClose(await gpu.params[k]!.data(), cpu.params[k]!.dataSync(), { atol: 1e-4, rtol: 1e-3 }, `parameter ${k} after 100 steps`);
    }
    for (const p of [...gpu.params, ...cpu.params]) p.dispose();
  });
});
