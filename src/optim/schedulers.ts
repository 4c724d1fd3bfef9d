// Learning-rate schedules, as PyTorch's torch.optim.lr_scheduler: a scheduler sets every group's
// lr from a closed form of the epoch count, and `step()` advances the count by one (call it once
// per epoch, after the optimizer steps; the Trainer does this when given `scheduler`). As in
// PyTorch, creating a scheduler sets the epoch-0 learning rate at once, and the base rate of a
// group is its lr when the first scheduler on it was made (PyTorch's `initial_lr`).
import type { BaseOptions, Optimizer } from './optimizer';

/** The lr each group had when the first scheduler on it was made (PyTorch's group['initial_lr']). */
const initialLr = new WeakMap<object, number>();

function checkCount(name: string, what: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new Error(`${name}: ${what} must be an integer ≥ ${min}, got ${v}`);
}
function checkFinite(name: string, what: string, v: number, lo = -Infinity, hi = Infinity): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) {
    throw new Error(`${name}: ${what} must be a finite number${lo > -Infinity ? ` in [${lo}, ${hi}]` : ''}, got ${v}`);
  }
}

/**
 * The base of every schedule: the epoch count, the base rates, and `step()`.
 *
 * @example
 * class Halving extends LRScheduler {
 *   constructor(opt: Optimizer) { super('Halving', opt); this.apply(); }
 *   lrAt(epoch: number, base: number) { return base / 2 ** epoch; }
 * }
 */
export abstract class LRScheduler {
  /** epochs stepped so far (0 after construction) */
  lastEpoch = 0;
  /** each group's base learning rate */
  readonly baseLrs: number[];

  protected constructor(
    readonly name: string,
    readonly optimizer: Optimizer<BaseOptions>,
  ) {
    if (!optimizer || !Array.isArray((optimizer as { groups?: unknown }).groups)) throw new Error(`${name}: expected an optimizer, got ${String(optimizer)}`);
    this.baseLrs = optimizer.groups.map((g) => {
      if (!initialLr.has(g)) initialLr.set(g, g.lr);
      return initialLr.get(g)!;
    });
  }

  /** The learning rate at `epoch` for a group whose base rate is `base`. */
  abstract lrAt(epoch: number, base: number): number;

  /** Set each group's lr for the current epoch (subclass constructors call this last). */
  protected apply(): void {
    this.optimizer.groups.forEach((g, i) => (g.lr = this.lrAt(this.lastEpoch, this.baseLrs[i]!)));
  }

  /** Advance one epoch and set the new learning rates. */
  step(): void {
    this.lastEpoch++;
    this.apply();
  }

  /** The learning rates last set, one per group. */
  getLastLr(): number[] {
    return this.optimizer.groups.map((g) => g.lr);
  }
}

/**
 * lr = base · γ^⌊epoch / stepSize⌋ (PyTorch's StepLR; γ defaults to 0.1).
 *
 * @example
 * const sched = new StepLR(opt, 30);   // lr × 0.1 every 30 epochs
 * for (let epoch = 0; epoch < 90; epoch++) { trainOneEpoch(); sched.step(); }
 */
export class StepLR extends LRScheduler {
  constructor(
    optimizer: Optimizer<BaseOptions>,
    readonly stepSize: number,
    readonly gamma = 0.1,
  ) {
    super('StepLR', optimizer);
    checkCount('StepLR', 'stepSize', stepSize, 1);
    checkFinite('StepLR', 'gamma', gamma, 0, Infinity);
    this.apply();
  }
  lrAt(epoch: number, base: number): number {
    return base * this.gamma ** Math.floor(epoch / this.stepSize);
  }
}

/**
 * lr = ηmin + (base − ηmin)·(1 + cos(π·epoch/tMax))/2 (PyTorch's CosineAnnealingLR in its closed
 * form, which its recursive form equals when nothing else changes the lr): from base at epoch 0
 * down to ηmin at tMax, then back up, with period 2·tMax.
 *
 * @example
 * const sched = new CosineAnnealingLR(opt, 50, 1e-5);   // base → 1e-5 over 50 epochs
 */
