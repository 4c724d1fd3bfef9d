// Composite calls remembered beside their results. conv2d, maxPool2d and avgPool2d (and BatchNorm's
// eval-mode forward) are computed from primitives (pad, windows, matmul, max, sum); an exporter that has one node for the
// whole call (ONNX Conv, MaxPool, AveragePool, BatchNormalization) asks what call made a tensor and writes that node
// instead of the primitives. Kept apart from conv.ts so the public `export *` does not carry it.
import type { Tensor } from './tensor';

/**
 * @internal One conv2d / maxPool2d / avgPool2d call as a whole. `version` is the output's version
 * when the call made it: a tensor assigned to since then no longer holds the call's result.
 */
export type ConvCall = { inputs: Tensor[]; version: number } & (
  | {
      op: 'conv2d';
      attrs: { kernel: number[]; stride: number[]; padding: number[]; dilation: number[]; groups: number };
    }
  | { op: 'maxPool2d'; attrs: { kernel: number[]; stride: number[]; padding: number[]; dilation: number[] } }
  | { op: 'avgPool2d'; attrs: { kernel: number[]; stride: number[]; padding: number[]; countIncludePad: boolean } }
  // BatchNorm1d/2d in eval mode with running statistics and an affine part: inputs x, weight, bias,
  // running_mean, running_var (ONNX BatchNormalization's order)
  | { op: 'batchNorm'; attrs: { eps: number } }
);
type WithoutVersion<T> = T extends unknown ? Omit<T, 'version'> : never;

// weak: a call is forgotten with its result
const calls = new WeakMap<Tensor, ConvCall>();

/** @internal The conv2d / pooling call that made `t`, if one did. */
export function convCallOf(t: Tensor): ConvCall | undefined {
  return calls.get(t);
}

/** @internal Remember that `call` made `out`; returns `out`. */
export function recordCall(out: Tensor, call: WithoutVersion<ConvCall>): Tensor {
  calls.set(out, { ...call, version: out._version.v } as ConvCall);
  return out;
}
