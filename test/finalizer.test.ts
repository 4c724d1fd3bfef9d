// The FinalizationRegistry safety net frees what users forget, including tensors whose storage
// assign() replaced (it must free the new handle, not release the old one a second time).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

it('forgotten tensors (assigned to, returned from tidy, kept) give back exactly their buffers once collected', () => {
  const script = `
    import { zeros, ones, memory, tidy, keep } from './src/index.ts';
    const before = memory().devices.cpu ?? { tensors: 0, buffers: 0 };
    (() => {
      const ts = [];
      for (let i = 0; i < 50; i++) {
        const t = zeros([64]);
        const v = ones([64]);
        t.assign(v);
        v.dispose();
        ts.push(t);
        // escaping the outermost tidy, and kept inside one: both must be registered then
        ts.push(tidy(() => zeros([64]).add(1)));
        tidy(() => { ts.push(keep(ones([64]).mul(2))); });
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
