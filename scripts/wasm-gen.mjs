// Generates the CPU backend's WebAssembly SIMD kernels as WAT text, assembles them with wabt
// (npm, pure JS/wasm) and writes src/backends/cpu/wasm-kernels.wat (to read) and
// src/backends/cpu/wasm-bytes.ts (the module bytes, base64, committed: the package needs no build
// step and runs in browsers). The module is shipped once, importing a plain memory; the variant
// that imports a shared memory (worker threads) differs in one byte, the memory import's limits
// flags, which wasm.ts sets at load (the generator checks that nothing else differs).
//
//   node scripts/wasm-gen.mjs            regenerate both files
//   node scripts/wasm-gen.mjs --check    fail if the committed files are stale
//
// The kernels are unrolled register tiles, so they are written by a generator rather than by
// hand: one GEMM micro-kernel per dtype (f32x4 and f64x2), each inside the two inner loops of a
// packed, cache-blocked GEMM (the Goto/BLIS scheme: A in MR-row panels and B in NR-column panels,
// each panel p-major, zero-padded to whole panels), and the packing routines that build them.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import initWabt from 'wabt';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The micro-tiles. f32: MR rows × NR columns of C in MR·NR/4 v128 accumulators; with the B row
 * (NR/4 vectors) and one broadcast A value that is ≤ 16 live vectors, the x64 register file.
 */
export const TILES = {
  f32: { MR: 4, NR: 8, lanes: 4, bytes: 4 },
  f64: { MR: 4, NR: 4, lanes: 2, bytes: 8 },
};

/**
 * gemm_<t>(mp, np, kc, a, b, c, ldc, accumulate): for each of np B panels (outer) and mp A panels
 * (inner), C[MR×NR tile] (+)= A panel (kc×MR) · B panel (kc×NR). a, b, c are byte addresses, ldc
 * is C's row stride in bytes. B's panel stays in L1 while the A panels stream through it.
 */
function gemmFunc(t, { MR, NR, lanes, bytes, U = 1 }) {
  const V = NR / lanes;
  const vt = t === 'f32' ? 'f32x4' : 'f64x2';
  const splat = t === 'f32' ? 'v128.load32_splat' : 'v128.load64_splat';
  const acc = (r, v) => `$c${r}_${v}`;
  const L = [];
  const locals = ['$ip i32', '$jp i32', '$ap i32', '$bp i32', '$cp i32', '$p i32', '$aStep i32', '$bStep i32', '$av v128'];
  for (let v = 0; v < V; v++) locals.push(`$b${v} v128`);
  for (let r = 0; r < MR; r++) for (let v = 0; v < V; v++) locals.push(`${acc(r, v)} v128`);

  L.push(`(func $gemm_${t} (export "gemm_${t}")`);
  L.push('  (param $mp i32) (param $np i32) (param $kc i32) (param $a i32) (param $b i32) (param $c i32) (param $ldc i32) (param $accumulate i32)');
  L.push(`  (local ${locals.join(') (local ')})`);
  L.push(`  (local.set $aStep (i32.mul (local.get $kc) (i32.const ${MR * bytes})))`);
  L.push(`  (local.set $bStep (i32.mul (local.get $kc) (i32.const ${NR * bytes})))`);
  L.push('  (local.set $jp (i32.const 0))');
  L.push('  (block $jdone (loop $jloop');
  L.push('    (br_if $jdone (i32.ge_u (local.get $jp) (local.get $np)))');
  L.push('    (local.set $ip (i32.const 0))');
  L.push('    (block $idone (loop $iloop');
  L.push('      (br_if $idone (i32.ge_u (local.get $ip) (local.get $mp)))');
  L.push('      (local.set $ap (i32.add (local.get $a) (i32.mul (local.get $ip) (local.get $aStep))))');
  L.push('      (local.set $bp (i32.add (local.get $b) (i32.mul (local.get $jp) (local.get $bStep))))');
  L.push(`      (local.set $cp (i32.add (local.get $c) (i32.add (i32.mul (i32.mul (local.get $ip) (i32.const ${MR})) (local.get $ldc)) (i32.mul (local.get $jp) (i32.const ${NR * bytes})))))`);
  // accumulators: C's tile (accumulate) or zeros
  L.push('      (if (local.get $accumulate) (then');
  for (let r = 0; r < MR; r++) {
    const row = r === 0 ? '(local.get $cp)' : `(i32.add (local.get $cp) (i32.mul (local.get $ldc) (i32.const ${r})))`;
    for (let v = 0; v < V; v++) L.push(`        (local.set ${acc(r, v)} (v128.load offset=${v * 16} ${row}))`);
  }
  L.push('      ) (else');
  for (let r = 0; r < MR; r++) for (let v = 0; v < V; v++) L.push(`        (local.set ${acc(r, v)} (v128.const i64x2 0 0))`);
  L.push('      ))');
  // the k loop, U steps per turn (then one at a time): one B row (V vectors), then per A value a
  // broadcast, a multiply and an add per vector
  const step = (u) => {
    for (let v = 0; v < V; v++) L.push(`        (local.set $b${v} (v128.load offset=${(u * NR + v * lanes) * bytes} (local.get $bp)))`);
    for (let r = 0; r < MR; r++) {
      L.push(`        (local.set $av (${splat} offset=${(u * MR + r) * bytes} (local.get $ap)))`);
      for (let v = 0; v < V; v++) {
        L.push(`        (local.set ${acc(r, v)} (${vt}.add (local.get ${acc(r, v)}) (${vt}.mul (local.get $av) (local.get $b${v}))))`);
      }
    }
  };
  const loop = (name, n) => {
    L.push(`      (block $${name}done (loop $${name}loop`);
    L.push(`        (br_if $${name}done (i32.lt_u (local.get $p) (i32.const ${n})))`);
    for (let u = 0; u < n; u++) step(u);
    L.push(`        (local.set $ap (i32.add (local.get $ap) (i32.const ${n * MR * bytes})))`);
    L.push(`        (local.set $bp (i32.add (local.get $bp) (i32.const ${n * NR * bytes})))`);
    L.push(`        (local.set $p (i32.sub (local.get $p) (i32.const ${n})))`);
    L.push(`        (br $${name}loop)))`);
  };
  L.push('      (local.set $p (local.get $kc))');
  if (U > 1) loop('pu', U);
  loop('p', 1);
  for (let r = 0; r < MR; r++) {
    const row = r === 0 ? '(local.get $cp)' : `(i32.add (local.get $cp) (i32.mul (local.get $ldc) (i32.const ${r})))`;
    for (let v = 0; v < V; v++) L.push(`      (v128.store offset=${v * 16} ${row} (local.get ${acc(r, v)}))`);
  }
  L.push('      (local.set $ip (i32.add (local.get $ip) (i32.const 1)))');
  L.push('      (br $iloop)))');
  L.push('    (local.set $jp (i32.add (local.get $jp) (i32.const 1)))');
  L.push('    (br $jloop)))');
  L.push(')');
  return L.join('\n');
}

