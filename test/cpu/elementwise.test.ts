// Elementwise kernels (flat, grid and strided loops) against a plain reference: every unary and
// binary op and where, on broadcast shapes of rank 0-4 with every operand in any layout,
// float32 and float64, with NaN, ±Inf and -0 among the values.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tensor, tidy, where, type Tensor } from '../../src';
import { DEFAULTS } from '../../src/backends/cpu/config';
import { compileLoop, evalRefused, refuseEval } from '../../src/backends/cpu/codegen';
import { configureCpu, cpuCapabilities, resetCpuConfig, warmCpu } from '../../src/backends/cpu';
import { BINARY_OPS, UNARY_OPS, type BinaryOp, type UnaryOp } from '../../src/backends/backend';
import { at, fill } from './reference';
import { LAYOUTS, laidOut, size, values, type FloatDType } from './views';

const { ewThreadMin: EW_THREAD_MIN, ewWasmCopyMin: EW_WASM_MIN, ewWasmInPlaceMin: EW_WASM_MIN_HEAP } = DEFAULTS;

const UNARY_REF: Record<UnaryOp, (x: number) => number> = {
  neg: (x) => -x,
  exp: Math.exp,
  log: Math.log,
  log1p: Math.log1p,
  sqrt: Math.sqrt,
  abs: Math.abs,
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : x),
  relu: (x) => (Number.isNaN(x) ? x : x > 0 ? x : 0),
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  tanh: Math.tanh,
  sin: Math.sin,
  cos: Math.cos,
};

const BINARY_REF: Record<BinaryOp | 'reluGrad', (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  // IEEE 754 pow: 1^y = 1 for any y (NaN too) and (−1)^±inf = 1, where Math.pow gives NaN
  pow: (a, b) => (a === 1 || (a === -1 && Math.abs(b) === Infinity) ? 1 : Math.pow(a, b)),
  maximum: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : a > b ? a : b),
  minimum: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : a < b ? a : b),
  eq: (a, b) => (a === b ? 1 : 0),
  ne: (a, b) => (a !== b ? 1 : 0),
  lt: (a, b) => (a < b ? 1 : 0),
  le: (a, b) => (a <= b ? 1 : 0),
  gt: (a, b) => (a > b ? 1 : 0),
  ge: (a, b) => (a >= b ? 1 : 0),
  reluGrad: (a, b) => (b > 0 ? a : 0),
};

/** Two n-value operands (a, b) with NaN, ±Inf and -0 among them, as the dtype holds them (ha, hb), and a per-element check. */
function flatCase(n: number, dtype: FloatDType, [seedA, seedB]: [number, number], label: string) {
  const a = values(n, seedA, true);
  const b = values(n, seedB, true);
  const held = (v: Float64Array) => (dtype === 'float32' ? Float64Array.from(v, Math.fround) : v);
  const check = (y: Tensor, ref: (i: number) => number, what: string) =>
    expectValues(y.dataSync(), Float64Array.from({ length: n }, (_, i) => ref(i)), dtype, `${what} n=${n} ${dtype} (${label})`);
  return { n, dtype, a, b, ha: held(a), hb: held(b), check };
}

/** The ops with wasm kernels over the case's flat operands: each binary one as vv, vs and sv (the scalar: a[k]), and relu. */
function checkFlatOps({ dtype, a, b, ha, hb, check }: ReturnType<typeof flatCase>, k: number): void {
  const [x, y] = [tensor(a, { dtype }), tensor(b, { dtype })];
  const s = tensor(ha[k]!, { dtype });
  for (const op of ['add', 'sub', 'mul', 'div', 'reluGrad'] as const) {
    const f = BINARY_REF[op];
    check(x[op](y), (i) => f(ha[i]!, hb[i]!), `${op} vv`);
    check(x[op](s), (i) => f(ha[i]!, ha[k]!), `${op} vs`);
    check(s[op](x), (i) => f(ha[k]!, ha[i]!), `${op} sv`);
  }
  check(x.relu(), (i) => UNARY_REF.relu(ha[i]!), 'relu');
}

/** Equal as the dtype stores it; NaN equals NaN; 0 and -0 are equal (except where a test asks). */
function expectValues(got: ArrayLike<number>, want: ArrayLike<number>, dtype: FloatDType, what: string): void {
  const round = dtype === 'float32' ? Math.fround : (x: number) => x;
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const w = round(want[i]!);
    const g = got[i]!;
    if (!(g === w || (Number.isNaN(g) && Number.isNaN(w)))) {
      throw new Error(`${what}: element ${i} is ${g}, want ${w}`);
    }
  }
}

/** An output shape (rank 0-4) and, per operand, a shape that broadcasts to it. */
const broadcastShapes = (operands: number) =>
  fc
    .array(fc.integer({ min: 1, max: 5 }), { minLength: 0, maxLength: 4 })
    .chain((out) =>
      fc.tuple(
        fc.constant(out),
        fc.array(
          fc.tuple(fc.integer({ min: 0, max: out.length }), fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length })).map(
            ([drop, ones]) => out.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d)),
          ),
          { minLength: operands, maxLength: operands },
        ),
      ),
    );

