// `npm run bench`: every case in its own child process per library, our figures beside the peers'
// (@tensorflow/tfjs on its cpu and wasm backends), a table with ratios, and a JSON file.
//
//   npm run bench -- [--only matmul,train] [--paths] [--out bench/results.json]
//
// --paths adds our forced code paths as extra columns: tapegrad-js (pure JS, one thread) and
// tapegrad-wasm1 (WebAssembly SIMD, one thread). The default column is the automatic choice.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CASES, type CaseResult } from './cases';
import type { Impl } from './libs';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const only = flag('--only')?.split(',');
const out = flag('--out') ?? path.join(here, 'results.json');
const peers: Impl[] = ['tfjs-cpu', 'tfjs-wasm', 'jax-js'];
const ours: Impl[] = args.includes('--paths') ? ['tapegrad', 'tapegrad-wasm1', 'tapegrad-js'] : ['tapegrad'];

type Row = { case: string; unit: string; lowerIsBetter: boolean; results: Partial<Record<Impl, CaseResult | { error: string }>> };

function runChild(name: string, impl: Impl, expected?: number[]): CaseResult | { error: string } {
  const argv = ['--import', 'tsx', path.join(here, 'case.ts'), name, impl];
  if (expected) argv.push(JSON.stringify(expected));
  const r = spawnSync(process.execPath, argv, { encoding: 'utf8', timeout: 10 * 60_000, cwd: path.join(here, '..') });
  const line = r.stdout?.split('\n').find((l) => l.startsWith('RESULT ') || l.startsWith('ERROR '));
  if (line?.startsWith('RESULT ')) return JSON.parse(line.slice(7)) as CaseResult;
  return { error: line?.slice(6) ?? `exit ${r.status}: ${(r.stderr ?? '').split('\n').slice(-4).join(' ')}` };
}

const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toPrecision(2));
const cell = (r: CaseResult | { error: string } | undefined) => {
  if (!r) return '-';
  if ('error' in r) return 'ERROR';
  const spread = (r.timing.mad / r.timing.median) * 100;
  return `${fmt(r.value)} ±${spread.toFixed(0)}%`;
};
/** how many times better ours is than the peer (above 1: ours wins) */
const ratio = (row: Row, peer: Impl) => {
  const a = row.results.tapegrad;
  const b = row.results[peer];
  if (!a || !b || 'error' in a || 'error' in b) return '-';
  const x = row.lowerIsBetter ? b.value / a.value : a.value / b.value;
  return `${fmt(x)}×`;
};

const rows: Row[] = [];
const started = Date.now();
for (const c of CASES) {
  if (only && !only.some((o) => c.name.includes(o) || c.group.includes(o))) continue;
  const row: Row = { case: c.name, unit: '', lowerIsBetter: false, results: {} };
  let expected: number[] | undefined;
  for (const impl of [...peers, ...ours]) {
    process.stderr.write(`  ${c.name} · ${impl} ...`);
    const r = runChild(c.name, impl, impl.startsWith('tapegrad') ? expected : undefined);
    row.results[impl] = r;
    if (!('error' in r)) {
      row.unit = r.unit;
      row.lowerIsBetter = r.lowerIsBetter;
      expected ??= r.losses;
      const bad = r.relError !== undefined && !(r.relError < 2e-3);
      process.stderr.write(` ${fmt(r.value)} ${r.unit}${bad ? `  WRONG (error ${r.relError})` : ''}\n`);
      if (bad) (row.results as Record<string, unknown>)[impl] = { error: `wrong result: relative error ${r.relError}` };
    } else {
      process.stderr.write(` ${r.error}\n`);
    }
  }
  rows.push(row);
}

const cols = ['case', 'unit', ...ours, ...peers, 'vs tfjs-cpu', 'vs tfjs-wasm', 'vs jax-js'];
const table = rows.map((row) => [
  row.case,
  row.unit + (row.lowerIsBetter ? ' ↓' : ' ↑'),
  ...ours.map((i) => cell(row.results[i])),
  ...peers.map((i) => cell(row.results[i])),
  ratio(row, 'tfjs-cpu'),
  ratio(row, 'tfjs-wasm'),
  ratio(row, 'jax-js'),
]);
const widths = cols.map((c, i) => Math.max(c.length, ...table.map((r) => r[i]!.length)));
const line = (r: string[]) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
console.log();
console.log(`tapegrad bench · ${os.cpus()[0]?.model} ×${os.cpus().length} · node ${process.version} · ${((Date.now() - started) / 1000).toFixed(0)} s`);
console.log('medians of repeated samples, ±: median absolute deviation / median; ratios: how many times better tapegrad is');
console.log(line(cols));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const r of table) console.log(line(r));
for (const row of rows) {
  for (const [impl, r] of Object.entries(row.results)) if (r && 'error' in r) console.log(`  ${row.case} · ${impl}: ${r.error}`);
}

writeFileSync(
  out,
  JSON.stringify({ date: new Date().toISOString(), cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version, rows }, null, 2),
);
console.log(`\nwrote ${path.relative(process.cwd(), out)}`);
if (rows.some((r) => Object.values(r.results).some((x) => x && 'error' in x))) process.exitCode = 1;