/**
 * pack_a_<t>(src, rs, cs, m, K, KC, mp, dst) and pack_b_<t>(src, rs, cs, n, K, KC, np, dst): the
 * operand at byte address src, element (i, j) at src + i·rs + j·cs (byte strides), into panels
 * at dst, as gemm_<t> reads them: per k-block of KC, MR-row panels of A (p-major, MR values per
 * p) or NR-column panels of B (p-major, NR values per p), zero past the last row or column.
 * Rows of B with unit column stride move as whole vectors.
 */
function packFunc(t, which, { MR, NR, bytes }) {
  const R = which === 'a' ? MR : NR;
  const T = t; // f32 | f64
  const L = [];
  // for A a panel walks rows (stride rs) across and k (stride cs) down; for B columns (cs) and k (rs)
  const across = which === 'a' ? '$rs' : '$cs';
  const down = which === 'a' ? '$cs' : '$rs';
  L.push(`(func $pack_${which}_${t} (export "pack_${which}_${t}")`);
  L.push('  (param $src i32) (param $rs i32) (param $cs i32) (param $m i32) (param $K i32) (param $KC i32) (param $mp i32) (param $dst i32)');
  L.push('  (local $k0 i32) (local $kc i32) (local $ip i32) (local $rows i32) (local $s i32) (local $p i32) (local $r i32)');
  L.push('  (local.set $k0 (i32.const 0))');
  L.push('  (block $kdone (loop $kloop');
  L.push('    (br_if $kdone (i32.ge_u (local.get $k0) (local.get $K)))');
  L.push('    (local.set $kc (i32.sub (local.get $K) (local.get $k0)))');
  L.push('    (if (i32.lt_u (local.get $KC) (local.get $kc)) (then (local.set $kc (local.get $KC))))');
  L.push('    (local.set $ip (i32.const 0))');
  L.push('    (block $idone (loop $iloop');
  L.push('      (br_if $idone (i32.ge_u (local.get $ip) (local.get $mp)))');
  L.push(`      (local.set $rows (i32.sub (local.get $m) (i32.mul (local.get $ip) (i32.const ${R}))))`);
  L.push(`      (local.set $s (i32.add (local.get $src) (i32.add (i32.mul (i32.mul (local.get $ip) (i32.const ${R})) (local.get ${across})) (i32.mul (local.get $k0) (local.get ${down})))))`);
  L.push('      (local.set $p (local.get $kc))');
  // whole panel: unrolled; for B with unit column stride, whole vectors
  const full = which === 'b'
    ? `(i32.and (i32.ge_s (local.get $rows) (i32.const ${R})) (i32.eq (local.get $cs) (i32.const ${bytes})))`
    : `(i32.ge_s (local.get $rows) (i32.const ${R}))`;
  L.push(`      (if ${full}`);
  L.push('        (then');
  L.push('          (block $pdone (loop $ploop');
  L.push('            (br_if $pdone (i32.eqz (local.get $p)))');
  if (which === 'b') {
    for (let v = 0; v < (R * bytes) / 16; v++) {
      L.push(`            (v128.store offset=${v * 16} (local.get $dst) (v128.load offset=${v * 16} (local.get $s)))`);
    }
  } else {
    for (let r = 0; r < R; r++) {
      const addr = r === 0 ? '(local.get $s)' : `(i32.add (local.get $s) (i32.mul (local.get ${across}) (i32.const ${r})))`;
      L.push(`            (${T}.store offset=${r * bytes} (local.get $dst) (${T}.load ${addr}))`);
    }
  }
  L.push(`            (local.set $dst (i32.add (local.get $dst) (i32.const ${R * bytes})))`);
  L.push(`            (local.set $s (i32.add (local.get $s) (local.get ${down})))`);
  L.push('            (local.set $p (i32.sub (local.get $p) (i32.const 1)))');
  L.push('            (br $ploop))))');
  L.push('        (else');
  L.push('          (block $pdone2 (loop $ploop2');
  L.push('            (br_if $pdone2 (i32.eqz (local.get $p)))');
  L.push('            (local.set $r (i32.const 0))');
  L.push('            (block $rdone (loop $rloop');
  L.push(`              (br_if $rdone (i32.ge_u (local.get $r) (i32.const ${R})))`);
  L.push(`              (${T}.store (local.get $dst)`);
  L.push(`                (if (result ${T}) (i32.lt_s (local.get $r) (local.get $rows))`);
  L.push(`                  (then (${T}.load (i32.add (local.get $s) (i32.mul (local.get $r) (local.get ${across})))))`);
  L.push(`                  (else (${T}.const 0))))`);
  L.push(`              (local.set $dst (i32.add (local.get $dst) (i32.const ${bytes})))`);
  L.push('              (local.set $r (i32.add (local.get $r) (i32.const 1)))');
  L.push('              (br $rloop)))');
  L.push(`            (local.set $s (i32.add (local.get $s) (local.get ${down})))`);
  L.push('            (local.set $p (i32.sub (local.get $p) (i32.const 1)))');
  L.push('            (br $ploop2)))))');
  L.push('      (local.set $ip (i32.add (local.get $ip) (i32.const 1)))');
  L.push('      (br $iloop)))');
  L.push('    (local.set $k0 (i32.add (local.get $k0) (local.get $KC)))');
  L.push('    (br $kloop)))');
  L.push(')');
  return L.join('\n');
}

