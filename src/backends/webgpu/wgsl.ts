// WGSL sources. Shapes, strides and offsets never appear in a shader: they travel in a small
// read-only storage buffer (`meta`, u32s), so one pipeline serves every shape of an op.
// Every kernel binds at most 5 storage buffers (the browser allows 10 per stage).
import type { BinaryOp, ReduceOp, UnaryOp } from '../backend';

export const WORKGROUP = 256;

// WGSL rejects a constant expression that is infinite or NaN, so these are made at run time from
// their bits (a `var` is not a constant expression).
const SPECIALS = /* wgsl */ `
fn f32Bits(bits: u32) -> f32 { var b = bits; return bitcast<f32>(b); }
fn INF() -> f32 { return f32Bits(0x7f800000u); }
fn NEG_INF() -> f32 { return f32Bits(0xff800000u); }
fn NAN() -> f32 { return f32Bits(0x7fc00000u); }
fn isNan_(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
`;

// NaN is tested on the bits (isNan_ above): SwiftShader folds x != x to false, and its exp, log,
// sign, sigmoid and tanh of NaN gave inf, 89.1, 0, 0 and 0 (measured); the CPU gives NaN.

/** Unary snippets over `x`: the same semantics as the CPU's UNARY_JS. */
export const UNARY_WGSL: Record<UnaryOp | 'copy', string> = {
  copy: 'x',
  neg: '-x',
  exp: 'select(exp(x), x, isNan_(x))',
  // our own (HELPERS): WGSL's log is undefined at 0 and below
  log: 'log_(x)',
  // our own (HELPERS): log(1 + x) loses x's low bits where x is small
  log1p: 'log1p_(x)',
  sqrt: 'sqrt(x)',
  abs: 'abs(x)',
  sign: 'select(sign(x), x, isNan_(x))',
  relu: 'select(0.0, x, x > 0.0 || isNan_(x))',
  sigmoid: 'select(1.0 / (1.0 + exp(-x)), x, isNan_(x))',
  // Our own tanh, sin and cos (HELPERS below): WGSL's builtins may be far less accurate than
  // the CPU's (SwiftShader's sin is off by 2e-4; WGSL only promises 2^-11), or NaN (tanh of ±90).
  tanh: 'select(tanh_(x), x, isNan_(x))',
  sin: 'sincos_(x, 0u)',
  cos: 'sincos_(x, 1u)',
};

/** Binary snippets over `a`, `b`: the same semantics as the CPU's BINARY_JS (1/0 for comparisons). */
export const BINARY_WGSL: Record<BinaryOp | 'reluGrad', string> = {
  add: 'a + b',
  sub: 'a - b',
  mul: 'a * b',
  div: 'a / b',
  pow: 'pow_(a, b)',
  // NaN wins, as in Math.max (where the driver keeps NaNs at all)
  maximum: 'select(b, a, a > b || isNan_(a))',
  minimum: 'select(b, a, a < b || isNan_(a))',
  eq: 'select(0.0, 1.0, a == b)',
  // SwiftShader's != is false when either side is NaN; the CPU's !== is true
  ne: 'select(0.0, 1.0, a != b || isNan_(a) || isNan_(b))',
  lt: 'select(0.0, 1.0, a < b)',
  le: 'select(0.0, 1.0, a <= b)',
  gt: 'select(0.0, 1.0, a > b)',
  ge: 'select(0.0, 1.0, a >= b)',
  reluGrad: 'select(0.0, a, b > 0.0)',
};

export const WHERE_WGSL = 'select(b, a, c != 0.0 || isNan_(c))';
/** where with an int32 condition */
export const WHERE_INT_COND_WGSL = 'select(b, a, c != 0)';

/** WGSL's element type for a dtype held on the GPU. */
export type Elem = 'f32' | 'i32';

/**
 * i32 snippets where the float one does not type-check or differs. Integer + − × and negation
 * wrap modulo 2³² in WGSL, as on the CPU (Math.imul, Int32Array stores); there is no NaN.
 */
