// What one MLP training step (the bench's: linear, relu, mse, backward, SGD) costs in copies,
// counted, not timed: the transposes of the backward pass (dx = g·Wᵀ, dW = xᵀ·g) reach the
// matmul kernel as strided views and are never materialized, and products whose output is in the
// wasm heap with whole kernel tiles write it in place (no scratch C copied out).
import { afterEach, describe, expect, it } from 'vitest';
import { noGrad, tensor, tidy, type Tensor } from '../../src';
import { cpuBackend, cpuCapabilities, resetCpuConfig } from '../../src/backends/cpu';
import { gemmStats } from '../../src/backends/cpu/gemm';
import type { CpuStorage } from '../../src/backends/cpu/storage';

const rand = (n: number, seed: number) => {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) * 0.5;
  });
};

/** The bench's MLP step on `sizes` (batch rows): forward, backward, p -= lr·g on every parameter. */
function mlp(sizes: number[], batch: number) {
  const W = sizes.slice(1).map((n, i) => tensor(rand(sizes[i]! * n, i + 1), { shape: [sizes[i]!, n], requiresGrad: true }));
  const b = sizes.slice(1).map((n, i) => tensor(rand(n, i + 11), { shape: [n], requiresGrad: true }));
  const x = tensor(rand(batch * sizes[0]!, 21), { shape: [batch, sizes[0]!] });
  const y = tensor(rand(batch * sizes[sizes.length - 1]!, 22), { shape: [batch, sizes[sizes.length - 1]!] });
  const step = () =>
    tidy(() => {
      let h: Tensor = x;
      W.forEach((w, l) => {
        h = h.linear(w, b[l]!);
        if (l < W.length - 1) h = h.relu();
      });
      const loss = h.mse(y);
      loss.backward();
      noGrad(() => {
        for (const p of [...W, ...b]) {
          p.assign(p.sub(p.grad!.mul(0.05)));
          p.zeroGrad();
        }
      });
      return loss.item();
    });
  return { step, dispose: () => [...W, ...b, x, y].forEach((t) => t.dispose()) };
}

/** Run fn while counting materialize calls and the matmul kernel's strided (non-row-major) inputs. */
function counted(fn: () => void) {
  const backend = cpuBackend as unknown as { materialize: (...a: unknown[]) => unknown; kernels: Record<string, (...a: unknown[]) => unknown> };
  const { materialize } = backend;
  const { matmul } = backend.kernels;
  const n = { materialized: 0, stridedMatmulInputs: 0, copiedOut: gemmStats.copiedOut };
  const rowMajor = ({ view: v }: CpuStorage) => v.strides.every((s, d) => v.shape[d] === 1 || s === v.shape.slice(d + 1).reduce((p, q) => p * q, 1));
  backend.materialize = (...a) => (n.materialized++, materialize.apply(backend, a));
  backend.kernels.matmul = (...a) => {
    n.stridedMatmulInputs += (a[0] as CpuStorage[]).filter((s) => !rowMajor(s)).length;
    return matmul!(...a);
  };
  try {
    fn();
  } finally {
    backend.materialize = materialize;
    backend.kernels.matmul = matmul!;
  }
  return { ...n, copiedOut: gemmStats.copiedOut - n.copiedOut };
}

describe('an MLP training step on the CPU', () => {
  afterEach(() => resetCpuConfig());

  it('materializes no view: the backward transposes reach matmul as strided views', () => {
    const net = mlp([64, 32, 16, 8], 32);
    net.step(); // warm: first-call allocations out of the way
    const n = counted(() => net.step());
    net.dispose();
    expect(n.materialized).toBe(0);
    // dx = g·Wᵀ for the two upper layers, dW = hᵀ·g for all three
    expect(n.stridedMatmulInputs).toBe(5);
  });

  it('copies no product out of scratch when every product has whole tiles and a heap output', () => {
    const caps = cpuCapabilities();
    if (!caps.wasm || !caps.sharedMemory) return; // no heap: every product goes through scratch
    // every m a multiple of MR = 4 and every n of NR = 8, every C of at least the heap's 256 bytes
    const net = mlp([64, 32, 16, 8], 32);
    net.step();
    const n = counted(() => net.step());
    net.dispose();
    expect(n.copiedOut).toBe(0);
    // and a net whose last layer has 10 outputs copies exactly its ragged products: the forward
    // [32,16]·[16,10] and dW₃ = h₂ᵀ·g [16,32]·[32,10] (dx₃ = g·W₃ᵀ is [32,10]·[10,16]: whole)
    const ragged = mlp([64, 32, 16, 10], 32);
    ragged.step();
    const r = counted(() => ragged.step());
    ragged.dispose();
    expect(r.copiedOut).toBe(32 * 10 + 16 * 10);
  });
});