/**
 * Elementwise ops over contiguous float arrays, for big flat operands (the JS loops run ~1-2 ns
 * per element there; copying in and out is a memcpy): ew_<op>_<t>_<pattern>(out, a, b, n), byte
 * addresses, `pattern` says which operands are whole arrays (v) or one value broadcast (s).
 * Same results as the JS loops: +, -, ×, ÷ of two floats rounded once to the dtype, and relu as
 * max(x, 0) (NaN stays NaN, -0 and -∞ give 0).
 */
export const EW_BINARY = ['add', 'sub', 'mul', 'div', 'relugrad'];
export const EW_PATTERNS = ['vv', 'vs', 'sv'];

function ewFunc(t, op, pattern) {
  const lanes = t === 'f32' ? 4 : 2;
  const bytes = t === 'f32' ? 4 : 8;
  const vt = t === 'f32' ? 'f32x4' : 'f64x2';
  const unary = op === 'relu';
  let off = 0; // the byte offset of the vector being written (the unrolled loop sets it)
  const vec = (x, k) => (pattern[k] === 'v' ? `(v128.load offset=${off} (local.get ${x}))` : `(local.get ${x}S)`);
  const sca = (x, k) => (pattern[k] === 'v' ? `(${t}.load (local.get ${x}))` : `(local.get ${x}s)`);
  // relu: pmax(x, 0) is x < 0 ? 0 : x (one maxps: NaN stays, -0 stays -0), then + 0 turns -0
  // into 0; max() would give the same values but lowers to a longer sequence for NaN and ±0
  const zero = '(v128.const i64x2 0 0)';
  // relugrad(g, x) = x > 0 ? g : 0: g masked by the comparison (NaN in x gives 0, like the JS)
  const vop = () => unary
    ? `(${vt}.add (${vt}.pmax ${vec('$a', 0)} ${zero}) ${zero})`
    : op === 'relugrad'
      ? `(v128.and ${vec('$a', 0)} (${vt}.gt ${vec('$b', 1)} ${zero}))`
      : `(${vt}.${op} ${vec('$a', 0)} ${vec('$b', 1)})`;
  const sop = unary
    ? `(${t}.max ${sca('$a', 0)} (${t}.const 0))`
    : op === 'relugrad'
      ? `(select ${sca('$a', 0)} (${t}.const 0) (${t}.gt ${sca('$b', 1)} (${t}.const 0)))`
      : `(${t}.${op} ${sca('$a', 0)} ${sca('$b', 1)})`;
  const name = unary ? `ew_relu_${t}` : `ew_${op}_${t}_${pattern}`;
  const L = [];
  L.push(`(func $${name} (export "${name}") (param $o i32) (param $a i32) (param $b i32) (param $n i32)`);
  L.push(`  (local $end i32) (local $vend i32) (local $uend i32) (local $as ${t}) (local $bs ${t}) (local $aS v128) (local $bS v128)`);
  L.push(`  (local.set $end (i32.add (local.get $o) (i32.mul (local.get $n) (i32.const ${bytes}))))`);
  L.push(`  (local.set $vend (i32.sub (local.get $end) (i32.const ${(lanes - 1) * bytes})))`);
  L.push(`  (local.set $uend (i32.sub (local.get $end) (i32.const ${64 - bytes})))`);
  if (pattern[0] === 's') L.push(`  (local.set $as (${t}.load (local.get $a))) (local.set $aS (${vt}.splat (local.get $as)))`);
  if (!unary && pattern[1] === 's') L.push(`  (local.set $bs (${t}.load (local.get $b))) (local.set $bS (${vt}.splat (local.get $bs)))`);
  const step = (size) => {
    const adv = [`(local.set $o (i32.add (local.get $o) (i32.const ${size})))`];
    if (pattern[0] === 'v') adv.push(`(local.set $a (i32.add (local.get $a) (i32.const ${size})))`);
    if (!unary && pattern[1] === 'v') adv.push(`(local.set $b (i32.add (local.get $b) (i32.const ${size})))`);
    return adv.join(' ');
  };
  // four vectors a turn while 64 bytes remain (the loop overhead was a third of an add's time), then one
  L.push('  (block $udone (loop $uloop');
  L.push('    (br_if $udone (i32.ge_u (local.get $o) (local.get $uend)))');
  for (off = 0; off < 64; off += 16) L.push(`    (v128.store offset=${off} (local.get $o) ${vop()})`);
  off = 0;
  L.push(`    ${step(64)}`);
  L.push('    (br $uloop)))');
  L.push('  (block $vdone (loop $vloop');
  L.push('    (br_if $vdone (i32.ge_u (local.get $o) (local.get $vend)))');
  L.push(`    (v128.store (local.get $o) ${vop()})`);
  L.push(`    ${step(16)}`);
  L.push('    (br $vloop)))');
  L.push('  (block $done (loop $loop');
  L.push('    (br_if $done (i32.ge_u (local.get $o) (local.get $end)))');
  L.push(`    (${t}.store (local.get $o) ${sop})`);
  L.push(`    ${step(bytes)}`);
  L.push('    (br $loop)))');
  L.push(')');
  return L.join('\n');
}

