// The int32 dtype: creation checks, integer arithmetic (wrapping as PyTorch), casts (truncation
// toward zero), the ops that refuse ints, gradients that never reach them, printing, safetensors
// I32 entries, and the CPU's float-only wasm paths kept away from Int32Array data.
import { describe, expect, it } from 'vitest';
import * as T from '../src';
import { readSafetensors, tensor, writeSafetensors } from '../src';
import { DEFAULTS } from '../src/backends/cpu/config';
import { configureCpu, resetCpuConfig, warmCpu } from '../src/backends/cpu';

const i32 = (v: T.NestedArray | ArrayLike<number>, shape?: number[]) => tensor(v as never, { dtype: 'int32', ...(shape ? { shape } : {}) });
const vals = (t: T.Tensor) => Array.from(t.dataSync());

describe('int32 creation', () => {
  it('holds integers in an Int32Array and prints them', () => {
    const t = i32([[1, -2], [3, 4]]);
    expect(t.dtype).toBe('int32');
    expect(t.dataSync()).toBeInstanceOf(Int32Array);
    expect(t.toArray()).toEqual([[1, -2], [3, 4]]);
    expect(t.toString()).toBe('tensor([[ 1, -2],\n        [ 3,  4]], dtype=int32, device=cpu)');
    expect(T.zeros([2], { dtype: 'int32' }).dataSync()).toBeInstanceOf(Int32Array);
    expect(vals(T.arange(4, undefined, 1, { dtype: 'int32' }))).toEqual([0, 1, 2, 3]);
    expect(i32([7]).item()).toBe(7);
  });

  it('refuses fractions, values out of range, NaN and requiresGrad with a clear error', () => {
    expect(() => i32([1, 2.5])).toThrow('tensor: int32 values must be integers in [-2^31, 2^31 - 1]; element 1 is 2.5');
    expect(() => i32([2 ** 31])).toThrow('element 0 is 2147483648');
    expect(() => i32([NaN])).toThrow('element 0 is NaN');
    expect(() => tensor(1.5, { dtype: 'int32' })).toThrow('element 0 is 1.5');
    expect(() => T.full([2], 0.5, { dtype: 'int32' })).toThrow('element 0 is 0.5');
    expect(() => T.arange(0, 1, 0.5, { dtype: 'int32' })).toThrow('element 1 is 0.5');
    expect(() => T.randn([2], { dtype: 'int32' })).toThrow('randn: dtype int32 is not supported');
    expect(() => tensor([1], { dtype: 'int32', requiresGrad: true })).toThrow('tensor: an int32 tensor cannot require grad');
    expect(() => i32([1]).requireGrad()).toThrow('requireGrad: tensor of shape [1] is int32');
    expect(i32([-(2 ** 31), 2 ** 31 - 1]).toArray()).toEqual([-(2 ** 31), 2 ** 31 - 1]);
  });
});

