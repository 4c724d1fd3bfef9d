// Lifetimes and leaks (issue 10): async work refused by tidy/noGrad/enableGrad without leaking,
// assign and dispose that fail without holding memory or changing the target, `using`,
// Module.loadStateDict that converts all-or-nothing, and the one-time warning about tensors piling
// up outside tidy(). Counts come from memory(): tensors per engine, buffers per backend.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  Linear,
  MSE,
  Momentum,
  Sequential,
  Tanh,
  Tensor,
  Trainer,
  configureMemoryWarning,
  enableGrad,
  isGradEnabled,
  keep,
  linspace,
  manualSeed,
  memory,
  noGrad,
  ones,
  tensor,
  tidy,
  zeros,
} from '../src';
import { WEBGPU } from './helpers/devices';

const cpu = () => memory().devices.cpu ?? { tensors: 0, buffers: 0, bytes: 0 };
const vals = (t: Tensor) => [...t.dataSync()];
/** a settled promise's continuation has run once the event loop turns */
const turn = () => new Promise((r) => setTimeout(r, 0));

describe('tidy: async work, and what it keeps', () => {
  it('refuses an async function before running it: nothing runs, nothing is made', () => {
    const start = memory().tensors;
    let ran = false;
    const fn = async () => {
      ran = true;
      return zeros([3]);
    };
    expect(() => tidy(fn as never)).toThrow(/tidy: fn is async .*await outside tidy\(\)/);
    expect(ran).toBe(false);
    expect(memory().tensors).toBe(start);
  });

  it('a function that returns a promise: what it made before the await is freed (100 calls leak nothing)', async () => {
    const start = cpu();
    const x = ones([4]);
    for (let i = 0; i < 100; i++) {
      const fn = () => {
        x.mul(2).add(1); // made before the first await, inside the scope
        return (async () => {
          await null;
        })();
      };
      expect(() => tidy(fn)).toThrow(/tidy: fn is async \(it returned a Promise\)/);
    }
    await turn();
    x.dispose();
    expect(cpu().tensors).toBe(start.tensors);
    expect(cpu().buffers).toBe(start.buffers);
  });

  it('what fn makes after the await is made outside any scope: alive, unscoped, owned by its holder', async () => {
    let made: Tensor | null = null;
    let failed: unknown = null;
    const fn = () =>
      (async () => {
        const a = ones([2]).mul(3); // freed when tidy throws
        await null;
        made = zeros([5]); // runs from the event loop, when no tidy is running
        try {
          a.add(a); // the promise's own failure: tidy freed `a`
        } catch (e) {
          failed = e;
        }
      })();
    const unscoped = memory().unscoped;
    // the outer tidy finishes before the continuation runs: the tensor cannot land in it either
    const outer = tidy(() => {
      expect(() => tidy(fn)).toThrow(/tidy: fn is async/);
      return ones([1]);
    });
    await turn();
    expect(made).not.toBeNull();
    const t = made! as Tensor;
    expect(t.isDisposed).toBe(false);
    expect(t._held.registered).toBe(true); // the finalizer's safety net covers it, as any unscoped tensor
    expect(memory().unscoped).toBe(unscoped + 2); // `outer` and `made`
    expect(String(failed)).toMatch(/disposed/);
    t.dispose();
    outer.dispose();
    expect(memory().unscoped).toBe(unscoped);
  });

  it('a rejected promise from a refused fn does not surface as an unhandled rejection', async () => {
    // vitest fails the run on an unhandled rejection: this test guards the handler tidy attaches
    const fn = () => Promise.reject(new Error('the work itself failed'));
    expect(() => tidy(fn)).toThrow(/tidy: fn is async/);
    expect(() => noGrad(fn)).toThrow(/noGrad: fn is async/);
    await turn();
  });

  it('tensors returned in a dictionary made with Object.create(null) are kept, like a literal\'s', () => {
    const start = memory().tensors;
    const dict = tidy(() => {
      const d: Record<string, Tensor> = Object.create(null);
      d.w = ones([2]).mul(3);
      return d;
    });
    expect(dict.w!.isDisposed).toBe(false);
    expect(vals(dict.w!)).toEqual([3, 3]);
    dict.w!.dispose();
    expect(memory().tensors).toBe(start);
  });

  it('a non-function is a TypeError that names tidy', () => {
    expect(() => tidy(3 as never)).toThrow(TypeError);
    expect(() => tidy(null as never)).toThrow(/tidy: expected a function, got null/);
  });
});