/**
 * sum_<t>(x, n) -> f64: the sum of n contiguous values at byte address x, accumulated in float64
 * (like the JS reduction, though in another order): 32 bytes per turn into four (f32) or two
 * (f64) f64x2 accumulators, so the adds overlap; a scalar tail.
 */
function sumFunc(t) {
  const bytes = t === 'f32' ? 4 : 8;
  const L = [];
  L.push(`(func $sum_${t} (export "sum_${t}") (param $x i32) (param $n i32) (result f64)`);
  L.push('  (local $end i32) (local $vend i32) (local $v v128) (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128) (local $s f64)');
  L.push(`  (local.set $end (i32.add (local.get $x) (i32.mul (local.get $n) (i32.const ${bytes}))))`);
  L.push('  (local.set $vend (i32.sub (local.get $end) (i32.const 31)))');
  L.push('  (block $vdone (loop $vloop');
  L.push('    (br_if $vdone (i32.ge_s (local.get $x) (local.get $vend)))');
  if (t === 'f32') {
    const hi = '(i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))';
    for (const [off, a, b] of [[0, '$s0', '$s1'], [16, '$s2', '$s3']]) {
      L.push(`    (local.set $v (v128.load offset=${off} (local.get $x)))`);
      L.push(`    (local.set ${a} (f64x2.add (local.get ${a}) (f64x2.promote_low_f32x4 (local.get $v))))`);
      L.push(`    (local.set ${b} (f64x2.add (local.get ${b}) (f64x2.promote_low_f32x4 ${hi})))`);
    }
  } else {
    L.push('    (local.set $s0 (f64x2.add (local.get $s0) (v128.load offset=0 (local.get $x))))');
    L.push('    (local.set $s1 (f64x2.add (local.get $s1) (v128.load offset=16 (local.get $x))))');
  }
  L.push('    (local.set $x (i32.add (local.get $x) (i32.const 32)))');
  L.push('    (br $vloop)))');
  L.push('  (local.set $s0 (f64x2.add (f64x2.add (local.get $s0) (local.get $s1)) (f64x2.add (local.get $s2) (local.get $s3))))');
  L.push('  (local.set $s (f64.add (f64x2.extract_lane 0 (local.get $s0)) (f64x2.extract_lane 1 (local.get $s0))))');
  L.push('  (block $done (loop $loop');
  L.push('    (br_if $done (i32.ge_u (local.get $x) (local.get $end)))');
  const load = t === 'f32' ? '(f64.promote_f32 (f32.load (local.get $x)))' : '(f64.load (local.get $x))';
  L.push(`    (local.set $s (f64.add (local.get $s) ${load}))`);
  L.push(`    (local.set $x (i32.add (local.get $x) (i32.const ${bytes})))`);
  L.push('    (br $loop)))');
  L.push('  (local.get $s)');
  L.push(')');
  return L.join('\n');
}

