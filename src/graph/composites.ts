// Composite calls remembered beside their results. conv2d, maxPool2d, avgPool2d, softmax, logSoftmax,
// leakyRelu, softplus, Flatten and BatchNorm's eval-mode forward are computed from primitives (pad, windows,
// matmul, max, sum, exp, where, reshape); an exporter that has one node for the whole call (ONNX Conv, MaxPool,
// AveragePool, Softmax, LogSoftmax, LeakyRelu, Softplus, Flatten, BatchNormalization) asks what call made a
// tensor and writes that node instead of the primitives. Calls are remembered only while a trace runs
// (an export), so training pays nothing and keeps no call's inputs alive. Kept apart from conv.ts so
// the public `export *` does not carry it.
import { tracing } from './engine';
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
  | { op: 'softmax' | 'logSoftmax'; attrs: { axis: number } }
  | { op: 'leakyRelu'; attrs: { slope: number } }
  // Flatten(1, -1) of a rank ≥ 2 input, [N, ...] → [N, rest]: ONNX Flatten with axis 1
  | { op: 'softplus' | 'flatten'; attrs: Record<string, never> }
);
type WithoutVersion<T> = T extends unknown ? Omit<T, 'version'> : never;

// weak: a call is forgotten with its result
const calls = new WeakMap<Tensor, ConvCall>();

/** @internal The conv2d / pooling call that made `t`, if one did. */
export function convCallOf(t: Tensor): ConvCall | undefined {
  return calls.get(t);
}

/** @internal Remember that `call` made `out` (while a trace runs); returns `out`. */
export function recordCall(out: Tensor, call: WithoutVersion<ConvCall>): Tensor {
  if (tracing()) calls.set(out, { ...call, version: out._version.v } as ConvCall);
  return out;
}