const dtypes = fc.constantFrom<FloatDType>('float32', 'float64');
const layouts = fc.constantFrom(...LAYOUTS);

/** numpy broadcasting, written out plainly */
function broadcast(shapes: number[][]): number[] {
  const r = Math.max(0, ...shapes.map((s) => s.length));
  return Array.from({ length: r }, (_, i) => Math.max(1, ...shapes.map((s) => s[i - (r - s.length)] ?? 1)));
}

function run(
  shapes: number[][], dtype: FloatDType, lays: string[], seed: number,
  apply: (xs: Tensor[]) => Tensor, ref: (...v: number[]) => number, what: string,
): void {
  const out = broadcast(shapes);
  const vals = shapes.map((s, i) => values(size(s), seed + i, true));
  // the reference sees the inputs as the dtype holds them
  const held = vals.map((v) => (dtype === 'float32' ? Float64Array.from(v, Math.fround) : v));
  const want = fill(out, (idx) => ref(...held.map((v, i) => at(v, shapes[i]!, idx))));
  tidy(() => {
    const xs = vals.map((v, i) => laidOut(v, shapes[i]!, dtype, lays[i] as never));
    const y = apply(xs);
    expect(y.shape).toEqual(out);
    expectValues(y.dataSync(), want, dtype, `${what} ${shapes.map((s, i) => `${lays[i]}[${s}]`).join(' ')} ${dtype}`);
  });
}

// generated loops (new Function), and the plain closures that run where eval is refused (a strict
// Content-Security-Policy): the same properties on both
describe.each(['generated', 'plain'] as const)('elementwise kernels, %s loops', (loops) => {
  beforeAll(() => refuseEval(loops === 'plain'));
  afterAll(() => refuseEval(false));

  it.each(UNARY_OPS)('%s matches the reference on any layout', (op) => {
    fc.assert(
      fc.property(broadcastShapes(1), dtypes, layouts, fc.integer({ min: 0, max: 1e6 }), ([out], dtype, lay, seed) =>
        run([out], dtype, [lay], seed, ([x]) => (x as unknown as Record<UnaryOp, () => Tensor>)[op].call(x), UNARY_REF[op], op),
      ),
      { numRuns: 40 },
    );
  });

  it.each([...BINARY_OPS, 'reluGrad'] as const)('%s matches the reference on broadcast shapes and any layout', (op) => {
    fc.assert(
      fc.property(broadcastShapes(2), dtypes, layouts, layouts, fc.integer({ min: 0, max: 1e6 }), ([, shapes], dtype, la, lb, seed) =>
        run(shapes, dtype, [la, lb], seed, ([a, b]) => (a as unknown as Record<BinaryOp | 'reluGrad', (b: Tensor) => Tensor>)[op].call(a, b!), BINARY_REF[op], op),
      ),
      { numRuns: 40 },
    );
  });

  it('where matches the reference on three broadcast operands', () => {
    fc.assert(
      fc.property(broadcastShapes(3), dtypes, layouts, layouts, layouts, fc.integer({ min: 0, max: 1e6 }), ([, shapes], dtype, l0, l1, l2, seed) =>
        run(shapes, dtype, [l0, l1, l2], seed, ([c, a, b]) => where(c!, a!, b!), (c, a, b) => (c !== 0 ? a! : b!), 'where'),
      ),
      { numRuns: 60 },
    );
  });

  it('the common layouts: scalar operands, bias rows and columns, a transposed operand', () => {
    const cases: [number[], number[]][] = [[[7, 9], []], [[], [7, 9]], [[7, 9], [9]], [[7, 9], [7, 1]], [[1, 9], [7, 1]], [[4, 7, 9], [7, 1]], [[4, 7, 9], [4, 1, 9]]];
    for (const dtype of ['float32', 'float64'] as const) {
      for (const [sa, sb] of cases) {
        for (const la of LAYOUTS) run([sa, sb], dtype, [la, 'plain'], 7, ([a, b]) => a!.sub(b!), (a, b) => a - b, 'sub');
      }
    }
  });

});