describe('noGrad and enableGrad with async work; keep', () => {
  it('noGrad refuses an async function before running it', () => {
    let ran = false;
    expect(() =>
      noGrad((async () => {
        ran = true;
      }) as never),
    ).toThrow(/noGrad: fn is async .*grad mode cannot follow an await/);
    expect(ran).toBe(false);
    expect(isGradEnabled()).toBe(true);
  });

  it('noGrad throws when fn returns a promise, and grad mode is restored', async () => {
    const x = ones([2], { requiresGrad: true });
    let after: Tensor | null = null;
    const fn = () =>
      (async () => {
        await null;
        after = x.mul(2); // runs in the caller's mode: recorded (why noGrad must refuse)
      })();
    expect(() => noGrad(fn)).toThrow(/noGrad: fn is async \(it returned a Promise\)/);
    expect(isGradEnabled()).toBe(true);
    await turn();
    expect((after as Tensor | null)?.requiresGrad).toBe(true);
  });

  it('enableGrad refuses async work too, and leaves an enclosing noGrad in force', () => {
    noGrad(() => {
      expect(() => enableGrad((async () => {}) as never)).toThrow(/enableGrad: fn is async/);
      expect(() => enableGrad(() => Promise.resolve(1))).toThrow(/enableGrad: fn is async/);
      expect(isGradEnabled()).toBe(false);
    });
    expect(() => noGrad(undefined as never)).toThrow(/noGrad: expected a function, got undefined/);
  });

  it('keep of a non-tensor is a TypeError that names keep', () => {
    expect(() => keep(undefined as never)).toThrow(/keep: expected a Tensor, got undefined/);
    expect(() => tidy(() => keep([ones([1])] as never))).toThrow(/keep: expected a Tensor, got an array/);
  });
});

describe('assign and dispose', () => {
  it('assign into a disposed tensor throws and holds no handle on the value', () => {
    const start = cpu();
    const t = zeros([3]);
    t.dispose();
    const v = ones([3]);
    expect(() => t.assign(v)).toThrow(/assign: the target, of shape \[3\], was disposed/);
    v.dispose();
    expect(cpu().buffers).toBe(start.buffers);
    expect(cpu().tensors).toBe(start.tensors);
  });

  it('a disposed value, a wrong shape, dtype or type: a clear error, the target unchanged, no leak', () => {
    const start = cpu();
    const t = tensor([1, 2, 3]);
    const version = t._version.v;
    const gone = ones([3]);
    gone.dispose();
    expect(() => t.assign(gone)).toThrow(/assign: the value, of shape \[3\], was disposed/);
    const bad = [ones([2]), ones([3], { dtype: 'float64' }), ones([1, 3])];
    expect(() => t.assign(bad[0]!)).toThrow(/assign: shape \[2\] does not match \[3\]/);
    expect(() => t.assign(bad[1]!)).toThrow(/assign: float64 on cpu does not match float32 on cpu/);
    expect(() => t.assign(bad[2]!)).toThrow(/assign: shape \[1,3\] does not match \[3\]/);
    expect(() => t.assign([1, 2, 3] as never)).toThrow(TypeError);
    expect(() => t.assign(null as never)).toThrow(/assign: expected a Tensor, got null/);
    expect(vals(t)).toEqual([1, 2, 3]);
    expect(t._version.v).toBe(version);
    for (const b of bad) b.dispose();
    t.dispose();
    expect(cpu().buffers).toBe(start.buffers);
    expect(cpu().tensors).toBe(start.tensors);
  });

  it.skipIf(!WEBGPU.available)('a value on another device: a clear error, no leak on either device', async () => {
    const start = memory().devices;
    const t = tensor([1, 2]);
    const v = tensor([3, 4], { device: 'webgpu' });
    expect(() => t.assign(v)).toThrow(/assign: float32 on webgpu does not match float32 on cpu/);
    expect(() => v.assign(t)).toThrow(/assign: float32 on cpu does not match float32 on webgpu/);
    expect(vals(t)).toEqual([1, 2]);
    expect([...(await v.data())]).toEqual([3, 4]);
    t.dispose();
    v.dispose();
    expect(memory().devices.cpu!.buffers).toBe(start.cpu?.buffers ?? 0);
    expect(memory().devices.webgpu!.tensors).toBe(start.webgpu?.tensors ?? 0);
  });

  it('a successful assign gives back the old buffer and shares the new one', () => {
    const start = cpu();
    const t = zeros([3]);
    const v = ones([3]);
    t.assign(v);
    v.dispose();
    expect(vals(t)).toEqual([1, 1, 1]);
    expect(cpu().buffers).toBe(start.buffers + 1);
    t.dispose();
    expect(cpu().buffers).toBe(start.buffers);
  });

  it('`using` disposes at the end of the block', () => {
    const start = cpu();
    let seen: Tensor;
    {
      using t = ones([3]);
      seen = t;
      expect(vals(t)).toEqual([1, 1, 1]);
    }
    expect(seen.isDisposed).toBe(true);
    expect(cpu().tensors).toBe(start.tensors);
    expect(cpu().buffers).toBe(start.buffers);
  });
});

