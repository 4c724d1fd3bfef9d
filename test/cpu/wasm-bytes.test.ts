// The committed wasm module is what scripts/wasm-gen.mjs generates today, shipped once: patching
// its memory flags byte gives the shared variant byte for byte, and it has the exports the
// backend calls.
import { describe, expect, it } from 'vitest';
import { MEMORY_FLAGS_AT, WASM } from '../../src/backends/cpu/wasm-bytes';
import { moduleBytes } from '../../src/backends/cpu/wasm';
// @ts-expect-error: a plain .mjs script, no types
import { assemble, wat } from '../../scripts/wasm-gen.mjs';

const b64 = (u8: Uint8Array) => Buffer.from(u8).toString('base64');

describe('generated wasm kernels', () => {
  it('the committed bytes match the generator (run node scripts/wasm-gen.mjs after changing it)', async () => {
    expect(b64(await assemble(wat(false)))).toBe(WASM);
  });

  it('the plain module with its flags byte set is the shared module, and the plain one as loaded', async () => {
    expect(b64(moduleBytes(true))).toBe(b64(await assemble(wat(true))));
    expect(b64(moduleBytes(false))).toBe(WASM);
    expect(moduleBytes(true)[MEMORY_FLAGS_AT]).toBe(3);
    // each variant compiles and imports its kind of memory
    const shared = new WebAssembly.Memory({ initial: 1, maximum: 32768, shared: true });
    const plain = new WebAssembly.Memory({ initial: 1, maximum: 32768 });
    expect(() => new WebAssembly.Instance(new WebAssembly.Module(moduleBytes(true) as BufferSource), { env: { mem: shared } })).not.toThrow();
    expect(() => new WebAssembly.Instance(new WebAssembly.Module(moduleBytes(false) as BufferSource), { env: { mem: plain } })).not.toThrow();
    expect(() => new WebAssembly.Instance(new WebAssembly.Module(moduleBytes(true) as BufferSource), { env: { mem: plain } })).toThrow();
  });

  it('exports a kernel and two packers per dtype, the thin-product and sum kernels, and the elementwise kernels', () => {
    const mod = new WebAssembly.Module(Buffer.from(WASM, 'base64'));
    const names = WebAssembly.Module.exports(mod).map((e) => e.name);
    const want = ['f32', 'f64'].flatMap((t) => [
      `gemm_${t}`, `pack_a_${t}`, `pack_b_${t}`, `ew_relu_${t}`, `sum_${t}`, `colsum_${t}`, `sqdiff_${t}`,
      `gemv_n_${t}`, `gemv_t_${t}`, `outer_${t}`,
      ...['add', 'sub', 'mul', 'div', 'relugrad'].flatMap((op) => ['vv', 'vs', 'sv'].map((p) => `ew_${op}_${t}_${p}`)),
    ]);
    expect(names.sort()).toEqual(want.sort());
  });
});