export const INT_WGSL: Partial<Record<UnaryOp | BinaryOp | 'copy', string>> = {
  copy: 'x',
  neg: '-x',
  abs: 'abs(x)',
  sign: 'select(select(0, -1, x < 0), 1, x > 0)',
  relu: 'max(x, 0)',
  add: 'a + b',
  sub: 'a - b',
  mul: 'a * b',
  maximum: 'max(a, b)',
  minimum: 'min(a, b)',
  eq: 'select(0, 1, a == b)',
  ne: 'select(0, 1, a != b)',
  lt: 'select(0, 1, a < b)',
  le: 'select(0, 1, a <= b)',
  gt: 'select(0, 1, a > b)',
  ge: 'select(0, 1, a >= b)',
};

/**
 * float32 → int32 as on the CPU: toward zero, saturating (2³¹ − 1 is not a float32, so the top
 * is chosen explicitly), NaN → 0 (WGSL leaves both to the driver).
 */
export const TO_INT_WGSL =
  'select(select(select(i32(x), 2147483647, x >= 2147483648.0), i32(-2147483647 - 1), x < -2147483648.0), 0, isNan_(x))';
export const TO_FLOAT_WGSL = 'f32(x)';

// Helpers pasted into elementwise shaders that use them.
const HELPERS: Record<string, string> = {
  // cephes' tanhf: an odd polynomial near 0 (where 1 − e^{−2|x|} would cancel), else
  // 1 − 2/(e^{2|x|} + 1), which saturates to ±1 instead of inf/inf
  tanh_: /* wgsl */ `
fn tanh_(x: f32) -> f32 {
  let a = abs(x);
  if (a < 0.625) {
    let z = x * x;
    return x + x * z * ((((-5.70498872745e-3 * z + 2.06390887954e-2) * z - 5.37397155531e-2) * z + 1.33314422036e-1) * z - 3.33332819422e-1);
  }
  return sign(x) * (1.0 - 2.0 / (exp(2.0 * a) + 1.0));
}`,
  // sin x (q = 0) or cos x = sin(x + π/2) (q = 1): x = j·π/2 + r with |r| ≤ π/4 (Cody–Waite:
  // π/2 in three parts, so j·part is exact), then cephes' sinf/cosf polynomials on r and the
  // quadrant (j + q) mod 4 picks ±sin r or ±cos r. About 1 ulp for |x| < 8192.
  sincos_: /* wgsl */ `
fn sincos_(x: f32, q: u32) -> f32 {
  let j = round(x * 0.636619772367581343);
  let r = ((x - j * 1.5703125) - j * 4.837512969970703125e-4) - j * 7.54978995489188216e-8;
  let z = r * r;
  let s = r + r * z * ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1);
  let c = 1.0 - 0.5 * z + z * z * ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2);
  let k = (bitcast<u32>(i32(j)) + q) & 3u;
  let v = select(s, c, (k & 1u) == 1u);
  return select(v, -v, (k & 2u) != 0u);
}`,
  // WGSL's log is undefined for x ≤ 0; SwiftShader gave log |x| below 0 and −88.03 at ±0
  log_: /* wgsl */ `
fn log_(x: f32) -> f32 {
  if (isNan_(x) || x < 0.0) { return NAN(); }
  if (x == 0.0) { return NEG_INF(); }
  if (x == INF()) { return x; }
  return log(x);
}`,
  // log(1 + x) = 2·atanh(s), s = x / (2 + x): for 1 + x in (0.7, 1.5), |s| < 0.2, the odd series
  // 2s(1 + s²/3 + s⁴/5 + ...) to s¹⁰/11 leaves a relative error below 1e-9, and keeps full
  // precision near 0 where 1 + x would round x away. Elsewhere 1 + x costs at most half an ulp of
  // 1 + x, which is small next to |log(1 + x)| > 0.35.
  log1p_: /* wgsl */ `
fn log1p_(x: f32) -> f32 {
  if (isNan_(x)) { return x; }
  if (x > -0.3 && x < 0.5) {
    let s = x / (2.0 + x);
    let z = s * s;
    return 2.0 * s * (1.0 + z * (0.333333333 + z * (0.2 + z * (0.142857143 + z * (0.111111111 + z * 0.0909090909)))));
  }
  if (x == -1.0) { return NEG_INF(); }
  if (x < -1.0) { return NAN(); }
  if (x == INF()) { return x; }
  return log(1.0 + x);
}`,
  // IEEE 754 pow, as the CPU's: WGSL's pow is undefined for a ≤ 0 and says nothing of NaN or inf,
  // so only |a|^b of a finite, nonzero |a| is left to exp2(b·log2 |a|). NaNs and signs are read
  // from the bits (see isNan_; -0 must give -inf for (-0)^-1).
  pow_: /* wgsl */ `
fn pow_(a: f32, b: f32) -> f32 {
  if (b == 0.0 || a == 1.0) { return 1.0; }
  if (isNan_(a) || isNan_(b)) { return NAN(); }
  let ua = bitcast<u32>(a);
  let ub = bitcast<u32>(b);
  let m = abs(a);
  let infB = (ub & 0x7fffffffu) == 0x7f800000u;
  if (infB) {
    if (m == 1.0) { return 1.0; }
    return select(0.0, INF(), (m > 1.0) == (b > 0.0));
  }
  let whole = fract(b) == 0.0;
  let odd = whole && fract(b * 0.5) != 0.0;
  let neg = (ua & 0x80000000u) != 0u;
  var r: f32;
  if (m == 0.0 || (ua & 0x7fffffffu) == 0x7f800000u) {
    r = select(0.0, INF(), (m == 0.0) == (b < 0.0));
  } else {
    if (neg && !whole) { return NAN(); }
    r = exp2(b * log2(m));
  }
  return select(r, -r, neg && odd);
}`,
};

