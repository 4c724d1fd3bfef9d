// train: the Trainer (epochs, mini-batches, seeded shuffling, metrics, early stopping, schedules,
// a divergence guard, callbacks, progress).
export {
  Trainer, type TrainerOptions, type FitOptions, type History, type BatchInfo, type EpochInfo, type LossLike, type Metric, type MetricsOption,
  type EarlyStoppingOptions, type SchedulerLike, type Scores,
} from './trainer';
export { Progress, type ProgressOptions } from './progress';
