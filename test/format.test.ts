// Printing (src/graph/format.ts, Tensor.toString, Module/Tensor util.inspect.custom): PyTorch-like
// reprs with nan/inf, one number format, aligned rows, summaries, and names that survive minifying.
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CrossEntropy, L1, LeakyReLU, Linear, MSE, ReLU, Sequential, Sigmoid, Softplus, Tanh, arange, getPrintOptions,
  setPrintOptions, tensor,
} from '../src';

afterEach(() => setPrintOptions());

describe('tensor printing', () => {
  it('shows nan and inf, and one fixed format for all elements, right-aligned', () => {
    expect(String(tensor([[1, -2.5], [NaN, Infinity]]))).toBe(
      'tensor([[ 1.0000, -2.5000],\n' +
      '        [    nan,     inf]], dtype=float32, device=cpu)',
    );
    expect(String(tensor([-Infinity, 0.5]))).toBe('tensor([  -inf, 0.5000], dtype=float32, device=cpu)');
  });

  it('prints integers with a trailing point, and switches to scientific notation for wide ranges', () => {
    expect(String(tensor([1, 2, 30]))).toBe('tensor([ 1.,  2., 30.], dtype=float32, device=cpu)');
    expect(String(tensor([1e-5, 1, 1000], { dtype: 'float64' }))).toBe(
      'tensor([1.0000e-05, 1.0000e+00, 1.0000e+03], dtype=float64, device=cpu)',
    );
    expect(String(tensor(3.25, { dtype: 'float64' }))).toBe('tensor(3.2500, dtype=float64, device=cpu)');
  });

  it('separates the blocks of rank-3 tensors with a blank line and indents rows under the bracket', () => {
    expect(String(arange(8).reshape([2, 2, 2]))).toBe(
      'tensor([[[0., 1.],\n' +
      '         [2., 3.]],\n\n' +
      '        [[4., 5.],\n' +
      '         [6., 7.]]], dtype=float32, device=cpu)',
    );
  });

  it('summarises tensors over the threshold with the first and last edge items and the shape', () => {
    const s = String(arange(2000).reshape([40, 50]));
    expect(s).toBe(
      'tensor([[   0.,    1.,    2.,  ...,   47.,   48.,   49.],\n' +
      '        [  50.,   51.,   52.,  ...,   97.,   98.,   99.],\n' +
      '        [ 100.,  101.,  102.,  ...,  147.,  148.,  149.],\n' +
      '        ...,\n' +
      '        [1850., 1851., 1852.,  ..., 1897., 1898., 1899.],\n' +
      '        [1900., 1901., 1902.,  ..., 1947., 1948., 1949.],\n' +
      '        [1950., 1951., 1952.,  ..., 1997., 1998., 1999.]], shape=[40,50], dtype=float32, device=cpu)',
    );
  });

  it('wraps long rows at the line width', () => {
    const lines = String(arange(30).mul(1.5)).split('\n');
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines.slice(0, -1)) expect(l.length).toBeLessThanOrEqual(80);
    expect(lines[1]!.startsWith('        ')).toBe(true);
  });

  it('shows grad state, op results and disposed tensors', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    expect(String(x)).toBe('tensor([1., 2.], dtype=float32, device=cpu, requiresGrad=true)');
    expect(String(x.mul(2))).toBe('tensor([2., 4.], dtype=float32, device=cpu, gradFn=mul)');
    x.dispose();
    expect(String(x)).toBe('tensor(<disposed>, shape=[2], dtype=float32, device=cpu, requiresGrad=true)');
  });

  it('follows setPrintOptions and rejects unknown or invalid ones', () => {
    setPrintOptions({ precision: 2, threshold: 5, edgeItems: 1 });
    expect(String(tensor([0.5, 1.25, 2, 3, 4, 5.5]))).toBe('tensor([0.50,  ..., 5.50], shape=[6], dtype=float32, device=cpu)');
    expect(getPrintOptions().precision).toBe(2);
    expect(() => setPrintOptions({ digits: 3 } as never)).toThrow(/unknown option 'digits'/);
    expect(() => setPrintOptions({ precision: -1 })).toThrow(/precision must be a non-negative integer/);
    setPrintOptions();
    expect(getPrintOptions()).toEqual({ precision: 4, threshold: 1000, edgeItems: 3, lineWidth: 80 });
  });

  it('is what console.log shows in Node (util.inspect.custom), for tensors and modules', () => {
    const t = tensor([1.5, NaN]);
    expect(inspect(t)).toBe(String(t));
    const net = new Sequential(new Linear(2, 3), new ReLU());
    expect(inspect(net)).toBe(String(net));
    expect(inspect({ t })).toContain('tensor([1.5000,    nan]');
  });
});

describe('layer and loss names', () => {
  it('are literals, not constructor.name (which minifiers rename)', () => {
    const layers = [new ReLU(), new Sigmoid(), new Tanh(), new Softplus(), new LeakyReLU(0.1), new Linear(2, 3)];
    const losses = [new MSE(), new L1(), new CrossEntropy(), new L1({ reduction: 'sum' })];
    // what a minifier does to a class: its name is no longer the source's
    for (const m of [...layers, ...losses]) Object.defineProperty(m.constructor, 'name', { value: '$r' });
    expect(layers.map((m) => m.describe())).toEqual(['ReLU', 'Sigmoid', 'Tanh', 'Softplus', 'LeakyReLU(0.1)', 'Linear(2→3)']);
    expect(losses.map((m) => m.describe())).toEqual(['MSE()', 'L1', 'CrossEntropy', 'L1(sum)']);
  });
});
