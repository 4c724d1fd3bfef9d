// Bad input gets an error that names the op and the shapes (or dtypes), never a silent NaN or a
// wrong shape. Each message is matched in full enough to show both.
import { describe, expect, it } from 'vitest';
import * as T from '../src';
import { registerBackend, type Backend, type KernelTable, type Storage } from '../src/backends/backend';

const z = (shape: number[]) => T.zeros(shape);

describe('shape errors name the op and the shapes', () => {
  it.each([
    ['add', () => z([2, 3]).add(z([4])), 'add: shapes [2,3] and [4] cannot broadcast'],
    ['mul', () => T.mul(z([2, 1, 3]), z([4, 2])), 'mul: shapes [2,1,3] and [4,2] cannot broadcast'],
    ['maximum', () => z([3]).maximum(z([2])), 'maximum: shapes [3] and [2] cannot broadcast'],
    ['where', () => T.where(z([2]), z([3]), 1), 'where: shapes [2] and [3] and [] cannot broadcast'],
    ['expand', () => z([2, 3]).expand([3, 3]), 'expand: shape [2,3] cannot broadcast to [3,3]'],
  ])('%s: shapes that cannot broadcast', (_, fn, message) => {
    expect(fn).toThrow(message);
  });

  it('matmul: inner dimensions, 2-D, 1-D and batched', () => {
    expect(() => T.matmul(z([2, 3]), z([4, 5]))).toThrow('matmul: inner dimensions differ: [2,3] @ [4,5] (3 vs 4)');
    expect(() => T.matmul(z([3]), z([4]))).toThrow('matmul: inner dimensions differ: [3] @ [4] (3 vs 4)');
    expect(() => T.matmul(z([5, 2, 3]), z([3]))).not.toThrow();
    expect(() => T.matmul(z([2, 2, 3]), z([3, 3, 2]))).toThrow('matmul: batch dimensions of [2,2,3] and [3,3,2] cannot broadcast');
    expect(() => T.matmul(z([2, 3]), z([]))).toThrow(/matmul: scalars are not allowed \(shapes \[2,3\] and \[\]\)/);
  });

  it('reshape to a different size', () => {
    expect(() => z([2, 3]).reshape([4, 2])).toThrow('reshape: cannot reshape [2,3] (6 elements) to [4,2] (8 elements)');
    expect(() => z([2, 3]).reshape([4, -1])).toThrow('reshape: cannot reshape [2,3] (6 elements) to [4,-1]');
    expect(() => z([2, 3]).reshape([-1, -1])).toThrow('reshape: invalid target shape [-1,-1] for [2,3]');
  });

  it.each([
    ['sum', () => z([2, 3]).sum(2), 'sum: axis 2 is out of range for shape [2,3]'],
    ['sum (negative)', () => z([2, 3]).sum([0, -3]), 'sum: axis -3 is out of range for shape [2,3]'],
    ['mean', () => z([2, 3]).mean(3), 'mean: axis 3 is out of range for shape [2,3]'],
    ['max', () => z([2, 3]).max(5), 'max: axis 5 is out of range for shape [2,3]'],
    ['min', () => z([4]).min(1), 'min: axis 1 is out of range for shape [4]'],
    ['softmax', () => z([2, 3]).softmax(2), 'softmax: axis 2 is out of range for shape [2,3]'],
    ['logSoftmax', () => z([2]).logSoftmax(-2), 'logSoftmax: axis -2 is out of range for shape [2]'],
    ['logSumExp', () => z([2]).logSumExp(1), 'logSumExp: axis 1 is out of range for shape [2]'],
    ['transpose', () => z([2, 3]).transpose(0, 2), 'transpose: axis 2 is out of range for shape [2,3]'],
    ['unsqueeze', () => z([2, 3]).unsqueeze(4), 'unsqueeze: axis 4 is out of range for shape [2,3]'],
    ['concat', () => T.concat([z([2]), z([2])], 1), 'concat: axis 1 is out of range for shape [2]'],
    ['sum (repeated)', () => z([2, 3]).sum([1, -1]), 'sum: axis [1,-1] repeats an axis'],
  ])('%s: axis out of range', (_, fn, message) => {
    expect(fn).toThrow(message);
  });

  it('max/min over an empty axis (no identity); other axes of an empty tensor are fine', () => {
    expect(() => z([2, 0]).max()).toThrow('max: cannot reduce over axis 1 of size 0 (shape [2,0])');
    expect(() => z([0, 3]).min(0)).toThrow('min: cannot reduce over axis 0 of size 0 (shape [0,3])');
    expect(z([0, 3]).max(1).shape).toEqual([0]);
  });

  it('other movement errors', () => {
    expect(() => z([2, 3]).permute([0, 0])).toThrow('permute: [0,0] is not a permutation of the axes of shape [2,3]');
    expect(() => z([2, 3]).squeeze(0)).toThrow('squeeze: axis 0 of shape [2,3] has size 2, not 1');
    expect(() => z([2, 3]).slice([0, 0], [3, 1])).toThrow('slice: [0,0] to [3,1] is out of range for shape [2,3]');
    expect(() => T.concat([z([2, 3]), z([3, 3])], 1)).toThrow('concat: shapes [2,3], [3,3] differ outside axis 1');
    expect(() => T.concat([z([2, 3]), z([3])])).toThrow('concat: shapes [2,3], [3] have different ranks');
    expect(() => T.stack([z([2, 3]), z([3, 2])])).toThrow('stack: shapes [2,3], [3,2] differ');
  });
});

