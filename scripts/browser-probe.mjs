#!/usr/bin/env node
// WebGPU probe for the browser: Debian's /usr/bin/chromium (headless, SwiftShader),
// driven by playwright-core (devDependency; never downloads a browser).
//   node scripts/browser-probe.mjs                  # default flags, exit 0 iff the check passed
//   node scripts/browser-probe.mjs --try-all        # try every flag variant, report which work
//   node scripts/browser-probe.mjs --variant=NAME   # one variant (see VARIANTS)
//   [--json] [--chromium=/path/to/chromium] [--keep-open-ms=N]
// A local http server on 127.0.0.1 (random port) serves the page, which loads an ES module
// (<script type="module" src="/x.js">) that imports ./webgpu-compute.mjs (the same WGSL and
// checks as scripts/webgpu-probe.mjs) and hands its result back to Node.
// navigator.gpu needs a secure context: http://127.0.0.1 or http://localhost work, data: URLs do not.
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HYGIENE = ['--no-sandbox', '--no-first-run', '--disable-background-networking',
  '--disable-component-update'];
export const WEBGPU_ARGS = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', ...HYGIENE];
const VARIANTS = {
  default: WEBGPU_ARGS,
  'vulkan-feature': [...WEBGPU_ARGS, '--enable-features=Vulkan'],
  'vulkan-swiftshader': [...WEBGPU_ARGS, '--enable-features=Vulkan', '--use-vulkan=swiftshader'],
  'angle-swiftshader': [...WEBGPU_ARGS, '--use-angle=swiftshader'],
  'unsafe-webgpu-only': ['--enable-unsafe-webgpu', ...HYGIENE],
  'no-flags': [...HYGIENE],
};

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const a = argv.find((x) => x.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : dflt;
};
const has = (name) => argv.includes(`--${name}`);
const executablePath = opt('chromium', '/usr/bin/chromium');
const ms = (x) => +x.toFixed(1);

const PAGE = `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>tapegrad webgpu probe</title>
<script type="module" src="/x.js"></script>`;
const X_JS = `import { describeAdapter, runMulAdd, tryFeatures, WANTED_FEATURES } from '/webgpu-compute.mjs';
window.__probe = (async () => {
  const r = { secureContext: isSecureContext, hasGpu: 'gpu' in navigator, userAgent: navigator.userAgent };
  if (!r.hasGpu) return r;
  const t0 = performance.now();
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) return { ...r, adapter: null };
  Object.assign(r, describeAdapter(adapter));
  const device = await adapter.requestDevice({
    requiredFeatures: WANTED_FEATURES.filter((f) => adapter.features.has(f)),
    requiredLimits: { maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage,
                      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize } });
  r.adapterPlusDeviceMs = +(performance.now() - t0).toFixed(1);
  r.compute = await runMulAdd(device, 1000, 1);
  r.wgslFeatures = await tryFeatures(device, adapter);
  device.destroy();
  return r;
})().catch((e) => ({ error: String(e && e.stack || e) }));
`;
const computeJs = await readFile(fileURLToPath(new URL('./webgpu-compute.mjs', import.meta.url)), 'utf8');

function startServer() {
  const files = {
    '/': ['text/html; charset=utf-8', PAGE],
    '/x.js': ['text/javascript; charset=utf-8', X_JS],
    '/webgpu-compute.mjs': ['text/javascript; charset=utf-8', computeJs],
  };
  const served = [];
  const server = http.createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    const f = files[path];
    served.push(`${req.method} ${path} ${f ? 200 : 404}`);
    if (!f) { res.writeHead(404).end('not found'); return; }
    res.writeHead(200, { 'content-type': f[0], 'cache-control': 'no-store' }).end(f[1]);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () =>
    resolve({ server, served, url: `http://127.0.0.1:${server.address().port}/` })));
}

async function probe(name, args) {
  const times = {};
  let t = performance.now();
  const lap = (k) => { const n = performance.now(); times[k] = ms(n - t); t = n; };
  const { server, served, url } = await startServer();
  const consoleMsgs = [];
  let browser;
  try {
    browser = await chromium.launch({ executablePath, headless: true, args, timeout: 60_000 });
    lap('launchMs');
    const page = await browser.newPage();
    page.on('console', (m) => consoleMsgs.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => consoleMsgs.push(`pageerror: ${e.message}`));
    await page.goto(url, { waitUntil: 'load' });
    lap('pageLoadMs');
    await page.waitForFunction(() => window.__probe !== undefined, null, { timeout: 30_000 });
    const r = await page.evaluate(() => window.__probe);
    lap('probeMs');
    const ok = !!r.compute?.ok;
    return { variant: name, ok, args, url, result: r, served, console: consoleMsgs,
             browserVersion: browser.version(), times };
  } catch (e) {
    return { variant: name, ok: false, args, error: String(e.message ?? e).split('\n')[0],
             served, console: consoleMsgs, times };
  } finally {
    const tc = performance.now();
    await browser?.close();
    times.closeMs = ms(performance.now() - tc);
    await new Promise((r) => server.close(r));
  }
}

function summarize(p) {
  const r = p.result ?? {};
  const lines = [`[${p.variant}] ${p.ok ? 'OK' : 'FAIL'}  args: ${p.args.join(' ')}`];
  if (p.error) lines.push(`  error: ${p.error}`);
  if (p.browserVersion) lines.push(`  chromium ${p.browserVersion}; secureContext=${r.secureContext} navigator.gpu=${r.hasGpu}`);
  if (r.error) lines.push(`  page error: ${r.error}`);
  if (r.hasGpu && r.info === undefined) lines.push('  requestAdapter() -> null');
  if (r.info) {
    lines.push(`  adapter: ${r.info.vendor} / ${r.info.architecture} / ${r.info.description}`);
    lines.push(`  limits: ${Object.entries(r.limits).map(([k, v]) => `${k}=${v}`).join(' ')}`);
    lines.push(`  features: ${r.features.join(' ')}`);
  }
  if (r.compute) lines.push(`  compute n=1000: ${r.compute.ok ? 'OK' : 'WRONG'} sample=${JSON.stringify(r.compute.sample)} (${r.compute.ms} ms); adapter+device ${r.adapterPlusDeviceMs} ms`);
  if (r.wgslFeatures) lines.push(`  wgsl features: ${JSON.stringify(r.wgslFeatures)}`);
  lines.push(`  served: ${p.served.join(', ')}`);
  if (p.console.length) lines.push(`  console: ${p.console.slice(0, 5).join(' | ')}`);
  lines.push(`  times (ms): ${JSON.stringify(p.times)}`);
  return lines.join('\n');
}

const tAll = performance.now();
const names = has('try-all') ? Object.keys(VARIANTS) : [opt('variant', 'default')];
const results = [];
for (const n of names) {
  if (!VARIANTS[n]) { console.error(`unknown variant ${n}; one of ${Object.keys(VARIANTS)}`); process.exit(2); }
  const p = await probe(n, VARIANTS[n]);
  results.push(p);
  if (!has('json')) console.log(summarize(p));
}
if (has('json')) console.log(JSON.stringify(results, null, 2));
else console.log(`browser-probe: total ${ms(performance.now() - tAll)} ms`);
// --try-all is exploratory: only the default variant decides the exit code
const decisive = results.find((p) => p.variant === 'default') ?? results[0];
process.exitCode = decisive.ok ? 0 : 1;
