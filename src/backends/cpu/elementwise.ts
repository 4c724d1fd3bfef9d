// Elementwise kernels from one template: each op is a JS expression over x (unary), a, b
// (binary) or c, a, b (where), compiled with new Function into loops specialized by how each
// operand is laid out, so the common cases run without index arithmetic:
//   flat:    every operand contiguous in the output's order, or a single value (hoisted);
//   grid:    after merging axes, two axes: a bias row or column broadcast, a transpose, a slice;
//   strided: anything else (any rank, stride 0 on broadcast axes), no copies.
// Each loop is specialized once per operand pattern: 0 = one value, 1 = unit stride, s = strided.
// Where eval is refused (codegen.ts) the same three loops run as closures over the op's function.
// Big operands go to the wasm SIMD kernels (add, sub, mul, div, relu, reluGrad), in place, with
// copies or over the worker threads, as policy.ts decides.
import type { BinaryOp, FusedOp, OutInfo, TypedArray, UnaryOp } from '../backend';
import { isRowMajor, sameShape } from '../view';
import { config } from './config';
import { compileLoop, evalRefused } from './codegen';
import { alloc, fresh, type CpuStorage, type CpuView as View } from './storage';
import { inHeap, scratch, SCALAR_SLOTS } from './heap';
import { ARG, ARG_WORDS, EW, KIND, nextJob } from './job';
import { elementwisePath, rowsPath, wasmPossible } from './policy';
import { dispatch, helpers, runShared } from './pool';
import { wasm, type EwFn, type Wasm } from './wasm';

/** Elementwise chunks for the threads: big enough that taking a ticket is noise, small enough to share out evenly. */
const EW_CHUNK = 1 << 15;

const jobArgs = new Int32Array(ARG_WORDS);

/**
 * The wasm kernel `name` (in w.ew) over n elements split between this thread and the ready
 * workers: out, a, b are byte addresses in the heap, stepA/stepB the bytes per element of a and
 * b (0 for a single value). False when no worker is ready (the caller runs it alone).
 */
function ewThreaded(w: Wasm, name: string, out: number, a: number, b: number, stepA: number, stepB: number, n: number, sz: number): boolean {
  const f = w.ew[name];
  const index = w.ewNames.indexOf(name);
  if (f === undefined || index < 0) return false;
  const chunks = Math.ceil(n / EW_CHUNK);
  const slots = helpers(w, chunks);
  if (slots.length === 0) return false;
  const args = jobArgs;
  args.fill(0);
  args[ARG.JOB] = nextJob();
  args[ARG.KIND] = KIND.ELEMENTWISE;
  args[ARG.CHUNKS] = chunks;
  args[ARG.BYTES] = sz;
  args[ARG.GO_WAIT_US] = Math.round(config.goWaitMs * 1000);
  args[EW.N] = n; args[EW.CHUNK] = EW_CHUNK; args[EW.KERNEL] = index;
  args[EW.OUT] = out; args[EW.A] = a; args[EW.B] = b; args[EW.STEP_A] = stepA; args[EW.STEP_B] = stepB;
  for (const slot of slots) dispatch(slot, args);
  runShared(w, f as unknown as (...x: number[]) => void, args, slots, name);
  return true;
}

/**
 * Run the wasm kernel `name` (ew_<op>_<t>[_<pattern>]) over n0 rows of n1 elements (n0 = 1: flat),
 * operand t's row i starting `outer[t]`·i elements after its offset, its elements `steps[t]`
 * (0 or 1) apart; the output row-major. Operands and output in the wasm heap are used in place;
 * others are copied (the span of their view) through scratch. False if it cannot run.
 */
