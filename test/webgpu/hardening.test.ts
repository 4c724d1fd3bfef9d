// Hardening (issue 10) on WebGPU: a scalar with a shape fills it, the upload refuses a size the
// device cannot hold before making a buffer, and wrong-type operands are refused as on the CPU.
import { expect, it } from 'vitest';
import { getBackend } from '../../src/backends/backend';
import { memory, tensor, zeros } from '../../src';
import { describeGPU } from './helpers';

describeGPU('webgpu: hardening', () => {
  it('a number with a shape fills it', async () => {
    expect([...(await tensor(5, { shape: [3], device: 'webgpu' }).add(1).data())]).toEqual([6, 6, 6]);
  });

  it('the upload refuses more bytes than the device holds, before making a buffer', () => {
    const before = memory().devices.webgpu!.buffers;
    // an array-like that only claims its length: the check must come before any value is read
    const huge = { length: 2 ** 40 } as ArrayLike<number>;
    expect(() => getBackend('webgpu').upload(huge, [2 ** 40], 'float32')).toThrow(
      /^webgpu: shape \[1099511627776\] needs 4398046511104 bytes; this device's buffers hold at most \d+ bytes$/,
    );
    expect(memory().devices.webgpu!.buffers).toBe(before);
    // the frontend refuses it earlier, naming the creation function
    expect(() => zeros([2 ** 40], { device: 'webgpu' })).toThrow('zeros: shape [1099511627776] needs 4398046511104 bytes of float32');
  });

  it('wrong-type operands are refused as on the CPU', () => {
    const t = tensor([1, 2], { device: 'webgpu' });
    expect(() => t.add('1' as never)).toThrow(new TypeError("add: argument 2 must be a Tensor or a number, got a string ('1')"));
    expect(() => t.expand([2.5] as never)).toThrow(RangeError);
  });
});
