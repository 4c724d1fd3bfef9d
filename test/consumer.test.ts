// The package as a user gets it: `npm pack` (of the dist/ the test setup built), installed from the
// tarball into a fresh project with the registry (optional peers left out), then used the ways
// people use it: ESM and CommonJS imports, a strict TypeScript compile of the README examples, an
// esbuild browser bundle with no externals, and that bundle training with the Trainer's defaults
// in headless Chromium. Prints the install and bundle sizes.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectErrors, launchChromium, serveStatic, waitForFlag, type StaticServer } from './helpers/chromium';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'node_modules/.bin');
/**
 * A static or dynamic import of a Node module that a bundler of this code would try to resolve
 * (the Node worker's source, a string inside the CPU backend, may name node: modules freely).
 */
const NODE_IMPORT = /import\(\s*["']node:|\bfrom\s*["']node:/;
/** the target for a consumer install without optional packages */
const MAX_INSTALL_BYTES = 10 * 1024 * 1024;

/** Apparent size of every file under `dir` (what `du -sb` counts for files). */
function bytesUnder(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += bytesUnder(p);
    else if (e.isFile()) n += statSync(p).size;
  }
  return n;
}

/**
 * Run a command and give its stdout. Asynchronous: a test worker blocked for a minute (tsc, npm)
 * misses vitest's heartbeats and the run reports an error.
 */
async function run(cmd: string, args: string[], cwd: string, timeout = 120_000): Promise<string> {
  const { stdout } = await promisify(execFile)(cmd, args, { cwd, encoding: 'utf8', timeout, maxBuffer: 64 << 20 });
  return stdout.trim();
}

/** The README's ```ts blocks that import the package (what a new user copies first). */
const README_EXAMPLES = [...readFileSync(join(ROOT, 'README.md'), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)]
  .map((m) => m[1]!)
  .filter((b) => b.includes("from 'tapegrad"));

/** What the browser page runs: a small regression trained with the Trainer's defaults. */
const TRAIN_ENTRY = `
import { Adam, Linear, MSE, Sequential, Tanh, Trainer, linspace, manualSeed, tensor } from 'tapegrad';
const make = () => new Sequential(new Linear(1, 16), new Tanh(), new Linear(16, 1));
window.train = async () => {
  manualSeed(0);
  const x = linspace(-2, 2, 64).reshape([-1, 1]);
  const y = x.sin();
  const net = make();
  const trainer = new Trainer(net, new MSE(), new Adam(net.parameters(), { lr: 0.02 }));
  const history = await trainer.fit(x, y, { epochs: 60 });
  // weights out as bytes and back in through a Blob, as a page would store and reload them
  const blob = new Blob([await net.saveBytes()]);
  const again = await make().load(blob);
  const probe = tensor([[0.5]]);
  return {
    first: history.train[0], last: history.train.at(-1),
    same: net.forward(probe).item() === again.forward(probe).item(),
    net: String(net), printed: String(tensor([NaN, Infinity, 1.5])),
  };
};
window.pageReady = true;
`;

/** Three bundles for the size report: one op and backward; a net and the Trainer; everything. */
const SIZE_ENTRIES: Record<string, string> = {
  minimal: `import { tensor } from 'tapegrad';
const x = tensor([1, 2, 3], { requiresGrad: true }); x.mul(x).sum().backward(); console.log(x.grad.toArray());`,
  nn: `import { Sequential, Linear, ReLU, MSE, SGD, Trainer, tensor } from 'tapegrad';
const net = new Sequential(new Linear(2, 4), new ReLU(), new Linear(4, 1));
const t = new Trainer(net, new MSE(), new SGD(net.parameters(), { lr: 0.1 }));
t.fit(tensor([[1, 2]]), tensor([[1]]), { epochs: 1 }).then((h) => console.log(h));`,
  everything: `import * as tg from 'tapegrad'; console.log(Object.keys(tg).length, tg);`,
};

describe('the packed package in a fresh project', () => {
  let dir = '';
  let app = '';
  let tarball = '';
  let server: StaticServer | undefined;
  let browser: import('playwright-core').Browser | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tapegrad-consumer-'));
    // --ignore-scripts: dist/ is the one the test setup built; prepack would rebuild it under
    // other test files that are reading it
    const packed = JSON.parse(await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], ROOT));
    tarball = join(dir, packed[0].filename);
    app = join(dir, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, type: 'module' }));
    await run('npm', ['install', '--no-audit', '--no-fund', '--omit=optional', '--omit=peer', '--loglevel=error', tarball], app, 180_000);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ships dist only: no src/, no source maps, and the package metadata', async () => {
    const files = (await run('tar', ['tzf', tarball], dir)).split('\n');
    expect(files.filter((f) => f.startsWith('package/src/'))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    const standalone = readFileSync(join(app, 'node_modules/tapegrad/dist/browser/index.js'), 'utf8');
    expect(standalone).not.toMatch(NODE_IMPORT);
    for (const f of ['package/LICENSE', 'package/README.md', 'package/CHANGELOG.md', 'package/dist/index.js', 'package/dist/index.cjs']) {
      expect(files).toContain(f);
    }
    const pkg = JSON.parse(readFileSync(join(app, 'node_modules/tapegrad/package.json'), 'utf8'));
    expect(pkg.repository).toBeTruthy();
    expect(pkg.keywords.length).toBeGreaterThan(0);
    expect(pkg.sideEffects).toBeDefined();
    console.log(`[tapegrad] tarball ${(statSync(tarball).size / 1024).toFixed(0)} KB, ${files.length} files`);
  });

  it(`installs in at most ${MAX_INSTALL_BYTES / 2 ** 20} MB, with no stray packages or CLIs`, () => {
    const modules = join(app, 'node_modules');
    const size = bytesUnder(modules);
    console.log(`[tapegrad] install without optional packages: ${(size / 1e6).toFixed(2)} MB`);
    expect(size).toBeLessThanOrEqual(MAX_INSTALL_BYTES);
    // the one runtime dependency, and nothing that only the examples use
    const names = readdirSync(modules).filter((n) => !n.startsWith('.'));
    expect(names.sort()).toEqual(['pure-rand', 'tapegrad']);
    expect(existsSync(join(modules, '.bin')) ? readdirSync(join(modules, '.bin')) : []).toEqual([]);
  });

  it('imports as ESM and as CommonJS, and tells the two copies apart clearly', async () => {
    const esm = await run(process.execPath, ['--input-type=module', '-e', `
      import { tensor, isTensor } from 'tapegrad';
      import { createRequire } from 'node:module';
      const x = tensor([1, 2, 3], { requiresGrad: true });
      x.mul(x).sum().backward();
      // the CommonJS build is a second copy, with its own memory: its tensors are recognised...
      const other = createRequire(import.meta.url)('tapegrad').tensor([10, 20, 30]);
      let error = '';
      try { x.add(other); } catch (e) { error = e.constructor.name + ': ' + e.message; }
      // ...refused by ops with a TypeError, and copied in explicitly with tensor()
      console.log(JSON.stringify({ grad: Array.from(x.grad.dataSync()), brand: isTensor(other), error,
        copied: Array.from(tensor(other).add(x).dataSync()) }));`], app);
    const got = JSON.parse(esm);
    expect(got.grad).toEqual([2, 4, 6]);
    expect(got.brand).toBe(true);
    expect(got.error).toMatch(/^TypeError: add: input 1 \(shape \[3\]\) is a Tensor from another copy of tapegrad.*tensor\(x\)/);
    expect(got.copied).toEqual([11, 22, 33]);

    const cjs = await run(process.execPath, ['-e', `
      const { tensor } = require('tapegrad');
      const x = tensor([[1, 2], [3, 4]], { requiresGrad: true });
      x.matmul(x).sum().backward();
      console.log(JSON.stringify(x.grad.toArray()));`], app);
    // d/dX sum(X X) = 1 Xᵀ + Xᵀ 1 (row sums and column sums)
    expect(JSON.parse(cjs)).toEqual([[7, 11], [9, 13]]);
  });

  it('loads the main entry without fast-check or ndarray installed (optional peers)', async () => {
    const out = await run(process.execPath, ['-e', `
      const tg = require('tapegrad');
      // the entries that need them fail to load, naming the missing package
      const missing = (entry) => { try { require(entry); return 'loaded'; } catch (e) { return e.code + ' ' + /'([^']+)'/.exec(e.message)[1]; } };
      console.log(JSON.stringify({ gradcheck: typeof tg.gradcheck, shapeArb: typeof tg.shapeArb,
        testing: missing('tapegrad/testing'), ndarray: missing('tapegrad/ndarray') }));`], app);
    expect(JSON.parse(out)).toEqual({
      gradcheck: 'function', shapeArb: 'undefined', testing: 'MODULE_NOT_FOUND fast-check', ndarray: 'MODULE_NOT_FOUND ndarray',
    });
  });

  it('compiles the README examples with strict TypeScript', async () => {
    expect(README_EXAMPLES.length).toBeGreaterThanOrEqual(3);
    const src = join(app, 'examples');
    mkdirSync(src, { recursive: true });
    README_EXAMPLES.forEach((code, i) => writeFileSync(join(src, `example-${i}.mts`), code));
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        strict: true, noEmit: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext',
        lib: ['ES2022', 'DOM'], types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')],
        // our declarations are checked too: a consumer without skipLibCheck must compile
        skipLibCheck: false, noUnusedLocals: false,
      },
      include: ['examples'],
    }));
    try {
      await run(join(BIN, 'tsc'), ['-p', app], app, 140_000);
    } catch (e) {
      throw new Error(`tsc failed:\n${(e as { stdout?: string }).stdout ?? ''}${(e as { stderr?: string }).stderr ?? ''}`);
    }
  }, 150_000);

  it('bundles for the browser with no externals (sizes: minimal, with nn, everything)', async () => {
    const sizes: Record<string, string> = {};
    for (const [name, code] of Object.entries(SIZE_ENTRIES)) {
      writeFileSync(join(app, `${name}.js`), code);
      await run(join(BIN, 'esbuild'), [`${name}.js`, '--bundle', '--minify', '--platform=browser', '--format=esm', `--outfile=out/${name}.js`, '--log-level=error'], app);
      const bytes = readFileSync(join(app, `out/${name}.js`));
      const gzBytes = execFileSync('gzip', ['-9c', join(app, `out/${name}.js`)]).length;
      sizes[name] = `${(bytes.length / 1024).toFixed(1)} KB (${(gzBytes / 1024).toFixed(1)} KB gzipped)`;
      expect(bytes.length).toBeGreaterThan(0);
      // no Node module named where a browser bundler (of this bundle, too) would try to resolve it
      expect(bytes.toString()).not.toMatch(NODE_IMPORT);
    }
    console.log(`[tapegrad] browser bundles: ${JSON.stringify(sizes)}`);
  });

  it('trains with the Trainer defaults in headless Chromium from that bundle', async () => {
    writeFileSync(join(app, 'train.js'), TRAIN_ENTRY);
    await run(join(BIN, 'esbuild'), ['train.js', '--bundle', '--platform=browser', '--format=esm', '--outfile=out/train.js', '--log-level=error'], app);
    const bundle = readFileSync(join(app, 'out/train.js'));
    const page = `<!doctype html><meta charset="utf-8"><title>train</title><script type="module" src="/train.js"></script>`;
    server = await serveStatic({ '/': { type: 'text/html', body: page }, '/train.js': { type: 'text/javascript', body: bundle } });
    // throws naming the missing browser: this suite does not skip
    browser = await launchChromium();
    const tab = await browser.newPage();
    const errors = collectErrors(tab, { where: false });
    const lines: string[] = [];
    tab.on('console', (m) => m.type() !== 'error' && lines.push(m.text()));
    await tab.goto(`${server.origin}/`);
    await waitForFlag(tab, errors);
    const got = await tab.evaluate(() => (window as unknown as { train: () => Promise<Record<string, unknown>> }).train());
    await tab.close();
    expect(errors).toEqual([]);
    expect(got.last as number).toBeLessThan((got.first as number) / 4);
    expect(got.same).toBe(true);
    expect(got.net).toMatch(/^Sequential: 3 layers[\s\S]*Linear\(1→16\)[\s\S]*Tanh[\s\S]*Linear\(16→1\)/);
    expect(got.printed).toBe('tensor([   nan,    inf, 1.5000], dtype=float32, device=cpu)');
    // the default progress display in a browser: console lines ending at the last epoch
    expect(lines.some((l) => /^60\/60 {2}loss \d/.test(l))).toBe(true);
  }, 120_000);
});
