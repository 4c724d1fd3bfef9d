// The WebGPU kernel table: one entry per compute primitive, checked complete by `satisfies
// KernelTable`, and the fused ops that pay. Movement ops never get here (the engine makes views);
// every kernel reads its inputs through (offset, strides), so it accepts any view.
import {
  BINARY_OPS, UNARY_OPS, rowMajorStrides, sizeOf, tableOf,
  type KernelTable, type OutInfo, type ReduceOp, type WindowAttrs,
} from '../backend';
import { fmtShape } from '../../ops/registry';
import { broadcastStrides, coalesce, windowCount } from '../view';
import type { GpuStorage } from './layout';
import type { Runtime } from './runtime';
import {
  BINARY_WGSL, INT_WGSL, TO_FLOAT_WGSL, TO_INT_WGSL, UNARY_WGSL, WHERE_INT_COND_WGSL, WHERE_WGSL, WORKGROUP,
  argSource, elementwiseSource, foldSource, gatherSource, matmulSource, reduceSource, scatterAddSource, type Elem,
} from './wgsl';

export function makeKernels(rt: Runtime) {
  const sources = new Map<string, string>();
  const source = (key: string, make: () => string) => {
    let s = sources.get(key);
    if (s === undefined) sources.set(key, (s = make()));
    return s;
  };

  /**
   * out[window] = expr(inputs broadcast to `shape`). The window is `dst.s` seen through
   * `dst.strides` from `dst.offset` (pad, concat); by default all of a fresh row-major output.
   */
  function elementwise(
    names: readonly string[],
    expr: string,
    inputs: GpuStorage[],
    shape: readonly number[],
    dst?: { s: GpuStorage; offset: number; strides: readonly number[] },
    dtype: GpuStorage['dtype'] = 'float32',
  ): GpuStorage {
    const out = dst?.s ?? rt.fresh(shape, dtype);
    const n = sizeOf(shape);
    if (n === 0) return out;
    const outStrides = dst?.strides ?? rowMajorStrides(shape);
    const c = coalesce(shape, [outStrides, ...inputs.map((s) => broadcastStrides(s.view, shape))]);
    const offsets = [dst?.offset ?? 0, ...inputs.map((s) => s.view.offset)];
    const meta = [n, c.shape.length, ...c.shape, ...c.strides.flatMap((st, k) => [offsets[k]!, ...st])];
    const flat = c.shape.length <= 1;
    const types = [elemOf(out), ...inputs.map(elemOf)];
    const code = source(`ew:${flat}:${names.join(',')}:${types.join(',')}:${expr}`, () => elementwiseSource(names, expr, flat, types));
    rt.dispatch(code, [rt.meta(meta), out.buf.buffer, ...inputs.map((s) => s.buf.buffer)], Math.ceil(n / WORKGROUP));
    return out;
  }

  const copy = (x: GpuStorage) => elementwise(['x'], UNARY_WGSL.copy, [x], x.view.shape, undefined, x.dtype);

  function reduce(op: ReduceOp, x: GpuStorage, axes: number[], out: OutInfo): GpuStorage {
    const res = rt.fresh(out.shape, x.dtype);
    const { shape, strides, offset } = x.view;
    const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
    const pick = (idx: number[], of: readonly number[]) => idx.map((i) => of[i]!);
    const k = coalesce(pick(kept, shape), [pick(kept, strides)]);
    const r = coalesce(pick(axes, shape), [pick(axes, strides)]);
    const A = sizeOf(k.shape);
    const R = sizeOf(r.shape);
    if (A === 0) return res;
    const meta = [A, R, k.shape.length, r.shape.length, offset, ...k.shape, ...k.strides[0]!, ...r.shape, ...r.strides[0]!];
    // One workgroup per output pays off when each output has enough elements to share and there
    // are few enough outputs that the GPU is not already full of them.
    const tree = R > 64 && A < 4096;
    const schedule = tree ? 'tree' : 'serial';
    const elem = elemOf(x);
    const code = source(`reduce:${op}:${schedule}:${elem}`, () => reduceSource(op, schedule, elem));
    rt.dispatch(code, [rt.meta(meta), res.buf.buffer, x.buf.buffer], tree ? A : Math.ceil(A / WORKGROUP));
    return res;
  }

  /** C = A @ B (+ bias, a vector added to every row as C is written) */
  function matmul(a: GpuStorage, b: GpuStorage, out: OutInfo, bias?: GpuStorage): GpuStorage {
    const res = rt.fresh(out.shape);
    const rank = out.shape.length;
    const [M, N] = out.shape.slice(-2) as [number, number];
    const av = a.view;
    const bv = b.view;
    const K = av.shape[av.shape.length - 1]!;
    const batchShape = out.shape.slice(0, -2);
    const batches = sizeOf(batchShape);
    if (M === 0 || N === 0 || batches === 0) return res;
    if (batches > 65535) {
      throw new Error(`matmul: ${batches} batches (shapes ${fmtShape(av.shape)} @ ${fmtShape(bv.shape)}) exceed WebGPU's 65535 workgroups in z; reshape the batch dims into rows`);
    }
    // batch strides of each operand over the output's batch shape (0 where broadcast)
    const batchStrides = (v: GpuStorage['view']) => broadcastStrides(v, [...batchShape, ...v.shape.slice(-2)]).slice(0, rank - 2);
    const [sam, sak] = av.strides.slice(-2) as [number, number];
    const [sbk, sbn] = bv.strides.slice(-2) as [number, number];
    const meta = [M, N, K, rank - 2, av.offset, sam, sak, bv.offset, sbk, sbn, ...batchShape, ...batchStrides(av), ...batchStrides(bv)];
    if (bias) meta.push(bias.view.offset, bias.view.strides[0]!);
    // 64×64 tiles once both sides fill one; below that 16×16 tiles waste less
    const per = M >= 64 && N >= 64 ? 4 : 1;
    const tile = 16 * per;
    const code = source(`matmul:${per}:${!!bias}`, () => matmulSource(per, !!bias));
    const groups: [number, number, number] = [Math.ceil(N / tile), Math.ceil(M / tile), batches];
    const buffers = [rt.meta(meta), res.buf.buffer, a.buf.buffer, b.buf.buffer];
    if (bias) buffers.push(bias.buf.buffer);
    rt.dispatch(code, buffers, groups);
    return res;
  }

  // int32 inputs reach only the ops the engine allows on them (ints: true), each with an i32 snippet
  const snippet = (op: keyof typeof INT_WGSL, float: string, x: GpuStorage) => (x.dtype === 'int32' ? INT_WGSL[op]! : float);

  /** fold (col2im): see foldSource; one invocation per output element. */
  function fold(g: GpuStorage, a: WindowAttrs, out: OutInfo): GpuStorage {
    const res = rt.fresh(out.shape);
    const n = sizeOf(out.shape);
    if (n === 0) return res;
    const r = out.shape.length;
    const A = a.axes.length;
    const T = sizeOf(a.size);
    if (T === 0 || sizeOf(g.view.shape) === 0) {
      rt.clear(res.buf, n * 4);
      return res;
    }
    const isWin = out.shape.map((_, d) => (a.axes.includes(d) ? 1 : 0));
    const tapStrides = rowMajorStrides(a.size);
    const perAxis = a.axes.flatMap((ax, w) => [
      ax, a.size[w]!, a.stride[w]!, a.dilation[w]!,
      windowCount(out.shape[ax]!, a.size[w]!, a.stride[w], a.dilation[w]), tapStrides[w]!,
    ]);
    const meta = [n, r, A, g.view.offset, T, ...out.shape, ...rowMajorStrides(out.shape), ...isWin, ...g.view.strides, ...perAxis];
    const code = source('fold', foldSource);
    rt.dispatch(code, [rt.meta(meta), res.buf.buffer, g.buf.buffer], Math.ceil(n / WORKGROUP));
    return res;
  }

  const unary = tableOf(UNARY_OPS, (op) => ([x]: GpuStorage[], _: unknown, out: OutInfo) =>
    elementwise(['x'], snippet(op, UNARY_WGSL[op], x!), [x!], out.shape, undefined, gpuDtype(out)),
  );
  const binary = tableOf([...BINARY_OPS, 'reluGrad'] as const, (op) => (xs: GpuStorage[], _: unknown, out: OutInfo) =>
    elementwise(['a', 'b'], op === 'reluGrad' ? BINARY_WGSL[op] : snippet(op, BINARY_WGSL[op], xs[0]!), xs, out.shape, undefined, gpuDtype(out)),
  );

  /** Launch meta and buffers on a one-invocation-per-output shader. */
  const launch = (code: string, meta: number[], buffers: GPUBuffer[], n: number) =>
    rt.dispatch(code, [rt.meta(meta), ...buffers], Math.ceil(n / WORKGROUP));

  const kernels = {
    ...unary,
    ...binary,
    where: (xs, _, out) =>
      elementwise(['c', 'a', 'b'], xs[0]!.dtype === 'int32' ? WHERE_INT_COND_WGSL : WHERE_WGSL, xs, out.shape, undefined, gpuDtype(out)),
    // float32 → float32 is the identity: another handle on the same view
    cast: ([x], { dtype }) => {
      if (dtype !== 'float32' && dtype !== 'int32') throw new Error(`cast: dtype ${dtype} is not supported on webgpu (float32 and int32)`);
      if (dtype === x!.dtype) {
        x!.buf.refs++;
        return { ...x! };
      }
      return elementwise(['x'], dtype === 'int32' ? TO_INT_WGSL : TO_FLOAT_WGSL, [x!], x!.view.shape, undefined, dtype);
    },
    gather: ([x, index], { axis }, out) => {
      const res = rt.fresh(out.shape, x!.dtype);
      const n = sizeOf(out.shape);
      if (n === 0) return res;
      const iv = index!.view;
      const xv = x!.view;
      const meta = [n, out.shape.length, axis, xv.shape[axis]!, ...out.shape, iv.offset, ...iv.strides, xv.offset, ...xv.strides];
      const elem = elemOf(x!);
      launch(source(`gather:${elem}`, () => gatherSource(elem)), meta, [res.buf.buffer, x!.buf.buffer, index!.buf.buffer], n);
      return res;
    },
    scatterAdd: ([g, index], { axis }, out) => {
      const res = rt.fresh(out.shape, g!.dtype);
      const n = sizeOf(out.shape);
      if (n === 0) return res;
      const gv = g!.view;
      const iv = index!.view;
      const meta = [n, out.shape.length, axis, ...out.shape, ...iv.shape, gv.offset, ...gv.strides, iv.offset, ...iv.strides];
      const elem = elemOf(g!);
      launch(source(`scatterAdd:${elem}`, () => scatterAddSource(elem)), meta, [res.buf.buffer, g!.buf.buffer, index!.buf.buffer], n);
      return res;
    },
    argmax: ([x], { axis }, out) => argReduce('argmax', x!, axis, out),
    argmin: ([x], { axis }, out) => argReduce('argmin', x!, axis, out),
    sum: ([x], { axes }, out) => reduce('sum', x!, axes, out),
    max: ([x], { axes }, out) => reduce('max', x!, axes, out),
    min: ([x], { axes }, out) => reduce('min', x!, axes, out),
    matmul: ([a, b], _, out) => matmul(a!, b!, out),
    fold: ([g], attrs, out) => fold(g!, attrs, out),
    // the bias is added as the matmul kernel writes C
    linear: ([x, w, b], _, out) => matmul(x!, w!, out, b!),
    // mse runs as its composition within one kernel call (no tape, no tensors)
    mse: ([p, t], _, out) => {
      const shape = p!.view.shape;
      const n = sizeOf(shape);
      // (p − t)² in one pass, summed over every axis, then divided by n (a uniform, not a new shader per n)
      const sq = elementwise(['a', 'b'], '(a - b) * (a - b)', [p!, t!], shape);
      const total = reduce('sum', sq, shape.map((_, i) => i), { shape: [], dtype: 'float32' });
      rt.releaseBuffer(sq.buf);
      const scale = rt.fresh([]);
      rt.write(scale.buf, Float32Array.of(1 / n));
      const res = elementwise(['a', 'b'], BINARY_WGSL.mul, [total, scale], out.shape);
      rt.releaseBuffer(total.buf);
      rt.releaseBuffer(scale.buf);
      return res;
    },

    pad: ([x], { before }, out) => {
      const res = rt.fresh(out.shape, x!.dtype);
      rt.clear(res.buf, sizeOf(out.shape) * 4);
      const strides = rowMajorStrides(out.shape);
      const offset = before.reduce((o, b, i) => o + b * strides[i]!, 0);
      return elementwise(['x'], UNARY_WGSL.copy, [x!], x!.view.shape, { s: res, offset, strides }, x!.dtype);
    },
    concat: (xs, { axis }, out) => {
      const res = rt.fresh(out.shape, xs[0]!.dtype);
      const strides = rowMajorStrides(out.shape);
      let at = 0;
      for (const x of xs) {
        elementwise(['x'], UNARY_WGSL.copy, [x], x.view.shape, { s: res, offset: at * strides[axis]!, strides });
        at += x.view.shape[axis]!;
      }
      return res;
    },
  } satisfies KernelTable<GpuStorage>;

  function argReduce(op: 'argmax' | 'argmin', x: GpuStorage, axis: number, out: OutInfo): GpuStorage {
    const res = rt.fresh(out.shape, 'int32');
    const n = sizeOf(out.shape);
    if (n === 0) return res;
    const { shape, strides, offset } = x.view;
    const keptShape = shape.filter((_, i) => i !== axis);
    const keptStrides = strides.filter((_, i) => i !== axis);
    const meta = [n, keptShape.length, ...keptShape, ...keptStrides, offset, shape[axis]!, strides[axis]!];
    const elem = elemOf(x);
    launch(source(`${op}:${elem}`, () => argSource(op, elem)), meta, [res.buf.buffer, x.buf.buffer], n);
    return res;
  }

  return { kernels, copy };
}

const elemOf = (s: GpuStorage): Elem => (s.dtype === 'int32' ? 'i32' : 'f32');
const gpuDtype = (out: OutInfo): GpuStorage['dtype'] => (out.dtype === 'int32' ? 'int32' : 'float32');

