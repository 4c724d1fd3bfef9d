// The `tapegrad/ndarray` entry: tensors to and from scijs ndarrays (https://github.com/scijs/ndarray),
// so get-pixels/save-pixels, ndarray-fft, ndarray-ops and the rest plug in. `ndarray` is an optional
// peer dependency, loaded only from here.
//
// An ndarray reads element (i₀, …, iₖ) at data[offset + Σ iⱼ·strideⱼ]; strides may be negative
// (flipped views) or zero (broadcast views). A tensor's memory belongs to its backend (the CPU keeps
// it in a wasm heap that can grow and move, WebGPU in GPU buffers), so neither direction aliases:
// each makes exactly one copy, and a row-major contiguous ndarray of the right dtype is copied in
// one block (no per-element gather).
import ndarray from 'ndarray';
// the CPU backend registers itself on import: this entry may be the first (or only) one loaded
import './backends/cpu';
import type { DType } from './backends/backend';
import { tensor } from './graph/creation';
import { isTensor, type Tensor } from './graph/tensor';
import { fmtShape } from './ops/registry';

/** Element access the way ndarray's data may provide it: indexable, or get(i) (a GenericArray). */
export type NdarrayData = ArrayLike<number> | { get(i: number): number; length: number };

/** The fields of an ndarray that fromNdarray reads (any ndarray, or an object shaped like one). */
export interface NdarrayLike {
  data: NdarrayData;
  shape: readonly number[];
  stride: readonly number[];
  offset: number;
}

/** An ndarray from toNdarray: row-major, its own copy of the values. */
export interface TensorNdarray<D extends Float32Array | Float64Array = Float32Array | Float64Array> extends NdarrayLike {
  data: D;
  shape: number[];
  stride: number[];
  size: number;
  dimension: number;
  get(...index: number[]): number;
  set(...args: number[]): number;
  index(...index: number[]): number;
  lo(...index: number[]): TensorNdarray<D>;
  hi(...index: number[]): TensorNdarray<D>;
  step(...steps: number[]): TensorNdarray<D>;
  transpose(...axes: number[]): TensorNdarray<D>;
  pick(...index: (number | null)[]): TensorNdarray<D>;
}

/**
 * A CPU tensor's values as an ndarray (a row-major copy; the tensor is unchanged). Tensors on a
 * device that reads asynchronously need `await t.toAsync('cpu')` first.
 *
 * @example
 * import ops from 'ndarray-ops';
 * const nd = toNdarray(randn([3, 4]));
 * ops.mulseq(nd.transpose(1, 0), 2);   // any scijs module works on it
 */
export function toNdarray(t: Tensor): TensorNdarray {
  if (!isTensor(t)) throw new TypeError(`toNdarray: expected a Tensor, got ${t === null ? 'null' : typeof t}`);
  if (t.isDisposed) throw new Error(`toNdarray: tensor of shape ${fmtShape(t.shape)} was disposed`);
  if (t.device !== 'cpu') throw new Error(`toNdarray: tensor of shape ${fmtShape(t.shape)} is on ${t.device}; use toNdarray(await t.toAsync('cpu'))`);
  const data = t.dataSync() as Float32Array | Float64Array;
  return ndarray(data, [...t.shape]) as unknown as TensorNdarray;
}

const isIndexable = (d: NdarrayData): d is ArrayLike<number> => !('get' in d && typeof d.get === 'function');

/**
 * A new tensor with an ndarray's values, for any strides (negative and zero ones included) and
 * offset. The dtype defaults to float64 for Float64Array data and float32 otherwise.
 *
 * @example
 * const nd = ndarray(new Float64Array([1, 2, 3, 4, 5, 6]), [2, 3]);
 * fromNdarray(nd.step(1, -1));          // [[3, 2, 1], [6, 5, 4]]
 * fromNdarray(nd.transpose(1, 0), { requiresGrad: true });
 */
export function fromNdarray(nd: NdarrayLike, opts: { dtype?: DType; device?: Tensor['device']; requiresGrad?: boolean } = {}): Tensor {
  if (nd === null || typeof nd !== 'object' || !nd.data || !Array.isArray(nd.shape) || !Array.isArray(nd.stride)) {
    throw new TypeError('fromNdarray: expected an ndarray (an object with data, shape, stride and offset)');
  }
  const { data, shape, stride } = nd;
  const offset = nd.offset ?? 0;
  const rank = shape.length;
  if (stride.length !== rank) throw new Error(`fromNdarray: ${stride.length} strides for shape ${fmtShape(shape)}`);
  for (let k = 0; k < rank; k++) {
    if (!Number.isInteger(shape[k]) || shape[k]! < 0) throw new Error(`fromNdarray: invalid shape ${fmtShape(shape)}`);
    if (!Number.isInteger(stride[k])) throw new Error(`fromNdarray: invalid stride [${stride.join(', ')}]`);
  }
  const size = shape.reduce((a, b) => a * b, 1);
  const dtype = opts.dtype ?? (data instanceof Float64Array ? 'float64' : 'float32');
  // every address the view touches must lie in the data: the extremes of offset + Σ iⱼ·strideⱼ
  if (size > 0) {
    let lo = offset;
    let hi = offset;
    for (let k = 0; k < rank; k++) {
      const reach = (shape[k]! - 1) * stride[k]!;
      if (reach < 0) lo += reach;
      else hi += reach;
    }
    if (lo < 0 || hi >= data.length) {
      throw new RangeError(
        `fromNdarray: shape ${fmtShape(shape)}, stride [${stride.join(', ')}] and offset ${offset} reach elements ${lo}..${hi} of data of length ${data.length}`,
      );
    }
  }
  const make = (values: ArrayLike<number>) => tensor(values, { shape, dtype, device: opts.device, requiresGrad: opts.requiresGrad });

  // row-major contiguous (size-1 axes may have any stride): one block copy
  let expected = 1;
  let contiguous = true;
  for (let k = rank - 1; k >= 0; k--) {
    if (shape[k] !== 1 && stride[k] !== expected) contiguous = false;
    expected *= shape[k]!;
  }
  if (contiguous && isIndexable(data) && ArrayBuffer.isView(data) && !(data instanceof DataView)) {
    return make((data as unknown as Float64Array).subarray(offset, offset + size));
  }

  // the general case: walk the indices in row-major order, carrying the address along
  const out = new Float64Array(size);
  const read = isIndexable(data)
    ? (i: number) => (data as ArrayLike<number>)[i]!
    : (i: number) => (data as { get(i: number): number }).get(i);
  const index = new Array<number>(rank).fill(0);
  let at = offset;
  for (let n = 0; n < size; n++) {
    out[n] = read(at);
    for (let k = rank - 1; k >= 0; k--) {
      at += stride[k]!;
      if (++index[k]! < shape[k]!) break;
      at -= stride[k]! * shape[k]!;
      index[k] = 0;
    }
  }
  return make(out);
}
