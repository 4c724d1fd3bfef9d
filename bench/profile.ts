// Run one of our training steps in a loop for a profiler:
//   node --cpu-prof --cpu-prof-dir=out/prof --import tsx bench/profile.ts mlp|tiny|convnet [seconds] [impl]
//   npx tsx bench/profile-summary.ts out/prof/<file>.cpuprofile
import { CASES } from './cases';
import { load, type Impl } from './libs';

const which = process.argv[2] ?? 'mlp';
const seconds = Number(process.argv[3] ?? 5);
const impl = (process.argv[4] ?? 'tapegrad') as Impl;
const c = CASES.find((k) => (which === 'mlp' ? k.name.startsWith('train step 784') : which === 'tiny' ? k.name.includes('tutorial') : k.name.includes(which)));
if (!c) throw new Error(`no case matching ${which}`);

const lib = await load(impl);
const t0 = Date.now();
let runs = 0;
while (Date.now() - t0 < seconds * 1000) {
  const r = c.run(lib);
  runs++;
  console.log(`${c.name}: ${r.value.toFixed(3)} ${r.unit}`);
}
console.log(`${runs} runs`);
process.exit(0);
