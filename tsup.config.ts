import { defineConfig } from 'tsup';

export default defineConfig([
  {
    // Node and bundlers: ESM + CJS + declarations, dependencies left as imports. The three entries
    // share chunks (splitting, for CJS too): `tapegrad/ndarray` and `tapegrad/testing` must use the
    // very Tensor class and backends of `tapegrad`, not copies of them.
    entry: { index: 'src/index.ts', testing: 'src/testing.ts', ndarray: 'src/ndarray.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    splitting: true,
    // no source maps in the package: they would point into src/, which does not ship
    sourcemap: false,
    clean: true,
    target: 'es2022',
    // `webgpu` (Dawn for Node) is loaded lazily and only in Node; browsers use navigator.gpu.
    external: ['webgpu'],
  },
  {
    // Browsers without a bundler (`tapegrad/browser`, or from a CDN): one minified ES module with
    // its one dependency (pure-rand) inlined, so a <script type="module"> can import it by path.
    entry: { index: 'src/index.ts' },
    outDir: 'dist/browser',
    format: ['esm'],
    platform: 'browser',
    minify: true,
    sourcemap: false,
    target: 'es2022',
    noExternal: ['pure-rand'],
    external: ['webgpu'],
  },
]);