/**
 * The elementwise template: out[view] = expr(in0, in1, ...) over a broadcast iteration shape.
 * meta = [n, rank, shape[rank], then per operand (out first): offset, strides[rank]].
 * Each invocation turns its flat index into coordinates once and dots them with every
 * operand's strides, so views, broadcasting (stride 0) and output windows (concat, pad) are
 * all the same code. The `flat` variant serves rank ≤ 1 (after coalescing: contiguous operands and
 * scalars), the common case, without the divisions.
 */
export function elementwiseSource(names: readonly string[], expr: string, flat: boolean, types: readonly Elem[] = []): string {
  const helpers = Object.keys(HELPERS).filter((h) => expr.includes(`${h}(`));
  const ops = ['o', ...names];
  // types: the output's element type, then each input's (f32 where left out)
  const ty = (k: number) => types[k] ?? 'f32';
  const bindings = names
    .map((v, k) => `@group(0) @binding(${k + 2}) var<storage, read> ${v}_: array<${ty(k + 1)}>;`)
    .join('\n');
  const base = (k: number) => `2u + rank + ${k}u * (rank + 1u)`;
  // flat: rank <= 1 after coalescing (contiguous or scalar operands), so no divisions at all
  const walk = flat
    ? `if (rank == 1u) {
    ${ops.map((v, k) => `${v}P += i * dims[${base(k)} + 1u];`).join('\n    ')}
  }`
    : `var rem = i;
  for (var d = i32(rank) - 1; d >= 0; d--) {
    let ud = u32(d);
    let n = dims[2u + ud];
    let c = rem % n;
    rem = rem / n;
    ${ops.map((v, k) => `${v}P += c * dims[${base(k)} + 1u + ud];`).join('\n    ')}
  }`;
  return /* wgsl */ `${SPECIALS}${helpers.map((h) => HELPERS[h]).join('\n')}
@group(0) @binding(0) var<storage, read> dims: array<u32>;
@group(0) @binding(1) var<storage, read_write> o_: array<${ty(0)}>;
${bindings}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * ${WORKGROUP}u;
  if (i >= dims[0]) { return; }
  let rank = dims[1];
  ${ops.map((v, k) => `var ${v}P = dims[${base(k)}];`).join('\n  ')}
  ${walk}
  ${names.map((v) => `let ${v} = ${v}_[${v}P];`).join('\n  ')}
  o_[oP] = ${expr};
}`;
}

