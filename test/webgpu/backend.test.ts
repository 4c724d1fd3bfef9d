// The WebGPU backend object: device setup, errors that name what is wrong, the buffer pool, the
// pipeline cache, queued (not awaited) work, and memory accounting under dispose/tidy.
import { expect, it } from 'vitest';
import { initWebGPU, memory, randn, tensor, tidy, zeros } from '../../src';
import { webgpuStats } from '../../src/backends/webgpu';
import { sizeClass } from '../../src/backends/webgpu/runtime';
import { WEBGPU, WEBGPU_REQUIRED } from '../helpers/devices';
import { describeGPU } from './helpers';

it('finds an adapter, or says why the WebGPU suites are skipped', () => {
  // With CI or TAPEGRAD_REQUIRE_WEBGPU set, devices.ts already failed this file's import.
  if (!WEBGPU.available) expect(WEBGPU_REQUIRED).toBe(false);
  else expect(WEBGPU.detail.length).toBeGreaterThan(0);
});

describeGPU('webgpu backend', () => {
  it('initWebGPU resolves once per process with the adapter description', async () => {
    const again = await initWebGPU();
    expect(again).toBe(WEBGPU.detail);
  });

  it('dataSync on a WebGPU tensor points at data()', async () => {
    const x = tensor([1, 2, 3], { device: 'webgpu' });
    expect(() => x.dataSync()).toThrow(/webgpu.*await t\.data\(\)/);
    expect(() => tensor(5, { device: 'webgpu' }).item()).toThrow(/data\(\)/);
    expect([...(await x.data())]).toEqual([1, 2, 3]);
  });

  it('mixing devices in one op names both devices', () => {
    const g = tensor([1, 2], { device: 'webgpu' });
    const c = tensor([1, 2]);
    expect(() => g.add(c)).toThrow(/add: .*webgpu and cpu/);
    expect(() => c.mul(g)).toThrow(/mul: .*cpu and webgpu/);
    expect(() => tensor([[1]], { device: 'webgpu' }).matmul(tensor([[1]]))).toThrow(/matmul: .*webgpu and cpu/);
  });

  it('float64 is refused with an error naming the dtype and the device', () => {
    expect(() => tensor([1], { dtype: 'float64', device: 'webgpu' })).toThrow(/float64 .*webgpu/);
    expect(() => tensor([1], { dtype: 'float64' }).to('webgpu')).toThrow(/float64.*float32/);
    expect(() => tensor([1], { device: 'webgpu' }).cast('float64')).toThrow(/cast: dtype float64 .*webgpu/);
  });

  it('moves between devices: to(webgpu), toAsync(cpu); to(cpu) from WebGPU points at toAsync', async () => {
    const c = tensor([[1.5, -2], [3, 4]], { requiresGrad: true });
    const g = c.to('webgpu');
    expect(g.device).toBe('webgpu');
    expect(g.requiresGrad).toBe(true);
    expect(() => g.to('cpu')).toThrow(/toAsync/);
    const back = await g.toAsync('cpu');
    expect(back.toArray()).toEqual([[1.5, -2], [3, 4]]);
  });

  it('the pool reuses released buffers of the same size class', async () => {
    const a = zeros([1000], { device: 'webgpu' });
    await a.data();
    a.dispose();
    const s0 = webgpuStats()!;
    expect(s0.pooledBuffers).toBeGreaterThan(0);
    // 1000 and 990 floats fall in one class (3584 bytes): the second tensor takes the first's buffer
    expect(sizeClass(990 * 4)).toBe(sizeClass(1000 * 4));
    const b = zeros([990], { device: 'webgpu' });
    const s1 = webgpuStats()!;
    expect(s1.created).toBe(s0.created);
    expect(s1.pooledBuffers).toBe(s0.pooledBuffers - 1);
    b.dispose();
  });

  it('size classes waste at most a quarter', () => {
    for (const bytes of [4, 255, 257, 1000, 4096, 4097, 123_457, 10_000_000]) {
      const c = sizeClass(bytes);
      expect(c).toBeGreaterThanOrEqual(bytes);
      expect(c <= 256 || c <= bytes * 1.25 + 4).toBe(true);
    }
  });

  it('one pipeline per kernel source: new shapes do not compile new shaders', async () => {
    // (the shapes keep every kernel on one variant: strided elementwise, serial reductions)
    const run = async (sa: number[], sb: number[]) => {
      const out = tidy(() => randn(sa, { device: 'webgpu' }).mul(randn(sb, { device: 'webgpu' })).sum(-1).max());
      await out.data();
      out.dispose();
    };
    await run([3, 4], [4]);
    const p0 = webgpuStats()!.pipelines;
    await run([7, 5], [5]);
    await run([2, 9, 30], [30]);
    expect(webgpuStats()!.pipelines).toBe(p0);
  });

  it('kernels are queued without waiting; data() submits and maps back', async () => {
    const a = randn([64], { device: 'webgpu' });
    const b = randn([64], { device: 'webgpu' });
    await a.data(); // flushes the uploads
    const s0 = webgpuStats()!.submits;
    const c = a.mul(b).add(a).exp();
    expect(webgpuStats()!.submits).toBe(s0); // recorded, not submitted yet
    const values = await c.data();
    expect(webgpuStats()!.submits).toBeGreaterThan(s0);
    const [av, bv] = [await a.data(), await b.data()];
    // relative: exp of a random product reaches the thousands, where a float32 ulp is 2e-4
    values.forEach((v, i) => {
      const want = Math.exp(av[i]! * bv[i]! + av[i]!);
      expect(Math.abs(v - want)).toBeLessThanOrEqual(1e-5 * want + 1e-6);
    });
    for (const t of [a, b, c]) t.dispose();
  });

  it('dispose and tidy give every buffer back; memory() reports live tensors and bytes', async () => {
    const m0 = memory().devices.webgpu!;
    const x = randn([32, 16], { device: 'webgpu' });
    const m1 = memory().devices.webgpu!;
    expect(m1.tensors).toBe(m0.tensors + 1);
    expect(m1.buffers).toBe(m0.buffers + 1);
    expect(m1.bytes).toBe(m0.bytes + sizeClass(32 * 16 * 4));
    const y = tidy(() => x.matmul(x.T).relu().sum(0).reshape([4, 8]).T);
    expect(memory().devices.webgpu!.tensors).toBe(m1.tensors + 1);
    expect((await y.data()).length).toBe(32);
    y.dispose();
    x.dispose();
    expect(memory().devices.webgpu).toEqual(m0);
  });

  it('dispatches beyond 65535 workgroups in x spill into y', async () => {
    const n = 65535 * 256 + 300;
    const x = tensor(new Float32Array(n).fill(2), { device: 'webgpu' });
    const y = x.mul(x);
    const tail = y.slice([n - 3]);
    expect([...(await tail.data())]).toEqual([4, 4, 4]);
    for (const t of [x, y, tail]) t.dispose();
  });
});