describe('elementwise kernels', () => {
  it('eval refused: compileLoop catches the EvalError once, remembers it, and the kernels still compute', () => {
    const real = globalThis.Function;
    let tries = 0;
    // what a page without 'unsafe-eval' does to new Function
    globalThis.Function = function refused() {
      tries++;
      throw new EvalError('Refused to evaluate a string as JavaScript');
    } as unknown as FunctionConstructor;
    try {
      expect(compileLoop(['x'], 'return x')).toBeNull();
      expect(compileLoop(['x'], 'return x')).toBeNull();
      expect(evalRefused()).toBe(true);
      // a loop pattern no test has compiled yet: three strided operands of rank 5
      tidy(() => {
        const x = tensor(values(2 * 3 * 2 * 3 * 2, 5, false), { shape: [2, 3, 2, 3, 2], dtype: 'float64' }).permute([4, 3, 2, 1, 0]);
        const y = where(x.gt(0), x.sin(), x.cos());
        const xs = x.dataSync();
        expectValues(y.dataSync(), Float64Array.from(xs, (v) => (v > 0 ? Math.sin(v) : Math.cos(v))), 'float64', 'where of a permuted rank-5 view');
      });
      expect(tries).toBe(1);
    } finally {
      globalThis.Function = real;
      refuseEval(false);
    }
  });

  it('relu and the comparisons keep their exact values at 0, -0, ±Inf and NaN', () => {
    const x = tensor([2, -2, -0, 0, Number.NaN, -Infinity, Infinity], { dtype: 'float64' });
    const relu = Array.from(x.relu().dataSync());
    expect(relu.map((v) => (Object.is(v, -0) ? '-0' : v))).toEqual([2, 0, 0, 0, Number.NaN, 0, Infinity]);
    expect(Array.from(x.gt(0).dataSync())).toEqual([1, 0, 0, 0, 0, 0, 1]);
    expect(Array.from(x.ge(0).dataSync())).toEqual([1, 0, 1, 1, 0, 0, 1]);
    expect(Array.from(x.eq(x).dataSync())).toEqual([1, 1, 1, 1, 0, 1, 1]);
    expect(Array.from(x.ne(x).dataSync())).toEqual([0, 0, 0, 0, 1, 0, 0]);
  });

  it('cast converts between dtypes on any layout', () => {
    for (const lay of LAYOUTS) {
      const v = values(24, 3, true);
      const y = laidOut(v, [2, 3, 4], 'float64', lay).cast('float32');
      expect(y.dtype).toBe('float32');
      expectValues(y.dataSync(), v, 'float32', `cast ${lay}`);
    }
  });

  it.each(['js', 'wasm'] as const)('big flat operands (the wasm kernels) give the same values, on the %s path', (path) => {
    configureCpu({ wasm: path === 'wasm' });
    if (path === 'wasm') expect(cpuCapabilities().wasm).toBe(true);
    try {
      for (const dtype of ['float32', 'float64'] as const) {
        // odd lengths: the vector loop and its scalar tail; big operands (copied through scratch
        // when not in the heap) and small heap ones (in place, scalars through a slot)
        for (const n of [EW_WASM_MIN, EW_WASM_MIN + 3, EW_WASM_MIN_HEAP + 1, 263]) {
          const c = flatCase(n, dtype, [11, 12], path);
          const { a, b, ha, hb } = c;
          tidy(() => {
            checkFlatOps(c, 5);
            // rows: a bias row, a column, a window of wider rows (one kernel call per row)
            const R = n > 4096 ? 256 : 16;
            const C = Math.floor(n / R);
            const m = tensor(a.subarray(0, R * C), { shape: [R, C], dtype });
            const row = tensor(b.subarray(0, C), { shape: [C], dtype });
            const col = tensor(b.subarray(0, R), { shape: [R, 1], dtype });
            const rows = (y: Tensor, ref: (i: number, j: number) => number, what: string) =>
              expectValues(y.dataSync(), Float64Array.from({ length: R * C }, (_, o) => ref(Math.floor(o / C), o % C)), dtype, `${what} (${path})`);
            rows(m.add(row), (i, j) => ha[i * C + j]! + hb[j]!, 'bias row add');
            rows(m.sub(col), (i, j) => ha[i * C + j]! - hb[i]!, 'column sub');
            rows(row.mul(m), (i, j) => hb[j]! * ha[i * C + j]!, 'row mul');
            const win = tensor(a.subarray(0, R * C), { shape: [R, C], dtype }).slice([0, 1], [R, C]);
            expectValues(win.relu().dataSync(), Float64Array.from({ length: R * (C - 1) }, (_, o) => UNARY_REF.relu(ha[Math.floor(o / (C - 1)) * C + 1 + (o % (C - 1))]!)), dtype, `relu of a window (${path})`);
            const r = Array.from(tensor([-0, -Infinity, Number.NaN, 3, ...new Array(n).fill(-1)], { dtype }).relu().dataSync().slice(0, 4));
            expect(r.map((v) => (Object.is(v, -0) ? '-0' : v))).toEqual([0, 0, Number.NaN, 3]);
          });
        }
      }
    } finally {
      resetCpuConfig();
    }
  });
  it.each([false, true])('big flat operands shared out with worker threads give the same values (workers only: %s)', async (only) => {
    configureCpu({ wasm: true, threads: 2, workersOnly: only });
    try {
      expect(await warmCpu()).toBeGreaterThan(0);
      const before = cpuCapabilities().workerChunks;
      for (const dtype of ['float32', 'float64'] as const) {
        const n = EW_THREAD_MIN + 5; // chunks of 32k and a short last one
        tidy(() => checkFlatOps(flatCase(n, dtype, [31, 32], `threads, workers only: ${only}`), 7));
      }
      expect(cpuCapabilities().workerChunks).toBeGreaterThan(before);
    } finally {
      resetCpuConfig();
    }
  });
});
