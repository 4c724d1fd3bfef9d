// optim: gradient descent, momentum (PuzzleLib's MomentumSGD, optional Nesterov), Adam, AdamW,
// RMSProp, AdaGrad; learning-rate schedules; gradient clipping.
export { Optimizer, type BaseOptions, type GroupSpec, type ParamGroup, type ParamsArg, type ParamState, type OptimizerState } from './optimizer';
export { SGD, Momentum, type MomentumOptions } from './sgd';
export { Adam, type AdamOptions } from './adam';
export { AdamW, type AdamWOptions } from './adamw';
export { RMSProp, type RMSPropOptions } from './rmsprop';
export { AdaGrad, type AdaGradOptions } from './adagrad';
export { LRScheduler, StepLR, CosineAnnealingLR, LinearLR, SequentialLR, type LinearLROptions } from './schedulers';
export { clipGradNorm } from './clip';
