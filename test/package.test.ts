// The published shape: ESM and CJS entry points through the exports map, with type declarations.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8'));

function node(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' }).trim();
}

describe('package', () => {
  it('names every file its exports map points at', () => {
    const targets = [pkg.exports['.'].import.default, pkg.exports['.'].import.types, pkg.exports['.'].require.default, pkg.exports['.'].require.types];
    for (const t of targets) expect(existsSync(`${root}/${t}`), t).toBe(true);
  });

  it('loads as ESM by its own name and computes a gradient', () => {
    const out = node(['--input-type=module', '-e', `
      import { tensor } from 'tapegrad';
      const x = tensor([1, 2, 3], { requiresGrad: true });
      x.mul(x).sum().backward();
      console.log(JSON.stringify(x.grad.toArray()));`]);
    expect(JSON.parse(out)).toEqual([2, 4, 6]);
  });

  it('loads as CommonJS by its own name', () => {
    const out = node(['-e', `
      const { tensor } = require('tapegrad');
      const x = tensor([[1, 2], [3, 4]], { requiresGrad: true });
      x.matmul(x).sum().backward();
      console.log(JSON.stringify(x.grad.toArray()));`]);
    // d/dX sum(X X) = 1 Xᵀ + Xᵀ 1 (row sums and column sums)
    expect(JSON.parse(out)).toEqual([[7, 11], [9, 13]]);
  });

  it('ships declarations that name the public API', () => {
    const dts = readFileSync(`${root}/dist/index.d.ts`, 'utf8');
    for (const name of ['class Tensor', 'declare function tensor', 'declare function tidy', 'declare function noGrad']) {
      expect(dts).toContain(name);
    }
  });
});