describe('int32 arithmetic', () => {
  const a = i32([5, -7, 2 ** 31 - 1, -(2 ** 31)]);
  const b = i32([3, 2, 1, -1]);

  it('add, sub, mul, neg and abs wrap modulo 2^32 (as PyTorch)', () => {
    expect(vals(a.add(b))).toEqual([8, -5, -(2 ** 31), 2 ** 31 - 1]);
    expect(vals(a.sub(b))).toEqual([2, -9, 2 ** 31 - 2, -(2 ** 31) + 1]);
    expect(vals(i32([-(2 ** 31)]).sub(1))).toEqual([2 ** 31 - 1]);
    // a product past 2^53 keeps its low 32 bits exactly (a float multiply would round them)
    expect(vals(i32([2147483647, 123456789]).mul(i32([2147483647, 987654321])))).toEqual([
      Math.imul(2147483647, 2147483647),
      Math.imul(123456789, 987654321),
    ]);
    expect(vals(a.neg())).toEqual([-5, 7, -(2 ** 31) + 1, -(2 ** 31)]);
    expect(vals(a.abs())).toEqual([5, 7, 2 ** 31 - 1, -(2 ** 31)]);
    expect(vals(a.sign())).toEqual([1, -1, 1, -1]);
    expect(a.add(1).dtype).toBe('int32');
  });

  it('maximum, minimum and comparisons give int32', () => {
    expect(vals(a.maximum(b))).toEqual([5, 2, 2 ** 31 - 1, -1]);
    expect(vals(a.minimum(b))).toEqual([3, -7, 1, -(2 ** 31)]);
    const lt = a.lt(b);
    expect(lt.dtype).toBe('int32');
    expect(vals(lt)).toEqual([0, 1, 0, 1]);
    expect(vals(a.eq(i32([5, 0, 0, 0])))).toEqual([1, 0, 0, 0]);
    expect(vals(T.where(lt, a, b))).toEqual([3, -7, 1, -(2 ** 31)]);
    // an int32 condition selects between floats
    expect(vals(T.where(lt, tensor([1, 2, 3, 4]), 0))).toEqual([0, 2, 0, 4]);
  });

  it('sum, max and min reduce int32 to int32', () => {
    const m = i32([[1, 2, 3], [4, 5, 6]]);
    expect(m.sum().dtype).toBe('int32');
    expect(vals(m.sum(0))).toEqual([5, 7, 9]);
    expect(vals(m.max(1))).toEqual([3, 6]);
    expect(vals(m.min(0))).toEqual([1, 2, 3]);
    expect(vals(i32([2 ** 31 - 1, 1]).sum())).toEqual([-(2 ** 31)]);
    // movement ops are views or copies of any dtype
    expect(m.permute([1, 0]).toArray()).toEqual([[1, 4], [2, 5], [3, 6]]);
    expect(vals(T.concat([m, m], 0).pad([[0, 1]]))).toEqual([1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0]);
  });

  it('refuses ops without an integer meaning, naming the op and the input', () => {
    const x = i32([1, 2]);
    expect(() => x.exp()).toThrow("exp: not defined for int32; the input is int32 (shape [2]). Cast first: x.cast('float32')");
    for (const f of [() => x.log(), () => x.sqrt(), () => x.tanh(), () => x.sigmoid(), () => x.sin()]) expect(f).toThrow(/not defined for int32/);
    expect(() => x.div(x)).toThrow(/div: not defined for int32.*integer \/ gives a float in PyTorch/);
    expect(() => x.pow(2)).toThrow(/pow: not defined for int32/);
    expect(() => x.mean()).toThrow(/div: not defined for int32/);
    expect(() => i32([[1]]).matmul(i32([[1]]))).toThrow('matmul: not defined for int32; input 1 is int32 (shape [1,1])');
    expect(() => x.add(tensor([1, 2]))).toThrow('add: dtypes int32 and float32 differ');
    // a fractional number operand is refused, not truncated
    expect(() => x.add(1.5)).toThrow('add: the number 1.5 is not an int32 value, and the tensor is int32 (shape [2])');
    expect(() => x.mul(NaN)).toThrow(/mul: the number NaN is not an int32 value/);
    expect(() => T.where(x.gt(1), x, 0.5)).toThrow(/where: the number 0.5/);
    expect(vals(x.mul(-3))).toEqual([-3, -6]);
  });
});

describe('int32 casts', () => {
  it('float → int32 truncates toward zero, saturates, and maps NaN to 0', () => {
    const f = tensor([1.9, -1.9, 0.5, -0.5, 3e9, -3e9, NaN, Infinity]);
    const c = f.cast('int32');
    expect(c.dtype).toBe('int32');
    expect(vals(c)).toEqual([1, -1, 0, 0, 2 ** 31 - 1, -(2 ** 31), 0, 2 ** 31 - 1]);
    expect(vals(tensor([2.99], { dtype: 'float64' }).cast('int32'))).toEqual([2]);
    expect(vals(i32([3, -4]).cast('float64'))).toEqual([3, -4]);
    expect(i32([3]).cast('float32').dtype).toBe('float32');
  });

  it('no gradient flows through a cast to int32, nor into an int32 input', () => {
    const x = tensor([1.5, 2.5], { requiresGrad: true });
    const c = x.cast('int32');
    expect(c.requiresGrad).toBe(false);
    const y = x.mul(c.cast('float32')).sum();
    y.backward();
    // d(x·c)/dx = c, with c constant
    expect(vals(x.grad!)).toEqual([1, 2]);
    expect(i32([1]).eq(i32([1])).requiresGrad).toBe(false);
  });
});

describe('int32 on the CPU paths', () => {
  it('big int32 operands take the JS loops, never the float wasm kernels (also threaded)', async () => {
    await warmCpu();
    try {
      for (const threads of [1, 2]) {
        configureCpu({ threads });
        for (const n of [DEFAULTS.ewWasmCopyMin + 5, DEFAULTS.ewThreadMin + 3]) {
          // values past 2^24, which a float32 kernel would round (the data would be copied in as floats)
          const a = new Int32Array(n).map((_, i) => Math.imul(i, -1640531535));
          const b = new Int32Array(n).map((_, i) => Math.imul(i + 1, 40503) >> 3);
          const got = T.tidy(() => {
            const ta = i32(a);
            const tb = i32(b);
            return [vals(ta.add(tb)), vals(ta.sub(tb)), vals(ta.mul(tb)), vals(ta.sum()), vals(ta.relu())];
          });
          const check = (g: number[], f: (i: number) => number, what: string) => {
            for (let i = 0; i < n; i++) if (g[i] !== f(i)) expect.fail(`${what} element ${i} of ${n}: ${g[i]} vs ${f(i)}`);
          };
          check(got[0]!, (i) => (a[i]! + b[i]!) | 0, 'add');
          check(got[1]!, (i) => (a[i]! - b[i]!) | 0, 'sub');
          check(got[2]!, (i) => Math.imul(a[i]!, b[i]!), 'mul');
          expect(got[3]![0]).toBe(a.reduce((s, v) => s + v, 0) | 0);
          check(got[4]!, (i) => Math.max(a[i]!, 0), 'relu');
        }
      }
    } finally {
      resetCpuConfig();
    }
  });
});

