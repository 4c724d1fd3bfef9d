// The conv layers (names, layouts and init as PyTorch) and the errors conv2d, pooling, windows and
// fold give for bad input: each names the op and the shapes or arguments involved.
import { describe, expect, it } from 'vitest';
import { AvgPool2d, Conv2d, MaxPool2d, avgPool2d, conv2d, fold, manualSeed, maxPool2d, randn, tensor, tidy, windows } from '../../src';

describe('Conv2d, MaxPool2d, AvgPool2d', () => {
  it('Conv2d: weight [out, in/groups, kH, kW] and bias [out] drawn from U(±1/√fan_in); forward is conv2d', () => {
    manualSeed(1);
    const c = new Conv2d(4, 6, [3, 2], { groups: 2, padding: 1 });
    expect(c.namedParameters().map(([n, p]) => [n, [...p.shape]])).toEqual([['weight', [6, 2, 3, 2]], ['bias', [6]]]);
    const bound = 1 / Math.sqrt(2 * 3 * 2);
    for (const p of c.parameters()) {
      const v = [...p.dataSync()];
      expect(Math.max(...v.map(Math.abs))).toBeLessThanOrEqual(bound);
      // drawn over the whole range, not a narrower one
      expect(Math.max(...v.map(Math.abs))).toBeGreaterThan(bound / 2);
    }
    const x = randn([2, 4, 5, 5]);
    const want = conv2d(x, c.weight, c.bias, { groups: 2, padding: 1 }).dataSync();
    const y = c.forward(x);
    expect([...y.shape]).toEqual(c.outputShape([2, 4, 5, 5]));
    expect([...y.dataSync()]).toEqual([...want]);
    expect(new Conv2d(1, 2, 5, { bias: false }).bias).toBeNull();
  });

  it('pooling layers have no parameters and give the functional results', () => {
    const x = randn([1, 2, 6, 6]);
    const mp = new MaxPool2d(2);
    const ap = new AvgPool2d(3, { stride: 1, padding: 1 });
    expect(mp.parameters()).toEqual([]);
    expect([...mp.forward(x).dataSync()]).toEqual([...maxPool2d(x, 2).dataSync()]);
    expect([...ap.forward(x).shape]).toEqual(ap.outputShape([1, 2, 6, 6]));
    expect([...ap.forward(x).dataSync()]).toEqual([...avgPool2d(x, 3, { stride: 1, padding: 1 }).dataSync()]);
  });
});

describe('convolution errors', () => {
  it('name the op and the shapes or arguments', () => {
    tidy(() => {
      const x = randn([2, 3, 8, 8]);
      expect(() => conv2d(x, randn([4, 2, 3, 3]))).toThrow('conv2d: x [2,3,8,8], weight [4,2,3,3] with groups 1 do not fit');
      expect(() => conv2d(x, randn([4, 3, 3, 3]), randn([5]))).toThrow('bias [5]');
      expect(() => conv2d(randn([3, 8, 8]), randn([4, 3, 3, 3]))).toThrow('conv2d: expects x [N, C, H, W]');
      expect(() => conv2d(x, randn([4, 3, 9, 3]))).toThrow(/conv2d: kernel \[9,3\] .* more than the padded input \[8,8\]/);
      expect(() => conv2d(x, randn([4, 3, 3, 3]), null, { stride: 0 })).toThrow('conv2d: stride must hold integers ≥ 1, got [0,0]');
      expect(() => conv2d(x, randn([4, 3, 3, 3]).cast('float64'))).toThrow(/conv2d: .*x is float32 on cpu, a parameter is float64 on cpu/);
      expect(() => maxPool2d(x, 2, { padding: 2 })).toThrow('maxPool2d: padding [2,2] must be at most half the kernel [2,2]');
      expect(() => maxPool2d(randn([1, 1, 1, 1]), [2, 1], { padding: [1, 0], dilation: [2, 1] })).toThrow(
        'maxPool2d: window 0 along H lies wholly in the padding',
      );
      expect(() => avgPool2d(x, [2, 2, 2] as never)).toThrow('avgPool2d: kernelSize must be a number or an [h, w] pair');
      expect(() => windows(x, [3, 2], [2, 2])).toThrow('windows: axes [3,2] must be increasing');
      expect(() => windows(x, [2], [2, 2])).toThrow('windows: size must hold 1 positive integers');
      expect(() => fold(randn([2, 3, 5, 8, 3]), [2, 3, 8, 8], [2], [3])).toThrow(
        'fold: input [2,3,5,8,3] is not the windows of shape [2,3,8,8] (expected [2,3,6,8,3]',
      );
      expect(() => fold(tensor([1, 2]), [2, 3], [1], [1])).toThrow('fold: input [2] is not the windows of shape [2,3]');
    });
  });
});
