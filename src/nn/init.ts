// Weight initialization schemes, as PuzzleLib defines them (fan = the layer's input size). Every
// draw comes from the seeded generator (manualSeed), so a seeded run is reproducible.
import { rand, randn, type TensorOptions } from '../graph/creation';
import type { Tensor } from './util';

/**
 * - `xavierUniform` (default): U(−√(3/fan), √(3/fan))
 * - `xavier` / `xavierNormal`: N(0, √(1/fan))
 * - `he`: N(0, √(2/fan))
 * - `gaussian`: N(0, wscale)
 * - `uniform`: U(−wscale, wscale)
 * - `pytorch`: U(−1/√fan, 1/√fan), PyTorch's default for nn.Linear and nn.Conv2d
 *   (kaiming_uniform with a = √5); Linear then draws its bias from the same range, as PyTorch does
 */
export type InitScheme = 'xavierUniform' | 'xavier' | 'xavierNormal' | 'he' | 'gaussian' | 'uniform' | 'pytorch';

/**
 * The names of the init schemes Linear and initWeight accept.
 *
 * @example
 * new Linear(4, 2, { initScheme: INIT_SCHEMES[3] });   // 'he'
 */
export const INIT_SCHEMES: readonly InitScheme[] = ['xavierUniform', 'xavier', 'xavierNormal', 'he', 'gaussian', 'uniform', 'pytorch'];

/**
 * A tensor of `shape` drawn with `scheme` for a layer whose input size is `fan`.
 *
 * @example
 * const w = initWeight('he', [784, 128], 784);   // N(0, 2/784)
 */
export function initWeight(
  scheme: InitScheme,
  shape: readonly number[],
  fan: number,
  wscale = 1,
  opts: TensorOptions = {},
): Tensor {
  switch (scheme) {
    case 'xavierUniform': {
      const a = Math.sqrt(3 / fan);
      return rand(shape, { ...opts, low: -a, high: a });
    }
    case 'xavier':
    case 'xavierNormal':
      return randn(shape, { ...opts, std: Math.sqrt(1 / fan) });
    case 'he':
      return randn(shape, { ...opts, std: Math.sqrt(2 / fan) });
    case 'gaussian':
      return randn(shape, { ...opts, std: wscale });
    case 'uniform':
      return rand(shape, { ...opts, low: -wscale, high: wscale });
    case 'pytorch': {
      const a = 1 / Math.sqrt(fan);
      return rand(shape, { ...opts, low: -a, high: a });
    }
    default:
      throw new Error(`init: unknown scheme '${String(scheme)}' (known: ${INIT_SCHEMES.join(', ')})`);
  }
}