/**
 * Matrix-vector products for the thin matmuls that packing would pad to whole panels (a column
 * of C, a row of C, K = 1), all on contiguous rows, accumulated in the dtype like the GEMM kernel:
 *   gemv_n_<t>(a, lda, x, y, m, K): y[i] = Σ_p a[i·lda + p]·x[p]        (dot products of rows)
 *   gemv_t_<t>(a, lda, x, y, n, K): y[j] = Σ_p x[p]·a[p·lda + j]        (axpys of rows)
 *   outer_<t>(x, xs, b, c, m, n):   c[i·n + j] = x[i·xs]·b[j]          (K = 1)
 * Addresses and lda, xs in bytes.
 */
function gemvFuncs(t) {
  const lanes = t === 'f32' ? 4 : 2;
  const bytes = t === 'f32' ? 4 : 8;
  const vt = t === 'f32' ? 'f32x4' : 'f64x2';
  const splat = t === 'f32' ? 'v128.load32_splat' : 'v128.load64_splat';
  const vb = lanes * bytes;
  const hsum = t === 'f32'
    ? '(f32.add (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc))) (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc))))'
    : '(f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc)))';
  return `
(func $gemv_n_${t} (export "gemv_n_${t}") (param $a i32) (param $lda i32) (param $x i32) (param $y i32) (param $m i32) (param $K i32)
  (local $i i32) (local $p i32) (local $q i32) (local $vK i32) (local $acc v128) (local $acc2 v128) (local $s ${t})
  (local.set $vK (i32.and (local.get $K) (i32.const ${-2 * lanes})))
  (block $idone (loop $iloop
    (br_if $idone (i32.ge_u (local.get $i) (local.get $m)))
    (local.set $acc (v128.const i64x2 0 0)) (local.set $acc2 (v128.const i64x2 0 0))
    (local.set $p (local.get $a)) (local.set $q (local.get $x))
    (local.set $s (${t}.const 0))
    (block $vdone (loop $vloop
      (br_if $vdone (i32.ge_u (local.get $p) (i32.add (local.get $a) (i32.mul (local.get $vK) (i32.const ${bytes})))))
      (local.set $acc (${vt}.add (local.get $acc) (${vt}.mul (v128.load (local.get $p)) (v128.load (local.get $q)))))
      (local.set $acc2 (${vt}.add (local.get $acc2) (${vt}.mul (v128.load offset=${vb} (local.get $p)) (v128.load offset=${vb} (local.get $q)))))
      (local.set $p (i32.add (local.get $p) (i32.const ${2 * vb})))
      (local.set $q (i32.add (local.get $q) (i32.const ${2 * vb})))
      (br $vloop)))
    (local.set $acc (${vt}.add (local.get $acc) (local.get $acc2)))
    (local.set $s ${hsum})
    (block $done (loop $loop
      (br_if $done (i32.ge_u (local.get $p) (i32.add (local.get $a) (i32.mul (local.get $K) (i32.const ${bytes})))))
      (local.set $s (${t}.add (local.get $s) (${t}.mul (${t}.load (local.get $p)) (${t}.load (local.get $q)))))
      (local.set $p (i32.add (local.get $p) (i32.const ${bytes})))
      (local.set $q (i32.add (local.get $q) (i32.const ${bytes})))
      (br $loop)))
    (${t}.store (local.get $y) (local.get $s))
    (local.set $y (i32.add (local.get $y) (i32.const ${bytes})))
    (local.set $a (i32.add (local.get $a) (local.get $lda)))
    (local.set $i (i32.add (local.get $i) (i32.const 1)))
    (br $iloop)))
)
(func $gemv_t_${t} (export "gemv_t_${t}") (param $a i32) (param $lda i32) (param $x i32) (param $y i32) (param $n i32) (param $K i32)
  (local $p i32) (local $o i32) (local $r i32) (local $end i32) (local $vend i32) (local $xv v128) (local $xs ${t})
  (local.set $end (i32.add (local.get $y) (i32.mul (local.get $n) (i32.const ${bytes}))))
  (local.set $vend (i32.sub (local.get $end) (i32.const ${vb - bytes})))
  (memory.fill (local.get $y) (i32.const 0) (i32.mul (local.get $n) (i32.const ${bytes})))
  (block $pdone (loop $ploop
    (br_if $pdone (i32.ge_u (local.get $p) (local.get $K)))
    (local.set $xs (${t}.load (local.get $x)))
    (local.set $xv (${vt}.splat (local.get $xs)))
    (local.set $o (local.get $y)) (local.set $r (local.get $a))
    (block $vdone (loop $vloop
      (br_if $vdone (i32.ge_u (local.get $o) (local.get $vend)))
      (v128.store (local.get $o) (${vt}.add (v128.load (local.get $o)) (${vt}.mul (local.get $xv) (v128.load (local.get $r)))))
      (local.set $o (i32.add (local.get $o) (i32.const ${vb})))
      (local.set $r (i32.add (local.get $r) (i32.const ${vb})))
      (br $vloop)))
    (block $done (loop $loop
      (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
      (${t}.store (local.get $o) (${t}.add (${t}.load (local.get $o)) (${t}.mul (local.get $xs) (${t}.load (local.get $r)))))
      (local.set $o (i32.add (local.get $o) (i32.const ${bytes})))
      (local.set $r (i32.add (local.get $r) (i32.const ${bytes})))
      (br $loop)))
    (local.set $x (i32.add (local.get $x) (i32.const ${bytes})))
    (local.set $a (i32.add (local.get $a) (local.get $lda)))
    (local.set $p (i32.add (local.get $p) (i32.const 1)))
    (br $ploop)))
)
(func $outer_${t} (export "outer_${t}") (param $x i32) (param $xs i32) (param $b i32) (param $c i32) (param $m i32) (param $n i32)
  (local $i i32) (local $q i32) (local $end i32) (local $xv v128) (local $s ${t})
  (block $idone (loop $iloop
    (br_if $idone (i32.ge_u (local.get $i) (local.get $m)))
    (local.set $s (${t}.load (local.get $x)))
    (local.set $xv (${vt}.splat (local.get $s)))
    (local.set $q (local.get $b))
    (local.set $end (i32.add (local.get $c) (i32.mul (local.get $n) (i32.const ${bytes}))))
    (block $vdone (loop $vloop
      (br_if $vdone (i32.gt_s (i32.add (local.get $c) (i32.const ${vb})) (local.get $end)))
      (v128.store (local.get $c) (${vt}.mul (local.get $xv) (v128.load (local.get $q))))
      (local.set $c (i32.add (local.get $c) (i32.const ${vb})))
      (local.set $q (i32.add (local.get $q) (i32.const ${vb})))
      (br $vloop)))
    (block $done (loop $loop
      (br_if $done (i32.ge_u (local.get $c) (local.get $end)))
      (${t}.store (local.get $c) (${t}.mul (local.get $s) (${t}.load (local.get $q))))
      (local.set $c (i32.add (local.get $c) (i32.const ${bytes})))
      (local.set $q (i32.add (local.get $q) (i32.const ${bytes})))
      (br $loop)))
    (local.set $x (i32.add (local.get $x) (local.get $xs)))
    (local.set $i (i32.add (local.get $i) (i32.const 1)))
    (br $iloop)))
)`;
}

