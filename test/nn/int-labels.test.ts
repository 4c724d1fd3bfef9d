// int32 labels in the classification losses, and the Embedding layer (a lookup through
// indexSelect, whose gradient is a scatter-add).
import { describe, expect, it } from 'vitest';
import { CrossEntropy, Embedding, accuracy, Sequential, crossEntropyLoss, gradcheck, manualSeed, readSafetensors, tensor, writeSafetensors, type Tensor } from '../../src';
import { WEBGPU } from '../helpers/devices';

const i32 = (v: number[] | number[][]) => tensor(v, { dtype: 'int32' });
const vals = (t: Tensor) => Array.from(t.dataSync());

describe('crossEntropyLoss with int32 labels', () => {
  const logits = [[2, 1, -1], [0.5, 0.5, 3]];

  it('equals the loss with the same labels as a list, and as one-hot rows', () => {
    const z = tensor(logits);
    const want = crossEntropyLoss(z, [0, 2]).item();
    expect(crossEntropyLoss(z, i32([0, 2])).item()).toBeCloseTo(want, 6);
    expect(new CrossEntropy({ reduction: 'sum' }).forward(z, i32([0, 2])).item()).toBeCloseTo(2 * want, 5);
    expect(crossEntropyLoss(z, tensor([[1, 0, 0], [0, 0, 1]])).item()).toBeCloseTo(want, 6);
    // by hand: −log softmax(z)[label], averaged
    const lse = (r: number[]) => Math.log(r.reduce((s, v) => s + Math.exp(v), 0));
    expect(want).toBeCloseTo((lse(logits[0]!) - 2 + lse(logits[1]!) - 3) / 2, 6);
  });

  it('gradients in float64 agree with central differences; the labels get none', () => {
    const z = tensor([[0.3, -1.2, 2], [1, 1, -0.5], [0, 4, 0.1]], { dtype: 'float64' });
    const labels = i32([2, 0, 1]);
    expect(gradcheck((a) => crossEntropyLoss(a!, labels), [z]).ok).toBe(true);
    const zz = tensor(logits, { requiresGrad: true });
    const loss = crossEntropyLoss(zz, i32([1, 1]));
    loss.backward();
    expect(labels.requiresGrad).toBe(false);
    expect(zz.grad!.shape).toEqual([2, 3]);
  });

  it('keeps the −inf fix: a −inf logit off the label leaves the loss finite', () => {
    const z = tensor([[-Infinity, 1, 2]], { requiresGrad: true });
    const loss = crossEntropyLoss(z, i32([2]));
    expect(Number.isFinite(loss.item())).toBe(true);
    loss.backward();
    expect(vals(z.grad!).every(Number.isFinite)).toBe(true);
  });

  it('a label out of range or of the wrong count is a clear error; int32 rows are never probabilities', () => {
    const z = tensor(logits);
    expect(() => crossEntropyLoss(z, i32([0, 3]))).toThrow('CrossEntropy: label 3 at index 1 is out of range for 3 classes');
    expect(() => crossEntropyLoss(z, i32([0]))).toThrow(/labels of shape \[1\] do not match logits \[2,3\]/);
    expect(() => crossEntropyLoss(tensor([[1, 2], [3, 4]]), i32([[0, 1], [1, 0]]))).toThrow(/labels of shape \[2,2\] do not match/);
  });

  (WEBGPU.available ? it : it.skip)('int32 labels on WebGPU give the CPU loss and gradient', async () => {
    const z = tensor(logits, { requiresGrad: true });
    const zg = tensor(logits, { device: 'webgpu' }).requireGrad();
    const lc = crossEntropyLoss(z, i32([2, 1]));
    const lg = crossEntropyLoss(zg, i32([2, 1]).to('webgpu'));
    lc.backward();
    lg.backward();
    expect((await lg.data())[0]).toBeCloseTo(lc.item(), 5);
    const gg = Array.from(await zg.grad!.data());
    vals(z.grad!).forEach((v, i) => expect(gg[i]).toBeCloseTo(v, 6));
  });
});

describe('Embedding', () => {
  it('looks up rows for indices of any shape; its weight is N(0, 1) and named weight', () => {
    manualSeed(3);
    const e = new Embedding(50, 4);
    expect(e.weight.shape).toEqual([50, 4]);
    expect(Object.keys(e.stateDict())).toEqual(['weight']);
    const w = vals(e.weight);
    const mean = w.reduce((s, v) => s + v, 0) / w.length;
    const sd = Math.sqrt(w.reduce((s, v) => s + (v - mean) ** 2, 0) / w.length);
    expect(Math.abs(mean)).toBeLessThan(0.25);
    expect(sd).toBeGreaterThan(0.8);
    expect(sd).toBeLessThan(1.2);
    const out = e.forward(i32([[3, 0], [3, 49]]));
    expect(out.shape).toEqual([2, 2, 4]);
    const rows = e.weight.toArray() as number[][];
    expect(out.toArray()).toEqual([[rows[3], rows[0]], [rows[3], rows[49]]]);
    expect(e.describe()).toBe('Embedding(50, 4)');
  });

  it('gradient: rows used twice get both gradients (float64 gradcheck through the layer)', () => {
    const e = new Embedding(5, 3, { dtype: 'float64' });
    const idx = i32([1, 4, 1]);
    const upstream = tensor([[1, 2, 3], [4, 5, 6], [10, 20, 30]], { dtype: 'float64' });
    e.forward(idx).mul(upstream).sum().backward();
    expect(e.weight.grad!.toArray()).toEqual([[0, 0, 0], [11, 22, 33], [0, 0, 0], [0, 0, 0], [4, 5, 6]]);
    const w = tensor(e.weight.toArray(), { dtype: 'float64' });
    const r = gradcheck((x) => x!.indexSelect(0, idx).square().sum(), [w]);
    expect(r.ok).toBe(true);
  });

  it('refuses float indices, indices out of range and bad sizes with clear errors', () => {
    const e = new Embedding(4, 2);
    expect(() => e.forward(tensor([1]))).toThrow("Embedding(4, 2): indices must be int32, got float32 of shape [1]; cast them with .cast('int32')");
    expect(() => e.forward(i32([0, 4]))).toThrow('Embedding(4, 2): index 4 at flat position 1 of indices [2] is out of range [0, 4)');
    expect(() => e.forward(i32([-1]))).toThrow(/index -1/);
    expect(() => new Embedding(0, 2)).toThrow('Embedding: num must be a positive integer, got 0');
    expect(() => new Embedding(3, 2, { dtype: 'int32' })).toThrow(/float dtype/);
  });

  it('trains inside a Sequential and round-trips through safetensors', async () => {
    const e = new Embedding(3, 2);
    const model = new Sequential(e);
    const bytes = await writeSafetensors(model.stateDict());
    const back = readSafetensors(bytes);
    expect(Object.keys(back)).toEqual(['0.weight']);
    expect(back['0.weight']!.toArray()).toEqual(e.weight.toArray());
  });
});

describe('accuracy with int32 labels', () => {
  it('counts int32 class indices like the same labels as floats or a list', () => {
    const z = tensor([[2, 1, -1], [0.5, 0.5, 3], [0, 1, 0], [5, 5, 0]]);
    // predictions (first of ties): 0, 2, 1, 0
    expect(accuracy(z, i32([0, 2, 0, 0])).item()).toBeCloseTo(0.75, 6);
    expect(accuracy(z, tensor([0, 2, 0, 0])).item()).toBeCloseTo(0.75, 6);
    expect(accuracy(z, [0, 2, 0, 1]).item()).toBeCloseTo(0.5, 6);
  });
});
