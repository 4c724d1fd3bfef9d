// The browser tests' shared parts: the system's headless Chromium (Debian's chromium package,
// driven by playwright-core; never a downloaded browser), optionally with WebGPU on SwiftShader,
// a static server on 127.0.0.1 for a few in-memory files, and a page's error log.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CHROMIUM = '/usr/bin/chromium';

/** No sandbox (root user), first-run UI or network chatter (closed network). */
export const BASE_ARGS = ['--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update'];
/** What gave a WebGPU adapter here (see /work/shared/WEBGPU-SETUP.md): SwiftShader. */
export const WEBGPU_ARGS = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', ...BASE_ARGS];

/** COOP + COEP: the page is cross-origin isolated (shared wasm memory, the CPU worker threads). */
export const ISOLATION_HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
};

const flag = (v: string | undefined) => !!v && v !== '0' && v.toLowerCase() !== 'false';
/** CI or TAPEGRAD_REQUIRE_WEBGPU: a browser test that cannot run is an error, not a skip. */
export const BROWSER_REQUIRED = flag(process.env.CI) || flag(process.env.TAPEGRAD_REQUIRE_WEBGPU);

/**
 * Why a browser test cannot run here, or null: Chromium, then each file ([path, how to make it]),
 * then each package that must resolve from the repository.
 */
export function browserMissing(o: { packages?: string[]; files?: [string, string][] } = {}): string | null {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} not found (apt-get install -y chromium)`;
  for (const [path, how] of o.files ?? []) if (!existsSync(path)) return `${path} not built (${how})`;
  const packages = ['playwright-core', ...(o.packages ?? [])];
  try {
    const script = packages.map((p) => `require.resolve(${JSON.stringify(p)})`).join(';');
    execFileSync(process.execPath, ['-e', script], { cwd: ROOT, stdio: 'ignore' });
  } catch {
    return `${packages.join(' or ')} is not installed`;
  }
  return null;
}

/**
 * The describe to use for a suite that needs the browser: describe.skip with a warning when
 * `why` says it cannot run, and an error instead where BROWSER_REQUIRED (if `required`).
 */
export function browserGate(what: string, why: string | null, required = BROWSER_REQUIRED): boolean {
  if (why && required) throw new Error(`${what} is required here (CI or TAPEGRAD_REQUIRE_WEBGPU is set) but cannot run: ${why}`);
  if (why) console.warn(`[tapegrad] ${what} skipped: ${why}`);
  return !why;
}

/** Headless system Chromium; WebGPU on SwiftShader when `webgpu`. */
export async function launchChromium(o: { webgpu?: boolean } = {}): Promise<import('playwright-core').Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found (apt-get install -y chromium)`);
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: o.webgpu ? WEBGPU_ARGS : BASE_ARGS });
}

export interface StaticFile {
  body: string | Uint8Array;
  /** content-type */
  type: string;
}

export interface StaticServer {
  /** http://127.0.0.1:port */
  origin: string;
  close(): Promise<void>;
}

/**
 * Serve `files` (by URL path, '/' for a page) from 127.0.0.1 on a free port, each response with
 * `headers`, and with ISOLATION_HEADERS too for paths under `isolatedUnder` (say '/isolated/').
 * /favicon.ico is an empty 204; anything else a 404.
 */
export async function serveStatic(
  files: Record<string, StaticFile>,
  o: { headers?: Record<string, string>; isolatedUnder?: string } = {},
): Promise<StaticServer> {
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    const file = files[path];
    const isolated = o.isolatedUnder !== undefined && path.startsWith(o.isolatedUnder);
    if (file) {
      res.writeHead(200, { ...o.headers, ...(isolated ? ISOLATION_HEADERS : {}), 'content-type': file.type }).end(file.body);
    } else if (path === '/favicon.ico') res.writeHead(204).end();
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  return {
    origin: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * The page's uncaught errors and console errors (with their script), collected as they come;
 * console errors matching `ignore` are left out.
 */
export function collectErrors(page: import('playwright-core').Page, o: { ignore?: RegExp; where?: boolean } = {}): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() !== 'error' || o.ignore?.test(m.text())) return;
    errors.push(o.where === false ? m.text() : `${m.text()} ${m.location().url}`);
  });
  return errors;
}

/** Wait for `window[name] === true`; failing, name the page's errors. */
export async function waitForFlag(page: import('playwright-core').Page, errors: string[], name = 'pageReady', timeout = 30_000): Promise<void> {
  await page
    .waitForFunction((n) => (window as unknown as Record<string, unknown>)[n] === true, name, { timeout })
    .catch(() => {
      throw new Error(`the page did not load the bundle: ${errors.join('; ') || 'no error reported'}`);
    });
}