/**
 * colsum_<t>(x, out, acc, R, B): out[b] = Σ_r x[r·B + b] for a row-major R×B block, accumulated
 * in float64 (in acc, B f64 of scratch; f64 sums accumulate in out itself and ignore acc).
 */
function colsumFunc(t) {
  const bytes = t === 'f32' ? 4 : 8;
  const L = [];
  L.push(`(func $colsum_${t} (export "colsum_${t}") (param $x i32) (param $out i32) (param $acc i32) (param $R i32) (param $B i32)`);
  L.push('  (local $r i32) (local $o i32) (local $end i32) (local $vend i32) (local $v v128)');
  if (t === 'f64') L.push('  (local.set $acc (local.get $out))');
  L.push('  (local.set $end (i32.add (local.get $acc) (i32.mul (local.get $B) (i32.const 8))))');
  L.push('  (local.set $vend (i32.sub (local.get $end) (i32.const ' + (t === 'f32' ? 24 : 8) + ')))');
  L.push('  (memory.fill (local.get $acc) (i32.const 0) (i32.mul (local.get $B) (i32.const 8)))');
  L.push('  (block $rdone (loop $rloop');
  L.push('    (br_if $rdone (i32.ge_u (local.get $r) (local.get $R)))');
  L.push('    (local.set $o (local.get $acc))');
  L.push('    (block $vdone (loop $vloop');
  L.push('      (br_if $vdone (i32.ge_u (local.get $o) (local.get $vend)))');
  if (t === 'f32') {
    L.push('      (local.set $v (v128.load (local.get $x)))');
    L.push('      (v128.store (local.get $o) (f64x2.add (v128.load (local.get $o)) (f64x2.promote_low_f32x4 (local.get $v))))');
    L.push('      (v128.store offset=16 (local.get $o) (f64x2.add (v128.load offset=16 (local.get $o)) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))');
    L.push('      (local.set $o (i32.add (local.get $o) (i32.const 32)))');
    L.push('      (local.set $x (i32.add (local.get $x) (i32.const 16)))');
  } else {
    L.push('      (v128.store (local.get $o) (f64x2.add (v128.load (local.get $o)) (v128.load (local.get $x))))');
    L.push('      (local.set $o (i32.add (local.get $o) (i32.const 16)))');
    L.push('      (local.set $x (i32.add (local.get $x) (i32.const 16)))');
  }
  L.push('      (br $vloop)))');
  L.push('    (block $done (loop $loop');
  L.push('      (br_if $done (i32.ge_u (local.get $o) (local.get $end)))');
  const load = t === 'f32' ? '(f64.promote_f32 (f32.load (local.get $x)))' : '(f64.load (local.get $x))';
  L.push(`      (f64.store (local.get $o) (f64.add (f64.load (local.get $o)) ${load}))`);
  L.push('      (local.set $o (i32.add (local.get $o) (i32.const 8)))');
  L.push(`      (local.set $x (i32.add (local.get $x) (i32.const ${bytes})))`);
  L.push('      (br $loop)))');
  L.push('    (local.set $r (i32.add (local.get $r) (i32.const 1)))');
  L.push('    (br $rloop)))');
  if (t === 'f32') {
    // demote the f64 sums into out
    L.push('  (local.set $o (local.get $acc))');
    L.push('  (block $cdone (loop $cloop');
    L.push('    (br_if $cdone (i32.ge_u (local.get $o) (local.get $end)))');
    L.push('    (f32.store (local.get $out) (f32.demote_f64 (f64.load (local.get $o))))');
    L.push('    (local.set $o (i32.add (local.get $o) (i32.const 8)))');
    L.push('    (local.set $out (i32.add (local.get $out) (i32.const 4)))');
    L.push('    (br $cloop)))');
  }
  L.push(')');
  return L.join('\n');
}

