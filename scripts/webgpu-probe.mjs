#!/usr/bin/env node
// WebGPU probe for Node: Dawn through the `webgpu` npm package (optionalDependency).
// Needs a Vulkan driver; on GPU-less Debian use SwiftShader from Chromium:
//   eval "$(.ci/setup-webgpu.sh)" && node scripts/webgpu-probe.mjs [--json] [--no-destroy]
// Prints adapter info/limits/features, checks a WGSL compute shader (c = a*b + 1 over 1000
// floats, with a uniform buffer), tries requiredLimits, and exits non-zero on any failure.
// --no-destroy: skip device.destroy() (to check the process still exits on its own).
import { describeAdapter, runMulAdd, tryFeatures, LIMIT_NAMES, WANTED_FEATURES } from './webgpu-compute.mjs';

const args = new Set(process.argv.slice(2));
const t = () => performance.now();
const ms = (x) => +x.toFixed(1);
const report = { timings: {} };
let exitCode = 0;
const fail = (msg) => { console.error(`webgpu-probe: FAIL: ${msg}`); exitCode = 1; };

const tImport = t();
let webgpu;
try {
  webgpu = await import('webgpu');
} catch (e) {
  console.error(`webgpu-probe: FAIL: cannot load the 'webgpu' package: ${e.message}`);
  process.exit(2);
}
const { create, globals } = webgpu;
Object.assign(globalThis, globals);
report.timings.importMs = ms(t() - tImport);

if (!process.env.VK_ICD_FILENAMES) {
  console.error('webgpu-probe: note: VK_ICD_FILENAMES not set (see .ci/setup-webgpu.sh)');
}

const t0 = t();
const gpu = create([]);
report.timings.createMs = ms(t() - t0);
const t1 = t();
const adapter = await gpu.requestAdapter();
report.timings.requestAdapterMs = ms(t() - t1);
if (!adapter) {
  console.error('webgpu-probe: FAIL: requestAdapter() returned null ' +
    '(is VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json set?)');
  process.exit(3);
}
Object.assign(report, describeAdapter(adapter));

// requiredLimits: ask for the adapter's maxima (valid) ...
const want = {
  maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage,
  maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
  maxBufferSize: adapter.limits.maxBufferSize,
  maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
  maxComputeInvocationsPerWorkgroup: adapter.limits.maxComputeInvocationsPerWorkgroup,
};
const features = WANTED_FEATURES.filter((f) => adapter.features.has(f));
const t2 = t();
let device;
try {
  device = await adapter.requestDevice({ requiredLimits: want, requiredFeatures: features });
} catch (e) {
  console.error(`webgpu-probe: FAIL: requestDevice(requiredLimits=adapter maxima): ${e.message}`);
  process.exit(4);
}
report.timings.requestDeviceMs = ms(t() - t2);
report.timings.adapterPlusDeviceMs = ms(t() - t1);
device.lost.then((i) => { if (i.reason !== 'destroyed') console.error('device lost:', i.message); });
device.addEventListener?.('uncapturederror', (ev) => fail(`uncaptured: ${ev.error.message}`));

const granted = {};
for (const k of Object.keys(want)) granted[k] = device.limits[k];
report.requiredLimits = { requested: want, granted,
  ok: Object.keys(want).every((k) => granted[k] === want[k]) };
if (!report.requiredLimits.ok) fail('device did not grant the requested limits');

// ... and one limit above the adapter's maximum: requestDevice must reject (spec: OperationError)
try {
  const d2 = await adapter.requestDevice({ requiredLimits: {
    maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage + 1 } });
  report.overLimit = 'accepted (unexpected)';
  d2.destroy();
} catch (e) {
  report.overLimit = `rejected: ${e.name}: ${e.message.split('\n')[0]}`;
}

try {
  const t3 = t();
  const r = await runMulAdd(device, 1000, 1);
  report.compute = r;
  if (!r.ok) fail(`wrong result at index ${r.firstBad} (max err ${r.maxErr})`);
  const big = await runMulAdd(device, 1 << 20, 1);   // 1M floats, a second run on the same device
  report.compute1M = { ok: big.ok, ms: big.ms };
  if (!big.ok) fail(`wrong result at index ${big.firstBad} for n=2^20`);
  report.timings.computeTotalMs = ms(t() - t3);
  report.wgslFeatures = await tryFeatures(device, adapter);
} catch (e) {
  fail(e.stack ?? String(e));
}

if (!args.has('--no-destroy')) device.destroy();
report.timings.totalMs = ms(t() - tImport);
report.ok = exitCode === 0;
if (args.has('--json')) {
  console.log(JSON.stringify(report, null, 2));
} else {
  const { info, limits } = report;
  console.log(`adapter: ${info.vendor} / ${info.architecture} / ${info.description}`);
  console.log(`features: ${report.features.join(' ') || '(none)'}`);
  for (const k of LIMIT_NAMES) console.log(`  ${k.padEnd(36)} ${limits[k]}`);
  console.log(`requiredLimits granted: ${report.requiredLimits.ok}; over-limit request: ${report.overLimit}`);
  console.log(`compute n=1000: ${report.compute?.ok ? 'OK' : 'FAIL'} sample=${JSON.stringify(report.compute?.sample)} ` +
    `(${report.compute?.ms} ms); n=2^20: ${report.compute1M?.ok ? 'OK' : 'FAIL'} (${report.compute1M?.ms} ms)`);
  for (const [f, v] of Object.entries(report.wgslFeatures ?? {})) console.log(`feature ${f}: ${v}`);
  console.log(`timings (ms): ${JSON.stringify(report.timings)}`);
  console.log(report.ok ? 'webgpu-probe: OK' : 'webgpu-probe: FAILED');
}
const tEnd = t();
process.on('exit', () => {
  if (args.has('--json')) return;
  console.error(`webgpu-probe: process exiting ${ms(t() - tEnd)} ms after main finished`);
});
process.exitCode = exitCode;