const REDUCE_INIT: Record<ReduceOp, string> = { sum: '0.0', max: 'NEG_INF()', min: 'INF()' };
const REDUCE_INIT_INT: Record<ReduceOp, string> = { sum: '0', max: 'i32(-2147483647 - 1)', min: '2147483647' };
const REDUCE_COMBINE_INT: Record<ReduceOp, string> = { sum: 'acc + v', max: 'max(acc, v)', min: 'min(acc, v)' };
// NaN propagates in max/min (where the driver keeps NaNs), as on the CPU
const REDUCE_COMBINE: Record<ReduceOp, string> = {
  sum: 'acc + v',
  max: 'select(select(acc, v, v > acc), v, isNan_(v))',
  min: 'select(select(acc, v, v < acc), v, isNan_(v))',
};

/**
 * Reductions. meta = [A, R, keptRank, redRank, offset, keptShape, keptStrides, redShape, redStrides]:
 * output o (of A) reduces R input elements. Two schedules:
 * - 'tree': one workgroup per output; each invocation folds a strided share of the R elements,
 *   then the workgroup halves its partials in workgroup memory (log2(256) = 8 barrier steps);
 * - 'serial': one invocation per output folds its R elements alone (small R, many outputs).
 */
export function reduceSource(op: ReduceOp, schedule: 'tree' | 'serial', elem: Elem = 'f32'): string {
  const T = elem;
  const init = (elem === 'i32' ? REDUCE_INIT_INT : REDUCE_INIT)[op];
  const head = /* wgsl */ `${SPECIALS}
@group(0) @binding(0) var<storage, read> dims: array<u32>;
@group(0) @binding(1) var<storage, read_write> o_: array<${T}>;
@group(0) @binding(2) var<storage, read> x_: array<${T}>;

fn combine(acc: ${T}, v: ${T}) -> ${T} { return ${(elem === 'i32' ? REDUCE_COMBINE_INT : REDUCE_COMBINE)[op]}; }

// offset of output o's first input element
fn outBase(o: u32) -> u32 {
  let kr = dims[2];
  var p = dims[4];
  var rem = o;
  for (var d = i32(kr) - 1; d >= 0; d--) {
    let n = dims[5u + u32(d)];
    p += (rem % n) * dims[5u + kr + u32(d)];
    rem = rem / n;
  }
  return p;
}

// offset of the r-th reduced element relative to its output's base
fn redOffset(r: u32) -> u32 {
  let kr = dims[2];
  let rr = dims[3];
  let at = 5u + 2u * kr;
  var p = 0u;
  var rem = r;
  for (var d = i32(rr) - 1; d >= 0; d--) {
    let n = dims[at + u32(d)];
    p += (rem % n) * dims[at + rr + u32(d)];
    rem = rem / n;
  }
  return p;
}
`;
  if (schedule === 'serial') {
    return /* wgsl */ `${head}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let o = gid.x + gid.y * nwg.x * ${WORKGROUP}u;
  if (o >= dims[0]) { return; }
  let base = outBase(o);
  var acc: ${T} = ${init};
  for (var r = 0u; r < dims[1]; r++) {
    acc = combine(acc, x_[base + redOffset(r)]);
  }
  o_[o] = acc;
}`;
  }
  return /* wgsl */ `${head}
var<workgroup> part: array<${T}, ${WORKGROUP}>;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  // o is the same for the whole workgroup, so the early return keeps barriers uniform
  let o = wid.x + wid.y * nwg.x;
  if (o >= dims[0]) { return; }
  let base = outBase(o);
  var acc: ${T} = ${init};
  for (var r = lid; r < dims[1]; r += ${WORKGROUP}u) {
    acc = combine(acc, x_[base + redOffset(r)]);
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var s = ${WORKGROUP / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) { part[lid] = combine(part[lid], part[lid + s]); }
    workgroupBarrier();
  }
  if (lid == 0u) { o_[o] = part[0]; }
}`;
}