export class CosineAnnealingLR extends LRScheduler {
  constructor(
    optimizer: Optimizer<BaseOptions>,
    readonly tMax: number,
    readonly etaMin = 0,
  ) {
    super('CosineAnnealingLR', optimizer);
    checkCount('CosineAnnealingLR', 'tMax', tMax, 1);
    checkFinite('CosineAnnealingLR', 'etaMin', etaMin, 0, Infinity);
    this.apply();
  }
  lrAt(epoch: number, base: number): number {
    return this.etaMin + ((base - this.etaMin) * (1 + Math.cos((Math.PI * epoch) / this.tMax))) / 2;
  }
}

export interface LinearLROptions {
  /** the factor at epoch 0; default 1/3 */
  startFactor?: number;
  /** the factor from totalIters on; default 1 */
  endFactor?: number;
  /** epochs to go from startFactor to endFactor; default 5 */
  totalIters?: number;
}

/**
 * lr = base · (s + (e − s)·min(epoch, T)/T), a linear ramp of the factor from s = startFactor to
 * e = endFactor over T = totalIters epochs (PyTorch's LinearLR): the usual linear warm-up.
 *
 * @example
 * const warmup = new LinearLR(opt, { startFactor: 0.1, totalIters: 5 });   // 0.1·base → base
 */
export class LinearLR extends LRScheduler {
  readonly startFactor: number;
  readonly endFactor: number;
  readonly totalIters: number;
  constructor(optimizer: Optimizer<BaseOptions>, { startFactor = 1 / 3, endFactor = 1, totalIters = 5 }: LinearLROptions = {}) {
    super('LinearLR', optimizer);
    // PyTorch: 0 < startFactor ≤ 1, 0 ≤ endFactor ≤ 1
    if (!(startFactor > 0 && startFactor <= 1)) throw new Error(`LinearLR: startFactor must be in (0, 1], got ${startFactor}`);
    checkFinite('LinearLR', 'endFactor', endFactor, 0, 1);
    checkCount('LinearLR', 'totalIters', totalIters, 1);
    this.startFactor = startFactor;
    this.endFactor = endFactor;
    this.totalIters = totalIters;
    this.apply();
  }
  lrAt(epoch: number, base: number): number {
    const t = Math.min(epoch, this.totalIters) / this.totalIters;
    return base * (this.startFactor + (this.endFactor - this.startFactor) * t);
  }
}

/**
 * Schedules one after another (PyTorch's SequentialLR): `schedulers[i]` runs from `milestones[i−1]`
 * on, counting its epochs from 0 there; e.g. a LinearLR warm-up for 5 epochs, then cosine decay:
 * `new SequentialLR(opt, [new LinearLR(opt, { totalIters: 5 }), new CosineAnnealingLR(opt, 45)], [5])`.
 *
 * @example
 * const warmup = new LinearLR(opt, { startFactor: 0.01, totalIters: 5 });
 * const sched = new SequentialLR(opt, [warmup, new CosineAnnealingLR(opt, 45)], [5]);
 */
export class SequentialLR extends LRScheduler {
  constructor(
    optimizer: Optimizer<BaseOptions>,
    readonly schedulers: readonly LRScheduler[],
    readonly milestones: readonly number[],
  ) {
    super('SequentialLR', optimizer);
    if (!Array.isArray(schedulers) || schedulers.length === 0 || !schedulers.every((s) => s instanceof LRScheduler)) {
      throw new Error('SequentialLR: schedulers must be a non-empty list of schedulers');
    }
    if (schedulers.some((s) => s.optimizer !== optimizer)) throw new Error('SequentialLR: every scheduler must drive the same optimizer');
    if (!Array.isArray(milestones) || milestones.length !== schedulers.length - 1) {
      throw new Error(`SequentialLR: expected ${schedulers.length - 1} milestones for ${schedulers.length} schedulers, got ${JSON.stringify(milestones)}`);
    }
    milestones.forEach((m, i) => {
      if (!Number.isInteger(m) || m < 1 || (i > 0 && m <= milestones[i - 1]!)) {
        throw new Error(`SequentialLR: milestones must be increasing positive integers, got ${JSON.stringify(milestones)}`);
      }
    });
    this.apply();
  }
  lrAt(epoch: number, base: number): number {
    let i = 0;
    while (i < this.milestones.length && epoch >= this.milestones[i]!) i++;
    return this.schedulers[i]!.lrAt(epoch - (i ? this.milestones[i - 1]! : 0), base);
  }
}