describe('Module.loadStateDict', () => {
  const snapshot = (m: Linear) => m.parameters().map(vals);

  it('a non-object is a TypeError that says what was expected, and nothing changes', () => {
    const m = new Linear(2, 2);
    const before = snapshot(m);
    for (const bad of [null, undefined, 3, 'w', [], new Map(), ones([2])]) {
      expect(() => m.loadStateDict(bad as never)).toThrow(TypeError);
    }
    expect(() => m.loadStateDict(null as never)).toThrow(/Linear.*loadStateDict: expected an object of parameter name → Tensor.*got null/);
    const own = m.stateDict();
    expect(() => m.loadStateDict(own, null as never)).toThrow(/loadStateDict: options must be an object such as \{ strict: false \}, got null/);
    for (const t of Object.values(own)) t.dispose();
    expect(snapshot(m)).toEqual(before);
  });

  it('entries that are present but not tensors, and names found only on Object.prototype, are named', () => {
    const m = new Linear(2, 2);
    expect(() => m.loadStateDict({ weight: undefined, bias: ones([2]) } as never)).toThrow(/weight is undefined, not a Tensor; nothing was loaded/);
    expect(() => m.loadStateDict({ weight: null, bias: ones([2]) } as never)).toThrow(/weight is null, not a Tensor/);
  });

  it('a conversion that fails after others succeeded frees every copy and loads nothing', () => {
    const m = new Linear(2, 3);
    const before = snapshot(m);
    // float64 entries need a cast (a copy) into the float32 parameters; the second cast fails
    const dict = { weight: ones([2, 3], { dtype: 'float64' }), bias: ones([3], { dtype: 'float64' }) };
    const start = cpu();
    const cast = Tensor.prototype.cast;
    let calls = 0;
    const spy = vi.spyOn(Tensor.prototype, 'cast').mockImplementation(function (this: Tensor, dtype) {
      if (++calls === 2) throw new Error('cast failed (injected)');
      return cast.call(this, dtype);
    });
    try {
      expect(() => m.loadStateDict(dict)).toThrow(/bias \(float64 on cpu\) cannot be converted to float32 on cpu: cast failed \(injected\); nothing was loaded/);
    } finally {
      spy.mockRestore();
    }
    expect(calls).toBe(2);
    expect(cpu().tensors).toBe(start.tensors);
    expect(cpu().buffers).toBe(start.buffers);
    expect(snapshot(m)).toEqual(before);
    // and the same dict loads once nothing fails
    m.loadStateDict(dict);
    expect(snapshot(m)).toEqual([[1, 1, 1, 1, 1, 1], [1, 1, 1]]);
    expect(cpu().tensors).toBe(start.tensors);
  });

  it.skipIf(!WEBGPU.available)('an entry on WebGPU (unreadable synchronously) after a converted one: no copy left', () => {
    const m = new Linear(2, 3);
    const before = snapshot(m);
    const dict = { weight: ones([2, 3], { dtype: 'float64' }), bias: ones([3], { device: 'webgpu' }) };
    const start = cpu();
    expect(() => m.loadStateDict(dict)).toThrow(/bias \(float32 on webgpu\) cannot be converted to float32 on cpu: .*toAsync/);
    expect(cpu().tensors).toBe(start.tensors);
    expect(cpu().buffers).toBe(start.buffers);
    expect(snapshot(m)).toEqual(before);
    dict.bias.dispose();
  });

  it('a disposed parameter is reported before anything is written', () => {
    const m = new Linear(2, 2);
    const w = m.parameters()[0]!;
    const b = m.parameters()[1]!;
    const bias = vals(b);
    w.dispose();
    expect(() => m.loadStateDict({ weight: ones([2, 2]), bias: zeros([2]) })).toThrow(/parameter weight was disposed/);
    expect(vals(b)).toEqual(bias);
  });
});

