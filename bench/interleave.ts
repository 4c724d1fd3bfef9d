// A/B of builds on a busy machine: several checkouts' built packages (each directory's dist/,
// loaded through its own bench/libs.ts) in one process, their MLP training steps run in blocks,
// in a fresh random order each round, so every build sees the same load. Separate processes run
// minutes apart and see different loads (on the shared 2-core VM a step swung 3x between runs).
//
//   npx tsx bench/interleave.ts [--impl tapegrad|tapegrad-wasm1|tapegrad-js] [--rounds 60] [--block 10] DIR...
//
// Prints each build's median ms/step over its blocks and the median, over rounds, of its block
// time divided by the first build's in the same round. Each build keeps its own wasm memory and
// worker pool; a pool's workers poll ~1 ms after their job before they sleep, so blocks of a few
// steps or more keep that overlap small.
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { Case } from './cases';
import type { Impl, Lib } from './libs';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = args[i + 1]!;
  args.splice(i, 2);
  return v;
};
const impl = opt('--impl', 'tapegrad') as Impl;
const rounds = Number(opt('--rounds', '60'));
const block = Number(opt('--block', '10'));
const dirs = args.map((d) => path.resolve(d));
if (dirs.length === 0) throw new Error('usage: npx tsx bench/interleave.ts [--impl I] [--rounds N] [--block S] DIR...');

type Trainer = ReturnType<Lib['trainer']>;
const builds: { name: string; step: Trainer['step'] }[] = [];
for (const dir of dirs) {
  const { CASES } = (await import(pathToFileURL(path.join(dir, 'bench/cases.ts')).href)) as { CASES: Case[] };
  const { load } = (await import(pathToFileURL(path.join(dir, 'bench/libs.ts')).href)) as { load: (i: Impl) => Promise<Lib> };
  const c = CASES.find((k) => k.name.startsWith('train step 784'))!;
  const lib = await load(impl);
  let t: Trainer | undefined;
  // the case checks the losses before it times anything: take its trainer, skip its timing
  c.run({ ...lib, trainer: (spec) => (t = lib.trainer(spec)) } as Lib);
  builds.push({ name: path.basename(dir), step: t!.step });
}

// warm up every build, and give the worker pools time to start
for (let i = 0; i < 30; i++) for (const b of builds) b.step();
await new Promise((r) => setTimeout(r, 200));
for (let i = 0; i < 30; i++) for (const b of builds) b.step();

const times = builds.map(() => [] as number[]);
for (let r = 0; r < rounds; r++) {
  const order = builds.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  for (const i of order) {
    const t0 = performance.now();
    for (let s = 0; s < block; s++) builds[i]!.step();
    times[i]!.push((performance.now() - t0) / block);
  }
}

const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
};
console.log(`MLP step, ${impl}, ${rounds} rounds of ${block} steps per build, 1-min load ${os.loadavg()[0]!.toFixed(1)}`);
builds.forEach((b, i) => {
  const ratio = median(times[i]!.map((x, r) => x / times[0]![r]!));
  console.log(`  ${b.name.padEnd(12)} ${median(times[i]!).toFixed(3)} ms/step (min ${Math.min(...times[i]!).toFixed(3)})  ×${ratio.toFixed(3)} of ${builds[0]!.name}`);
});
process.exit(0);
