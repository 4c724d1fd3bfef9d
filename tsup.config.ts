import { defineConfig } from 'tsup';

export default defineConfig([
  {
    // Node and bundlers: ESM + CJS + declarations, dependencies left as imports.
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'es2022',
    // `webgpu` (Dawn for Node) is loaded lazily and only in Node; browsers use navigator.gpu.
    external: ['webgpu'],
  },
  {
    // Browsers without a bundler: one ES module with its dependencies inlined
    // (<script type="module"> import { tensor } from './tapegrad/dist/browser/index.js').
    entry: { index: 'src/index.ts' },
    outDir: 'dist/browser',
    format: ['esm'],
    platform: 'browser',
    sourcemap: true,
    target: 'es2022',
    noExternal: [/^(?!webgpu$|cli-progress$|node:).*/],
    external: ['webgpu', 'cli-progress', /^node:/],
  },
]);