/**
 * Batched C = A·B with broadcast batch dims, any M, N, K. A 16×16 workgroup computes a T×T tile
 * of C, T = 16·per: it stages a T×16 panel of A and a 16×T panel of B in workgroup memory, then
 * each invocation accumulates a per×per block of C in registers. Loads past the edges read 0, so
 * sizes need not be multiples of the tile. Two instances: per = 4 (64×64 tiles, 8 KiB of
 * workgroup memory) for large products, per = 1 (16×16 tiles) for small ones, where a 64×64 tile
 * would be mostly padding. meta = [M, N, K, batchRank, aOff, sam, sak, bOff, sbk, sbn,
 * batchShape, aBatchStrides, bBatchStrides]; the batch index is workgroup_id.z; C is row-major.
 */
/**
 * `bias`: also bind a vector added to every row as C is written (linear's x @ W + b); its offset
 * and stride follow the batch strides in `dims`.
 */
export function matmulSource(per: 1 | 4, bias = false): string {
  const T = 16 * per;
  // The per×per block lives in scalar registers and the inner loops are unrolled here, in
  // TypeScript: drivers that compile WGSL for CPUs (SwiftShader) keep a dynamically indexed
  // private array in memory, which made this kernel about ten times slower.
  const r = [...Array(per).keys()];
  const accs = r.flatMap((i) => r.map((j) => [i, j] as const));
  return /* wgsl */ `
@group(0) @binding(0) var<storage, read> dims: array<u32>;
@group(0) @binding(1) var<storage, read_write> c_: array<f32>;
@group(0) @binding(2) var<storage, read> a_: array<f32>;
@group(0) @binding(3) var<storage, read> b_: array<f32>;
${bias ? '@group(0) @binding(4) var<storage, read> bias_: array<f32>;' : ''}

const T: u32 = ${T}u;
const BK: u32 = 16u;
var<workgroup> As: array<f32, ${T * 16}>; // As[k * T + m]
var<workgroup> Bs: array<f32, ${T * 16}>; // Bs[k * T + n]

@compute @workgroup_size(16, 16)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let M = dims[0];
  let N = dims[1];
  let K = dims[2];
  let br = dims[3];
  let sam = dims[5];
  let sak = dims[6];
  let sbk = dims[8];
  let sbn = dims[9];
  var aBase = dims[4];
  var bBase = dims[7];
  var rem = wid.z;
  for (var d = i32(br) - 1; d >= 0; d--) {
    let ud = u32(d);
    let n = dims[10u + ud];
    let c = rem % n;
    rem = rem / n;
    aBase += c * dims[10u + br + ud];
    bBase += c * dims[10u + 2u * br + ud];
  }
  let row0 = wid.y * T;
  let col0 = wid.x * T;
  let tid = lid.y * 16u + lid.x;
  let ty = lid.y * ${per}u;
  let tx = lid.x * ${per}u;
  ${accs.map(([i, j]) => `var acc${i}${j} = 0.0;`).join(' ')}

  for (var k0 = 0u; k0 < K; k0 += BK) {
    for (var l = 0u; l < ${per}u; l++) {
      let e = tid + l * 256u;
      // A panel: T rows × 16 k; neighbouring invocations read neighbouring k
      let am = e / BK;
      let ak = e % BK;
      var av = 0.0;
      if (row0 + am < M && k0 + ak < K) { av = a_[aBase + (row0 + am) * sam + (k0 + ak) * sak]; }
      As[ak * T + am] = av;
      // B panel: 16 k × T columns; neighbouring invocations read neighbouring n
      let bk = e / T;
      let bn = e % T;
      var bv = 0.0;
      if (k0 + bk < K && col0 + bn < N) { bv = b_[bBase + (k0 + bk) * sbk + (col0 + bn) * sbn]; }
      Bs[bk * T + bn] = bv;
    }
    workgroupBarrier();
    for (var k = 0u; k < BK; k++) {
      ${r.map((i) => `let a${i} = As[k * T + ty + ${i}u];`).join(' ')}
      ${r.map((j) => `let b${j} = Bs[k * T + tx + ${j}u];`).join(' ')}
      ${accs.map(([i, j]) => `acc${i}${j} += a${i} * b${j};`).join('\n      ')}
    }
    workgroupBarrier();
  }
  let cBase = wid.z * M * N;
  ${bias ? `let biasBase = dims[10u + 3u * br];
  let biasStride = dims[11u + 3u * br];
  ${r.map((j) => `let bias${j} = select(0.0, bias_[biasBase + min(col0 + tx + ${j}u, N - 1u) * biasStride], col0 + tx + ${j}u < N);`).join('\n  ')}` : ''}
  ${r
    .map(
      (i) => `if (row0 + ty + ${i}u < M) {
    let r = cBase + (row0 + ty + ${i}u) * N;
    ${r.map((j) => `if (col0 + tx + ${j}u < N) { c_[r + col0 + tx + ${j}u] = acc${i}${j}${bias ? ` + bias${j}` : ''}; }`).join('\n    ')}
  }`,
    )
    .join('\n  ')}
}`;
}


