// The CPU path policy: each family's path at its thresholds (one below, at), and the switches
// that override them (wasm off, one thread, workers only, no kernel).
import { afterEach, describe, expect, it } from 'vitest';
import { configureCpu, resetCpuConfig } from '../../src/backends/cpu';
import { DEFAULTS } from '../../src/backends/cpu/config';
import { choosePath, wasmPossible, type CallInfo, type OpFamily } from '../../src/backends/cpu/policy';
import type { CpuConfig } from '../../src/backends/cpu';

const call = (c: Partial<CallInfo> & Pick<CallInfo, 'family' | 'work'>): CallInfo => ({ kernel: true, inHeap: true, chunks: 1, ...c });

describe('the CPU path policy', () => {
  afterEach(() => {
    resetCpuConfig();
  });

  it('matmul: JS below wasmMinWork, wasm (in place or with copies) from it, threaded from threadMinWork with chunks to share', () => {
    const { wasmMinWork: w, threadMinWork: t } = DEFAULTS;
    expect(choosePath(call({ family: 'matmul', work: w - 1 }))).toBe('js');
    expect(choosePath(call({ family: 'matmul', work: w }))).toBe('wasm');
    expect(choosePath(call({ family: 'matmul', work: w, inHeap: false }))).toBe('wasm-copy');
    expect(choosePath(call({ family: 'matmul', work: t - 1, chunks: 4 }))).toBe('wasm');
    expect(choosePath(call({ family: 'matmul', work: t, chunks: 4 }))).toBe('threaded');
    expect(choosePath(call({ family: 'matmul', work: t, chunks: 4, inHeap: false }))).toBe('threaded');
    expect(choosePath(call({ family: 'matmul', work: t, chunks: 1 }))).toBe('wasm');
  });

  it('elementwise: in place from ewWasmInPlaceMin, with copies from ewWasmCopyMin, threaded from ewThreadMin in place only', () => {
    const { ewWasmInPlaceMin: ip, ewWasmCopyMin: cp, ewThreadMin: th } = DEFAULTS;
    const ew = (work: number, inHeap: boolean) => choosePath(call({ family: 'elementwise', work, inHeap, chunks: Math.ceil(work / 32768) }));
    expect(ew(ip - 1, true)).toBe('js');
    expect(ew(ip, true)).toBe('wasm');
    expect(ew(cp - 1, false)).toBe('js');
    expect(ew(cp, false)).toBe('wasm-copy');
    expect(ew(th - 1, true)).toBe('wasm');
    expect(ew(th, true)).toBe('threaded');
    expect(ew(th * 4, false)).toBe('wasm-copy');
  });

  it('rows: only rows of at least ewRowMin, then as elementwise (never threaded)', () => {
    const { ewRowMin: r, ewWasmInPlaceMin: ip, ewWasmCopyMin: cp } = DEFAULTS;
    expect(choosePath(call({ family: 'rows', work: 1 << 20, row: r - 1 }))).toBe('js');
    expect(choosePath(call({ family: 'rows', work: Math.max(ip, r), row: r }))).toBe('wasm');
    expect(choosePath(call({ family: 'rows', work: cp - 1, row: r, inHeap: false }))).toBe('js');
    expect(choosePath(call({ family: 'rows', work: cp, row: r, inHeap: false }))).toBe('wasm-copy');
    expect(choosePath(call({ family: 'rows', work: 1 << 22, row: r, chunks: 64 }))).toBe('wasm');
  });

  it('sums and fused ops: wasm in place from their thresholds, never with copies', () => {
    const { sumWasmMin: s, fusedWasmMin: f } = DEFAULTS;
    expect(choosePath(call({ family: 'sum', work: s - 1 }))).toBe('js');
    expect(choosePath(call({ family: 'sum', work: s }))).toBe('wasm');
    expect(choosePath(call({ family: 'sum', work: 1 << 24, inHeap: false }))).toBe('js');
    expect(choosePath(call({ family: 'fused', work: f - 1 }))).toBe('js');
    expect(choosePath(call({ family: 'fused', work: f }))).toBe('wasm');
    expect(choosePath(call({ family: 'fused', work: 1 << 24, inHeap: false }))).toBe('js');
  });

  it('the switches: no kernel or wasm off is JS; one thread is never threaded; workers only threads a single chunk', () => {
    const big = call({ family: 'matmul', work: 1 << 30, chunks: 64 });
    expect(choosePath({ ...big, kernel: false })).toBe('js');
    configureCpu({ wasm: false });
    expect(choosePath(big)).toBe('js');
    configureCpu({ wasm: true, threads: 1 });
    expect(choosePath(big)).toBe('wasm');
    configureCpu({ threads: 2 });
    expect(choosePath({ ...big, chunks: 1 })).toBe('wasm');
    configureCpu({ workersOnly: true });
    expect(choosePath({ ...big, chunks: 1 })).toBe('threaded');
  });

  it('thresholds come from the config in force', () => {
    configureCpu({ wasmMinWork: 0, threadMinWork: 0, ewWasmCopyMin: 10 });
    expect(choosePath(call({ family: 'matmul', work: 1, chunks: 2 }))).toBe('threaded');
    expect(choosePath(call({ family: 'elementwise', work: 10, inHeap: false }))).toBe('wasm-copy');
  });

  it('configureCpu refuses unknown options and bad values, and keeps the config as it was', () => {
    const before = configureCpu({});
    expect(() => configureCpu({ stallMs: -1 })).toThrow(/configureCpu: stallMs must be a finite number ≥ 0, got -1/);
    expect(() => configureCpu({ goWaitMs: Number.NaN })).toThrow(/goWaitMs/);
    expect(() => configureCpu({ wasm: 1 as unknown as boolean })).toThrow(/wasm must be a boolean/);
    expect(() => configureCpu({ threads: 2, wasmMinWrok: 0 } as Partial<CpuConfig>)).toThrow(/unknown option 'wasmMinWrok'/);
    expect(configureCpu({})).toEqual(before);
  });

  it('wasmPossible (the cheap pre-check) is false only where every call of that size would run in JS', () => {
    const families: OpFamily[] = ['matmul', 'elementwise', 'rows', 'sum', 'fused'];
    for (const wasm of [true, false]) {
      configureCpu({ wasm, workersOnly: true, threads: 2 });
      for (const family of families) {
        for (const work of [0, 1, 15, 16, 63, 64, 511, 512, 65535, 65536, 1 << 18, 1 << 22, 1 << 26]) {
          if (wasmPossible(family, work)) continue;
          for (const inHeap of [true, false]) {
            expect(choosePath({ family, work, kernel: true, inHeap, chunks: 64, row: 1 << 20 }), `${family} ${work}`).toBe('js');
          }
        }
      }
    }
    resetCpuConfig();
    expect(wasmPossible('elementwise', DEFAULTS.ewWasmInPlaceMin)).toBe(true);
    expect(wasmPossible('matmul', DEFAULTS.wasmMinWork - 1)).toBe(false);
  });
});
