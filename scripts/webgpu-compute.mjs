// Shared by scripts/webgpu-probe.mjs (Node, Dawn via the `webgpu` package) and
// scripts/browser-probe.mjs (served to headless Chromium as an ES module).
// Plain JS with no imports, so it runs unchanged in both places.

export const LIMIT_NAMES = [
  'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupSizeY', 'maxComputeWorkgroupSizeZ',
  'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupsPerDimension',
  'maxComputeWorkgroupStorageSize', 'maxStorageBufferBindingSize', 'maxBufferSize',
  'maxStorageBuffersPerShaderStage', 'maxUniformBufferBindingSize', 'maxBindGroups',
  'maxBindingsPerBindGroup', 'minStorageBufferOffsetAlignment', 'minUniformBufferOffsetAlignment',
];

export const SHADER = /* wgsl */ `
struct Params { n: u32, bias: f32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= params.n) { return; }
  c[i] = a[i] * b[i] + params.bias;
}`;

export function describeAdapter(adapter) {
  const info = adapter.info ?? {};
  const limits = {};
  for (const k of LIMIT_NAMES) limits[k] = adapter.limits[k];
  return {
    info: { vendor: info.vendor, architecture: info.architecture, device: info.device,
            description: info.description },
    features: [...adapter.features].sort(),
    limits,
  };
}

/** c[i] = a[i]*b[i] + bias over n floats; returns {ok, maxErr, firstBad, ms}. */
export async function runMulAdd(device, n = 1000, bias = 1) {
  const t0 = performance.now();
  const a = new Float32Array(n), b = new Float32Array(n);
  for (let i = 0; i < n; i++) { a[i] = i * 0.5 - 100; b[i] = (i % 7) - 3.25; }
  const bytes = n * 4;
  const S = GPUBufferUsage.STORAGE, CD = GPUBufferUsage.COPY_DST, CS = GPUBufferUsage.COPY_SRC;
  const mk = (size, usage) => device.createBuffer({ size, usage });
  const ubuf = mk(16, GPUBufferUsage.UNIFORM | CD);
  const abuf = mk(bytes, S | CD), bbuf = mk(bytes, S | CD), cbuf = mk(bytes, S | CS);
  const rbuf = mk(bytes, GPUBufferUsage.MAP_READ | CD);
  const u = new ArrayBuffer(16);
  new Uint32Array(u, 0, 1)[0] = n;
  new Float32Array(u, 4, 1)[0] = bias;
  device.queue.writeBuffer(ubuf, 0, u);
  device.queue.writeBuffer(abuf, 0, a);
  device.queue.writeBuffer(bbuf, 0, b);

  device.pushErrorScope('validation');
  const module = device.createShaderModule({ code: SHADER });
  const pipeline = await device.createComputePipelineAsync({
    layout: 'auto', compute: { module, entryPoint: 'main' } });
  const bind = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [ubuf, abuf, bbuf, cbuf].map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bind);
  pass.dispatchWorkgroups(Math.ceil(n / 64));
  pass.end();
  enc.copyBufferToBuffer(cbuf, 0, rbuf, 0, bytes);
  device.queue.submit([enc.finish()]);
  const err = await device.popErrorScope();
  if (err) throw new Error(`validation error: ${err.message}`);
  await rbuf.mapAsync(GPUMapMode.READ);
  const c = new Float32Array(rbuf.getMappedRange().slice(0));
  rbuf.unmap();
  for (const buf of [ubuf, abuf, bbuf, cbuf, rbuf]) buf.destroy();

  let maxErr = 0, firstBad = -1;
  for (let i = 0; i < n; i++) {
    const want = Math.fround(Math.fround(a[i] * b[i]) + bias);
    const e = Math.abs(c[i] - want);
    if (e > 1e-5 * Math.max(1, Math.abs(want)) && firstBad < 0) firstBad = i;
    maxErr = Math.max(maxErr, e);
  }
  return { ok: firstBad < 0, n, maxErr, firstBad, sample: Array.from(c.slice(0, 4)),
           ms: +(performance.now() - t0).toFixed(1) };
}

/** Optional WGSL features worth knowing about for a compute backend. */
export const WANTED_FEATURES = ['shader-f16', 'subgroups', 'timestamp-query'];

const FEATURE_SHADERS = {
  'shader-f16': `enable f16;
@group(0) @binding(0) var<storage, read_write> x: array<f16>;
@compute @workgroup_size(1) fn main() { x[0] = x[0] * 2.0h; }`,
  'subgroups': `enable subgroups;
@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(local_invocation_index) i: u32) {
  x[i] = subgroupAdd(x[i]);
}`,
};

/** For each wanted feature: not offered / enabled on the device / WGSL compiles into a pipeline. */
export async function tryFeatures(device, adapter) {
  const out = {};
  for (const f of WANTED_FEATURES) {
    if (!adapter.features.has(f)) { out[f] = 'not offered by adapter'; continue; }
    if (!device.features.has(f)) { out[f] = 'offered, not enabled on device'; continue; }
    const code = FEATURE_SHADERS[f];
    if (!code) { out[f] = 'enabled'; continue; }
    device.pushErrorScope('validation');
    try {
      await device.createComputePipelineAsync({ layout: 'auto',
        compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
    } catch (e) { /* reported through the error scope / message below */
      out[f] = `pipeline error: ${e.message.split('\n')[0]}`;
    }
    const err = await device.popErrorScope();
    out[f] ??= err ? `validation error: ${err.message.split('\n')[0]}` : 'enabled, WGSL compiles';
  }
  return out;
}
