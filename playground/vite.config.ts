// The playground's Vite config: root is this folder, the library comes from ../src (its public
// entry, as the package would be imported), the page is served cross-origin isolated (so the CPU
// backend's wasm memory can be shared with its worker threads), and the mnist package's digits are
// packed into one small binary asset instead of bundling its 21 MB of JSON.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const HERE = dirname(fileURLToPath(import.meta.url));
const PIXELS = 28 * 28;

/** COOP + COEP: crossOriginIsolated, hence SharedArrayBuffer and the CPU worker threads. */
const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * digits.bin: n label bytes, then n·784 pixel bytes (round(255·v); the package stores each pixel
 * to 3 decimals, so a byte changes it by at most 1/510). 10,000 digits in 7.9 MB, read once.
 */
function packDigits(): Uint8Array {
  const dir = join(
    dirname(createRequire(import.meta.url).resolve('mnist/package.json')),
    'src',
    'digits',
  );
  const perDigit = Array.from({ length: 10 }, (_, d) => {
    const { data } = JSON.parse(readFileSync(join(dir, `${d}.json`), 'utf8')) as { data: number[] };
    if (data.length % PIXELS !== 0)
      throw new Error(`digits: ${d}.json holds ${data.length} values, not a multiple of ${PIXELS}`);
    return data;
  });
  const n = perDigit.reduce((s, d) => s + d.length / PIXELS, 0);
  const out = new Uint8Array(n * (1 + PIXELS));
  let row = 0;
  perDigit.forEach((data, d) => {
    const rows = data.length / PIXELS;
    out.fill(d, row, row + rows);
    for (let i = 0; i < data.length; i++) out[n + row * PIXELS + i] = Math.round(255 * data[i]!);
    row += rows;
  });
  return out;
}

function digitsAsset(): Plugin {
  let packed: Uint8Array | null = null;
  const get = () => (packed ??= packDigits());
  return {
    name: 'playground-digits',
    configureServer(server) {
      server.middlewares.use('/digits.bin', (_req, res) => {
        res.setHeader('content-type', 'application/octet-stream');
        res.end(get());
      });
    },
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: 'digits.bin', source: get() });
    },
  };
}

// Node-only modules the library loads lazily (never in a browser): left out of the bundle.
const NODE_ONLY = ['webgpu', 'cli-progress', 'fs/promises', /^node:/];

export default defineConfig({
  root: HERE,
  base: './',
  plugins: [digitsAsset()],
  // class names survive minification: layers describe themselves (and name themselves in errors) by them
  esbuild: { keepNames: true },
  server: { host: '127.0.0.1', port: 5173, headers: ISOLATION },
  preview: { host: '127.0.0.1', port: 5173, headers: ISOLATION },
  build: {
    outDir: join(HERE, 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
    rollupOptions: { external: NODE_ONLY },
  },
  worker: { format: 'es', rollupOptions: { external: NODE_ONLY } },
});