function wasmRows(
  name: string, out: TypedArray, n0: number, n1: number, ops: View[], outer: number[], steps: Step[],
): boolean {
  const w = wasm();
  const f = w?.ew[name];
  if (!w || !f) return false;
  const sz = out.BYTES_PER_ELEMENT;
  const n = n0 * n1;
  const span = (t: number) => (n0 - 1) * outer[t]! + (n1 - 1) * steps[t]! + 1;
  const outIn = inHeap(out);
  let need = outIn ? 0 : (n * sz + 63) & ~63;
  for (let t = 0; t < ops.length; t++) if (!inHeap(ops[t]!.data)) need += (span(t) * sz + 63) & ~63;
  const base = need > 0 ? scratch(w, need) : 0;
  if (base < 0) return false;
  const mem = sz === 8 ? w.f64 : w.f32;
  let next = base;
  const addr = [0, 0];
  for (let t = 0; t < ops.length; t++) {
    const v = ops[t]!;
    if (inHeap(v.data)) addr[t] = v.data.byteOffset + v.offset * sz;
    else {
      addr[t] = next;
      mem.set(v.data.subarray(v.offset, v.offset + span(t)), next / sz);
      next += (span(t) * sz + 63) & ~63;
    }
  }
  const o = outIn ? out.byteOffset : next;
  const [a, b] = addr as [number, number];
  const [sa, sb] = [(outer[0] ?? 0) * sz, (outer[1] ?? 0) * sz];
  for (let i = 0, row = n1 * sz; i < n0; i++) f(o + i * row, a + i * sa, b + i * sb, n1);
  if (!outIn) out.set(mem.subarray(o / sz, o / sz + n));
  return true;
}

/**
 * The in-place wasm path for flat operands: the output and every whole-array operand already in
 * the heap (the policy checked it; scalars are written to a slot), one kernel call (or a job for
 * the threads), nothing copied.
 */
function wasmFlat(
  { f, name }: { f: EwFn; name: string }, w: Wasm, out: TypedArray, n: number, a: View, sa: Step, b: View | undefined, sb: Step,
  threaded: boolean,
): void {
  const sz = out.BYTES_PER_ELEMENT;
  const at = (v: View, s: Step, slot: number): number => {
    if (s === 1) return v.data.byteOffset + v.offset * sz;
    if (sz === 8) w.f64[slot / 8] = v.data[v.offset]!;
    else w.f32[slot / 4] = v.data[v.offset]!;
    return slot;
  };
  const pa = at(a, sa, SCALAR_SLOTS[0]);
  const pb = b === undefined ? 0 : at(b, sb, SCALAR_SLOTS[1]);
  // big ones are shared out with the worker threads (memory-bound: two cores move more bytes than one)
  if (threaded && ewThreaded(w, name, out.byteOffset, pa, pb, sa === 1 ? sz : 0, sb === 1 ? sz : 0, n, sz)) return;
  f(out.byteOffset, pa, pb, n);
}

/** The wasm kernel's name for `op` on these operand steps (1: a whole row, 0: one value). */
function wasmName(op: string, dtype: string, k: number, steps: Step[]): string {
  const t = dtype === 'float64' ? 'f64' : 'f32';
  return k === 1 ? `ew_${op}_${t}` : `ew_${op}_${t}_${steps[0] ? 'v' : 's'}${steps[1] ? 'v' : 's'}`;
}

/**
 * An op twice, side by side: the expression the generated loops inline (over x, or a and b, or
 * c, a and b; it may use one scratch variable, t) and the same function for the plain loops
 * that run where eval is refused. test/cpu/elementwise.test.ts checks both against a reference.
 */
export interface JsOp {
  expr: string;
  fn: (...v: number[]) => number;
}

const op = (expr: string, fn: (...v: number[]) => number): JsOp => ({ expr, fn });

