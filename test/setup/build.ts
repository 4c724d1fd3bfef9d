// Vitest global setup: build the package (ESM, CJS, .d.ts) once, before any test file runs, so
// tests that import the bundle (package shape, browser) see one fresh dist/ and never race on it.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  execFileSync('npx', ['tsup', '--silent'], { cwd: root, stdio: 'inherit' });
}
