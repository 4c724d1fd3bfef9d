// C = A·B for one (m×K)·(K×n) product over strided operands (matmul.ts asks policy.ts which):
//   gemmWasm: pack A and B into the wasm memory (any strides: transposed and broadcast views are
//             read in place), run the SIMD micro-kernel over cache blocks, split over worker
//             threads when the policy says so, copy C out;
//   gemmThin: a row or column of C, or an outer product, on the wasm matrix-vector kernels;
//   gemmJs:   plain JS (no WebAssembly, or products too small to be worth packing).
import type { TypedArray } from '../backend';
import { ARG, ARG_WORDS, KIND, MAX_CHUNKS, MM, matmulChunks, nextJob } from './job';
import { dispatch, helpers, runShared } from './pool';
import { config } from './config';
import { inHeap, scratch } from './heap';
import { TILES, type Wasm } from './wasm';

/** A matrix view: element (i, j) is data[offset + i·rs + j·cs]. */
export interface Operand {
  data: TypedArray;
  offset: number;
  rs: number;
  cs: number;
}

/**
 * Blocking: K in blocks of at most KC_MAX (split evenly: 784 = 4 × 196, not 3 × 256 + 16, since a
 * thin last block pays the C tile's loads and stores for little work); A's rows in blocks of MCP
 * panels (MCP·MR·kc values, in L2); C in chunks of MCP × NCH panels, shared out between threads.
 */
const KC_MAX = 256;
const MCP = 16;
/** B panels per chunk of C (see job.ts): 128 columns of float32, 64 of float64 */
const NCH = 8;

/** The chunks of C a product of m × n splits into for the threads. */
export function gemmChunks(f64: boolean, m: number, n: number): number {
  const { MR, NR } = f64 ? TILES.f64 : TILES.f32;
  return matmulChunks(Math.ceil(m / MR), Math.ceil(n / NR), MCP, NCH);
}

const align = (x: number) => (x + 63) & ~63;

/** A into MR-row panels, p-major within each k-block, rows past m zero. Returns the next index. */
function packA(dst: TypedArray, o: number, A: Operand, m: number, K: number, KC: number, mp: number, MR: number): number {
  const { data, offset, rs, cs } = A;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = Math.min(KC, K - k0);
    for (let ip = 0; ip < mp; ip++) {
      const i0 = ip * MR;
      const rows = Math.min(MR, m - i0);
      let s = offset + i0 * rs + k0 * cs;
      if (rows === 4 && MR === 4) {
        const r2 = 2 * rs;
        const r3 = 3 * rs;
        for (let p = 0; p < kc; p++, s += cs, o += 4) {
          dst[o] = data[s]!;
          dst[o + 1] = data[s + rs]!;
          dst[o + 2] = data[s + r2]!;
          dst[o + 3] = data[s + r3]!;
        }
      } else {
        for (let p = 0; p < kc; p++, s += cs) {
          for (let r = 0; r < MR; r++) dst[o++] = r < rows ? data[s + r * rs]! : 0;
        }
      }
    }
  }
  return o;
}

/** B into NR-column panels, p-major within each k-block, columns past n zero. */
function packB(dst: TypedArray, o: number, B: Operand, n: number, K: number, KC: number, np: number, NR: number): number {
  const { data, offset, rs, cs } = B;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = Math.min(KC, K - k0);
    for (let jp = 0; jp < np; jp++) {
      const j0 = jp * NR;
      const cols = Math.min(NR, n - j0);
      let s = offset + k0 * rs + j0 * cs;
      if (cols === NR && cs === 1) {
        for (let p = 0; p < kc; p++, s += rs, o += NR) {
          for (let c = 0; c < NR; c++) dst[o + c] = data[s + c]!;
        }
      } else {
        for (let p = 0; p < kc; p++, s += rs) {
          for (let c = 0; c < NR; c++) dst[o++] = c < cols ? data[s + c * cs]! : 0;
        }
      }
    }
  }
  return o;
}

const args = new Int32Array(ARG_WORDS);

/** Where gemmWasm's time goes (ms), collected only while `gemmProfile.on` (benchmarks turn it on). */
export const gemmProfile = { on: false, calls: 0, pack: 0, kernel: 0, copy: 0, threaded: 0 };
const now = () => performance.now();

/**
 * Elements of C that gemmWasm wrote to scratch and then copied into the output, counted always
 * (one addition per product): tests check that products whose output is in the heap skip it.
 */
export const gemmStats = { copiedOut: 0 };

/**
 * C[cOff + i·n + j] = Σ_p A(i,p)·B(p,j) with the wasm kernel, shared with the worker threads when
 * `threaded`; false when the wasm memory cannot hold the packed operands (the caller then uses
 * gemmJs). `sameB`: B is the one that the previous call packed, with the same n and K (the next
 * product of a batch whose B is broadcast).
 */
