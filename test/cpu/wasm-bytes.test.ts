// The committed wasm module is what scripts/wasm-gen.mjs generates today, and it has the exports
// the backend calls.
import { describe, expect, it } from 'vitest';
import { WASM_PLAIN, WASM_SHARED } from '../../src/backends/cpu/wasm-bytes';
// @ts-expect-error: a plain .mjs script, no types
import { assemble, wat } from '../../scripts/wasm-gen.mjs';

describe('generated wasm kernels', () => {
  it('the committed bytes match the generator (run node scripts/wasm-gen.mjs after changing it)', async () => {
    const b64 = (u8: Uint8Array) => Buffer.from(u8).toString('base64');
    expect(b64(await assemble(wat(true)))).toBe(WASM_SHARED);
    expect(b64(await assemble(wat(false)))).toBe(WASM_PLAIN);
  });

  it('exports a kernel and two packers per dtype, the thin-product and sum kernels, and the elementwise kernels', () => {
    const mod = new WebAssembly.Module(Buffer.from(WASM_PLAIN, 'base64'));
    const names = WebAssembly.Module.exports(mod).map((e) => e.name);
    const want = ['f32', 'f64'].flatMap((t) => [
      `gemm_${t}`, `pack_a_${t}`, `pack_b_${t}`, `ew_relu_${t}`, `sum_${t}`, `colsum_${t}`, `sqdiff_${t}`,
      `gemv_n_${t}`, `gemv_t_${t}`, `outer_${t}`,
      ...['add', 'sub', 'mul', 'div', 'relugrad'].flatMap((op) => ['vv', 'vs', 'sv'].map((p) => `ew_${op}_${t}_${p}`)),
    ]);
    expect(names.sort()).toEqual(want.sort());
  });
});