export const UNARY_JS: Record<UnaryOp | 'copy', JsOp> = {
  copy: op('x', (x) => x),
  neg: op('-x', (x) => -x),
  exp: op('Math.exp(x)', Math.exp),
  log: op('Math.log(x)', Math.log),
  log1p: op('Math.log1p(x)', Math.log1p),
  sqrt: op('Math.sqrt(x)', Math.sqrt),
  abs: op('Math.abs(x)', Math.abs),
  sign: op('(x > 0 ? 1 : x < 0 ? -1 : x)', (x) => (x > 0 ? 1 : x < 0 ? -1 : x)),
  // branch-free for the common case (a ternary on the sign mispredicts half the time on real
  // activations); the rare NaN result (x = -∞, or NaN) is sorted out by a predictable branch
  relu: op('((t = x * +(x > 0) + 0) === t ? t : x === x ? 0 : x)', (x) => {
    const t = x * +(x > 0) + 0;
    return t === t ? t : x === x ? 0 : x;
  }),
  sigmoid: op('1 / (1 + Math.exp(-x))', (x) => 1 / (1 + Math.exp(-x))),
  tanh: op('Math.tanh(x)', Math.tanh),
  sin: op('Math.sin(x)', Math.sin),
  cos: op('Math.cos(x)', Math.cos),
};

export const BINARY_JS: Record<BinaryOp | Extract<FusedOp, 'reluGrad'>, JsOp> = {
  add: op('a + b', (a, b) => a + b),
  sub: op('a - b', (a, b) => a - b),
  mul: op('a * b', (a, b) => a * b),
  div: op('a / b', (a, b) => a / b),
  // IEEE 754 pow (C's): Math.pow differs only in giving NaN for 1^NaN and (±1)^±inf, which are 1
  pow: op(
    '(a === 1 || (a === -1 && (b === Infinity || b === -Infinity)) ? 1 : Math.pow(a, b))',
    (a, b) => (a === 1 || (a === -1 && (b === Infinity || b === -Infinity)) ? 1 : Math.pow(a, b)),
  ),
  // NaN wins, as in Math.max
  maximum: op('(a > b || a !== a ? a : b)', (a, b) => (a > b || a !== a ? a : b)),
  minimum: op('(a < b || a !== a ? a : b)', (a, b) => (a < b || a !== a ? a : b)),
  // +bool is branch-free (a ternary is not, and mispredicts on random signs)
  eq: op('+(a === b)', (a, b) => +(a === b)),
  ne: op('+(a !== b)', (a, b) => +(a !== b)),
  lt: op('+(a < b)', (a, b) => +(a < b)),
  le: op('+(a <= b)', (a, b) => +(a <= b)),
  gt: op('+(a > b)', (a, b) => +(a > b)),
  ge: op('+(a >= b)', (a, b) => +(a >= b)),
  reluGrad: op('(b > 0 ? a : 0)', (a, b) => (b > 0 ? a : 0)),
};

export const WHERE_JS = op('(c !== 0 ? a : b)', (c, a, b) => (c !== 0 ? a : b));

/**
 * int32 versions where the float expression would be wrong: a product of two int32s can exceed
 * 2⁵³, so a * b loses low bits before the store wraps it; Math.imul wraps exactly (as C, PyTorch).
 * The rest are exact in float64 and wrap modulo 2³² when stored into the Int32Array.
 */
export const INT_JS: Partial<Record<BinaryOp, JsOp>> = { mul: op('Math.imul(a, b)', (a, b) => Math.imul(a!, b!)) };

/** float → int32: toward zero, saturating at the ends of the range, NaN → 0 (as WGSL's i32()). */
export const TO_INT_JS = op(
  '(x !== x ? 0 : x >= 2147483647 ? 2147483647 : x <= -2147483648 ? -2147483648 : Math.trunc(x))',
  (x) => (x !== x ? 0 : x! >= 2147483647 ? 2147483647 : x! <= -2147483648 ? -2147483648 : Math.trunc(x!)),
);

// Expressions may use one scratch variable, t, declared by every loop.

/** How an operand's innermost index moves: 0 = not at all (one value), 1 = unit stride, 2 = any stride. */
type Step = 0 | 1 | 2;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loop = (...args: any[]) => void;

/** flat(out, n, ...[D, O, S] per operand): out[i] = expr for i < n. */
function flatSource(names: string[], expr: string, steps: Step[]): string {
  const hoist = names.filter((_, k) => steps[k] === 0).map((v) => `const ${v} = ${v}D[${v}O];`);
  const load = names.flatMap((v, k) =>
    steps[k] === 1 ? [`const ${v} = ${v}D[${v}O + i];`] : steps[k] === 2 ? [`const ${v} = ${v}D[${v}O + i * ${v}S];`] : [],
  );
  return `let t = 0; ${hoist.join(' ')} for (let i = 0; i < n; i++) { ${load.join(' ')} out[i] = ${expr}; }`;
}

