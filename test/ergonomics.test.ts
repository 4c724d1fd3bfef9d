// What users of other libraries reach for (src/graph/transforms.ts, defaults.ts, Tensor extras,
// Module.to, progress callbacks) and tensors crossing between two copies of the package.
import { createRequire } from 'node:module';
import { WEBGPU } from './helpers/devices';
import { describe, expect, it, vi } from 'vitest';
import {
  Linear, Module, Progress, ReLU, Sequential, Tensor, getDefaultDevice, gradcheck, gradOf, isTensor, memory, randn,
  setDefaultDevice, tensor, valueAndGrad, zeros,
} from '../src';

const f64 = (v: number[] | number[][]) => tensor(v, { dtype: 'float64' });

describe('valueAndGrad / gradOf', () => {
  const f = (w: Tensor, b: Tensor) => f64([[1, 2], [3, -1], [0.5, 0.25]]).matmul(w).add(b).tanh().sum();

  it('return f and its gradient for every argument, equal to central differences in float64', () => {
    const w = f64([[0.3], [-0.2]]);
    const b = f64([0.1]);
    const { value, grads } = valueAndGrad(f)(w, b);
    expect(value.item()).toBeCloseTo(f(w, b).item(), 12);
    expect(grads.map((g) => g.shape)).toEqual([[2, 1], [1]]);
    // the same gradients, checked numerically: gradOf(f) as the 'analytic' side of gradcheck is
    // not possible (it detaches), so compare with gradcheck's own backward on f, then with ours
    expect(gradcheck(f, [w, b]).ok).toBe(true);
    const eps = 1e-6;
    const num = (i: number) => {
      const wv = [...w.dataSync()];
      const at = (d: number) => { const v = [...wv]; v[i]! += d; return f(tensor(v, { shape: [2, 1], dtype: 'float64' }), b).item(); };
      return (at(eps) - at(-eps)) / (2 * eps);
    };
    [0, 1].forEach((i) => expect(grads[0]!.dataSync()[i]!).toBeCloseTo(num(i), 8));
    expect([...gradOf(f)(w, b)[1]!.dataSync()]).toEqual([...grads[1]!.dataSync()]);
  });

  it('leave the arguments alone: no .grad written, requiresGrad unchanged, nothing leaked', () => {
    const w = f64([[0.3], [-0.2]]);
    const b = f64([0.1]).requireGrad();
    const before = memory().tensors;
    const { value, grads } = valueAndGrad(f)(w, b);
    expect(memory().tensors - before).toBe(3); // value and two gradients, all returned
    expect([w.grad, b.grad, w.requiresGrad, b.requiresGrad]).toEqual([null, null, false, true]);
    expect(value.requiresGrad).toBe(false);
    [value, ...grads].forEach((t) => t.dispose());
  });

  it('give zeros for an argument f ignores, and refuse non-tensors and non-scalar outputs', () => {
    const [dx, dy] = gradOf((x: Tensor, _y: Tensor) => x.square().sum())(f64([1, 2]), f64([[5]]));
    expect([...dx!.dataSync()]).toEqual([2, 4]);
    expect(dy!.toArray()).toEqual([[0]]);
    expect(() => gradOf((x: Tensor) => x)(f64([1, 2]))).toThrow(/valueAndGrad: f must return a one-element tensor, got shape \[2\]/);
    expect(() => gradOf((x: Tensor) => x.sum())([1, 2] as never)).toThrow(TypeError);
  });
});

describe('Tensor extras', () => {
  it('[Symbol.dispose] frees a tensor at the end of a using block', () => {
    let seen: Tensor;
    {
      using t = randn([3]);
      seen = t;
      expect(t.isDisposed).toBe(false);
    }
    expect(seen.isDisposed).toBe(true);
  });

  it('itemAsync reads one element from any device and names the shape otherwise', async () => {
    expect(await tensor([[2.5]]).itemAsync()).toBe(2.5);
    await expect(tensor([1, 2]).itemAsync()).rejects.toThrow(/itemAsync: tensor of shape \[2\] has 2 elements, not 1/);
  });
});

describe('devices', () => {
  it('setDefaultDevice sets where new tensors and layers go, and refuses unknown devices unchanged', () => {
    expect(getDefaultDevice()).toBe('cpu');
    expect(() => setDefaultDevice('tpu' as never)).toThrow(/no backend registered for device 'tpu'/);
    expect(getDefaultDevice()).toBe('cpu');
    setDefaultDevice('cpu');
    expect(zeros([2]).device).toBe('cpu');
  });

  it('Module.to keeps the parameter objects (layers hold them) and checks the device first', () => {
    const net = new Sequential(new Linear(2, 3), new ReLU(), new Linear(3, 1));
    const params = net.parameters();
    net.forward(tensor([[1, 2]])).sum().backward();
    expect(net.to('cpu')).toBe(net);
    expect(net.parameters()).toEqual(params);
    expect(params.every((p) => p.grad !== null)).toBe(true);
    expect(() => net.to('tpu' as never)).toThrow(/no backend registered for device 'tpu'/);
    expect(params.every((p) => p.device === 'cpu' && !p.isDisposed)).toBe(true);
  });
});

