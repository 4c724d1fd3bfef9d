// Linear, Sequential, init schemes, activations.
import { describe, expect, it } from 'vitest';
import {
  LeakyReLU, Linear, ReLU, Sequential, Sigmoid, Softplus, Tanh, gradcheck, leakyRelu, manualSeed, relu, sigmoid, softplus, tanh, tensor, type Tensor,
} from '../../src';

const vals = (t: Tensor) => Array.from(t.dataSync());

describe('Linear', () => {
  it('has weights (in, out), a zero bias, and computes x @ W + b', () => {
    const l = new Linear(3, 2);
    expect(l.weight.shape).toEqual([3, 2]);
    expect(vals(l.bias!)).toEqual([0, 0]);
    l.loadStateDict({ weight: tensor([[1, 2], [3, 4], [5, 6]]), bias: tensor([0.5, -1]) });
    const y = l.forward(tensor([[1, 0, -1], [2, 1, 0]]));
    // row 1: [1-5, 2-6] + b; row 2: [2+3, 4+4] + b
    expect(y.toArray()).toEqual([[-3.5, -5], [5.5, 7]]);
    expect(l.forward(tensor([1, 1, 1])).shape).toEqual([2]);
    expect(new Linear(3, 2, { bias: false }).parameters()).toHaveLength(1);
  });

  it('names itself and the shapes when the input does not fit', () => {
    const l = new Linear(3, 5);
    expect(() => l.forward(tensor(new Float32Array(40), { shape: [10, 4] }))).toThrow('Linear(3→5): expected input [..., 3], got [10, 4]');
    expect(() => l.forward(tensor(2))).toThrow('Linear(3→5): expected input [..., 3], got []');
    expect(() => l.forward(tensor([[1, 2, 3]], { dtype: 'float64' }))).toThrow('Linear(3→5): input [1, 3] is float64 on cpu, the weights are float32 on cpu');
    expect(() => new Linear(0, 2)).toThrow('Linear: inSize must be a positive integer, got 0');
    expect(() => new Linear(2, 2, { initScheme: 'bogus' as never })).toThrow("unknown initScheme 'bogus'");
  });

  it('gradients match gradcheck (float64)', () => {
    const l = new Linear(3, 2, { dtype: 'float64' });
    const x = tensor([[0.3, -1, 2], [1, 0.5, -0.2]], { dtype: 'float64' });
    const r = gradcheck((w, b, xi) => xi!.matmul(w!).add(b!).tanh().sum(), [l.weight, l.bias!, x]);
    expect(r.ok).toBe(true);
  });

  const stats = (t: Tensor) => {
    const v = vals(t);
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    const sd = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length);
    return { m, sd, max: Math.max(...v.map(Math.abs)) };
  };

  it.each([
    ['xavierUniform', 1, Math.sqrt(3 / 400) / Math.sqrt(3), Math.sqrt(3 / 400)],
    ['xavier', 1, Math.sqrt(1 / 400), Infinity],
    ['xavierNormal', 1, Math.sqrt(1 / 400), Infinity],
    ['he', 1, Math.sqrt(2 / 400), Infinity],
    ['gaussian', 0.3, 0.3, Infinity],
    ['uniform', 0.1, 0.1 / Math.sqrt(3), 0.1],
    ['pytorch', 1, 1 / Math.sqrt(400) / Math.sqrt(3), 1 / Math.sqrt(400)],
  ] as const)('init %s (wscale %s) draws with the documented spread', (scheme, wscale, sd, bound) => {
    manualSeed(11);
    const w = new Linear(400, 250, { initScheme: scheme, wscale }).weight;
    const s = stats(w);
    expect(Math.abs(s.m)).toBeLessThan(0.02 * sd * 10);
    expect(s.sd / sd).toBeGreaterThan(0.98);
    expect(s.sd / sd).toBeLessThan(1.02);
    expect(s.max).toBeLessThanOrEqual(bound);
  });

  it("initScheme 'pytorch' draws the bias as PyTorch's nn.Linear does, U(±1/√in); the other schemes start it at zero", () => {
    manualSeed(12);
    const b = vals(new Linear(400, 3000, { initScheme: 'pytorch' }).bias!);
    const s = stats(tensor(b));
    expect(s.max).toBeLessThanOrEqual(1 / 20);
    expect(s.sd / (1 / 20 / Math.sqrt(3))).toBeGreaterThan(0.95);
    expect(s.sd / (1 / 20 / Math.sqrt(3))).toBeLessThan(1.05);
    expect(new Set(vals(new Linear(400, 30, { initScheme: 'he' }).bias!))).toEqual(new Set([0]));
  });

  it('init is reproducible under manualSeed', () => {
    manualSeed(3);
    const a = vals(new Linear(4, 4).weight);
    manualSeed(3);
    expect(vals(new Linear(4, 4).weight)).toEqual(a);
  });
});