/** grid(out, n0, n1, ...[D, O, S0, S1] per operand): two nested axes, the output row-major. */
function gridSource(names: string[], expr: string, steps: Step[]): string {
  const rowStart = names.map((v) => `const ${v}P = ${v}O + i * ${v}S0;`);
  const hoist = names.filter((_, k) => steps[k] === 0).map((v) => `const ${v} = ${v}D[${v}P];`);
  const load = names.flatMap((v, k) =>
    steps[k] === 1 ? [`const ${v} = ${v}D[${v}P + j];`] : steps[k] === 2 ? [`const ${v} = ${v}D[${v}P + j * ${v}S1];`] : [],
  );
  return `let o = 0, t = 0;
    for (let i = 0; i < n0; i++) {
      ${rowStart.join(' ')} ${hoist.join(' ')}
      for (let j = 0; j < n1; j++) { ${load.join(' ')} out[o++] = ${expr}; }
    }`;
}

/** strided(out, shape, ...[D, O, strides] per operand): any rank. */
function stridedSource(names: string[], expr: string): string {
  return `
    const r = shape.length, last = shape[r - 1], idx = new Int32Array(r);
    let n = 1; for (let d = 0; d < r; d++) n *= shape[d];
    if (n === 0) return;
    ${names.map((v) => `let ${v}P = ${v}O; const ${v}I = ${v}St[r - 1];`).join(' ')}
    let o = 0, t = 0;
    for (let k = 0, outer = n / last; k < outer; k++) {
      for (let j = 0; j < last; j++) {
        ${names.map((v) => `const ${v} = ${v}D[${v}P + j * ${v}I];`).join(' ')}
        out[o++] = ${expr};
      }
      for (let d = r - 2; d >= 0; d--) {
        idx[d]++;
        ${names.map((v) => `${v}P += ${v}St[d];`).join(' ')}
        if (idx[d] < shape[d]) break;
        ${names.map((v) => `${v}P -= ${v}St[d] * shape[d];`).join(' ')}
        idx[d] = 0;
      }
    }`;
}

type Fn = (...v: number[]) => number;
type Data = ArrayLike<number>;

/**
 * The three loops as closures over the op's function, for where eval is refused: the generated
 * loops' signatures, reading each operand at its stride as given (0 for a single value). Made
 * once per kernel, so each closure's call of `fn` sees one function (V8 keeps type feedback per
 * closure and can inline it).
 */