/**
 * sqdiff_<t>(a, b, n) -> f64: Σ (a[i] − b[i])² over n contiguous values, the difference rounded
 * to the dtype (as a separate subtract would) and squared and summed in float64 (MSE's forward).
 */
function sqdiffFunc(t) {
  const bytes = t === 'f32' ? 4 : 8;
  const L = [];
  L.push(`(func $sqdiff_${t} (export "sqdiff_${t}") (param $a i32) (param $b i32) (param $n i32) (result f64)`);
  L.push('  (local $end i32) (local $vend i32) (local $d v128) (local $s0 v128) (local $s1 v128) (local $x f64)');
  L.push(`  (local.set $end (i32.add (local.get $a) (i32.mul (local.get $n) (i32.const ${bytes}))))`);
  L.push('  (local.set $vend (i32.sub (local.get $end) (i32.const 15)))');
  L.push('  (block $vdone (loop $vloop');
  L.push('    (br_if $vdone (i32.ge_s (local.get $a) (local.get $vend)))');
  if (t === 'f32') {
    L.push('    (local.set $d (f32x4.sub (v128.load (local.get $a)) (v128.load (local.get $b))))');
    L.push('    (local.set $s0 (f64x2.add (local.get $s0) (f64x2.mul (f64x2.promote_low_f32x4 (local.get $d)) (f64x2.promote_low_f32x4 (local.get $d)))))');
    L.push('    (local.set $d (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $d) (local.get $d)))');
    L.push('    (local.set $s1 (f64x2.add (local.get $s1) (f64x2.mul (f64x2.promote_low_f32x4 (local.get $d)) (f64x2.promote_low_f32x4 (local.get $d)))))');
  } else {
    L.push('    (local.set $d (f64x2.sub (v128.load (local.get $a)) (v128.load (local.get $b))))');
    L.push('    (local.set $s0 (f64x2.add (local.get $s0) (f64x2.mul (local.get $d) (local.get $d))))');
  }
  L.push('    (local.set $a (i32.add (local.get $a) (i32.const 16)))');
  L.push('    (local.set $b (i32.add (local.get $b) (i32.const 16)))');
  L.push('    (br $vloop)))');
  L.push('  (local.set $s0 (f64x2.add (local.get $s0) (local.get $s1)))');
  L.push('  (local.set $x (f64.add (f64x2.extract_lane 0 (local.get $s0)) (f64x2.extract_lane 1 (local.get $s0))))');
  L.push('  (block $done (loop $loop');
  L.push('    (br_if $done (i32.ge_u (local.get $a) (local.get $end)))');
  const d = t === 'f32'
    ? '(f64.promote_f32 (f32.sub (f32.load (local.get $a)) (f32.load (local.get $b))))'
    : '(f64.sub (f64.load (local.get $a)) (f64.load (local.get $b)))';
  L.push(`    (local.set $s0 (f64x2.splat ${d}))`);
  L.push('    (local.set $x (f64.add (local.get $x) (f64.mul (f64x2.extract_lane 0 (local.get $s0)) (f64x2.extract_lane 0 (local.get $s0)))))');
  L.push(`    (local.set $a (i32.add (local.get $a) (i32.const ${bytes})))`);
  L.push(`    (local.set $b (i32.add (local.get $b) (i32.const ${bytes})))`);
  L.push('    (br $loop)))');
  L.push('  (local.get $x)');
  L.push(')');
  return L.join('\n');
}

