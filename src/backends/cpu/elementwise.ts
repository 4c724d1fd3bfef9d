// Elementwise kernels from one template: each op is a JS expression over x (unary), a, b
// (binary) or c, a, b (where), compiled with new Function into loops specialized by how each
// operand is laid out, so the common cases run without index arithmetic:
//   flat:    every operand contiguous in the output's order, or a single value (hoisted);
//   grid:    after merging axes, two axes: a bias row or column broadcast, a transpose, a slice;
//   strided: anything else (any rank, stride 0 on broadcast axes), no copies.
// Each loop is specialized once per operand pattern: 0 = one value, 1 = unit stride, s = strided.
import type { BinaryOp, FusedOp, OutInfo, TypedArray, UnaryOp } from '../backend';
import { isRowMajor, sameShape } from '../view';
import { config } from './config';
import { alloc, fresh, type CpuStorage, type CpuView as View } from './storage';
import { inHeap, scratch, SCALAR_SLOTS } from './heap';
import { wasm, type EwFn, type Wasm } from './wasm';
import { ewThreaded } from './gemm';

/**
 * Flat operands of at least this many elements go through the wasm SIMD kernels (where the op
 * has one): copying in and out is a memcpy, and the JS loop slows to ~2 ns per element once the
 * operands leave L2 (measured: 200k float32 subtract 474 µs in JS, 134 µs in wasm with the
 * copies; at 32k they tie).
 */
export const EW_WASM_MIN = 1 << 16;
/** Flat operands of at least this many elements in the heap are shared out with the worker threads. */
export const EW_THREAD_MIN = 1 << 18;

/** Flat operands already in the wasm heap (no copies) take the wasm kernels from this many elements. */
export const EW_WASM_MIN_HEAP = 64;

