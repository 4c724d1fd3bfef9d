// Optimizer calls are all-or-nothing (issue 10): step() checks every option and gradient before it
// updates anything, options changed through groups[i] are checked at step(), and loadStateDict
// checks and copies everything before it swaps anything in, freeing its copies on a failure.
import { describe, expect, it, vi } from 'vitest';
import { Adam, Momentum, SGD, Tensor, memory, ones, tensor, type Optimizer } from '../../src';
import { WEBGPU } from '../helpers/devices';

const vals = (t: Tensor) => [...t.dataSync()];
const cpu = () => memory().devices.cpu ?? { tensors: 0, buffers: 0, bytes: 0 };

/** Three parameters with gradients set directly (p.grad = g), and a snapshot of their values. */
function params() {
  const ps = [tensor([1, 2], { requiresGrad: true }), tensor([3, 4, 5], { requiresGrad: true }), tensor([6], { requiresGrad: true })];
  for (const p of ps) p.grad = ones(p.shape as number[]);
  return { ps, values: () => ps.map(vals) };
}

const makers: [string, (ps: Tensor[]) => Optimizer<{ lr: number }>][] = [
  ['SGD', (ps) => new SGD(ps, { lr: 0.1 })],
  ['Momentum', (ps) => new Momentum(ps, { lr: 0.1 })],
  ['Adam', (ps) => new Adam(ps, { lr: 0.1 })],
];

describe.each(makers)('%s.step() is atomic', (name, make) => {
  it('a wrong-shape gradient on the last parameter: no parameter or state changes', () => {
    const { ps, values } = params();
    const opt = make(ps);
    opt.step(); // state exists from here on (Momentum's v, Adam's m and v)
    const before = values();
    const state = opt.stateDict();
    ps[2]!.grad = ones([2]);
    expect(() => opt.step()).toThrow(new RegExp(`${name}.step: parameter 2 \\(shape \\[1\\]\\): its gradient has shape \\[2\\]; nothing was changed`));
    expect(values()).toEqual(before);
    // the state too: the same next step as an optimizer that never saw the failure
    const after = opt.stateDict();
    expect(Object.keys(after.state)).toEqual(Object.keys(state.state));
    for (const [i, s] of Object.entries(after.state)) {
      expect(s.step).toBe(state.state[Number(i)]!.step);
      for (const [k, t] of Object.entries(s.tensors)) expect(vals(t)).toEqual(vals(state.state[Number(i)]!.tensors[k]!));
    }
  });

  it('a wrong-dtype, disposed or non-tensor gradient: no parameter changes', () => {
    const { ps, values } = params();
    const opt = make(ps);
    const before = values();
    ps[2]!.grad = ones([1], { dtype: 'float64' });
    expect(() => opt.step()).toThrow(/parameter 2 \(shape \[1\]\): its gradient is float64 on cpu, the parameter float32 on cpu/);
    const g = ones([1]);
    g.dispose();
    ps[2]!.grad = g;
    expect(() => opt.step()).toThrow(/parameter 2 \(shape \[1\]\): its gradient was disposed/);
    ps[2]!.grad = [1] as never;
    expect(() => opt.step()).toThrow(/parameter 2 \(shape \[1\]\): its grad is object, not a Tensor/);
    expect(values()).toEqual(before);
  });

  it('lr = NaN set through groups[i] is refused at step(), before any update', () => {
    const { ps, values } = params();
    const opt = make(ps);
    const before = values();
    opt.groups[0]!.lr = NaN;
    expect(() => opt.step()).toThrow(/group 0: lr must be a non-negative number, got NaN/);
    opt.groups[0]!.lr = Infinity;
    expect(() => opt.step()).toThrow(/lr must be a non-negative number, got Infinity/);
    opt.groups[0]!.lr = '0.1' as never;
    expect(() => opt.step()).toThrow(/lr must be a non-negative number/);
    expect(values()).toEqual(before);
    for (const v of values()) expect(v.every(Number.isFinite)).toBe(true);
  });

  it('a parameter list changed through groups[i] is checked too', () => {
    const { ps, values } = params();
    const opt = make(ps);
    const before = values();
    opt.groups[0]!.params.push(3 as never);
    expect(() => opt.step()).toThrow(new RegExp(`${name}.step: parameter 3: not a Tensor`));
    expect(() => opt.zeroGrad()).toThrow(new RegExp(`${name}.zeroGrad: parameter 3: not a Tensor`));
    opt.groups[0]!.params.pop();
    opt.groups[0]!.params.push(ps[0]!);
    expect(() => opt.step()).toThrow(/parameter 3 \(shape \[2\]\): appears twice/);
    expect(values()).toEqual(before);
    expect(ps.every((p) => p.grad !== null)).toBe(true); // zeroGrad changed nothing either
  });
});

