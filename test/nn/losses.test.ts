// Losses: values against host arithmetic, shapes, cross-entropy stability and label checks.
import { describe, expect, it } from 'vitest';
import { CrossEntropy, L1, MSE, crossEntropyLoss, gradcheck, tensor, type Tensor } from '../../src';

const vals = (t: Tensor) => Array.from(t.dataSync());
const p = tensor([[1], [2], [4]]);
const t = tensor([[0], [2], [1]]);

describe('MSE and L1', () => {
  it('compute mean, half and sum forms', () => {
    // residuals 1, 0, 3 → squares 1, 0, 9
    expect(new MSE().forward(p, t).item()).toBeCloseTo(10 / 3, 6);
    expect(new MSE({ half: true }).forward(p, t).item()).toBeCloseTo(5 / 3, 6);
    expect(new MSE({ half: true, reduction: 'sum' }).forward(p, t).item()).toBeCloseTo(5, 6);
    expect(new L1().forward(p, t).item()).toBeCloseTo(4 / 3, 6);
    expect(new L1({ reduction: 'sum' }).forward(p, t).item()).toBeCloseTo(4, 6);
    expect(new MSE().forward(p, t).shape).toEqual([]);
  });

  it('reject a target whose shape differs from the prediction (no silent broadcasting)', () => {
    expect(() => new MSE().forward(tensor(new Float32Array(10), { shape: [10, 1] }), tensor(new Float32Array(10)))).toThrow(
      'MSE: target shape [10] does not match prediction shape [10,1]',
    );
    expect(() => new L1().forward(p, tensor([0, 2, 1]))).toThrow('L1: target shape [3] does not match prediction shape [3,1]');
    expect(() => new MSE({ reduction: 'max' as never })).toThrow("MSE: reduction must be 'mean' or 'sum', got 'max'");
  });
});

describe('CrossEntropy', () => {
  const logits = [[2, 1, -1], [0.5, 0.5, 3]];
  const host = (z: number[][], y: number[]) =>
    z.reduce((s, row, i) => {
      const m = Math.max(...row);
      const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
      return s + lse - row[y[i]!]!;
    }, 0) / z.length;

  it('matches −mean log softmax at the labels', () => {
    expect(new CrossEntropy().forward(tensor(logits), tensor([0, 2])).item()).toBeCloseTo(host(logits, [0, 2]), 6);
    expect(crossEntropyLoss(tensor(logits), [1, 1]).item()).toBeCloseTo(host(logits, [1, 1]), 6);
    expect(crossEntropyLoss(tensor(logits), [1, 1], { reduction: 'sum' }).item()).toBeCloseTo(2 * host(logits, [1, 1]), 5);
    // class probabilities of the logits' shape are accepted as targets
    expect(crossEntropyLoss(tensor(logits), tensor([[1, 0, 0], [0, 0, 1]])).item()).toBeCloseTo(host(logits, [0, 2]), 6);
  });

  it('is stable for large logits and its gradient is (softmax − onehot)/N', () => {
    const big = tensor([[1000, 0, -1000], [500, 501, 0]], { requiresGrad: true });
    const l = crossEntropyLoss(big, [0, 0]);
    expect(l.item()).toBeCloseTo(host([[1000, 0, -1000], [500, 501, 0]], [0, 0]), 4);
    l.backward();
    const s = 1 / (1 + Math.exp(-1)); // softmax weight of 501 against 500
    const g = vals(big.grad!);
    [0, 0, 0, (1 - s - 1) / 2, s / 2, 0].forEach((v, i) => expect(g[i]).toBeCloseTo(v, 6));
    const z = tensor([[0.3, -0.2, 1.1], [2, 0.1, -1]], { dtype: 'float64' });
    expect(gradcheck((a) => crossEntropyLoss(a!, [2, 0]), [z]).ok).toBe(true);
  });

  it('rejects labels out of range, non-integers and a wrong count', () => {
    expect(() => crossEntropyLoss(tensor(logits), [0, 3])).toThrow('CrossEntropy: label 3 at index 1 is out of range for 3 classes');
    expect(() => crossEntropyLoss(tensor(logits), tensor([0, -1]))).toThrow('label -1 at index 1 is out of range');
    expect(() => crossEntropyLoss(tensor(logits), [0.5, 1])).toThrow('label 0.5 at index 0');
    expect(() => crossEntropyLoss(tensor(logits), [0, 1, 2])).toThrow('CrossEntropy: 3 labels do not match logits [2,3] (expected 2)');
  });
});