describe('the warning about tensors piling up outside tidy()', () => {
  let restore: ReturnType<typeof configureMemoryWarning> | null = null;
  const configure = (o: Parameters<typeof configureMemoryWarning>[0]) => {
    const prev = configureMemoryWarning();
    restore ??= prev;
    return configureMemoryWarning(o);
  };
  afterEach(() => {
    if (restore) configureMemoryWarning(restore);
    restore = null;
    vi.restoreAllMocks();
  });

  it('fires once, naming tidy(), when unscoped tensors pass the threshold', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const base = memory().unscoped;
    configure({ threshold: base + 50 });
    const made: Tensor[] = [];
    for (let i = 0; i < 49; i++) made.push(zeros([1]));
    expect(warn).not.toHaveBeenCalled();
    made.push(zeros([1]), zeros([1])); // the 51st over the base
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/tapegrad: \d+ live tensors are owned by no tidy\(\) scope.*tidy\(\(\) => \.\.\.\).*configureMemoryWarning/);
    for (let i = 0; i < 100; i++) made.push(zeros([1]));
    expect(warn).toHaveBeenCalledTimes(1); // once
    for (const t of made) t.dispose();
    expect(memory().unscoped).toBe(base);
  });

  it('scoped tensors do not count; returned, kept and disposed ones are counted right', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const base = memory().unscoped;
    configure({ threshold: base + 10 });
    tidy(() => {
      for (let i = 0; i < 100; i++) zeros([1]).add(1);
    });
    expect(memory().unscoped).toBe(base);
    const r = tidy(() => {
      const k = keep(ones([1]));
      return [k, tidy(() => ones([2]))]; // the inner result passes to the outer scope, then out
    });
    expect(memory().unscoped).toBe(base + 2);
    r.forEach((t) => t.dispose());
    expect(memory().unscoped).toBe(base);
    expect(warn).not.toHaveBeenCalled();
  });

  it('can be silenced, and each configure call re-arms it', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const base = memory().unscoped;
    expect(configure({ threshold: base + 5, enabled: false })).toEqual({ threshold: base + 5, enabled: false });
    const made = Array.from({ length: 10 }, () => zeros([1]));
    expect(warn).not.toHaveBeenCalled();
    configure({ enabled: true }); // already past the threshold: the next unscoped tensor warns
    made.push(zeros([1]));
    expect(warn).toHaveBeenCalledTimes(1);
    made.forEach((t) => t.dispose());
  });

  it('bad settings are TypeErrors that name the option', () => {
    configure({});
    expect(() => configureMemoryWarning({ threshold: -1 })).toThrow(/threshold must be a non-negative integer, got -1/);
    expect(() => configureMemoryWarning({ threshold: 1.5 })).toThrow(TypeError);
    expect(() => configureMemoryWarning({ threshold: NaN })).toThrow(TypeError);
    expect(() => configureMemoryWarning({ enabled: 'no' as never })).toThrow(/enabled must be true or false/);
    expect(() => configureMemoryWarning({ treshold: 5 } as never)).toThrow(/unknown option treshold/);
    expect(() => configureMemoryWarning(null as never)).toThrow(TypeError);
    expect(configureMemoryWarning()).toEqual(restore); // a failed call changed nothing
  });

  it('a Trainer run keeps the unscoped count flat (no warning in normal training)', async () => {
    const warn = vi.spyOn(console, 'warn');
    manualSeed(0);
    const x = linspace(-2, 2, 256).reshape([-1, 1]);
    const y = x.tanh();
    const net = new Sequential(new Linear(1, 16), new Tanh(), new Linear(16, 1));
    const opt = new Momentum(net.parameters(), { lr: 0.05 });
    const counts: number[] = [];
    await new Trainer(net, new MSE(), opt, { batchSize: 16, progress: false }).fit(x, y, {
      epochs: 4,
      onEpochEnd: () => void counts.push(memory().unscoped),
    });
    // from the second epoch on (optimizer state exists by then) nothing piles up
    expect(counts.slice(1)).toEqual([counts[1], counts[1], counts[1]]);
    expect(warn.mock.calls.filter((c) => String(c[0]).includes('tidy()'))).toEqual([]);
    for (const t of [x, y, ...net.parameters()]) t.dispose();
    opt.dispose();
  });

  it('the finalizer takes collected tensors off the count (a long async program does not drift up)', () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const script = `
      import { zeros, memory } from './src/index.ts';
      const before = memory().unscoped;
      (() => { for (let i = 0; i < 500; i++) zeros([8]); })();
      const during = memory().unscoped;
      for (let i = 0; i < 20; i++) {
        globalThis.gc();
        await new Promise((r) => setTimeout(r, 5));
      }
      console.log(JSON.stringify({ before, during, after: memory().unscoped }));`;
    const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
    });
    const { before, during, after } = JSON.parse(out.trim().split('\n').pop()!);
    expect(during).toBe(before + 500);
    expect(after).toBe(before);
  });
});