describe('per-optimizer options set through groups[i]', () => {
  it('Momentum: momentum and nesterov', () => {
    const { ps, values } = params();
    const opt = new Momentum(ps, { lr: 0.1 });
    const before = values();
    opt.groups[0]!.momentum = NaN;
    expect(() => opt.step()).toThrow(/momentum must be in \[0, 1\), got NaN/);
    opt.groups[0]!.momentum = '0.5' as never;
    expect(() => opt.step()).toThrow(/momentum must be in \[0, 1\)/);
    opt.groups[0]!.momentum = 0.9;
    opt.groups[0]!.nesterov = 'yes' as never;
    expect(() => opt.step()).toThrow(/nesterov must be true or false, got yes/);
    expect(values()).toEqual(before);
  });

  it('Adam: betas, eps and weightDecay', () => {
    const { ps, values } = params();
    const opt = new Adam(ps);
    const before = values();
    for (const [k, v, msg] of [
      ['betas', [0.9, NaN], /betas must be in \[0, 1\) \(a pair of numbers\), got \[0.9, NaN\]/],
      ['betas', 0.9, /betas must be in \[0, 1\) \(a pair of numbers\)/],
      ['betas', ['0.9', 0.999], /got \["0.9", 0.999\]/],
      ['eps', Infinity, /eps must be a finite number ≥ 0, got Infinity/],
      ['weightDecay', -1, /weightDecay must be a finite number ≥ 0, got -1/],
    ] as const) {
      const prev = opt.groups[0]![k];
      (opt.groups[0] as unknown as Record<string, unknown>)[k] = v;
      expect(() => opt.step()).toThrow(msg);
      (opt.groups[0] as unknown as Record<string, unknown>)[k] = prev;
    }
    expect(values()).toEqual(before);
    opt.step();
    expect(values()).not.toEqual(before);
  });
});