/** Whether a wasm kernel pays for these operands: big ones, or ones it can use in place (scalars are copied). */
function wasmPays(n: number, out: TypedArray, ops: (View | undefined)[]): boolean {
  if (n >= EW_WASM_MIN) return true;
  if (n < EW_WASM_MIN_HEAP || !inHeap(out)) return false;
  for (const v of ops) if (v !== undefined && v.size > 1 && !inHeap(v.data)) return false;
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
 * the heap (scalars are written to a slot), one kernel call, nothing copied. False if it cannot run.
 */
function wasmFlat({ f, name }: { f: EwFn; name: string }, w: Wasm, out: TypedArray, n: number, a: View, sa: Step, b: View | undefined, sb: Step): boolean {
  const sz = out.BYTES_PER_ELEMENT;
  const at = (v: View, s: Step, slot: number): number => {
    if (s === 1) return inHeap(v.data) ? v.data.byteOffset + v.offset * sz : -1;
    if (sz === 8) w.f64[slot / 8] = v.data[v.offset]!;
    else w.f32[slot / 4] = v.data[v.offset]!;
    return slot;
  };
  const pa = at(a, sa, SCALAR_SLOTS[0]);
  const pb = b === undefined ? 0 : at(b, sb, SCALAR_SLOTS[1]);
  if (pa < 0 || pb < 0) return false;
  // big ones are shared out with the worker threads (memory-bound: two cores move more bytes than one)
  if (n >= EW_THREAD_MIN && ewThreaded(w, name, out.byteOffset, pa, pb, sa === 1 ? sz : 0, sb === 1 ? sz : 0, n, sz)) return true;
  f(out.byteOffset, pa, pb, n);
  return true;
}

/** The wasm kernel's name for `op` on these operand steps (1: a whole row, 0: one value). */
function wasmName(op: string, dtype: string, k: number, steps: Step[]): string {
  const t = dtype === 'float64' ? 'f64' : 'f32';
  return k === 1 ? `ew_${op}_${t}` : `ew_${op}_${t}_${steps[0] ? 'v' : 's'}${steps[1] ? 'v' : 's'}`;
}

export const UNARY_JS: Record<UnaryOp | 'copy', string> = {
  copy: 'x',
  neg: '-x',
  exp: 'Math.exp(x)',
  log: 'Math.log(x)',
  log1p: 'Math.log1p(x)',
  sqrt: 'Math.sqrt(x)',
  abs: 'Math.abs(x)',
  sign: '(x > 0 ? 1 : x < 0 ? -1 : x)',
  // branch-free for the common case (a ternary on the sign mispredicts half the time on real
  // activations); the rare NaN result (x = -∞, or NaN) is sorted out by a predictable branch
  relu: '((t = x * +(x > 0) + 0) === t ? t : x === x ? 0 : x)',
  sigmoid: '1 / (1 + Math.exp(-x))',
  tanh: 'Math.tanh(x)',
  sin: 'Math.sin(x)',
  cos: 'Math.cos(x)',
};

export const BINARY_JS: Record<BinaryOp | Extract<FusedOp, 'reluGrad'>, string> = {
  add: 'a + b',
  sub: 'a - b',
  mul: 'a * b',
  div: 'a / b',
  // IEEE 754 pow (C's): Math.pow differs only in giving NaN for 1^NaN and (±1)^±inf, which are 1
  pow: '(a === 1 || (a === -1 && (b === Infinity || b === -Infinity)) ? 1 : Math.pow(a, b))',
  // NaN wins, as in Math.max
  maximum: '(a > b || a !== a ? a : b)',
  minimum: '(a < b || a !== a ? a : b)',
  // +bool is branch-free (a ternary is not, and mispredicts on random signs)
  eq: '+(a === b)',
  ne: '+(a !== b)',
  lt: '+(a < b)',
  le: '+(a <= b)',
  gt: '+(a > b)',
  ge: '+(a >= b)',
  reluGrad: '(b > 0 ? a : 0)',
};

export const WHERE_JS = '(c !== 0 ? a : b)';

/**
 * int32 versions where the float expression would be wrong: a product of two int32s can exceed
 * 2⁵³, so a * b loses low bits before the store wraps it; Math.imul wraps exactly (as C, PyTorch).
 * The rest are exact in float64 and wrap modulo 2³² when stored into the Int32Array.
 */
export const INT_JS: Partial<Record<BinaryOp, string>> = { mul: 'Math.imul(a, b)' };

/** float → int32: toward zero, saturating at the ends of the range, NaN → 0 (as WGSL's i32()). */
export const TO_INT_JS = '(x !== x ? 0 : x >= 2147483647 ? 2147483647 : x <= -2147483648 ? -2147483648 : Math.trunc(x))';

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
 * Compile `expr` over the named operands (1 to 3) into a kernel over broadcast inputs. `wasmOp`
 * names the op's wasm kernel family (add, sub, mul, div, relu) for big flat operands.
 */
export function elementwise(names: string[], expr: string, floatWasmOp?: string): ElementwiseKernel {
  const k = names.length;
  const flatArgs = names.flatMap((v) => [`${v}D`, `${v}O`, `${v}S`]);
  const gridArgs = names.flatMap((v) => [`${v}D`, `${v}O`, `${v}S0`, `${v}S1`]);
  // one loop per pattern of steps (3^k of them at most), compiled on first use
  const flats: Loop[] = [];
  const grids: Loop[] = [];
  let strided: Loop | undefined;
  const code = (steps: Step[]) => steps.reduce<number>((c, s) => c * 3 + s, 0);
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
  const flatFor = (): Loop => (flats[code(steps)] ??= new Function('out', 'n', ...flatArgs, flatSource(names, expr, steps)) as Loop);
  const gridFor = (): Loop => (grids[code(steps)] ??= new Function('out', 'n0', 'n1', ...gridArgs, gridSource(names, expr, steps)) as Loop);

  return (inputs, out) => {
    // the wasm kernels are float kernels: int32 operands always take the JS loops
    const wasmOp = out.dtype === 'int32' || inputs[0]!.view.data instanceof Int32Array ? undefined : floatWasmOp;
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
      if (wasmOp !== undefined && n >= EW_WASM_MIN_HEAP && config.wasm && k < 3 && (k === 1 || steps[0]! + steps[1]! > 0) && inHeap(data)) {
        const w = wasm();
        const kernel = w === null ? null : wasmFor(w, out.dtype);
        if (kernel !== null && wasmFlat(kernel, w!, data, n, a0, steps[0]!, a1, steps[1]!)) return res;
      }
      if (wasmOp !== undefined && config.wasm && (k === 1 || steps[0]! + steps[1]! > 0) && wasmPays(n, data, [a0, a1])) {
        const ops = k === 1 ? [a0] : [a0, a1!];
        if (wasmRows(wasmName(wasmOp, out.dtype, k, steps), data, 1, n, ops, [0, 0], steps)) return res;
      }
      const f = flatFor();
      if (k === 1) f(data, n, a0.data, a0.offset, 1);
      else if (k === 2) f(data, n, a0.data, a0.offset, 1, a1!.data, a1!.offset, 1);
      else f(data, n, a0.data, a0.offset, 1, a1!.data, a1!.offset, 1, a2!.data, a2!.offset, 1);
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
      if (wasmOp !== undefined && n1 >= 64 && config.wasm && rowsOk && wasmPays(n, data, [a0, a1])) {
        const ops = k === 1 ? [a0] : [a0, a1!];
        if (wasmRows(wasmName(wasmOp, out.dtype, k, steps), data, n0, n1, ops, [s0[0]!, s1[0] ?? 0], steps)) return res;
      }
      const f = gridFor();
      if (k === 1) f(data, n0, n1, a0.data, a0.offset, s0[0], s0[1]);
      else if (k === 2) f(data, n0, n1, a0.data, a0.offset, s0[0], s0[1], a1!.data, a1!.offset, s1[0], s1[1]);
      else f(data, n0, n1, a0.data, a0.offset, s0[0], s0[1], a1!.data, a1!.offset, s1[0], s1[1], a2!.data, a2!.offset, s2[0], s2[1]);
      return res;
    }
    strided ??= new Function('out', 'shape', ...names.flatMap((v) => [`${v}D`, `${v}O`, `${v}St`]), stridedSource(names, expr)) as Loop;
    const sh = mShape.slice(0, rank);
    const args: unknown[] = [];
    for (let t = 0; t < k; t++) args.push(inputs[t]!.view.data, inputs[t]!.view.offset, mStrides[t]!.slice(0, rank));
    strided(data, sh, ...args);
    return res;
  };
}