function plainLoops(k: number, fn: Fn): { flat: Loop; grid: Loop; strided: Loop } {
  const v = (D: Data[], P: number[], j: number, S: number[]) =>
    k === 1 ? fn(D[0]![P[0]! + j * S[0]!]!)
      : k === 2 ? fn(D[0]![P[0]! + j * S[0]!]!, D[1]![P[1]! + j * S[1]!]!)
        : fn(D[0]![P[0]! + j * S[0]!]!, D[1]![P[1]! + j * S[1]!]!, D[2]![P[2]! + j * S[2]!]!);
  // the operands' (D, O, S...) groups of `per` arguments after the loop's own `lead` ones
  const split = (args: unknown[], lead: number, per: number) => {
    const D: Data[] = [];
    const O: number[] = [];
    const rest: unknown[][] = [];
    for (let t = 0; t < k; t++) {
      const at = lead + t * per;
      D.push(args[at] as Data);
      O.push(args[at + 1] as number);
      rest.push(args.slice(at + 2, at + per));
    }
    return { D, O, rest };
  };
  const flat: Loop = (...args: unknown[]) => {
    const out = args[0] as TypedArray;
    const n = args[1] as number;
    if (k === 1) {
      const [, , aD, aO, aS] = args as [unknown, unknown, Data, number, number];
      for (let i = 0, p = aO; i < n; i++, p += aS) out[i] = fn(aD[p]!);
      return;
    }
    if (k === 2) {
      const [, , aD, aO, aS, bD, bO, bS] = args as [unknown, unknown, Data, number, number, Data, number, number];
      for (let i = 0, p = aO, q = bO; i < n; i++, p += aS, q += bS) out[i] = fn(aD[p]!, bD[q]!);
      return;
    }
    const { D, O, rest } = split(args, 2, 3);
    const S = rest.map((r) => r[0] as number);
    for (let i = 0; i < n; i++) out[i] = v(D, O, i, S);
  };
  const grid: Loop = (...args: unknown[]) => {
    const out = args[0] as TypedArray;
    const [n0, n1] = [args[1] as number, args[2] as number];
    const { D, O, rest } = split(args, 3, 4);
    const S0 = rest.map((r) => r[0] as number);
    const S1 = rest.map((r) => r[1] as number);
    const P = O.slice();
    for (let i = 0, o = 0; i < n0; i++) {
      for (let t = 0; t < k; t++) P[t] = O[t]! + i * S0[t]!;
      for (let j = 0; j < n1; j++) out[o++] = v(D, P, j, S1);
    }
  };
  const strided: Loop = (...args: unknown[]) => {
    const out = args[0] as TypedArray;
    const shape = args[1] as number[];
    const { D, O, rest } = split(args, 2, 3);
    const St = rest.map((r) => r[0] as number[]);
    const r = shape.length;
    let n = 1;
    for (let d = 0; d < r; d++) n *= shape[d]!;
    if (n === 0) return;
    const last = shape[r - 1]!;
    const idx = new Int32Array(r);
    const P = O.slice();
    const I = St.map((s) => s[r - 1]!);
    for (let q = 0, o = 0, outer = n / last; q < outer; q++) {
      for (let j = 0; j < last; j++) out[o++] = v(D, P, j, I);
      for (let d = r - 2; d >= 0; d--) {
        idx[d]!++;
        for (let t = 0; t < k; t++) P[t]! += St[t]![d]!;
        if (idx[d]! < shape[d]!) break;
        for (let t = 0; t < k; t++) P[t]! -= St[t]![d]! * shape[d]!;
        idx[d] = 0;
      }
    }
  };
  return { flat, grid, strided };
}

const stepOf = (stride: number, size: number): Step => (size === 1 || stride === 0 ? 0 : stride === 1 ? 1 : 2);

// scratch for the merged layout (one op runs at a time)
const MAX_ARITY = 3;
const mShape: number[] = [];
const mStrides: number[][] = Array.from({ length: MAX_ARITY }, () => []);

/**
 * The operands' strides broadcast to `shape` with size-1 axes dropped and adjacent axes merged
 * wherever every operand allows it (the output is row-major, so it always does). Fills mShape
 * and mStrides; returns the merged rank.
 */
function merge(inputs: CpuStorage[], shape: readonly number[]): number {
  const k = inputs.length;
  const r = shape.length;
  let rank = 0;
  for (let d = 0; d < r; d++) {
    const size = shape[d]!;
    if (size === 1) continue;
    // stride of each operand on out axis d
    let mergeable = rank > 0;
    for (let t = 0; t < k; t++) {
      const arr = inputs[t]!.view;
      const j = d - (r - arr.shape.length);
      const st = j < 0 || arr.shape[j] === 1 ? 0 : arr.strides[j]!;
      mStrides[t]![rank] = st;
      if (mergeable && mStrides[t]![rank - 1] !== st * size) mergeable = false;
    }
    if (mergeable) {
      mShape[rank - 1]! *= size;
      for (let t = 0; t < k; t++) mStrides[t]![rank - 1] = mStrides[t]![rank]!;
    } else {
      mShape[rank] = size;
      rank++;
    }
  }
  return rank;
}

export type ElementwiseKernel = (inputs: CpuStorage[], out: OutInfo) => CpuStorage;

/**
 * An elementwise kernel for `op` over the named operands (1 to 3), on broadcast inputs of any
 * layout. `wasmOp` names the op's wasm kernel family (add, sub, mul, div, relu, relugrad).
 */
