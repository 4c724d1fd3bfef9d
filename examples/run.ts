// Command-line plumbing shared by the tutorial scripts and the demo: flags, device setup, output.
import * as tapegrad from '../src';
import type { Device } from '../src';
import { formatReport, REPORTS, type Report, type ReportOptions } from './tutorials/reports';

export interface Flags {
  device: Device;
  outDir: string;
  seed: number;
  quiet: boolean;
}

/** --device cpu|webgpu, --out DIR, --seed N, --quiet */
export function parseFlags(argv = process.argv.slice(2)): Flags {
  const flags: Flags = { device: 'cpu', outDir: 'out', seed: 0, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const [k, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    const val = () => inline ?? argv[++i] ?? '';
    if (k === '--device') flags.device = val() as Device;
    else if (k === '--out') flags.outDir = val();
    else if (k === '--seed') flags.seed = Number(val());
    else if (k === '--quiet') flags.quiet = true;
    else if (k === '--help' || k === '-h') {
      console.log('options: --device cpu|webgpu  --out DIR (default out)  --seed N (default 0)  --quiet');
      process.exit(0);
    } else throw new Error(`unknown option ${argv[i]} (try --help)`);
  }
  if (flags.device !== 'cpu' && flags.device !== 'webgpu') throw new Error(`--device must be cpu or webgpu, got '${flags.device}'`);
  if (!Number.isInteger(flags.seed)) throw new Error('--seed must be an integer');
  return flags;
}

/** Set up the device (WebGPU needs an adapter, found by the library's initWebGPU when this build has it). */
export async function setupDevice(device: Device): Promise<void> {
  if (device === 'cpu') return;
  const init = (tapegrad as unknown as { initWebGPU?: () => Promise<unknown> }).initWebGPU;
  if (typeof init !== 'function') throw new Error('--device webgpu: this build of tapegrad has no initWebGPU (the WebGPU backend is not available yet)');
  await init();
}

/** Run one tutorial's report with the flags, print its table and its plots. */
export async function runOne(id: number, flags: Flags = parseFlags()): Promise<Report> {
  await setupDevice(flags.device);
  const opts: ReportOptions = { seed: flags.seed, device: flags.device, outDir: flags.outDir, progress: flags.quiet ? false : 'auto' };
  const report = await REPORTS[id - 1]!(opts);
  console.log(formatReport(report));
  for (const p of report.plots) console.log(`  plot: ${p}`);
  return report;
}
