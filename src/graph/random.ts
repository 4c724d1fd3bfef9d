// One seeded generator feeds randn, rand, init schemes and shuffling: a run is reproducible.
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

type Rng = ReturnType<typeof xoroshiro128plus>;

/**
 * A generator whose state is well mixed even for small, close seeds: xoroshiro128+ seeded
 * directly with 0, 1, 42 starts with nearly equal first outputs (the first uniform ≈ 1), so the
 * seed goes through a murmur3-style finalizer and the first outputs are dropped.
 */
function seeded(seed: number): Rng {
  let h = (seed | 0) ^ 0x9e3779b9;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  const g = xoroshiro128plus(h);
  for (let i = 0; i < 16; i++) g.next();
  return g;
}

let rng: Rng = seeded(Date.now() ^ (Math.random() * 0x100000000));
let spare: number | null = null;

/**
 * Seed the global generator.
 *
 * @example
 * manualSeed(0);
 * const a = randn([3]);
 * manualSeed(0);
 * randn([3]).toArray();   // the same values as a
 */
export function manualSeed(seed: number): void {
  rng = seeded(seed);
  spare = null;
}

/**
 * Uniform in [0, 1).
 *
 * @example
 * manualSeed(1);
 * const u = random();   // in [0, 1)
 */
export function random(): number {
  return uniformFloat64(rng);
}

/**
 * Standard normal (Box–Muller; the second value of each pair is kept for the next call).
 *
 * @example
 * const z = randomNormal();   // a draw from N(0, 1)
 */
export function randomNormal(): number {
  if (spare !== null) {
    const s = spare;
    spare = null;
    return s;
  }
  let u = 0;
  while (u === 0) u = random();
  const v = random();
  const r = Math.sqrt(-2 * Math.log(u));
  spare = r * Math.sin(2 * Math.PI * v);
  return r * Math.cos(2 * Math.PI * v);
}

/** Integer in [0, n). */
export function randomInt(n: number): number {
  return Math.floor(random() * n);
}

/**
 * A seeded Fisher–Yates permutation of 0..n-1.
 *
 * @example
 * manualSeed(2);
 * permutation(5);   // 0..4 in a seeded random order
 */
export function permutation(n: number, rand: () => number = random): number[] {
  const p = [...Array(n).keys()];
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

/**
 * An independent generator (for a Trainer's shuffling, say), seeded explicitly.
 *
 * @example
 * const rand = makeRandom(7);   // independent of manualSeed
 * permutation(10, rand);
 */
export function makeRandom(seed: number): () => number {
  const own = seeded(seed);
  return () => uniformFloat64(own);
}