export function gemmWasm(
  w: Wasm, f64: boolean, m: number, n: number, K: number, A: Operand, B: Operand, C: TypedArray, cOff: number, sameB: boolean,
  threaded: boolean,
): boolean {
  const { MR, NR } = f64 ? TILES.f64 : TILES.f32;
  const sz = f64 ? 8 : 4;
  const mp = Math.ceil(m / MR);
  const np = Math.ceil(n / NR);
  const KC = Math.ceil(K / Math.ceil(K / KC_MAX));
  const ldc = np * NR * sz;
  // the elements each operand's view spans (strides are never negative)
  const spanA = (m - 1) * A.rs + (K - 1) * A.cs + 1;
  const spanB = (K - 1) * B.rs + (n - 1) * B.cs + 1;
  // an operand in the wasm heap is packed in place; another is copied in first (a memcpy of its
  // span), unless it spans much more than its elements (a window of a big buffer): packed from JS
  const heapA = inHeap(A.data);
  const heapB = inHeap(B.data);
  const rawA = !heapA && spanA <= 2 * m * K ? spanA : 0;
  const rawB = !heapB && spanB <= 2 * K * n ? spanB : 0;
  // C straight into the output when that is in the heap and C has no padding (whole MR × NR
  // tiles: the kernel writes every tile whole); otherwise into scratch, copied out after
  const direct = m % MR === 0 && n % NR === 0 && inHeap(C);
  const bytesB = align(np * NR * K * sz);
  const bytesA = align(mp * MR * K * sz);
  const bytesC = direct ? 0 : align(mp * MR * ldc);
  const base = scratch(w, bytesB + bytesA + bytesC + Math.max(rawA, rawB) * sz);
  if (base < 0) return false;
  const bBase = base;
  const aBase = bBase + bytesB;
  const cBase = direct ? C.byteOffset + cOff * sz : aBase + bytesA;
  const rawBase = aBase + bytesA + bytesC;
  const chunks = matmulChunks(mp, np, MCP, NCH);
  if (chunks > MAX_CHUNKS) return false;
  // share the chunks of C with the workers that are ready
  const slots = threaded ? helpers(w, chunks) : [];
  args[ARG.JOB] = nextJob();
  args[ARG.KIND] = KIND.MATMUL;
  args[ARG.CHUNKS] = chunks;
  args[ARG.BYTES] = sz;
  args[ARG.GO_WAIT_US] = Math.round(config.goWaitMs * 1000);
  args[MM.MP] = mp; args[MM.NP] = np; args[MM.K] = K; args[MM.KC] = KC; args[MM.MCP] = MCP; args[MM.NCH] = NCH;
  args[MM.A] = aBase; args[MM.B] = bBase; args[MM.C] = cBase; args[MM.LDC] = ldc; args[MM.MR] = MR; args[MM.NR] = NR;
  // wake the workers now: they wait for the ticket, opened once the operands are packed
  for (const slot of slots) dispatch(slot, args);
  const mem = f64 ? w.f64 : w.f32;
  const pack = f64 ? w.packF64 : w.packF32;
  const prof = gemmProfile.on;
  const t0 = prof ? now() : 0;
  if (!sameB) {
    if (heapB) pack.b(B.data.byteOffset + B.offset * sz, B.rs * sz, B.cs * sz, n, K, KC, np, bBase);
    else if (rawB > 0) {
      mem.set(B.data.subarray(B.offset, B.offset + spanB), rawBase / sz);
      pack.b(rawBase, B.rs * sz, B.cs * sz, n, K, KC, np, bBase);
    } else packB(mem, bBase / sz, B, n, K, KC, np, NR);
  }
  if (heapA) pack.a(A.data.byteOffset + A.offset * sz, A.rs * sz, A.cs * sz, m, K, KC, mp, aBase);
  else if (rawA > 0) {
    mem.set(A.data.subarray(A.offset, A.offset + spanA), rawBase / sz);
    pack.a(rawBase, A.rs * sz, A.cs * sz, m, K, KC, mp, aBase);
  } else packA(mem, aBase / sz, A, m, K, KC, mp, MR);
  const t1 = prof ? now() : 0;
  runShared(w, f64 ? w.gemmF64 : w.gemmF32, args, slots, 'matmul');
  const t2 = prof ? now() : 0;

  if (!direct) {
    // copy C out (its rows are padded to whole panels in the wasm memory)
    const c0 = cBase / sz;
    const ldcE = np * NR;
    if (ldcE === n) C.set(mem.subarray(c0, c0 + m * n), cOff);
    else for (let i = 0; i < m; i++) C.set(mem.subarray(c0 + i * ldcE, c0 + i * ldcE + n), cOff + i * n);
    gemmStats.copiedOut += m * n;
  }
  if (prof) {
    const p = gemmProfile;
    p.calls++;
    p.pack += t1 - t0;
    p.kernel += t2 - t1;
    p.copy += now() - t2;
    if (slots.length > 0) p.threaded++;
  }
  return true;
}

let rowScratch = new Float64Array(64);

