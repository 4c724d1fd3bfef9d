// Batched matmul over strided views: batch dims broadcast by stride 0; each (m×k)·(k×n) product
// runs where policy.ts says: on the wasm SIMD kernel (packed, cache-blocked, threaded when big) or
// in plain JS (no WebAssembly, wasm disabled by configureCpu, or a product too small to repay the
// packing).
import { sizeOf, type OutInfo } from '../backend';
import { broadcastStrides, type View } from '../view';
import { config } from './config';
import { gemmChunks, gemmJs, gemmThin, gemmWasm, type Operand } from './gemm';
import { choosePath, wasmPossible } from './policy';
import { alloc, fresh, type CpuStorage } from './storage';
import { wasm } from './wasm';
import { inHeap } from './heap';

export function matmul(a: CpuStorage, b: CpuStorage, out: OutInfo): CpuStorage {
  const rank = out.shape.length;
  const m = out.shape[rank - 2]!;
  const n = out.shape[rank - 1]!;
  const av = a.view;
  const bv = b.view;
  const k = av.shape[av.shape.length - 1]!;
  const batchShape = out.shape.slice(0, -2);
  const batches = sizeOf(batchShape);
  if (m === 0 || n === 0 || k === 0 || batches === 0) return fresh(alloc(out.dtype, batches * m * n, true), out.shape);
  const c = alloc(out.dtype, batches * m * n);

  // each operand's strides over the output's batch dims (0 where it is broadcast)
  const batchStrides = (v: View) => broadcastStrides(v, [...batchShape, ...v.shape.slice(-2)]).slice(0, rank - 2);
  const ra = av.shape.length;
  const rb = bv.shape.length;
  const A: Operand = { data: av.data, offset: 0, rs: av.strides[ra - 2]!, cs: av.strides[ra - 1]! };
  const B: Operand = { data: bv.data, offset: 0, rs: bv.strides[rb - 2]!, cs: bv.strides[rb - 1]! };
  const w = wasmPossible('matmul', m * n * k) ? wasm() : null;
  const path = w === null ? 'js' : choosePath({
    family: 'matmul',
    work: m * n * k,
    kernel: true,
    inHeap: inHeap(av.data) && inHeap(bv.data),
    chunks: gemmChunks(out.dtype === 'float64', m, n),
  });
  // a row or column of C, or an outer product: the matrix-vector kernels (packing would pad it to panels)
  const thin = path !== 'js' && (m === 1 || n === 1 || k === 1);
  // a matrix times a column that the thin kernels cannot take stays in JS (dot products): the
  // packed kernel would pad the column to NR (tests force it with wasmMinWork = 0)
  const general = path !== 'js' && (n > 1 || config.wasmMinWork === 0);
  const threaded = path === 'threaded';
  const f64 = out.dtype === 'float64';

  const aBS = batchStrides(av);
  const bBS = batchStrides(bv);
  const idx = new Array<number>(batchShape.length).fill(0);
  let lastB = -1;
  for (let batch = 0; batch < batches; batch++) {
    A.offset = av.offset;
    B.offset = bv.offset;
    for (let d = 0; d < idx.length; d++) {
      A.offset += idx[d]! * aBS[d]!;
      B.offset += idx[d]! * bBS[d]!;
    }
    const co = batch * m * n;
    const viaThin = thin && gemmThin(w!, f64, m, n, k, A, B, c, co);
    const done = viaThin || (general && gemmWasm(w!, f64, m, n, k, A, B, c, co, B.offset === lastB, threaded));
    if (!done) gemmJs(m, n, k, A, B, c, co);
    lastB = done && !viaThin ? B.offset : -1;
    for (let d = idx.length - 1; d >= 0; d--) {
      if (++idx[d]! < batchShape[d]!) break;
      idx[d] = 0;
    }
  }
  return fresh(c, out.shape);
}

/** x @ W + b: the product, then the bias added to each row in place (one output buffer, no second op). */
export function linear(x: CpuStorage, w: CpuStorage, b: CpuStorage, out: OutInfo): CpuStorage {
  const res = matmul(x, w, out);
  const c = res.view.data;
  const n = out.shape[out.shape.length - 1]!;
  const rows = n === 0 ? 0 : c.length / n;
  const { data: bd, offset: bo, strides } = b.view;
  const bs = strides[0]!;
  const wm = config.wasm ? wasm() : null;
  // the rows are n long and in place: the fused family's threshold on n (as for mse's n)
  const path = choosePath({ family: 'fused', work: n, kernel: wm !== null && bs === 1, inHeap: inHeap(c) && inHeap(bd) });
  const add = path === 'js' ? undefined : wm!.ew[c.BYTES_PER_ELEMENT === 8 ? 'ew_add_f64_vv' : 'ew_add_f32_vv'];
  if (add) {
    const sz = c.BYTES_PER_ELEMENT;
    const bAddr = bd.byteOffset + bo * sz;
    for (let i = 0, at = c.byteOffset; i < rows; i++, at += n * sz) add(at, at, bAddr, n);
    return res;
  }
  for (let i = 0, o = 0; i < rows; i++) for (let j = 0, q = bo; j < n; j++, q += bs) c[o++]! += bd[q]!;
  return res;
}
