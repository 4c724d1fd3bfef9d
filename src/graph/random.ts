// One seeded generator feeds randn, rand, init schemes and shuffling: a run is reproducible.
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus, xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';
import { countArg, show } from './args';

type Rng = ReturnType<typeof xoroshiro128plus>;

/** murmur3's 32-bit finalizer: a bijection on 32-bit words that mixes every input bit into every output bit. */
function fmix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** A seed must be a safe integer: every one of its 53 bits then selects the stream. */
function checkSeed(op: string, seed: unknown): number {
  if (typeof seed !== 'number') throw new TypeError(`${op}: seed must be a number, got ${show(seed)}`);
  if (!Number.isSafeInteger(seed)) throw new RangeError(`${op}: seed ${seed} must be a safe integer (|seed| ≤ 2^53 - 1)`);
  return seed;
}

/**
 * A generator whose state is well mixed even for small, close seeds: xoroshiro128+ seeded
 * directly with 0, 1, 42 starts with nearly equal first outputs (the first uniform ≈ 1), so the
 * seed goes through a murmur3-style finalizer and the first outputs are dropped.
 *
 * A seed is split as seed = hi·2³² + lo (lo unsigned). An int32 seed keeps the stream it always
 * had (xoroshiro128plus(fmix(lo ^ c)) fills the state words with -1, ~h, h, 0). Any other seed
 * also mixes hi into the two words that are otherwise constant, through two different bijections,
 * so they are not both left as they were: distinct safe integers give distinct 128-bit states
 * (the earlier `seed | 0` made 1, 1.9 and 2³² + 1 one stream).
 */
function seeded(seed: number): Rng {
  const lo = seed >>> 0; // seed mod 2³², exact for any safe integer, negative ones included
  const h = fmix((lo | 0) ^ 0x9e3779b9);
  if ((seed | 0) === seed) {
    const g = xoroshiro128plus(h);
    for (let i = 0; i < 16; i++) g.next();
    return g;
  }
  const hi = Math.floor(seed / 2 ** 32) | 0; // exact: a division by a power of two, |hi| < 2²¹
  const g = xoroshiro128plusFromState([-1 ^ fmix(hi ^ 0x7f4a7c15), ~h, h | 0, fmix(hi ^ 0x2545f491)]);
  for (let i = 0; i < 16; i++) g.next();
  return g;
}

let rng: Rng = seeded(Date.now() ^ (Math.random() * 0x100000000));
let spare: number | null = null;

/**
 * Seed the global generator (randn, rand, init schemes, shuffling). Any safe integer is a seed,
 * and each gives its own stream; anything else is refused and the generator is left as it was.
 *
 * @example
 * manualSeed(0);
 * const a = randn([3]);
 * manualSeed(0);
 * randn([3]).toArray();   // the same values as a
 */
export function manualSeed(seed: number): void {
  rng = seeded(checkSeed('manualSeed', seed));
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
  countArg('permutation', 'n', n);
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
  const own = seeded(checkSeed('makeRandom', seed));
  return () => uniformFloat64(own);
}
