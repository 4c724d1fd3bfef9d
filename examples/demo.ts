// npm run demo [-- --device webgpu] [--out DIR] [--seed N] [--quiet]
// Runs the six tutorial reports (five tutorials and the gradient comparison), prints each one's
// figures beside the reference figures, and writes the plots to the output folder.
import { resolve } from 'node:path';
import { parseFlags, setupDevice } from './run';
import { formatReport, REPORTS, type Report } from './tutorials/reports';

const flags = parseFlags();
const t0 = performance.now();
await setupDevice(flags.device);
console.log(`tapegrad demo: the tutorials on ${flags.device}, seed ${flags.seed}, plots to ${flags.outDir}/\n`);

const reports: Report[] = [];
for (const [i, run] of REPORTS.entries()) {
  const t = performance.now();
  if (!flags.quiet) console.error(`[${i + 1}/${REPORTS.length}] running tutorial ${i + 1}...`);
  // tutorial 6 compares float64 gradients, which live on the CPU
  const device = i === 5 ? 'cpu' : flags.device;
  const r = await run({ seed: flags.seed, device, outDir: flags.outDir, progress: flags.quiet ? false : 'auto' });
  reports.push(r);
  console.log(`${formatReport(r)}\n  (${((performance.now() - t) / 1000).toFixed(1)} s)\n`);
}

const failed = reports.flatMap((r) => r.rows.filter((x) => x.ok === false).map((x) => `tutorial ${r.id}: ${x.figure}`));
console.log(failed.length ? `Below target: ${failed.join('; ')}` : 'Every figure with a target (✓) meets it.');
console.log(`\nPlots in ${resolve(flags.outDir)}:`);
for (const p of reports.flatMap((r) => r.plots)) console.log(`  ${p}  (and .svg)`);
console.log(`\nDone in ${((performance.now() - t0) / 1000).toFixed(1)} s.`);