describe('Sequential', () => {
  it('appends, inserts, indexes, iterates', () => {
    const a = new Linear(1, 4);
    const b = new Linear(4, 1);
    const net = new Sequential(a).append(b);
    expect(net.length).toBe(2);
    expect(net[0]).toBe(a);
    expect(net.at(-1)).toBe(b);
    net.insert(1, new ReLU());
    expect([...net].map((m) => m.describe())).toEqual(['Linear(1→4)', 'ReLU', 'Linear(4→1)']);
    expect(net[2]).toBe(b);
    expect(net.namedParameters().map(([k]) => k)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    expect(() => net.at(3)).toThrow('Sequential: index 3 is out of range for 3 layers');
    expect(() => net.insert(5, new ReLU())).toThrow('Sequential.insert: index 5 is out of range for 3 layers');
    expect(() => new Sequential({} as never)).toThrow('Sequential: layer 0 is not a Module');
  });

  it('forward chains the layers; a misfit names the layer', () => {
    const net = new Sequential(new Linear(2, 3), new Tanh(), new Linear(3, 1));
    expect(net.forward(tensor([[1, 2], [3, 4]])).shape).toEqual([2, 1]);
    expect(() => new Sequential(new Linear(2, 3), new Linear(4, 1)).forward(tensor([[1, 2]]))).toThrow('Linear(4→1): expected input [..., 4], got [1, 3]');
  });

  it('toString summarizes layers, output shapes and parameter counts', () => {
    const s = String(new Sequential(new Linear(1, 100), new ReLU(), new Linear(100, 1)));
    expect(s).toContain('Sequential: 3 layers, 301 parameters');
    expect(s).toMatch(/0\s+Linear\(1→100\)\s+\[\*, 100\]\s+200/);
    expect(s).toMatch(/1\s+ReLU\s+\[\*, 100\]\s+0/);
    expect(s).toMatch(/2\s+Linear\(100→1\)\s+\[\*, 1\]\s+101/);
    const nested = String(new Sequential(new Linear(2, 3), new Sequential(new Tanh(), new Linear(3, 2))));
    expect(nested).toMatch(/1\s+Sequential \(2 layers\)\s+\[\*, 2\]\s+8/);
    expect(() => new Sequential(new Linear(2, 3), new Linear(4, 1)).summary()).toThrow('Linear(4→1): expected input [..., 4], got [*, 3]');
  });
});

describe('activations', () => {
  it('modules compute what the functions compute', () => {
    const x = tensor([-2, -0.5, 0, 0.5, 3]);
    expect(vals(new ReLU().forward(x))).toEqual(vals(relu(x)));
    expect(vals(new Sigmoid().forward(x))).toEqual(vals(sigmoid(x)));
    expect(vals(new Tanh().forward(x))).toEqual(vals(tanh(x)));
    expect(vals(new Softplus().forward(x))).toEqual(vals(softplus(x)));
    expect(vals(new LeakyReLU(0.2).forward(x))).toEqual(vals(leakyRelu(x, 0.2)));
    expect(vals(new LeakyReLU(0.2).forward(x))[0]).toBeCloseTo(-0.4, 6);
    expect(vals(new ReLU().forward(x))).toEqual([0, 0, 0, 0.5, 3]);
  });
});
