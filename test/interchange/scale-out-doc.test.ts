// docs/scale-out.md's TypeScript examples run as written against the built package (as the
// README's do): each ```ts block that imports 'tapegrad' is written out and run with tsx.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const doc = readFileSync(`${root}/docs/scale-out.md`, 'utf8');
const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)]
  .map((m) => m[1]!)
  .filter((b) => b.includes("from 'tapegrad'"));

describe('docs/scale-out.md', () => {
  it('has runnable examples', () => expect(blocks.length).toBeGreaterThanOrEqual(2));

  blocks.forEach((code, i) => {
    it(`example ${i} runs`, () => {
      // inside the package (not under node_modules) so that 'tapegrad' resolves to this package
      const dir = `${root}/.readme-examples`;
      mkdirSync(dir, { recursive: true });
      const file = `${dir}/scale-out-${i}.mts`;
      writeFileSync(file, code);
      const out = execFileSync(process.execPath, ['--import', 'tsx', file], {
        cwd: root,
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect(out).not.toMatch(/NaN/);
      if (code.includes('exportOnnx')) {
        // the example prints the output dims and the largest difference from tapegrad
        expect(out).toMatch(/\[ 5, 3 \]/);
        const worst = Number(/largest difference from tapegrad: (\S+)/.exec(out)![1]);
        expect(worst).toBeLessThan(1e-5);
      }
    });
  });
});
