// The digit classifier's plumbing: the seeded split of the mnist package's digits, and a short
// training run of examples/07-digits.ts's net on every device (WebGPU gives the CPU's losses).
import { describe, expect, it } from 'vitest';
import { loadDigits, readAllDigits } from '../../examples/data/digits';
import { tensor } from '../../src';
import { RandomShift, trainDigits } from '../../examples/digits-run';
import { DEVICES } from '../helpers/devices';

describe('digits data', () => {
  it('reads 10,000 digits (values 0–1, labels 0–9) and splits them 8,000/2,000, disjoint and seeded', () => {
    const all = readAllDigits();
    expect(all.labels.length).toBe(10000);
    expect(all.pixels.length).toBe(10000 * 784);
    expect(Math.min(...all.pixels.subarray(0, 784 * 50))).toBe(0);
    expect(Math.max(...all.pixels.subarray(0, 784 * 50))).toBeLessThanOrEqual(1);
    expect(new Set(all.labels)).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    const { train, test } = loadDigits({ seed: 0 });
    expect(train.x.shape).toEqual([8000, 1, 28, 28]);
    expect(test.y.shape).toEqual([2000]);
    // every digit lands on exactly one side: the label counts add up to the package's
    const count = (l: Float32Array) => Array.from({ length: 10 }, (_, d) => l.filter((v) => v === d).length);
    const both = count(train.labels).map((n, d) => n + count(test.labels)[d]!);
    expect(both).toEqual(count(all.labels));
    // the same seed, the same split; another seed, another
    expect(Array.from(loadDigits({ seed: 0, train: 50, test: 10 }).train.labels)).toEqual(Array.from(train.labels.subarray(0, 50)));
    expect(Array.from(loadDigits({ seed: 1, train: 50, test: 10 }).train.labels)).not.toEqual(Array.from(train.labels.subarray(0, 50)));
    expect(() => loadDigits({ train: 9000, test: 2000 })).toThrow('loadDigits: train 9000 + test 2000 rows must be positive integers adding up to at most 10000');
    for (const t of [train.x, train.y, test.x, test.y]) t.dispose();
  });
});

describe('the digit classifier (the LeNet-style convnet by default, the MLP to compare)', () => {
  const small = { train: 512, test: 256, epochs: 2, outDir: null, log: () => {} } as const;

  it('learns: the loss falls and test accuracy is far above chance after 2 short epochs', async () => {
    const r = await trainDigits(small);
    expect(r.epochs).toHaveLength(2);
    expect(r.epochs[1]!.loss).toBeLessThan(r.epochs[0]!.loss);
    // 16 Adam steps from PyTorch's small dense init: about 59% (chance: 10%)
    expect(r.testAccuracy).toBeGreaterThan(0.4);
    // the confusion matrix counts every test digit once, and its diagonal is the accuracy
    expect(r.confusion.flat().reduce((a, b) => a + b, 0)).toBe(256);
    expect(r.confusion.reduce((a, row, i) => a + row[i]!, 0) / 256).toBeCloseTo(r.testAccuracy, 12);
    expect(r.epochs[1]!.testAccuracy).toBeCloseTo(r.testAccuracy, 6);
  });

  it.each(DEVICES.filter((d) => d !== 'cpu'))('on %s: the same losses as the CPU (float32 tolerance)', async (device) => {
    // smaller still: SwiftShader runs WebGPU on the CPU
    const tiny = { ...small, train: 128, test: 64 };
    const cpu = await trainDigits(tiny);
    const dev = await trainDigits({ ...tiny, device });
    dev.epochs.forEach((e, i) => {
      expect(e.loss).toBeCloseTo(cpu.epochs[i]!.loss, 3);
      expect(e.testLoss).toBeCloseTo(cpu.epochs[i]!.testLoss, 3);
    });
  }, 180_000);

  it('RandomShift moves a training batch by a whole number of pixels in [−max, max], zeros coming in, and is the identity in eval mode', () => {
    const x = tensor(Array.from({ length: 2 * 5 * 6 }, (_, i) => i + 1), { shape: [2, 1, 5, 6] });
    const layer = new RandomShift(2, 7);
    const seen = new Set<string>();
    for (let k = 0; k < 200; k++) {
      const y = Array.from(layer.forward(x).dataSync());
      // find the offset that explains y: y[n, 0, i, j] = x[n, 0, i − dy, j − dx], or 0 outside
      const fits = [];
      for (let dy = -2; dy <= 2; dy++)
        for (let dx = -2; dx <= 2; dx++) {
          const want = Array.from({ length: 60 }, (_, o) => {
            const [n, i, j] = [Math.floor(o / 30), Math.floor(o / 6) % 5, o % 6];
            const [si, sj] = [i - dy, j - dx];
            return si >= 0 && si < 5 && sj >= 0 && sj < 6 ? n * 30 + si * 6 + sj + 1 : 0;
          });
          if (want.every((v, o) => v === y[o])) fits.push(`${dy},${dx}`);
        }
      expect(fits).toHaveLength(1);
      seen.add(fits[0]!);
    }
    // every one of the 25 offsets turns up in 200 draws (each has probability 1/25 a draw)
    expect(seen.size).toBe(25);
    layer.eval();
    expect(layer.forward(x)).toBe(x);
    expect(() => new RandomShift(-1)).toThrow('RandomShift: max must be an integer ≥ 0, got -1');
  });

  it('--arch mlp, kept for comparison, learns too, with another parameter count than the convnet', async () => {
    const r = await trainDigits({ ...small, arch: 'mlp' });
    expect(r.epochs[1]!.loss).toBeLessThan(r.epochs[0]!.loss);
    expect(r.testAccuracy).toBeGreaterThan(0.6);
  });
});