/** The whole module; `shared` picks the memory import (shared for worker threads, or plain). */
export function wat(shared, tiles = TILES) {
  return [
    `;; generated by scripts/wasm-gen.mjs; do not edit (tiles: ${JSON.stringify(tiles)})`,
    '(module',
    `  (import "env" "mem" (memory 1 32768${shared ? ' shared' : ''}))`,
    gemmFunc('f32', tiles.f32),
    gemmFunc('f64', tiles.f64),
    packFunc('f32', 'a', tiles.f32),
    packFunc('f32', 'b', tiles.f32),
    packFunc('f64', 'a', tiles.f64),
    packFunc('f64', 'b', tiles.f64),
    sumFunc('f32'),
    sumFunc('f64'),
    sqdiffFunc('f32'),
    sqdiffFunc('f64'),
    colsumFunc('f32'),
    colsumFunc('f64'),
    gemvFuncs('f32'),
    gemvFuncs('f64'),
    ...['f32', 'f64'].flatMap((t) => [...EW_BINARY.flatMap((op) => EW_PATTERNS.map((p) => ewFunc(t, op, p))), ewFunc(t, 'relu', 'v')]),
    ')',
  ].join('\n');
}

const FEATURES = { simd: true, threads: true };

export async function assemble(text) {
  const wabt = await initWabt();
  const mod = wabt.parseWat('kernels.wat', text, FEATURES);
  mod.validate(FEATURES);
  const { buffer } = mod.toBinary({});
  mod.destroy();
  return buffer;
}

/** Limits flags of a memory import: 1 = has a maximum, 3 = has a maximum and is shared. */
export const PLAIN_FLAGS = 1;
export const SHARED_FLAGS = 3;

/**
 * The plain module and where its memory import's flags byte sits: the one byte in which the
 * shared variant differs (thrown if they differ anywhere else).
 */
export async function modules() {
  const shared = await assemble(wat(true));
  const plain = await assemble(wat(false));
  const diff = [];
  if (shared.length === plain.length) for (let i = 0; i < plain.length; i++) if (shared[i] !== plain[i]) diff.push(i);
  if (diff.length !== 1 || plain[diff[0]] !== PLAIN_FLAGS || shared[diff[0]] !== SHARED_FLAGS) {
    throw new Error(`the shared and plain modules should differ in the memory flags byte alone; they differ at ${diff.slice(0, 8)}`);
  }
  return { plain, shared, flagsAt: diff[0] };
}

async function main() {
  const check = process.argv.includes('--check');
  const { plain, flagsAt } = await modules();
  const b64 = (u8) => Buffer.from(u8).toString('base64');
  const ts = [
    '// generated by scripts/wasm-gen.mjs from the WAT in wasm-kernels.wat; do not edit.',
    '// The module imports a plain memory; for a shared one (worker threads) wasm.ts sets the',
    '// memory import\'s limits flags, the byte at MEMORY_FLAGS_AT, from PLAIN_FLAGS to SHARED_FLAGS.',
    `export const TILES = ${JSON.stringify(TILES)} as const;`,
    `export const MEMORY_FLAGS_AT = ${flagsAt};`,
    `export const PLAIN_FLAGS = ${PLAIN_FLAGS};`,
    `export const SHARED_FLAGS = ${SHARED_FLAGS};`,
    `export const WASM = '${b64(plain)}';`,
    '',
  ].join('\n');
  const files = [
    [path.join(root, 'src/backends/cpu/wasm-kernels.wat'), wat(true) + '\n'],
    [path.join(root, 'src/backends/cpu/wasm-bytes.ts'), ts],
  ];
  for (const [file, text] of files) {
    if (check) {
      let old = '';
      try {
        old = readFileSync(file, 'utf8');
      } catch {}
      if (old !== text) {
        console.error(`${path.relative(root, file)} is stale: run node scripts/wasm-gen.mjs`);
        process.exitCode = 1;
      }
    } else {
      writeFileSync(file, text);
      console.log(`wrote ${path.relative(root, file)} (${text.length} chars)`);
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
