// accuracy: index labels, one-hot labels, plain lists, ties (first index, as argmax), errors.
import { describe, expect, it } from 'vitest';
import { accuracy, tensor } from '../../src';

describe('accuracy', () => {
  const logits = tensor([
    [0.1, 2, -1], // 1
    [3, 0, 0], // 0
    [0, 0, 5], // 2
    [1, 1, 0], // tie between 0 and 1: argmax says 0
  ]);

  it('counts rows whose largest logit is the label (index labels as a tensor or a list)', () => {
    expect(accuracy(logits, tensor([1, 0, 2, 0])).item()).toBe(1);
    expect(accuracy(logits, tensor([1, 0, 1, 0])).item()).toBe(0.75);
    expect(accuracy(logits, [2, 2, 2, 2]).item()).toBe(0.25);
    // the tie goes to the lowest index, as argmax does
    expect(accuracy(logits, [1, 0, 2, 1]).item()).toBe(0.75);
  });

  it('takes one-hot rows (the class is their largest entry), and batch shapes [..., C]', () => {
    const hot = tensor([[0, 1, 0], [1, 0, 0], [0, 1, 0], [1, 0, 0]]);
    expect(accuracy(logits, hot).item()).toBe(0.75);
    expect(accuracy(logits.reshape([2, 2, 3]), tensor([[1, 0], [2, 2]])).item()).toBe(0.75);
    expect(accuracy(tensor([[1, 2]], { dtype: 'float64' }), tensor([1])).item()).toBe(1);
  });

  it('rejects labels that fit neither the batch nor the logits', () => {
    expect(() => accuracy(logits, tensor([1, 0]))).toThrow('accuracy: labels of shape [2] fit neither the batch [4] (class indices) nor the logits [4,3] (one-hot rows)');
    expect(() => accuracy(logits, [1])).toThrow('accuracy: 1 labels do not match logits [4,3] (expected 4)');
    expect(() => accuracy(tensor(3), [1])).toThrow('accuracy: logits must be a tensor of shape [..., classes], got []');
    expect(() => accuracy(logits, null as never)).toThrow('accuracy: labels must be a tensor or a list of class indices, got null');
  });
});
