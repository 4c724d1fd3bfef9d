// Shared by every bench case: deterministic data (so every library starts from the same numbers)
// and a timer that warms up, then takes the median of repeated samples.
import { performance } from 'node:perf_hooks';

/** A small seeded generator (mulberry32): the same stream in every process and library. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n uniform values in [lo, hi), float32-rounded, from `seed`. */
export function uniform(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

export interface Timing {
  /** seconds per iteration: median, and the spread of the samples */
  median: number;
  /** median absolute deviation of the samples from the median */
  mad: number;
  min: number;
  max: number;
  samples: number;
  itersPerSample: number;
}

export interface TimeOptions {
  /** seconds of warm-up (at least 3 iterations) */
  warmup?: number;
  /** seconds of timed work to aim for, split into samples */
  budget?: number;
  minSamples?: number;
  maxSamples?: number;
}

/**
 * Time `fn`: warm up, pick iterations per sample so that a sample lasts ~budget/maxSamples, then
 * report the median per-iteration time over the samples. `fn` must finish its work synchronously
 * (every library here computes on the CPU synchronously) or read a result back.
 */
export function time(fn: () => void, opts: TimeOptions = {}): Timing {
  const { warmup = 0.3, budget = 2, minSamples = 5, maxSamples = 11 } = opts;
  let t0 = performance.now();
  let warm = 0;
  while (warm < 3 || performance.now() - t0 < warmup * 1000) {
    fn();
    warm++;
  }
  const perIter = (performance.now() - t0) / 1000 / warm;
  const samples = Math.max(minSamples, Math.min(maxSamples, Math.floor(budget / Math.max(perIter, 1e-9))));
  const iters = Math.max(1, Math.round(budget / samples / perIter));
  const per: number[] = [];
  for (let s = 0; s < samples; s++) {
    t0 = performance.now();
    for (let i = 0; i < iters; i++) fn();
    per.push((performance.now() - t0) / 1000 / iters);
  }
  per.sort((a, b) => a - b);
  const median = per[per.length >> 1]!;
  const dev = per.map((p) => Math.abs(p - median)).sort((a, b) => a - b);
  return { median, mad: dev[dev.length >> 1]!, min: per[0]!, max: per[per.length - 1]!, samples, itersPerSample: iters };
}

/** Naive float64 reference for a few entries of A·B (row-major m×k, k×n). */
export function checkMatmul(a: Float32Array, b: Float32Array, c: ArrayLike<number>, m: number, k: number, n: number): number {
  const r = rng(99);
  let worst = 0;
  for (let t = 0; t < 64; t++) {
    const i = Math.floor(r() * m);
    const j = Math.floor(r() * n);
    let s = 0;
    let mag = 0;
    for (let p = 0; p < k; p++) {
      s += a[i * k + p]! * b[p * n + j]!;
      mag += Math.abs(a[i * k + p]! * b[p * n + j]!);
    }
    worst = Math.max(worst, Math.abs(c[i * n + j]! - s) / (mag || 1));
  }
  return worst;
}