describe('dtype and device errors', () => {
  it('mixing dtypes without a cast names the op, both dtypes and shapes, and the fix', () => {
    const f64 = T.zeros([2, 3], { dtype: 'float64' });
    expect(() => z([2, 3]).add(f64)).toThrow(
      "add: dtypes float32 and float64 differ (shapes [2,3] and [2,3]); cast one with .cast('float64')",
    );
    expect(() => T.matmul(f64, z([3, 1]))).toThrow(/^matmul: dtypes float64 and float32 differ \(shapes \[2,3\] and \[3,1\]\)/);
    expect(z([2, 3]).add(f64.cast('float32')).dtype).toBe('float32');
  });

  it('an unknown dtype is refused', () => {
    expect(() => T.tensor([1], { dtype: 'int8' as never })).toThrow("tensor: unknown dtype 'int8'");
  });

  it('a tensor on a device with no backend says how to get one', () => {
    expect(() => T.tensor([1], { device: 'webgpu' })).toThrow(/no backend registered for device 'webgpu'.*initWebGPU/);
  });
});

describe('bad data', () => {
  it('ragged nested arrays name the position and the expected shape', () => {
    expect(() => T.tensor([[1, 2], [3]])).toThrow('tensor: ragged nested array: at [1] got length 1, expected length 2 (shape [2,2]');
    expect(() => T.tensor([[1, 2], 3] as never)).toThrow('tensor: ragged nested array: at [1] got a number, expected length 2');
    expect(() => T.tensor([[[1], [2]], [[3], 4]] as never)).toThrow(/tensor: ragged nested array: at \[1,1\] got a number/);
    expect(() => T.tensor([1, [2]] as never)).toThrow(/tensor: ragged nested array: element at \[1\] is an array, expected a number/);
    expect(() => T.tensor(['a', 1] as never)).toThrow(/tensor: ragged nested array: element at \[0\] is a string \('a'\)/);
  });

  it('data of the wrong length for the shape', () => {
    expect(() => T.tensor([1, 2, 3], { shape: [2, 2] })).toThrow('tensor: 3 values do not fill shape [2,2] (4 elements)');
    expect(() => T.tensor(new Float32Array(5), { shape: [2, 3] })).toThrow('tensor: 5 values do not fill shape [2,3] (6 elements)');
  });

  it('invalid shapes and counts for the creation functions', () => {
    expect(() => T.zeros([2, -1])).toThrow('zeros: invalid shape [2,-1]');
    expect(() => T.randn([2, 1.5])).toThrow('randn: invalid shape [2,1.5]');
    expect(() => T.eye(-1)).toThrow('eye: invalid shape [-1,-1]');
    expect(() => T.linspace(0, 1, -1)).toThrow('linspace: count -1 must be a non-negative integer');
    expect(() => T.arange(0, 1, 0)).toThrow('arange: step must not be 0');
    expect(() => T.arange(0, Infinity)).toThrow('arange: start 0, stop Infinity and step 1 must be finite');
  });

  it('item() on more than one element, assign of another shape', () => {
    expect(() => T.tensor([1, 2]).item()).toThrow('item: tensor of shape [2] has 2 elements, not 1');
    expect(() => z([2, 3]).assign(z([3, 2]))).toThrow('assign: shape [3,2] does not match [2,3]');
  });
});

describe('dataSync where only data() works', () => {
  // The WebGPU backend has no synchronous read. This file registers a stand-in 'webgpu' backend
  // without readSync (vitest isolates test files, so no other suite sees it); the real backend's
  // own suite covers the same path on a real device.
  const values = new Map<Storage, Float32Array>();
  const fake: Backend = {
    name: 'webgpu',
    dtypes: ['float32'],
    upload(v) {
      const s: Storage = { device: 'webgpu', view: { shape: [v.length], strides: [1], offset: 0 } };
      values.set(s, Float32Array.from(v));
      return s;
    },
    read: async (s) => values.get(s)!.slice(),
    view: (s) => s,
    materialize: (s) => s,
    release: () => {},
    memory: () => ({ buffers: values.size, bytes: 0 }),
    kernels: {} as KernelTable<Storage>,
  };

  it('names dataSync, the shape and the device, and points at data()', async () => {
    registerBackend(fake);
    const t = T.tensor([[1, 2, 3]], { device: 'webgpu' });
    const message = 'dataSync: tensor of shape [1,3] lives on webgpu, which cannot be read synchronously; use await t.data()';
    expect(() => t.dataSync()).toThrow(message);
    expect(() => t.item()).toThrow(/has 3 elements/);
    expect(() => t.toArray()).toThrow(message);
    expect(() => t.to('cpu')).toThrow("to: reading from webgpu is asynchronous; use await t.toAsync('cpu')");
    expect([...(await t.data())]).toEqual([1, 2, 3]);
    expect(await t.array()).toEqual([[1, 2, 3]]);
  });

  it('a missing kernel names the op and the device', () => {
    registerBackend(fake);
    const t = T.tensor([1, 2], { device: 'webgpu' });
    expect(() => t.exp()).toThrow('exp: no kernel for device webgpu');
  });

  it('mixing devices names both', () => {
    registerBackend(fake);
    expect(() => T.tensor([1, 2], { device: 'webgpu' }).add(T.tensor([1, 2]))).toThrow(
      'add: tensors are on different devices (webgpu and cpu); move one with .to()',
    );
  });
});
