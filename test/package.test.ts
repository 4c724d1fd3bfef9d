// The published shape: ESM and CJS entry points through the exports map, with type declarations.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8'));

function node(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' }).trim();
}

describe('package', () => {
  it('names every file its exports map points at', () => {
    const targets: string[] = [];
    const walk = (v: unknown) => (typeof v === 'string' ? targets.push(v) : Object.values(v as object).forEach(walk));
    walk(pkg.exports);
    expect(targets.length).toBeGreaterThanOrEqual(14); // ., testing, ndarray (4 each), browser, package.json
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
    // the entries share declaration chunks (one Tensor class for all of them)
    const dts = readdirSync(`${root}/dist`).filter((f) => f.endsWith('.d.ts')).map((f) => readFileSync(`${root}/dist/${f}`, 'utf8')).join('\n');
    for (const name of ['class Tensor', 'declare function tensor', 'declare function tidy', 'declare function noGrad']) {
      expect(dts).toContain(name);
    }
  });
});