/** Turn flat index `i` into coordinates over dims[at..at+rank) and dot them with each operand's strides. */
const COORDS = /* wgsl */ `
fn coord(i: u32, d: u32, shapeAt: u32, rank: u32) -> u32 {
  var rem = i;
  for (var k = i32(rank) - 1; k > i32(d); k--) { rem = rem / dims[shapeAt + u32(k)]; }
  return rem % dims[shapeAt + d];
}`;

/**
 * gather along `axis`: out[i] = x[at i with the axis coordinate replaced by index[i]]; an index
 * outside [0, size) reads 0 (the CPU throws; a shader cannot). meta = [n, rank, axis, size,
 * outShape[rank], iOff, iStrides[rank], xOff, xStrides[rank]].
 */
export function gatherSource(elem: Elem): string {
  return /* wgsl */ `
@group(0) @binding(0) var<storage, read> dims: array<u32>;
@group(0) @binding(1) var<storage, read_write> o_: array<${elem}>;
@group(0) @binding(2) var<storage, read> x_: array<${elem}>;
@group(0) @binding(3) var<storage, read> idx_: array<i32>;
${COORDS}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * ${WORKGROUP}u;
  if (i >= dims[0]) { return; }
  let rank = dims[1];
  let axis = dims[2];
  let size = dims[3];
  let iAt = 4u + rank;
  let xAt = 5u + 2u * rank;
  var iP = dims[iAt];
  var xP = dims[xAt];
  for (var d = 0u; d < rank; d++) {
    let c = coord(i, d, 4u, rank);
    iP += c * dims[iAt + 1u + d];
    if (d != axis) { xP += c * dims[xAt + 1u + d]; }
  }
  let j = idx_[iP];
  if (j < 0 || u32(j) >= size) { o_[i] = ${elem}(0); return; }
  o_[i] = x_[xP + u32(j) * dims[xAt + 1u + axis]];
}`;
}

/**
 * scatterAdd along `axis`, one invocation per output element (no float atomics in WGSL): out[o]
 * sums g over the index positions t along the axis whose index equals o's axis coordinate, in
 * order t = 0, 1, ... (deterministic). Out-of-range indices add nowhere. meta = [n, rank, axis,
 * outShape[rank], idxShape[rank], gOff, gStrides[rank], iOff, iStrides[rank]].
 */
export function scatterAddSource(elem: Elem): string {
  return /* wgsl */ `
@group(0) @binding(0) var<storage, read> dims: array<u32>;
@group(0) @binding(1) var<storage, read_write> o_: array<${elem}>;
@group(0) @binding(2) var<storage, read> g_: array<${elem}>;
@group(0) @binding(3) var<storage, read> idx_: array<i32>;
${COORDS}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let o = gid.x + gid.y * nwg.x * ${WORKGROUP}u;
  if (o >= dims[0]) { return; }
  let rank = dims[1];
  let axis = dims[2];
  let sAt = 3u + rank;
  let gAt = 3u + 2u * rank;
  let iAt = 4u + 3u * rank;
  var gP = dims[gAt];
  var iP = dims[iAt];
  var want = 0u;
  for (var d = 0u; d < rank; d++) {
    let c = coord(o, d, 3u, rank);
    if (d == axis) { want = c; continue; }
    if (c >= dims[sAt + d]) { o_[o] = ${elem}(0); return; }
    gP += c * dims[gAt + 1u + d];
    iP += c * dims[iAt + 1u + d];
  }
  var acc = ${elem}(0);
  let n = dims[sAt + axis];
  let gs = dims[gAt + 1u + axis];
  let is = dims[iAt + 1u + axis];
  for (var t = 0u; t < n; t++) {
    let j = idx_[iP + t * is];
    if (j >= 0 && u32(j) == want) { acc += g_[gP + t * gs]; }
  }
  o_[o] = acc;
}`;
}