/**
 * The plain-JS product. Each row of C accumulates in float64: for every A(i,p), a saxpy of B's
 * row p (i-p-j order, unit stride on B's rows when B is row-major); a dot product per element
 * when C is a column (n = 1).
 */
export function gemmJs(m: number, n: number, K: number, A: Operand, B: Operand, C: TypedArray, cOff: number): void {
  const { data: a, offset: ao, rs: ars, cs: acs } = A;
  const { data: b, offset: bo, rs: brs, cs: bcs } = B;
  if (n === 1) {
    for (let i = 0; i < m; i++) {
      let s = 0;
      for (let p = 0, ai = ao + i * ars, bi = bo; p < K; p++, ai += acs, bi += brs) s += a[ai]! * b[bi]!;
      C[cOff + i] = s;
    }
    return;
  }
  if (rowScratch.length < n) rowScratch = new Float64Array(n);
  const row = rowScratch;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) row[j] = 0;
    for (let p = 0, ai = ao + i * ars; p < K; p++, ai += acs) {
      const av = a[ai]!;
      const bp = bo + p * brs;
      if (bcs === 1) for (let j = 0; j < n; j++) row[j]! += av * b[bp + j]!;
      else for (let j = 0; j < n; j++) row[j]! += av * b[bp + j * bcs]!;
    }
    const co = cOff + i * n;
    for (let j = 0; j < n; j++) C[co + j] = row[j]!;
  }
}

/**
 * The thin products, where packing would pad a single row or column to whole panels: a column of
 * C (n = 1), a row of C (m = 1), and outer products (K = 1), on the wasm matrix-vector kernels.
 * The matrix operand must be in the wasm heap with unit stride along one axis; vectors are used in
 * place when they are contiguous heap arrays and gathered into scratch otherwise. False when the
 * shape or layout does not fit (the caller uses the general paths).
 */
export function gemmThin(w: Wasm, f64: boolean, m: number, n: number, K: number, A: Operand, B: Operand, C: TypedArray, cOff: number): boolean {
  const sz = f64 ? 8 : 4;
  const fns = f64 ? w.thin.f64 : w.thin.f32;
  // the matrix, walked either as rows (N: dot products) or as columns (T: axpys)
  let mat: Operand | null = null;
  let transposed = false;
  let ld = 0;
  let vec: Operand;
  let len: number;
  if (K === 1) {
    vec = A; // A's column, m values rs apart; B's row is the second vector
    len = m;
  } else if (n === 1) {
    vec = { data: B.data, offset: B.offset, rs: B.rs, cs: 0 }; // B's column: K values rs apart
    len = K;
    mat = A;
    if (A.cs === 1) ld = A.rs;
    else if (A.rs === 1) [transposed, ld] = [true, A.cs];
    else return false;
  } else if (m === 1) {
    vec = { data: A.data, offset: A.offset, rs: A.cs, cs: 0 }; // A's row: K values cs apart
    len = K;
    mat = B;
    if (B.rs === 1) ld = B.cs;
    else if (B.cs === 1) [transposed, ld] = [true, B.rs];
    else return false;
  } else return false;
  if (mat !== null && !inHeap(mat.data)) return false;
  const second: Operand | null = K === 1 ? { data: B.data, offset: B.offset, rs: B.cs, cs: 0 } : null;
  const outLen = m * n;
  const cIn = inHeap(C);
  const direct = (v: Operand) => inHeap(v.data) && (v.rs === 1 || len === 1);
  const vBytes = direct(vec) ? 0 : align(len * sz);
  const sBytes = second === null || (inHeap(second.data) && (second.rs === 1 || n === 1)) ? 0 : align(n * sz);
  const cBytes = cIn ? 0 : align(outLen * sz);
  const need = vBytes + sBytes + cBytes;
  const base = need > 0 ? scratch(w, need) : 0;
  if (base < 0) return false;
  const mem = f64 ? w.f64 : w.f32;
  const place = (v: Operand, count: number, at: number, copy: boolean): number => {
    if (!copy) return v.data.byteOffset + v.offset * sz;
    for (let i = 0, s = v.offset, d = at / sz; i < count; i++, s += v.rs) mem[d + i] = v.data[s]!;
    return at;
  };
  const x = place(vec, len, base, vBytes > 0);
  const y = cIn ? C.byteOffset + cOff * sz : base + vBytes + sBytes;
  if (second !== null) {
    const b = place(second, n, base + vBytes, sBytes > 0);
    fns.outer(x, vBytes > 0 ? sz : vec.rs * sz, b, y, m, n);
  } else {
    const addr = mat!.data.byteOffset + mat!.offset * sz;
    const rows = m === 1 ? n : m;
    if (transposed) fns.gemvT(addr, ld * sz, x, y, rows, K);
    else fns.gemvN(addr, ld * sz, x, y, rows, K);
  }
  if (!cIn) C.set(mem.subarray(y / sz, y / sz + outLen), cOff);
  return true;
}
