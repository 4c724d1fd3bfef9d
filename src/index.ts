// The public surface of tapegrad: re-exports only.
import './backends/cpu';

export { Tensor, isTensor, type NestedArray } from './graph/tensor';
export * from './graph/creation';
export * from './graph/functional';
export { grad, noGrad, enableGrad, isGradEnabled, tidy, keep, memory, type MemoryInfo, type BackwardOptions } from './graph/engine';
export { configureMemoryWarning, type MemoryWarningOptions } from './graph/engine';
export { manualSeed, random, randomNormal, permutation, makeRandom } from './graph/random';
export { broadcastShapes } from './ops/registry';
export type { DType, Device, TypedArray } from './backends/backend';
export * from './check';
export * from './backends/webgpu';
export { configureCpu, resetCpuConfig, cpuCapabilities, warmCpu } from './backends/cpu';
export type { CpuConfig } from './backends/cpu/config';
export * from './nn';
export * from './optim';
export * from './train';
export { exportOnnx, ONNX_OPSET, type OnnxExportOptions } from './interchange/onnx';
export { toDot, renderDot, toSvg, type DotOptions } from './interchange/dot';
