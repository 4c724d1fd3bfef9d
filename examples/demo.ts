// npm run demo [-- --device webgpu] [--out DIR] [--seed N] [--quiet]
// Runs the six tutorial reports (five tutorials and the gradient comparison), prints each one's
// figures beside the reference figures, writes the plots to the output folder, and draws the tape
// of one training step of tutorial 3's net (tape-t3-step.dot and .svg).
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { MSE, linspace, manualSeed, noGrad, renderDot, toDot } from '../src';
import { parseFlags, setupDevice } from './run';
import { formatReport, REPORTS, type Report } from './tutorials/reports';
import { reluNet } from './tutorials/t3-relu-momentum';
import { trainDigits } from './digits-run';

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

// The tape of one training step of tutorial 3's net (a batch of 100), drawn with its gradient norms.
{
  const t = performance.now();
  manualSeed(flags.seed);
  const net = reluNet();
  const x = linspace(-3, 3, 100).reshape([-1, 1]);
  const y = noGrad(() => x.sin().mul(2).add(5));
  [x.name, y.name] = ['x', 'y'];
  const loss = new MSE({ half: true }).forward(net.forward(x), y);
  loss.backward();
  const dot = toDot(loss, { params: net, gradNorms: true });
  await mkdir(flags.outDir, { recursive: true });
  const file = join(flags.outDir, 'tape-t3-step');
  await writeFile(`${file}.dot`, dot);
  await writeFile(`${file}.svg`, await renderDot(dot));
  for (const v of [x, y, loss, ...net.parameters()]) v.dispose();
  console.log(`The tape of one training step of tutorial 3 drawn to ${file}.dot/.svg (${((performance.now() - t) / 1000).toFixed(1)} s)\n`);
}

const digitPlots: string[] = [];
// the digit convnet in short (examples/07-digits.ts trains it fully): as --quick, 2 epochs on 2,000 digits
{
  const t = performance.now();
  if (!flags.quiet) console.error('running the digits convnet (short)...');
  // without the full run's random shifts: 64 steps are too few for them to pay
  const r = await trainDigits({ device: flags.device, seed: flags.seed, epochs: 2, train: 2000, test: 500, shift: 0, outDir: flags.outDir, log: () => {} });
  console.log(
    `digits convnet (short: 2 epochs on 2,000 digits; the full run: examples/07-digits.ts): ` +
      `test accuracy ${(100 * r.testAccuracy).toFixed(1)}% on 500 digits  (${((performance.now() - t) / 1000).toFixed(1)} s)\n`,
  );
  digitPlots.push(...r.plots);
}

const failed = reports.flatMap((r) => r.rows.filter((x) => x.ok === false).map((x) => `tutorial ${r.id}: ${x.figure}`));
console.log(failed.length ? `Below target: ${failed.join('; ')}` : 'Every figure with a target (✓) meets it.');
console.log(`\nPlots in ${resolve(flags.outDir)}:`);
for (const p of [...reports.flatMap((r) => r.plots), ...digitPlots]) console.log(`  ${p}  (and .svg)`);
console.log(`\nDone in ${((performance.now() - t0) / 1000).toFixed(1)} s.`);