export function elementwise(names: string[], op: JsOp, floatWasmOp?: string): ElementwiseKernel {
  const k = names.length;
  const expr = op.expr;
  const flatArgs = ['out', 'n', ...names.flatMap((v) => [`${v}D`, `${v}O`, `${v}S`])];
  const gridArgs = ['out', 'n0', 'n1', ...names.flatMap((v) => [`${v}D`, `${v}O`, `${v}S0`, `${v}S1`])];
  const stridedArgs = ['out', 'shape', ...names.flatMap((v) => [`${v}D`, `${v}O`, `${v}St`])];
  // one generated loop per pattern of steps (3^k of them at most), compiled on first use; the
  // plain loops where eval is refused
  const flats: Loop[] = [];
  const grids: Loop[] = [];
  let strided: Loop | undefined;
  let plain: ReturnType<typeof plainLoops> | undefined;
  const code = (steps: Step[]) => {
    let c = 0;
    for (let t = 0; t < k; t++) c = c * 3 + steps[t]!;
    return c;
  };
  const steps: Step[] = new Array<Step>(k).fill(0);
  // the wasm kernel per dtype and step pattern, with its name (the worker threads find it by name);
  // undefined: not looked up yet, null: none
  const wasmKernels: ({ f: EwFn; name: string } | null | undefined)[] = [];
  const wasmFor = (w: Wasm, dtype: string): { f: EwFn; name: string } | null => {
    const key = code(steps) * 2 + (dtype === 'float64' ? 1 : 0);
    let entry = wasmKernels[key];
    if (entry === undefined) {
      const name = wasmName(floatWasmOp!, dtype, k, steps);
      const f = w.ew[name];
      entry = wasmKernels[key] = f === undefined ? null : { f, name };
    }
    return entry;
  };
  const plainFor = () => (plain ??= plainLoops(k, op.fn));
  const flatFor = (): Loop => {
    if (evalRefused()) return plainFor().flat;
    const c = code(steps);
    return (flats[c] ??= compileLoop<Loop>(flatArgs, flatSource(names, expr, steps)) ?? plainFor().flat);
  };
  const gridFor = (): Loop => {
    if (evalRefused()) return plainFor().grid;
    const c = code(steps);
    return (grids[c] ??= compileLoop<Loop>(gridArgs, gridSource(names, expr, steps)) ?? plainFor().grid);
  };
  const stridedFor = (): Loop => {
    if (evalRefused()) return plainFor().strided;
    return (strided ??= compileLoop<Loop>(stridedArgs, stridedSource(names, expr)) ?? plainFor().strided);
  };
  // the wasm kernel family for this call: none for int32 data (set per call below)
  let wasmOp: string | undefined = floatWasmOp;
  // a wasm kernel can serve one or two operands, not all of them single values
  const wasmShape = () => wasmOp !== undefined && k < 3 && (k === 1 || steps[0]! + steps[1]! > 0);
  // the output and the operands that are not single values are in the heap
  const allInHeap = (out: TypedArray, a0: View, a1: View | undefined) =>
    inHeap(out) && (a0.size === 1 || inHeap(a0.data)) && (a1 === undefined || a1.size === 1 || inHeap(a1.data));

  return (inputs, out) => {
    // the wasm kernels are float kernels: int32 operands always take the JS loops
    wasmOp = out.dtype === 'int32' || inputs[0]!.view.data instanceof Int32Array ? undefined : floatWasmOp;
    const shape = out.shape;
    let n = 1;
    for (let d = 0; d < shape.length; d++) n *= shape[d]!;
    const data = alloc(out.dtype, n);
    const res = fresh(data, shape);
    if (n === 0) return res;
    const a0 = inputs[0]!.view;
    const a1: View | undefined = inputs[1]?.view;
    const a2: View | undefined = inputs[2]?.view;

    // flat: each operand is one value or laid out exactly like the output
    let flat = true;
    for (let t = 0; t < k; t++) {
      const arr = inputs[t]!.view;
      if (arr.size === 1) steps[t] = 0;
      else if (arr.size === n && sameShape(arr.shape, shape) && isRowMajor(arr)) steps[t] = 1;
      else {
        flat = false;
        break;
      }
    }
    if (flat) {
      const w = wasmShape() && wasmPossible('elementwise', n) ? wasm() : null;
      const kernel = w === null ? null : wasmFor(w, out.dtype);
      const path = kernel === null ? 'js'
        : elementwisePath(n, allInHeap(data, a0, a1), Math.ceil(n / EW_CHUNK));
      if (path === 'wasm' || path === 'threaded') {
        wasmFlat(kernel!, w!, data, n, a0, steps[0]!, a1, steps[1]!, path === 'threaded');
        return res;
      } else if (path === 'wasm-copy') {
        if (wasmRows(kernel!.name, data, 1, n, k === 1 ? [a0] : [a0, a1!], [0, 0], steps)) return res;
      }
      // the strides as the plain loops read them (the generated ones know them from the pattern)
      const f = flatFor();
      if (k === 1) f(data, n, a0.data, a0.offset, steps[0]);
      else if (k === 2) f(data, n, a0.data, a0.offset, steps[0], a1!.data, a1!.offset, steps[1]);
      else f(data, n, a0.data, a0.offset, steps[0], a1!.data, a1!.offset, steps[1], a2!.data, a2!.offset, steps[2]);
      return res;
    }

    const rank = merge(inputs, shape);
    const s0 = mStrides[0]!;
    const s1 = mStrides[1]!;
    const s2 = mStrides[2]!;
    if (rank <= 1) {
      // one axis after merging (a strided run, or broadcast of a single value)
      for (let t = 0; t < k; t++) steps[t] = rank === 0 ? 0 : stepOf(mStrides[t]![0]!, n);
      const f = flatFor();
      const st = (t: number) => (rank === 0 ? 0 : mStrides[t]![0]!);
      if (k === 1) f(data, n, a0.data, a0.offset, st(0));
      else if (k === 2) f(data, n, a0.data, a0.offset, st(0), a1!.data, a1!.offset, st(1));
      else f(data, n, a0.data, a0.offset, st(0), a1!.data, a1!.offset, st(1), a2!.data, a2!.offset, st(2));
      return res;
    }
    if (rank === 2) {
      const [n0, n1] = mShape as [number, number];
      for (let t = 0; t < k; t++) steps[t] = stepOf(mStrides[t]![1]!, n1);
      // rows of a bias add (or a column broadcast) in wasm: one kernel call per row
      const rowsOk = k === 1 ? steps[0] === 1 : steps[0] !== 2 && steps[1] !== 2 && steps[0]! + steps[1]! > 0;
      const w = rowsOk && wasmShape() && wasmPossible('rows', n) ? wasm() : null;
      const kernel = w === null ? null : wasmFor(w, out.dtype);
      const path = kernel === null ? 'js' : rowsPath(n, n1, allInHeap(data, a0, a1));
      if (path !== 'js' && wasmRows(kernel!.name, data, n0, n1, k === 1 ? [a0] : [a0, a1!], [s0[0]!, s1[0] ?? 0], steps)) return res;
      const f = gridFor();
      if (k === 1) f(data, n0, n1, a0.data, a0.offset, s0[0], s0[1]);
      else if (k === 2) f(data, n0, n1, a0.data, a0.offset, s0[0], s0[1], a1!.data, a1!.offset, s1[0], s1[1]);
      else f(data, n0, n1, a0.data, a0.offset, s0[0], s0[1], a1!.data, a1!.offset, s1[0], s1[1], a2!.data, a2!.offset, s2[0], s2[1]);
      return res;
    }
    const sh = mShape.slice(0, rank);
    const args: unknown[] = [];
    for (let t = 0; t < k; t++) args.push(inputs[t]!.view.data, inputs[t]!.view.offset, mStrides[t]!.slice(0, rank));
    stridedFor()(data, sh, ...args);
    return res;
  };
}
