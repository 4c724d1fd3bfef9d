// nn: modules, layers, activations, losses, init schemes, safetensors files.
export { Module, type StateDict, type Dim, type Layout } from './module';
export { Sequential } from './sequential';
export { Linear, type LinearOptions } from './linear';
export { Embedding, type EmbeddingOptions } from './embedding';
export { ReLU, Sigmoid, Tanh, LeakyReLU, Softplus } from './activations';
export { Loss, MSE, L1, CrossEntropy, mseLoss, l1Loss, crossEntropyLoss, type MSEOptions, type Reduction, type Labels } from './losses';
export { initWeight, INIT_SCHEMES, type InitScheme } from './init';
export { readSafetensors, writeSafetensors } from './safetensors';
export { Flatten } from './flatten';
export { Dropout } from './dropout';
export { BatchNorm1d, BatchNorm2d, LayerNorm, type BatchNormOptions, type LayerNormOptions } from './normalization';
export { accuracy } from './metrics';
export type { WeightsSource } from './io';
export { Conv2d, MaxPool2d, AvgPool2d, type Conv2dLayerOptions, type MaxPool2dLayerOptions, type AvgPool2dLayerOptions } from './conv';
