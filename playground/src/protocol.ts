// What the page and the training worker say to each other, and the knobs of each task.

export const TASKS = ['neuron', 'linear-sine', 'relu-sine', 'iris', 'tanh-sine', 'digits'] as const;
export type TaskName = (typeof TASKS)[number];
export type DeviceName = 'cpu' | 'webgpu';
export type Activation = 'none' | 'relu' | 'tanh' | 'sigmoid';
export type OptimizerName = 'sgd' | 'momentum' | 'adam' | 'rmsprop';
export type LossName = 'half-mse' | 'mse' | 'half-sse' | 'l1' | 'cross-entropy';
/**
 * The net's shape: 'mlp' is Linear layers of the hidden sizes with the activation between;
 * 'convnet' (digits only) is the convolution issue's net of examples/digits-run.ts: conv 1→16 5×5,
 * max-pool 2, conv 16→32 5×5, max-pool 2, then the hidden Linear layers (512 → 128 → 10).
 */
export type NetName = 'mlp' | 'convnet';

/** One run's configuration: what the knobs show and the URL hash holds. */
export interface Config {
  task: TaskName;
  device: DeviceName;
  net: NetName;
  /** hidden layer sizes (of the dense part after a convnet's convolutions), input to output */
  hidden: number[];
  activation: Activation;
  optimizer: OptimizerName;
  lr: number;
  momentum: number;
  /** rows per step; 0 = the whole data set */
  batch: number;
  epochs: number;
  loss: LossName;
  seed: number;
}

/**
 * Each tutorial's own settings (see examples/tutorials/t1…t5 and examples/07-digits.ts). Tanh-sine
 * uses the tutorial's Adam schedule (0.01 hidden, a tenth of it on the output layer): its plain
 * gradient descent needs 10,000+ epochs to bend, too slow to watch.
 */
export const DEFAULTS: Record<TaskName, Omit<Config, 'task' | 'device' | 'seed'>> = {
  neuron: {
    net: 'mlp',
    hidden: [],
    activation: 'none',
    optimizer: 'sgd',
    lr: 0.01,
    momentum: 0.9,
    batch: 1,
    epochs: 1,
    loss: 'half-mse',
  },
  'linear-sine': {
    net: 'mlp',
    hidden: [2],
    activation: 'none',
    optimizer: 'sgd',
    lr: 0.01,
    momentum: 0.9,
    batch: 1,
    epochs: 3,
    loss: 'half-mse',
  },
  'relu-sine': {
    net: 'mlp',
    hidden: [100],
    activation: 'relu',
    optimizer: 'momentum',
    lr: 0.01,
    momentum: 0.9,
    batch: 100,
    epochs: 100,
    loss: 'half-mse',
  },
  iris: {
    net: 'mlp',
    hidden: [3],
    activation: 'sigmoid',
    optimizer: 'sgd',
    lr: 0.01,
    momentum: 0.9,
    batch: 0,
    epochs: 2000,
    loss: 'half-sse',
  },
  'tanh-sine': {
    net: 'mlp',
    hidden: [20],
    activation: 'tanh',
    optimizer: 'adam',
    lr: 0.01,
    momentum: 0.9,
    batch: 0,
    epochs: 2000,
    loss: 'half-sse',
  },
  digits: {
    net: 'convnet',
    hidden: [128],
    activation: 'relu',
    optimizer: 'adam',
    lr: 0.001,
    momentum: 0.9,
    batch: 64,
    epochs: 2,
    loss: 'cross-entropy',
  },
};

export const TITLES: Record<TaskName, string> = {
  neuron: '1 · one neuron restores y = 2x + 3',
  'linear-sine': '2 · a linear net on 2 sin x + 5 (it cannot bend)',
  'relu-sine': '3 · a ReLU net with momentum on 2 sin x + 5',
  iris: '4 · iris: petal length from the sepals',
  'tanh-sine': '5 · a tanh net on a noisy sine',
  digits: 'digits: the mnist package, 8,000 / 2,000',
};

export function defaultConfig(task: TaskName, device: DeviceName = 'cpu'): Config {
  const d = DEFAULTS[task];
  return { task, device, seed: 0, ...d, hidden: [...d.hidden] };
}

/** A curve drawn over the data: x, the target, the net's prediction, and optional sample points. */
export interface FitPicture {
  kind: 'curve' | 'samples';
  x: number[];
  target: number[];
  prediction: number[];
  points?: { x: number[]; y: number[] };
}

export interface GradRow {
  name: string;
  backprop: number;
  numerical: number;
}

export interface Memory {
  tensors: number;
  bytes: number;
}

export type ToWorker =
  /** rows: train on the first rows of the training set (and test on a quarter as many), for short runs */
  | { type: 'train'; config: Config; digitsUrl: string; rows?: number }
  | { type: 'stop' }
  | { type: 'predict'; pixels: number[] };

export interface EpochReport {
  epoch: number;
  epochs: number;
  loss: number;
  accuracy?: number;
  testAccuracy?: number;
}

export type FromWorker =
  | { type: 'status'; text: string }
  | { type: 'epoch'; report: EpochReport; fit?: FitPicture; memory: Memory }
  /** the tape of one step: toDot's DOT, and its SVG from renderDot (or why that failed) */
  | { type: 'tape'; dot: string; svg?: string; error?: string }
  | { type: 'gradcheck'; rows: GradRow[]; maxRelError: number }
  /** the first conv layer's weights [out, in, kH, kW], row-major */
  | { type: 'filters'; name: string; shape: number[]; values: number[] }
  | { type: 'probabilities'; probs: number[]; label?: number; pixels?: number[] }
  | {
      type: 'done';
      loss: number;
      accuracy?: number;
      stopped: boolean;
      memory: Memory;
      seconds: number;
    }
  | { type: 'error'; message: string };
