// The README's examples run as written: each ```ts block that imports 'tapegrad' is run against
// the built package (resolved by the package's own name, through its exports map).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { WEBGPU } from './helpers/devices';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(`${root}/README.md`, 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((b) => b.includes("from 'tapegrad'"));

describe('README', () => {
  it('has examples', () => expect(blocks.length).toBeGreaterThan(0));

  blocks.forEach((code, i) => {
    it(`example ${i} runs without error`, (ctx) => {
      // the WebGPU example needs an adapter (devices.ts fails the run instead where one is required)
      if (code.includes('initWebGPU') && !WEBGPU.available) return ctx.skip();
      // inside the package scope (not under node_modules) so that 'tapegrad' resolves to this package
      const dir = `${root}/.readme-examples`;
      mkdirSync(dir, { recursive: true });
      const file = `${dir}/example-${i}.mts`;
      writeFileSync(file, code);
      const out = execFileSync(process.execPath, ['--import', 'tsx', file], { cwd: root, encoding: 'utf8', timeout: 120_000 });
      expect(out).not.toMatch(/NaN/);
    });
  });
});
