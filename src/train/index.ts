// train: the Trainer (epochs, mini-batches, seeded shuffling, callbacks, progress).
export { Trainer, type TrainerOptions, type FitOptions, type History, type BatchInfo, type EpochInfo, type LossLike } from './trainer';
export { Progress, type ProgressOptions } from './progress';