describe('Optimizer.loadStateDict is all-or-nothing', () => {
  /** An Adam that has taken two steps, and its state dict. */
  function trained() {
    const { ps } = params();
    const opt = new Adam(ps, { lr: 0.1 });
    opt.step();
    opt.step();
    return { ps, opt, dict: opt.stateDict() };
  }
  const same = (a: Optimizer<{ lr: number }>, b: ReturnType<Optimizer<{ lr: number }>['stateDict']>) => {
    const s = a.stateDict();
    expect(s.groups).toEqual(b.groups);
    for (const [i, st] of Object.entries(s.state)) {
      expect(st.step).toBe(b.state[Number(i)]!.step);
      for (const [k, t] of Object.entries(st.tensors)) expect(vals(t)).toEqual(vals(b.state[Number(i)]!.tensors[k]!));
    }
  };

  it('bad options in the dict are refused before anything changes', () => {
    const { opt, dict } = trained();
    const before = opt.stateDict();
    const bad = structuredClone({ groups: dict.groups });
    bad.groups[0]!.options.lr = NaN;
    expect(() => opt.loadStateDict({ groups: bad.groups, state: dict.state })).toThrow(/Adam.loadStateDict: .*lr must be a non-negative number, got NaN; nothing was loaded/);
    bad.groups[0]!.options.lr = 0.1;
    bad.groups[0]!.options.betas = [2, 0.5];
    expect(() => opt.loadStateDict({ groups: bad.groups, state: dict.state })).toThrow(/betas must be in \[0, 1\) \(a pair of numbers\)/);
    bad.groups[0]!.options.betas = [0.9, 0.999];
    bad.groups[0]!.options.f = () => 1;
    expect(() => opt.loadStateDict({ groups: bad.groups, state: dict.state })).toThrow(/group 0: options cannot be copied/);
    same(opt, before);
  });

  it('malformed dicts get clear errors, not raw TypeErrors', () => {
    const { opt, dict } = trained();
    const before = opt.stateDict();
    expect(() => opt.loadStateDict(null as never)).toThrow(/Adam.loadStateDict: expected \{ groups, state \}.*got null/);
    expect(() => opt.loadStateDict({ groups: [null], state: {} } as never)).toThrow(/group 0 is not \{ options, params \}/);
    const s0 = dict.state[0]!;
    expect(() => opt.loadStateDict({ groups: dict.groups, state: { 0: null } } as never)).toThrow(/parameter 0: state is not \{ step, tensors \}/);
    expect(() => opt.loadStateDict({ groups: dict.groups, state: { '00': s0 } as never })).toThrow(/state for parameter '00'/);
    expect(() => opt.loadStateDict({ groups: dict.groups, state: { 1.5: s0 } })).toThrow(/state for parameter '1.5'/);
    expect(() => opt.loadStateDict({ groups: dict.groups, state: { 0: { step: 2, tensors: { x: s0.tensors.m! } } } })).toThrow(/parameter 0: unknown state 'x' \(Adam keeps m, v\)/);
    same(opt, before);
  });

  it('a copy that fails after others were made frees them all and loads nothing', () => {
    const { opt, dict } = trained();
    const before = opt.stateDict();
    // float64 state needs a cast (a copy) into the float32 parameters' state; the fourth fails
    const state = Object.fromEntries(
      Object.entries(dict.state).map(([i, s]) => [i, { step: s.step, tensors: Object.fromEntries(Object.entries(s.tensors).map(([k, t]) => [k, t.cast('float64')])) }]),
    );
    const start = cpu();
    const cast = Tensor.prototype.cast;
    let calls = 0;
    const spy = vi.spyOn(Tensor.prototype, 'cast').mockImplementation(function (this: Tensor, dtype) {
      if (++calls === 4) throw new Error('cast failed (injected)');
      return cast.call(this, dtype);
    });
    try {
      expect(() => opt.loadStateDict({ groups: dict.groups, state })).toThrow(/parameter 1: state 'v' cannot be converted to float32 on cpu \(cast failed \(injected\)\); nothing was loaded/);
    } finally {
      spy.mockRestore();
    }
    expect(calls).toBe(4);
    expect(cpu().tensors).toBe(start.tensors);
    expect(cpu().buffers).toBe(start.buffers);
    same(opt, before);
    // the same dict loads once nothing fails, and the copies are owned by the optimizer
    opt.loadStateDict({ groups: dict.groups, state });
    same(opt, before);
  });

  it.skipIf(!WEBGPU.available)('state on WebGPU for CPU parameters (unreadable synchronously): no copy left', () => {
    const { opt, dict } = trained();
    const before = opt.stateDict();
    const s1 = dict.state[1]!;
    const state = { ...dict.state, 1: { step: s1.step, tensors: { m: s1.tensors.m!, v: s1.tensors.v!.to('webgpu') } } };
    const start = cpu();
    expect(() => opt.loadStateDict({ groups: dict.groups, state })).toThrow(/parameter 1: state 'v' cannot be converted to float32 on cpu .*toAsync/);
    expect(cpu().tensors).toBe(start.tensors);
    expect(cpu().buffers).toBe(start.buffers);
    same(opt, before);
    state[1].tensors.v.dispose();
  });
});
