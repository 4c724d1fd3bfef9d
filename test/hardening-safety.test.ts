// Hardening (issue 10, part 1): memory safety where tensors are made, validation of every shape,
// size and axis argument at the op boundary, sizes beyond what a backend can hold, operands of
// the wrong type, and the seed. Every bad call must throw an error that names the op and the
// argument, and leave the caller's state (live tensors, the random stream) as it was.
import { describe, expect, it, vi } from 'vitest';
import * as T from '../src';
import { cpuBackend } from '../src/backends/cpu';
import { alloc } from '../src/backends/cpu/storage';

const vals = (t: T.Tensor) => [...t.dataSync()];

/** fn must throw `kind` with `message`, and leave the live-tensor count where it was. */
function refuses(fn: () => unknown, kind: ErrorConstructor, message: string | RegExp): void {
  const before = T.memory().tensors;
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected ${String(message)}`).toBeInstanceOf(kind);
  if (typeof message === 'string') expect((thrown as Error).message).toContain(message);
  else expect((thrown as Error).message).toMatch(message);
  expect(T.memory().tensors).toBe(before);
}

describe('the value count matches the shape wherever a tensor is made', () => {
  it('a number with a shape fills it (as tfjs)', () => {
    expect(vals(T.tensor(5, { shape: [3] }))).toEqual([5, 5, 5]);
    expect(T.tensor(5, { shape: [2, 2] }).add(1).toArray()).toEqual([[6, 6], [6, 6]]);
    expect(vals(T.tensor(-0, { shape: [2], dtype: 'float64' })).map((v) => Object.is(v, -0))).toEqual([true, true]);
    expect(T.tensor(7, { shape: [0, 3] }).shape).toEqual([0, 3]);
    expect(T.tensor(7).shape).toEqual([]);
  });

  it('arrays with holes are refused, flat or nested, at the hole', () => {
    const holey = new Array<number>(4).fill(1, 0, 2);
    refuses(() => T.tensor(holey), TypeError, 'tensor: element at [2] is a hole');
    refuses(() => T.tensor(holey, { shape: [2, 2] }), TypeError, 'tensor: element 2 is a hole');
    refuses(() => T.tensor([[1, 2], [3, , 5] as number[], [6, 7, 8]] as never), Error, 'tensor: ragged nested array');
    const inner = [1, 2, 3];
    delete inner[1];
    refuses(() => T.tensor([[4, 5, 6], inner]), TypeError, 'tensor: element at [1,1] is a hole');
    const outer = new Array(2);
    outer[0] = [1];
    refuses(() => T.tensor(outer), TypeError, 'tensor: element at [1] is a hole');
  });

  it('ragged nesting and nested data given a shape are refused', () => {
    refuses(() => T.tensor([[1], [2, 3]]), Error, 'tensor: ragged nested array: at [1] got length 2, expected length 1');
    refuses(() => T.tensor([[1, 2], [3, 4]], { shape: [2] }), TypeError, 'tensor: element 0 is an array');
  });

  it('typed arrays and array-likes of the wrong length are refused, naming both counts', () => {
    refuses(() => T.tensor(new Float64Array(3), { shape: [4] }), Error, 'tensor: 3 values do not fill shape [4] (4 elements)');
    refuses(() => T.tensor(new Float32Array(0), { shape: [] }), Error, 'tensor: 0 values do not fill shape [] (1 elements)');
    const like = { length: 2, 0: 1, 1: 2 } as ArrayLike<number>;
    expect(vals(T.tensor(like))).toEqual([1, 2]);
    refuses(() => T.tensor(like, { shape: [3] }), Error, 'tensor: 2 values do not fill shape [3] (3 elements)');
  });

  it('the CPU upload itself refuses a value count that does not fill the shape', () => {
    expect(() => cpuBackend.upload([5], [3], 'float32')).toThrow('cpu: 1 values do not fill shape [3] (3 elements)');
  });

  it('data of the wrong kind gets a TypeError that says what is expected', () => {
    const expected = 'expected a number, a (nested) array of numbers or a typed array';
    refuses(() => T.tensor(null as never), TypeError, `tensor: data is null; ${expected}`);
    refuses(() => T.tensor(undefined as never), TypeError, `tensor: data is undefined; ${expected}`);
    refuses(() => T.tensor('123' as never), TypeError, `tensor: data is a string ('123'); ${expected}`);
    refuses(() => T.tensor(3n as never), TypeError, `tensor: data is a bigint (3n); ${expected}`);
    refuses(() => T.tensor({} as never), TypeError, `tensor: data is an object; ${expected}`);
    refuses(() => T.tensor(new DataView(new ArrayBuffer(8)) as never), TypeError, 'tensor: data is a DataView');
    refuses(() => T.tensor(new BigInt64Array(2) as never), TypeError, 'tensor: data is a BigInt64Array');
    refuses(() => T.tensor([1], null as never), TypeError, 'tensor: options must be an object, got null');
    refuses(() => T.tensor([1, 2], { shape: 2 as never }), TypeError, 'tensor: shape must be an array of non-negative integers, got a number (2)');
  });
});

describe('shape, size and axis arguments are validated at the op boundary', () => {
  // made outside the refused calls, so that the live-tensor count sees only what they leave
  const X = T.ones([2, 3]);
  const one = T.ones([1]);
  const two = T.ones([2]);
  const r10 = T.arange(10);
  const x = () => X;

  it('expand: fractional, negative, NaN sizes and a -1 on a new axis', () => {
    refuses(() => one.expand([2.5]), RangeError, 'expand: shape [2.5] must hold non-negative integers (or -1 to keep a dim); dim 0 is 2.5');
    refuses(() => two.expand([-1, 2]), RangeError, 'expand: shape [-1,2]: -1 at dim 0 is a new axis, with no size to keep');
    refuses(() => one.expand([NaN]), RangeError, 'expand: shape [NaN]');
    refuses(() => one.expand([-2]), RangeError, 'expand: shape [-2]');
    refuses(() => one.expand(3 as never), TypeError, 'expand: shape must be an array');
    expect(T.ones([1, 3]).expand([2, -1]).shape).toEqual([2, 3]);
    expect(T.ones([1]).expand([0]).shape).toEqual([0]);
  });

  it('slice: fractional, NaN and non-number bounds', () => {
    refuses(() => r10.slice([0.5]), RangeError, 'slice: begin [0.5] must hold integers; entry 0 is 0.5');
    refuses(() => r10.slice([0], [NaN]), RangeError, 'slice: end [NaN] must hold integers (or undefined); entry 0 is NaN');
    refuses(() => r10.slice(['1'] as never), RangeError, "slice: begin [1] must hold integers; entry 0 is a string ('1')");
    refuses(() => r10.slice(2 as never), TypeError, 'slice: begin must be an array');
    refuses(() => r10.slice([0], 5 as never), TypeError, 'slice: end must be an array');
    expect(vals(T.arange(10).slice([-3], [undefined]))).toEqual([7, 8, 9]);
  });

  it('pad: fractional, negative, NaN widths, malformed pairs, more axes than the tensor', () => {
    refuses(() => x().pad([[0, 1.5]]), RangeError, 'pad: widths[0] must be a pair of non-negative integers, got [0,1.5]');
    refuses(() => x().pad([[NaN, 0]]), RangeError, 'pad: widths[0] must be a pair of non-negative integers, got [NaN,0]');
    refuses(() => x().pad([[0, 0], [-1, 0]]), RangeError, 'pad: widths[1] must be a pair of non-negative integers, got [-1,0]');
    refuses(() => x().pad([[1]] as never), RangeError, 'pad: widths[0] must be a pair of non-negative integers, got [1]');
    refuses(() => x().pad([[0, 0], [0, 0], [1, 1]]), RangeError, 'pad: 3 pairs of widths for shape [2,3] (rank 2)');
    refuses(() => x().pad(1 as never), TypeError, 'pad: widths must be an array of [before, after] pairs');
    expect(x().pad([[1, 0]]).shape).toEqual([3, 3]);
  });

  it('reshape and permute: wrong types, fractional entries', () => {
    refuses(() => x().reshape(6 as never), TypeError, 'reshape: shape must be an array of integers (-1 for one inferred dim), got a number (6)');
    refuses(() => x().reshape([2.5, 2]), Error, 'reshape: invalid target shape [2.5,2] for [2,3]');
    refuses(() => x().permute(1 as never), TypeError, 'permute: perm must be an array of axes, got a number (1)');
    refuses(() => x().permute([0.5, 1]), Error, 'permute: axis 0.5 is out of range for shape [2,3]');
    refuses(() => x().transpose('0' as never), TypeError, "transpose: perm must be an array of axes or an axis, got a string ('0')");
    refuses(() => x().transpose(0, '1' as never), TypeError, "transpose: axis must be a number, got a string ('1')");
  });

  it('axes of reductions, softmax, squeeze and unsqueeze must be numbers; keepDims a boolean', () => {
    refuses(() => x().sum('1' as never), TypeError, "sum: axis must be a number or an array of numbers, got a string ('1')");
    refuses(() => x().sum(null as never), TypeError, 'sum: axis must be a number or an array of numbers, got null');
    refuses(() => x().mean(['0'] as never), TypeError, "mean: axis must be a number or an array of numbers, got a string ('0')");
    refuses(() => x().max(0.5), Error, 'max: axis 0.5 is out of range for shape [2,3]');
    refuses(() => x().sum(0, 1 as never), TypeError, 'sum: keepDims must be a boolean, got a number (1)');
    refuses(() => x().softmax('1' as never), TypeError, "softmax: axis must be a number, got a string ('1')");
    refuses(() => x().logSumExp(NaN), Error, 'logSumExp: axis NaN is out of range for shape [2,3]');
    refuses(() => x().squeeze({} as never), TypeError, 'squeeze: axis must be a number or an array of numbers, got an object');
    refuses(() => x().unsqueeze(undefined as never), TypeError, 'unsqueeze: axis must be a number, got undefined');
  });

  it('concat and stack: a list of tensors, an integer axis', () => {
    refuses(() => T.concat(x() as never), TypeError, 'concat: tensors must be an array of Tensors, got a Tensor');
    refuses(() => T.concat([x(), 1] as never), TypeError, 'concat: tensors[1] must be a Tensor, got a number (1)');
    refuses(() => T.concat([x(), x()], '0' as never), TypeError, "concat: axis must be a number, got a string ('0')");
    refuses(() => T.stack(x() as never), TypeError, 'stack: tensors must be an array of Tensors, got a Tensor');
    refuses(() => T.stack([x(), null] as never), TypeError, 'stack: tensors[1] must be a Tensor, got null');
  });

  it('creation: shapes, counts and values', () => {
    refuses(() => T.zeros(5 as never), TypeError, 'zeros: shape must be an array of non-negative integers, got a number (5)');
    refuses(() => T.ones([2, NaN]), RangeError, 'ones: invalid shape [2,NaN] (dim 1 is NaN; dims must be non-negative integers)');
    refuses(() => T.full([2], '1' as never), TypeError, "full: value must be a number, got a string ('1')");
    refuses(() => T.full([2], null as never), TypeError, 'full: value must be a number, got null');
    refuses(() => T.randn([3], { std: -1 }), RangeError, 'randn: std -1 must be a finite number ≥ 0');
    refuses(() => T.randn([3], { mean: '0' as never }), RangeError, "randn: mean must be a finite number, got a string ('0')");
    refuses(() => T.rand([3], { low: 2, high: 1 }), RangeError, 'rand: low 2 must not exceed high 1');
    refuses(() => T.rand([3], { high: NaN }), RangeError, 'rand: high must be a finite number, got NaN');
    refuses(() => T.linspace(0, 1, 2.5), Error, 'linspace: count 2.5 must be a non-negative integer');
    refuses(() => T.linspace(0, Infinity, 3), RangeError, 'linspace: start 0 and stop Infinity must be finite');
    refuses(() => T.arange('5' as never), Error, 'arange: start 0, stop 5 and step 1 must be finite');
    refuses(() => T.eye(2.5), Error, 'eye: invalid shape [2.5,2.5]');
    refuses(() => T.zerosLike([1, 2] as never), TypeError, 'zerosLike: argument 1 must be a Tensor, got an array');
    expect(T.zeros([2, 0]).shape).toEqual([2, 0]);
  });
});

describe('sizes beyond what a backend holds are refused before allocating', () => {
  // each call would need more than 2^31 − 1 bytes; none of them may allocate (a huge allocation
  // would be slow or fatal), so the throw must come first
  it.each([
    ['zeros', () => T.zeros([2 ** 29]), 'zeros: shape [536870912] needs 2147483648 bytes of float32'],
    ['ones float64', () => T.ones([2 ** 14, 2 ** 14], { dtype: 'float64' }), 'ones: shape [16384,16384] needs 2147483648 bytes of float64'],
    ['full', () => T.full([2 ** 40], 3), 'full: shape [1099511627776] needs'],
    ['randn', () => T.randn([2 ** 20, 2 ** 20]), 'randn: shape [1048576,1048576] needs'],
    ['rand', () => T.rand([2 ** 31]), 'rand: shape [2147483648] needs'],
    ['eye', () => T.eye(2 ** 16), 'eye: shape [65536,65536] needs'],
    ['arange', () => T.arange(0, 2 ** 40), 'arange: shape [1099511627776] needs'],
    ['linspace', () => T.linspace(0, 1, 2 ** 40), 'linspace: shape [1099511627776] needs'],
    ['tensor (a scalar that fills)', () => T.tensor(1, { shape: [2 ** 20, 2 ** 20] }), 'tensor: shape [1048576,1048576] needs'],
  ])('%s', (_, fn, message) => {
    refuses(fn, RangeError, message);
  });

  it('an element count beyond 2^53 is refused, not rounded', () => {
    refuses(() => T.zeros([2 ** 30, 2 ** 30, 2 ** 30]), RangeError, 'zeros: shape [1073741824,1073741824,1073741824] has more than 2^53 - 1 elements');
    refuses(() => T.zeros([0, 2 ** 53]), RangeError, 'zeros: invalid shape [0,9007199254740992] (dim 1 is 9007199254740992');
    expect(T.zeros([0, 2 ** 40, 2 ** 12]).size).toBe(0);
  });

  it('an op whose output would exceed the CPU limit is refused by the allocator, not half-built', () => {
    expect(() => alloc('float32', 2 ** 29)).toThrow('cpu: cannot allocate 536870912 float32 elements (2147483648 bytes)');
    expect(() => alloc('float64', 2 ** 40)).toThrow(RangeError);
    const a = T.ones([2 ** 15, 1]);
    const b = T.ones([1, 2 ** 15]);
    refuses(() => T.matmul(a, b), RangeError, 'cpu: cannot allocate 1073741824 float32 elements');
  });

  it('zeros/ones/full and the other formulas hand the backend a typed array, never a JS Array', () => {
    // a JS Array of 2^26 elements took 31 s and 5 GB, and zeros([2**28]) ended the process. A
    // timing or heap measurement is noisy on a loaded machine; what reaches the upload is not.
    const upload = cpuBackend.upload;
    const seen: string[] = [];
    const spy = vi.spyOn(cpuBackend, 'upload').mockImplementation((values, shape, dtype) => {
      seen.push(`${ArrayBuffer.isView(values) ? values.constructor.name : 'Array'} ${dtype}`);
      return upload(values, shape, dtype);
    });
    const w = T.ones([3], { requiresGrad: true });
    const y = w.mul(2).sum();
    try {
      seen.length = 0;
      T.zeros([300]);
      T.ones([300], { dtype: 'float64' });
      T.full([300], 7);
      T.onesLike(w);
      T.randn([300]);
      T.rand([300], { dtype: 'float64' });
      T.eye(20);
      T.tensor(2, { shape: [300] });
      y.backward(); // its seed gradient comes from Tensor.ones
      expect(seen).toEqual([
        'Float32Array float32', 'Float64Array float64', 'Float32Array float32', 'Float32Array float32',
        'Float32Array float32', 'Float64Array float64', 'Float32Array float32', 'Float32Array float32',
        'Float32Array float32',
      ]);
      // arange and linspace compute in float64 whatever the dtype (the upload rounds once)
      seen.length = 0;
      T.arange(300);
      T.linspace(0, 1, 300);
      expect(seen).toEqual(['Float64Array float32', 'Float64Array float32']);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('operands of the wrong type', () => {
  const T12 = T.tensor([1, 2]);
  const t = () => T12;
  const sq = T.ones([2, 2]);
  const v2 = T.ones([2]);

  it.each([
    ['a string', '1', "add: argument 2 must be a Tensor or a number, got a string ('1')"],
    ['null', null, 'add: argument 2 must be a Tensor or a number, got null'],
    ['undefined', undefined, 'add: argument 2 must be a Tensor or a number, got undefined'],
    ['an array', [1, 2], 'add: argument 2 must be a Tensor or a number, got an array (wrap it: tensor([...]))'],
    ['a bigint', 1n, 'add: argument 2 must be a Tensor or a number, got a bigint (1n)'],
    ['a boolean', true, 'add: argument 2 must be a Tensor or a number, got a boolean (true)'],
  ])('t.add(%s) is a TypeError naming the op and the position', (_, v, message) => {
    refuses(() => t().add(v as never), TypeError, message);
  });

  it('every binary op and both positions', () => {
    for (const op of ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'reluGrad'] as const) {
      refuses(() => T[op]('2' as never, t()), TypeError, `${op}: argument 1 must be a Tensor or a number, got a string ('2')`);
      refuses(() => T[op](t(), null as never), TypeError, `${op}: argument 2 must be a Tensor or a number, got null`);
    }
    // any JS number is accepted, finite or not
    expect(vals(t().add(Infinity))).toEqual([Infinity, Infinity]);
    expect(vals(T.mul(2, t()))).toEqual([2, 4]);
  });

  it('unary ops and the other frontends take tensors only', () => {
    for (const op of ['neg', 'exp', 'log', 'sqrt', 'abs', 'sign', 'relu', 'sigmoid', 'tanh', 'sin', 'cos', 'square', 'softplus'] as const) {
      refuses(() => T[op](3 as never), TypeError, `${op}: argument 1 must be a Tensor, got a number (3)`);
    }
    refuses(() => T.leakyRelu(t(), '0.1' as never), TypeError, "leakyRelu: slope must be a number, got a string ('0.1')");
    refuses(() => T.matmul(sq, 3 as never), TypeError, 'matmul: argument 2 must be a Tensor, got a number (3)');
    refuses(() => sq.matmul([[1], [2]] as never), TypeError, 'matmul: argument 2 must be a Tensor, got an array');
    refuses(() => T.linear(v2, null as never), TypeError, 'linear: argument 2 must be a Tensor, got null');
    refuses(() => T.linear(v2, sq, 1 as never), TypeError, 'linear: argument 3 must be a Tensor (or null), got a number (1)');
    refuses(() => T.mse(t(), [1, 2] as never), TypeError, 'mse: argument 2 must be a Tensor, got an array');
    refuses(() => T.where([1, 0] as never, 1, 2), TypeError, 'where: argument 1 must be a Tensor, got an array');
    refuses(() => t().where(v2, '2' as never), TypeError, "where: argument 3 must be a Tensor or a number, got a string ('2')");
    refuses(() => t().clamp('0' as never), TypeError, "clamp: argument 2 must be a Tensor or a number, got a string ('0')");
    refuses(() => t().clamp(0, null as never), TypeError, 'clamp: argument 3 must be a Tensor or a number, got null');
    refuses(() => T.cast(t(), 'int8' as never), TypeError, "cast: dtype must be 'float32', 'float64' or 'int32', got a string ('int8')");
    refuses(() => T.reshape({ shape: [2] } as never, [2]), TypeError, 'reshape: argument 1 must be a Tensor, got an object');
    refuses(() => T.sum([1, 2] as never), TypeError, 'sum: argument 1 must be a Tensor, got an array');
  });

  it('isTensor', () => {
    expect(T.isTensor(t())).toBe(true);
    expect(T.isTensor(1)).toBe(false);
    expect(T.isTensor({ shape: [1], dtype: 'float32' })).toBe(false);
    expect(T.isTensor(null)).toBe(false);
  });

  it('backward with a gradient that is not a tensor says what it expects', () => {
    const w = T.tensor([1, 2], { requiresGrad: true });
    const w3 = w.mul(3);
    const y = w3.sum();
    refuses(() => y.backward(1 as never), TypeError, 'backward: the gradient must be a Tensor of shape [] float32 on cpu (or omitted for a scalar output), got a number (1)');
    refuses(() => w3.backward([1, 1] as never), TypeError, 'backward: the gradient must be a Tensor of shape [2] float32 on cpu');
    refuses(() => T.grad(y, [w], { grad: 'x' as never }), TypeError, 'backward: the gradient must be a Tensor');
    refuses(() => y.backward(undefined, null as never), TypeError, 'backward: options must be an object, got null');
    refuses(() => w.requireGrad('no' as never), TypeError, "requireGrad: flag must be a boolean, got a string ('no')");
    y.backward();
    expect(vals(w.grad!)).toEqual([3, 3]);
  });
});

describe('manualSeed', () => {
  const draw = () => vals(T.rand([4], { dtype: 'float64' }));

  it('every bit of a safe integer changes the stream', () => {
    T.manualSeed(1);
    const one = draw();
    T.manualSeed(2 ** 32 + 1);
    expect(draw()).not.toEqual(one);
    const seen = new Set<string>();
    for (let bit = 0; bit < 53; bit++) {
      T.manualSeed(2 ** bit);
      seen.add(draw().join());
    }
    T.manualSeed(0);
    seen.add(draw().join());
    T.manualSeed(-1);
    seen.add(draw().join());
    T.manualSeed(Number.MAX_SAFE_INTEGER);
    seen.add(draw().join());
    T.manualSeed(-Number.MAX_SAFE_INTEGER);
    seen.add(draw().join());
    expect(seen.size).toBe(53 + 4);
    // the same large seed reproduces its stream
    T.manualSeed(2 ** 40 + 3);
    const big = draw();
    T.manualSeed(2 ** 40 + 3);
    expect(draw()).toEqual(big);
  });

  it('non-integers, NaN, unsafe integers and non-numbers are refused, and the stream is kept', () => {
    T.manualSeed(9);
    const expected = draw();
    T.manualSeed(9);
    expect(() => T.manualSeed(1.9)).toThrow(new RangeError('manualSeed: seed 1.9 must be a safe integer (|seed| ≤ 2^53 - 1)'));
    expect(() => T.manualSeed(NaN)).toThrow(RangeError);
    expect(() => T.manualSeed(Infinity)).toThrow(RangeError);
    expect(() => T.manualSeed(2 ** 53)).toThrow(RangeError);
    expect(() => T.manualSeed('1' as never)).toThrow(new TypeError("manualSeed: seed must be a number, got a string ('1')"));
    expect(() => T.manualSeed(1n as never)).toThrow(TypeError);
    expect(() => T.makeRandom(0.5)).toThrow('makeRandom: seed 0.5 must be a safe integer');
    expect(() => T.randn([-1])).toThrow('randn: invalid shape [-1]');
    expect(draw()).toEqual(expected);
  });

  it('makeRandom takes large seeds too; permutation checks its count', () => {
    const a = T.makeRandom(2 ** 33);
    const b = T.makeRandom(0);
    expect(a()).not.toBe(b());
    expect(() => T.permutation(-1)).toThrow(new RangeError('permutation: n -1 must be a non-negative safe integer'));
    expect(() => T.permutation('3' as never)).toThrow(TypeError);
    expect(T.permutation(5).sort()).toEqual([0, 1, 2, 3, 4]);
  });
});
