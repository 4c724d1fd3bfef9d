// The devices a backend-parametrized suite runs on (`describe.each(DEVICES)`): CPU always, and
// WebGPU when an adapter is found.
//
// Adapter policy: with CI or TAPEGRAD_REQUIRE_WEBGPU set, a missing adapter fails every suite
// that imports this file; otherwise the WebGPU cases are skipped and one line says why.
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initWebGPU, type Device } from '../../src';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

// What .ci/setup-webgpu.sh exports, done here so a plain `npm test` works on a GPU-less Debian
// machine with chromium installed. It must happen before the `webgpu` package loads, which
// initWebGPU() does lazily below.
if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
if (!process.env.XDG_RUNTIME_DIR) {
  // silences Dawn's harmless "XDG_RUNTIME_DIR is invalid or not set"
  const dir = join(tmpdir(), `tapegrad-xdg-${process.getuid?.() ?? 'user'}`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    process.env.XDG_RUNTIME_DIR = dir;
  } catch {
    // not worth failing over
  }
}

const flag = (v: string | undefined) => !!v && v !== '0' && v.toLowerCase() !== 'false';

/** CI and TAPEGRAD_REQUIRE_WEBGPU make a missing adapter an error instead of a skip. */
export const WEBGPU_REQUIRED = flag(process.env.CI) || flag(process.env.TAPEGRAD_REQUIRE_WEBGPU);

export interface WebGPUStatus {
  available: boolean;
  /** the adapter's description when available, else why not */
  detail: string;
}

async function probe(): Promise<WebGPUStatus> {
  try {
    return { available: true, detail: await initWebGPU() };
  } catch (e) {
    return { available: false, detail: (e as Error).message };
  }
}

export const WEBGPU: WebGPUStatus = await probe();

if (!WEBGPU.available) {
  if (WEBGPU_REQUIRED) {
    throw new Error(`WebGPU is required here (CI or TAPEGRAD_REQUIRE_WEBGPU is set) but unavailable:\n${WEBGPU.detail}`);
  }
  console.warn(`[tapegrad] WebGPU tests skipped: ${WEBGPU.detail.split('\n')[0]} (see docs/webgpu.md; set TAPEGRAD_REQUIRE_WEBGPU=1 to fail instead)`);
}

export const DEVICES: Device[] = WEBGPU.available ? ['cpu', 'webgpu'] : ['cpu'];