/**
 * argmax/argmin along one axis: the first position of the extremum, the first NaN winning (as the
 * CPU, PyTorch). meta = [nOut, keptRank, keptShape[keptRank], keptStrides[keptRank], offset,
 * size, axisStride].
 */
export function argSource(op: 'argmax' | 'argmin', elem: Elem): string {
  const better = op === 'argmax' ? 'v > m' : 'v < m';
  const nan = elem === 'f32' ? 'isNan_' : 'noNan_';
  return /* wgsl */ `${SPECIALS}
fn noNan_(x: i32) -> bool { return false; }
@group(0) @binding(0) var<storage, read> dims: array<u32>;
@group(0) @binding(1) var<storage, read_write> o_: array<i32>;
@group(0) @binding(2) var<storage, read> x_: array<${elem}>;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let o = gid.x + gid.y * nwg.x * ${WORKGROUP}u;
  if (o >= dims[0]) { return; }
  let kr = dims[1];
  var p = dims[2u + 2u * kr];
  var rem = o;
  for (var d = i32(kr) - 1; d >= 0; d--) {
    let n = dims[2u + u32(d)];
    p += (rem % n) * dims[2u + kr + u32(d)];
    rem = rem / n;
  }
  let size = dims[3u + 2u * kr];
  let st = dims[4u + 2u * kr];
  var best = 0u;
  var m = x_[p];
  if (!${nan}(m)) {
    for (var j = 1u; j < size; j++) {
      let v = x_[p + j * st];
      if (${nan}(v)) { best = j; break; }
      if (${better}) { m = v; best = j; }
    }
  }
  o_[o] = i32(best);
}`;
}

/**
 * fold (col2im) as a gather, one invocation per output element, so no two invocations write one
 * place (no atomics): out[p] = Σ over taps t of g[…, o, …, t] where, on every window axis,
 * o = (p − t·dilation) / stride is a whole number in [0, count). meta = [n, rank, A (window
 * axes), gOffset, T (taps per window), outShape[rank], outRowStrides[rank], isWindowAxis[rank],
 * gStrides[rank + A], then per window axis: axis, size, stride, dilation, count, tapRowStride].
 */
export function foldSource(): string {
  return /* wgsl */ `
@group(0) @binding(0) var<storage, read> dims: array<u32>;
@group(0) @binding(1) var<storage, read_write> o_: array<f32>;
@group(0) @binding(2) var<storage, read> g_: array<f32>;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * ${WORKGROUP}u;
  if (i >= dims[0]) { return; }
  let r = dims[1];
  let A = dims[2];
  let T = dims[4];
  let SH = 5u;
  let RS = 5u + r;
  let WIN = 5u + 2u * r;
  let GS = 5u + 3u * r;
  let AX = 5u + 4u * r + A;
  // g's offset from the axes that are not windowed (batch, channels)
  var base = dims[3];
  for (var d = 0u; d < r; d++) {
    if (dims[WIN + d] == 0u) { base += ((i / dims[RS + d]) % dims[SH + d]) * dims[GS + d]; }
  }
  var acc = 0.0;
  for (var t = 0u; t < T; t++) {
    var p = base;
    var ok = true;
    for (var w = 0u; w < A; w++) {
      let e = AX + w * 6u;
      let a = dims[e];
      let tap = (t / dims[e + 5u]) % dims[e + 1u];
      let c = (i / dims[RS + a]) % dims[SH + a];
      let back = tap * dims[e + 3u];
      let s = dims[e + 2u];
      if (back > c) { ok = false; break; }
      let q = c - back;
      if (q % s != 0u || q / s >= dims[e + 4u]) { ok = false; break; }
      p += (q / s) * dims[GS + a] + tap * dims[GS + r + w];
    }
    if (ok) { acc += g_[p]; }
  }
  o_[i] = acc;
}`;
}