describe('int32 in safetensors', () => {
  it('writes and reads I32 entries', async () => {
    const bytes = await writeSafetensors({ labels: i32([[1, -2], [2 ** 31 - 1, -(2 ** 31)]]), w: tensor([0.5]) });
    const json = new TextDecoder().decode(bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))));
    expect(JSON.parse(json).labels.dtype).toBe('I32');
    const back = readSafetensors(bytes);
    expect(back.labels!.dtype).toBe('int32');
    expect(back.labels!.toArray()).toEqual([[1, -2], [2 ** 31 - 1, -(2 ** 31)]]);
    expect(back.w!.dtype).toBe('float32');
  });
});

describe('indexing: fixed cases', () => {
  it('repeated indices accumulate in scatterAdd and in the gradient of gather and indexSelect', () => {
    const g = tensor([1, 2, 3, 4], { dtype: 'float64' });
    expect(vals(g.scatterAdd(i32([0, 0, 1, 0]), 0, [3]))).toEqual([7, 3, 0]);
    const x = tensor([[1, 2], [3, 4]], { requiresGrad: true });
    x.gather(1, i32([[0, 0], [1, 0]])).mul(tensor([[1, 10], [100, 1000]])).sum().backward();
    expect(x.grad!.toArray()).toEqual([[11, 0], [1000, 100]]);
    const w = tensor([[1, 2], [3, 4], [5, 6]], { requiresGrad: true });
    const rows = w.indexSelect(0, i32([2, 0, 2]));
    expect(rows.toArray()).toEqual([[5, 6], [1, 2], [5, 6]]);
    rows.sum().backward();
    expect(w.grad!.toArray()).toEqual([[1, 1], [0, 0], [2, 2]]);
  });

  it('argmax/argmin: the first of ties, NaN as the extremum, flat without an axis', () => {
    const x = tensor([[1, 3, 3], [NaN, 2, NaN], [0, -1, -1]]);
    expect(vals(x.argmax(1))).toEqual([1, 0, 0]);
    expect(vals(x.argmin(1))).toEqual([0, 0, 1]);
    expect(x.argmax(1).dtype).toBe('int32');
    expect(x.argmax(0, true).shape).toEqual([1, 3]);
    expect(vals(x.argmax())).toEqual([3]);
    expect(vals(tensor([[1, 5], [5, 0]]).argmax())).toEqual([1]);
    expect(() => T.zeros([2, 0]).argmax(1)).toThrow('argmax: cannot reduce over axis 1 of size 0 (shape [2,0])');
  });

  it('oneHot: float32 by default, a dtype option, errors for classes out of range', () => {
    const h = i32([2, 0]).oneHot(3);
    expect(h.dtype).toBe('float32');
    expect(h.toArray()).toEqual([[0, 0, 1], [1, 0, 0]]);
    expect(T.oneHot(i32([1]), 2, { dtype: 'int32' }).dtype).toBe('int32');
    expect(() => i32([3]).oneHot(3)).toThrow('oneHot: index 3 (at flat position 0 of index shape [1]) is out of range for numClasses 3');
    expect(() => i32([-1]).oneHot(3)).toThrow(/index -1/);
    expect(() => tensor([1]).oneHot(3)).toThrow("oneHot: index must be an int32 tensor, got float32 (shape [1]); cast it with .cast('int32')");
  });

  it('an index out of range (or negative) is an error naming the op, the value and the axis', () => {
    const x = tensor([[1, 2, 3]]);
    expect(() => x.gather(1, i32([[3]]))).toThrow('gather: index 3 at flat position 0 of index shape [1,1] is out of range for axis 1 of size 3 (shape [1,3])');
    expect(() => x.gather(1, i32([[-1]]))).toThrow(/index -1 .*negative indices are not allowed/);
    expect(() => x.indexSelect(1, i32([0, 5]))).toThrow(/gather: index 5 at flat position 1 .*axis 1 of size 3/);
    expect(() => x.gather(1, tensor([[0]]))).toThrow('gather: index must be an int32 tensor, got float32');
    expect(() => x.gather(1, i32([0]))).toThrow('gather: index of shape [1] does not fit x of shape [1,3] on axis 1');
    expect(() => x.gather(2, i32([[0]]))).toThrow('gather: axis 2 is out of range for shape [1,3]');
    expect(() => x.indexSelect(0, i32([[0]]))).toThrow('indexSelect: index must be 1-D, got shape [1,1]');
    // a failed call leaves nothing behind
    const before = T.memory().tensors;
    expect(() => x.gather(1, i32([[7]]))).toThrow();
    expect(T.memory().tensors).toBe(before + 1); // the index tensor made in the expression
  });
});
