// The FinalizationRegistry safety net frees what users forget, including tensors whose storage
// assign() replaced (it must free the new handle, not release the old one a second time).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

it('a forgotten tensor, assigned to before, gives back exactly its buffers once collected', () => {
  const script = `
    import { zeros, ones, memory } from './src/index.ts';
    const before = memory().devices.cpu ?? { tensors: 0, buffers: 0 };
    (() => {
      const ts = [];
      for (let i = 0; i < 50; i++) {
        const t = zeros([64]);
        const v = ones([64]);
        t.assign(v);
        v.dispose();
        ts.push(t);
      }
    })();
    for (let i = 0; i < 20; i++) {
      globalThis.gc();
      await new Promise((r) => setTimeout(r, 5));
    }
    const after = memory().devices.cpu;
    console.log(JSON.stringify({ before, after }));`;
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: root,
    encoding: 'utf8',
  });
  const { before, after } = JSON.parse(out.trim().split('\n').pop()!);
  expect(after.tensors).toBe(before.tensors);
  expect(after.buffers).toBe(before.buffers);
});