describe.runIf(WEBGPU.available)('devices, on WebGPU', () => {
  it('Module.to moves parameters and gradients to webgpu in place; toAsync brings them back; the default device follows', async () => {
    const net = new Sequential(new Linear(2, 3), new ReLU(), new Linear(3, 1));
    const x = tensor([[1, -2], [0.5, 3]]);
    net.forward(x).sum().backward();
    const params = net.parameters();
    const want = params.map((p) => [...p.dataSync()]);
    const grads = params.map((p) => [...p.grad!.dataSync()]);
    const cpuOut = [...net.forward(x).dataSync()];
    net.to('webgpu');
    expect(net.parameters()).toEqual(params);
    expect(params.map((p) => [p.device, p.grad!.device])).toEqual(params.map(() => ['webgpu', 'webgpu']));
    expect(() => net.to('cpu')).toThrow(/Sequential\.to\('cpu'\): parameters on webgpu are read asynchronously; use await net\.toAsync\('cpu'\)/);
    const gpuOut = await net.forward(x.to('webgpu')).data();
    [...gpuOut].forEach((v, i) => expect(v).toBeCloseTo(cpuOut[i]!, 5));
    await net.toAsync('cpu');
    expect(params.map((p) => [...p.dataSync()])).toEqual(want);
    expect(params.map((p) => [...p.grad!.dataSync()])).toEqual(grads);
    setDefaultDevice('webgpu');
    try {
      expect(new Linear(2, 2).weight.device).toBe('webgpu');
    } finally {
      setDefaultDevice('cpu');
    }
  });
});

describe('two copies of the package (the CommonJS build beside these sources)', () => {
  const other = createRequire(import.meta.url)('../dist/index.cjs') as typeof import('../src');

  it('recognises their tensors (isTensor, instanceof), refuses them in ops with a TypeError, copies them with tensor()', () => {
    const foreign = other.tensor([10, 20, 30]);
    const x = tensor([1, 2, 3]);
    expect(isTensor(foreign)).toBe(true);
    expect(foreign instanceof Tensor).toBe(true);
    expect(other.isTensor(x)).toBe(true);
    expect(isTensor({ shape: [3] })).toBe(false);
    expect(() => x.add(foreign)).toThrow(TypeError);
    expect(() => x.add(foreign)).toThrow(/add: input 1 \(shape \[3\]\) is a Tensor from another copy of tapegrad.*tensor\(x\)/);
    expect(() => foreign.mul(x)).toThrow(/mul: input 1 \(shape \[3\]\) is a Tensor from another copy/);
    expect([...tensor(foreign).add(x).dataSync()]).toEqual([11, 22, 33]);
  });

  it('refuses a module of the other copy, saying so', () => {
    expect(new other.ReLU() instanceof Module).toBe(false); // modules are not branded: registerModule says so
    expect(() => new Sequential(new other.ReLU() as never)).toThrow(/layer 0 is not a Module/);
  });
});

describe('Progress', () => {
  it('calls onUpdate on every update, whatever the mode, and writes lines through write', async () => {
    const seen: [number, number, Record<string, number>][] = [];
    const lines: string[] = [];
    const p = await Progress.create(4, { mode: 'lines', lines: 2, write: (l) => lines.push(l), onUpdate: (...a) => seen.push(a) });
    for (let i = 1; i <= 4; i++) p.update(i, { loss: 1 / i, val: i === 4 ? 0.5 : undefined });
    p.stop();
    expect(seen.map(([d, t]) => [d, t])).toEqual([[1, 4], [2, 4], [3, 4], [4, 4]]);
    expect(seen[3]![2]).toEqual({ loss: 0.25, val: 0.5 });
    expect(seen[0]![2]).toEqual({ loss: 1 }); // undefined figures are left out
    expect(lines).toEqual(['2/4  loss 0.5000', '4/4  loss 0.2500  val 0.5000']);
    const quiet = await Progress.create(2, { mode: false, onUpdate: (...a) => seen.push(a) });
    quiet.update(1);
    expect(seen.length).toBe(5);
  });

  it('draws a bar in place on a terminal stderr, and ends it with a newline', async () => {
    const writes: string[] = [];
    const real = Object.getOwnPropertyDescriptor(process, 'stderr')!;
    Object.defineProperty(process, 'stderr', { configurable: true, value: { isTTY: true, columns: 100, write: (s: string) => writes.push(s) } });
    const pending = Progress.create(4, { label: 'fit' }); // the display is chosen synchronously
    Object.defineProperty(process, 'stderr', real);
    const p = await pending;
    p.update(4, { loss: 0.125 });
    p.stop();
    expect(writes[0]).toMatch(/^\r\x1b\[2Kfit ░{24} 0\/4 +\| 0s$/);
    expect(writes.at(-2)).toMatch(/^\r\x1b\[2Kfit █{24} 4\/4 loss 0\.1250 \| \d+s$/);
    expect(writes.at(-1)).toBe('\n');
  });

  it('writes console lines where there is no process (a browser), never touching process', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    vi.stubGlobal('process', undefined);
    let pending: Promise<Progress>;
    try {
      pending = Progress.create(2, { label: 'fit' });
    } finally {
      vi.unstubAllGlobals();
    }
    const p = await pending;
    vi.stubGlobal('process', undefined);
    try {
      p.update(1, { loss: 0.5 });
      p.update(2, { loss: 0.25 });
      p.stop();
    } finally {
      vi.unstubAllGlobals();
    }
    expect(log.mock.calls.map((c) => c[0])).toEqual(['fit 1/2  loss 0.5000', 'fit 2/2  loss 0.2500']);
    log.mockRestore();
  });
});
