// The wasm heap: big buffers live in the shared wasm memory and the kernels use them in place.
// Results must not depend on where a buffer lives; freed blocks are reused, never twice.
import { afterEach, describe, expect, it } from 'vitest';
import { Linear, Momentum, MSE, ReLU, Sequential, manualSeed, randn, tensor, tidy } from '../../src';
import { cpuCapabilities, resetCpuConfig } from '../../src/backends/cpu';
import { heapAlloc, heapBytes, HEAP_MIN_BYTES, HEAP_SLACK_BYTES, inHeap, useHeap } from '../../src/backends/cpu/heap';
import { alloc, fresh, release } from '../../src/backends/cpu/storage';
import { values } from './views';

afterEach(() => {
  useHeap(true);
  resetCpuConfig();
});

/** A chain of ops over big operands (views of heap buffers included), read back. */
function chain(): Float32Array[] {
  return tidy(() => {
    const a = tensor(values(300 * 200, 1), { shape: [300, 200] });
    const b = tensor(values(200 * 150, 2), { shape: [200, 150] });
    const c = a.matmul(b); // heap operands packed in place
    const d = a.slice([10, 20], [290, 190]).T.matmul(a.slice([5, 0], [285, 200])); // windows of a heap buffer
    const e = c.relu().sub(c.mul(0.5)).add(c); // big flat ops, in place
    return [c, d, e].map((t) => t.dataSync() as Float32Array);
  });
}

describe('the wasm heap', () => {
  it('is used for big buffers where the memory is shared', () => {
    if (!cpuCapabilities().sharedMemory) return;
    expect(inHeap(alloc('float32', HEAP_MIN_BYTES / 4))).toBe(true);
    expect(inHeap(alloc('float64', HEAP_MIN_BYTES / 8))).toBe(true);
    expect(heapAlloc('float32', 8)).toBeNull(); // small buffers stay in JS
    // what users read is a copy, never a view into the heap
    const t = tensor(new Float32Array(HEAP_MIN_BYTES / 4), { shape: [HEAP_MIN_BYTES / 4] });
    expect(t.dataSync().buffer).toBeInstanceOf(ArrayBuffer);
  });

  it('gives the same results whether buffers live in the heap or in JS', () => {
    const inside = chain();
    useHeap(false);
    const outside = chain();
    inside.forEach((x, i) => expect(Array.from(x)).toEqual(Array.from(outside[i]!)));
  });

  it('reuses a freed block, and a double release never hands one block out twice', () => {
    if (!cpuCapabilities().sharedMemory) return;
    const n = HEAP_MIN_BYTES; // float32 elements: 4× the threshold
    const s = fresh(alloc('float32', n), [n]);
    expect(inHeap(s.buf.data)).toBe(true);
    const at = s.buf.data.byteOffset;
    release(s);
    const again = alloc('float32', n);
    expect(again.byteOffset).toBe(at);
    const s2 = fresh(again, [n]);
    release(s2);
    release(s2); // a lifetime bug elsewhere
    const x = alloc('float32', n);
    const y = alloc('float32', n);
    expect(x.byteOffset === at && y.byteOffset === at).toBe(false);
  });
  it('holds a flat high-water mark over a training loop and over reductions of strided views', () => {
    if (!cpuCapabilities().sharedMemory) return;
    manualSeed(3);
    const net = new Sequential(new Linear(3, 40), new ReLU(), new Linear(40, 2));
    const opt = new Momentum(net.parameters(), { lr: 0.01 });
    const loss = new MSE();
    const x = randn([64, 3]);
    const y = randn([64, 2]);
    const step = () => {
      tidy(() => loss.forward(net.forward(x), y).backward());
      opt.step();
      opt.zeroGrad();
      // reductions that copy their input first (not row-major, or axes not one block)
      tidy(() => [x.T.sum(1), randn([30, 20, 4]).permute([2, 0, 1]).sum([0, 2]), x.T.mse(x.T)]);
      // reads of strided views gather them into a buffer of ours first
      x.T.dataSync();
    };
    for (let i = 0; i < 50; i++) step();
    const high = heapBytes();
    for (let i = 0; i < 500; i++) step();
    expect(heapBytes()).toBe(high);
  });
  it('stays within its slack when buffer sizes keep changing (new sizes then get plain arrays)', () => {
    if (!cpuCapabilities().sharedMemory) return;
    const before = heapBytes();
    const mb = 2 ** 18; // float32 elements in 1 MB
    let plain = 0;
    for (let k = 0; k < 100; k++) {
      const s = fresh(alloc('float32', mb + 16 * k), [mb + 16 * k]); // a size never seen before
      if (!inHeap(s.buf.data)) plain++;
      release(s);
    }
    expect(plain).toBeGreaterThan(0);
    expect(heapBytes() - before).toBeLessThanOrEqual(HEAP_SLACK_BYTES + 2 * 4 * mb);
    // a size with a free block is still served from the heap
    const again = fresh(alloc('float32', mb), [mb]);
    expect(inHeap(again.buf.data)).toBe(true);
    release(again);
  });
});
