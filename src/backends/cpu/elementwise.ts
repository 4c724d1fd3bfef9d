// Elementwise kernels from one template: each op is a JS expression over x (unary), a, b
// (binary) or c, a, b (where). The template is compiled once per op into two loops: a flat one
// (contiguous or scalar operands) and a strided one (views and broadcasting, no copies).
import type { BinaryOp, UnaryOp } from '../backend';
import { alloc, fresh, isRowMajor, type CpuStorage } from './storage';
import type { OutInfo } from '../backend';

export const UNARY_JS: Record<UnaryOp | 'copy', string> = {
  copy: 'x',
  neg: '-x',
  exp: 'Math.exp(x)',
  log: 'Math.log(x)',
  sqrt: 'Math.sqrt(x)',
  abs: 'Math.abs(x)',
  sign: '(x > 0 ? 1 : x < 0 ? -1 : x)',
  relu: '(x > 0 || x !== x ? x : 0)',
  sigmoid: '1 / (1 + Math.exp(-x))',
  tanh: 'Math.tanh(x)',
  sin: 'Math.sin(x)',
  cos: 'Math.cos(x)',
};

export const BINARY_JS: Record<BinaryOp, string> = {
  add: 'a + b',
  sub: 'a - b',
  mul: 'a * b',
  div: 'a / b',
  pow: 'Math.pow(a, b)',
  // NaN wins, as in Math.max
  maximum: '(a > b || a !== a ? a : b)',
  minimum: '(a < b || a !== a ? a : b)',
  eq: '(a === b ? 1 : 0)',
  ne: '(a !== b ? 1 : 0)',
  lt: '(a < b ? 1 : 0)',
  le: '(a <= b ? 1 : 0)',
  gt: '(a > b ? 1 : 0)',
  ge: '(a >= b ? 1 : 0)',
};

export const WHERE_JS = '(c !== 0 ? a : b)';

type Flat = (out: ArrayLike<number> & { [i: number]: number }, n: number, ...operands: unknown[]) => void;
type Strided = (out: { [i: number]: number }, shape: number[], ...operands: unknown[]) => void;

interface Compiled {
  flat: Flat;
  strided: Strided;
}

const cache = new Map<string, Compiled>();

/** Compile `expr` over the named operands into the two loops. */
function compile(names: string[], expr: string): Compiled {
  const key = `${names.join(',')}:${expr}`;
  const hit = cache.get(key);
  if (hit) return hit;
  // flat: operand k is (data, offset, step) with step 1 (contiguous) or 0 (a scalar)
  const fArgs = names.flatMap((v) => [`${v}D`, `${v}O`, `${v}S`]);
  const fLoad = names.map((v) => `const ${v} = ${v}D[${v}O + i * ${v}S];`).join(' ');
  const flat = new Function('out', 'n', ...fArgs, `for (let i = 0; i < n; i++) { ${fLoad} out[i] = ${expr}; }`) as Flat;
  // strided: operand k is (data, offset, strides[]) with stride 0 on broadcast axes
  const sArgs = names.flatMap((v) => [`${v}D`, `${v}O`, `${v}St`]);
  const body = `
    const r = shape.length, last = shape[r - 1], idx = new Int32Array(r);
    let n = 1; for (let d = 0; d < r; d++) n *= shape[d];
    if (n === 0) return;
    ${names.map((v) => `let ${v}P = ${v}O; const ${v}I = ${v}St[r - 1];`).join(' ')}
    let o = 0;
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
  const strided = new Function('out', 'shape', ...sArgs, body) as Strided;
  const c = { flat, strided };
  cache.set(key, c);
  return c;
}

/** Strides that read `s` as if broadcast to `shape` (0 on stretched and missing axes). */
function broadcastStrides(s: CpuStorage, shape: readonly number[]): number[] {
  const { arr } = s;
  const off = shape.length - arr.shape.length;
  return shape.map((d, i) => {
    const j = i - off;
    if (j < 0 || (arr.shape[j] === 1 && d !== 1)) return 0;
    return arr.stride[j]!;
  });
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Run `expr` over inputs broadcast to out.shape into a fresh buffer. */
export function elementwise(names: string[], expr: string, inputs: CpuStorage[], out: OutInfo): CpuStorage {
  const { flat, strided } = compile(names, expr);
  let n = 1;
  for (const d of out.shape) n *= d;
  const data = alloc(out.dtype, n);
  const flatOk = inputs.every((s) => s.arr.size === 1 || (sameShape(s.arr.shape, out.shape) && isRowMajor(s.arr)));
  if (flatOk) {
    const args = inputs.flatMap((s) => [s.arr.data, s.arr.offset, s.arr.size === 1 && n !== 1 ? 0 : 1]);
    flat(data, n, ...args);
  } else {
    const shape = out.shape.length ? out.shape : [1];
    const args = inputs.flatMap((s) => [s.arr.data, s.arr.offset, out.shape.length ? broadcastStrides(s, out.shape) : [0]]);
    strided(data, shape, ...args);
  }
  return fresh(data, out.shape);
}
