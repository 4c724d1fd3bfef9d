// Shared by the tutorial runners: options, host reads, and small statistics done on the host.
import type { Device, Tensor } from '../../src';

/** Options every tutorial runner takes. */
export interface RunOptions {
  /** seed for manualSeed (init and data) and for sampling/shuffling; default 0 */
  seed?: number;
  device?: Device;
  /** progress display: false (default) for tests, 'auto' for the scripts and the demo */
  progress?: 'auto' | 'bar' | 'lines' | false;
}

/** The values of a tensor as a plain array, from any device. */
export async function values(t: Tensor): Promise<number[]> {
  return Array.from(await t.data());
}

/** A curve for plotting: x against one or more named series. */
export interface Curve {
  x: number[];
  series: Record<string, number[]>;
}

export const mean = (v: readonly number[]) => v.reduce((s, a) => s + a, 0) / v.length;
export const std = (v: readonly number[]) => {
  const m = mean(v);
  return Math.sqrt(v.reduce((s, a) => s + (a - m) ** 2, 0) / v.length);
};
export const rmse = (p: readonly number[], t: readonly number[]) => Math.sqrt(mean(p.map((v, i) => (v - t[i]!) ** 2)));

/** Least-squares line through (x, y): slope, intercept, and its half-MSE ½·mean(residual²). */
export function bestLine(x: readonly number[], y: readonly number[]): { slope: number; intercept: number; halfMse: number } {
  const mx = mean(x);
  const my = mean(y);
  let sxy = 0;
  let sxx = 0;
  x.forEach((v, i) => {
    sxy += (v - mx) * (y[i]! - my);
    sxx += (v - mx) ** 2;
  });
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  const halfMse = 0.5 * mean(x.map((v, i) => (slope * v + intercept - y[i]!) ** 2));
  return { slope, intercept, halfMse };
}

/** Milliseconds taken by fn (awaited). */
export async function timed<T>(fn: () => T | Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await fn();
  return [r, performance.now() - t0];
}
