// The blocked loops around the wasm micro-kernel, for one thread's share of C. It is kept as
// source text so that the calling thread and the workers (which are started from a string) run
// the very same code; the calling thread compiles it once with new Function.
//
// Packed layouts (see gemm.ts): A as [k-block][MR-row panel][p][MR], B as [k-block][NR-col panel]
// [p][NR], so a k-block of kc rows holds each panel contiguously (kc·MR or kc·NR values). Loops,
// outermost first: NC-panel column blocks of B (kept in L2), k-blocks, MC-panel row blocks of A;
// inside the kernel, B's micro-panel (kc·NR, in L1) meets each A panel of the block in turn.

/** Argument slots: [mp0, mp1, np0, np1, mpAll, npAll, K, KC, MCP, NCP, aBase, bBase, cBase, ldc, MR, NR, bytes] */
export const GEMM_ARGS = 17;

export const GEMM_PART_SRC = `
  const mp0 = args[0], mp1 = args[1], np0 = args[2], np1 = args[3], mpAll = args[4], npAll = args[5];
  const K = args[6], KC = args[7], MCP = args[8], NCP = args[9];
  const aBase = args[10], bBase = args[11], cBase = args[12], ldc = args[13];
  const MR = args[14], NR = args[15], sz = args[16];
  for (let j0 = np0; j0 < np1; j0 += NCP) {
    const nb = Math.min(NCP, np1 - j0);
    for (let k0 = 0; k0 < K; k0 += KC) {
      const kc = Math.min(KC, K - k0);
      const aK = aBase + k0 * mpAll * MR * sz;
      const bK = bBase + k0 * npAll * NR * sz + j0 * kc * NR * sz;
      const acc = k0 > 0 ? 1 : 0;
      for (let i0 = mp0; i0 < mp1; i0 += MCP) {
        gemm(Math.min(MCP, mp1 - i0), nb, kc, aK + i0 * kc * MR * sz, bK, cBase + i0 * MR * ldc + j0 * NR * sz, ldc, acc);
      }
    }
  }
`;

export type GemmPart = (gemm: (...a: number[]) => void, args: ArrayLike<number>) => void;

export const gemmPart = new Function('gemm', 'args', GEMM_PART_SRC) as GemmPart;
