// optim: gradient descent, momentum (PuzzleLib's MomentumSGD, optional Nesterov) and Adam.
export { Optimizer, type BaseOptions, type GroupSpec, type ParamGroup, type ParamsArg, type ParamState, type OptimizerState } from './optimizer';
export { SGD, Momentum, type MomentumOptions } from './sgd';
export { Adam, type AdamOptions } from './adam';
