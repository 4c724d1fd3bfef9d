// Self time per function (and per file) from a .cpuprofile written by `node --cpu-prof`.
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
  children?: number[];
}
const prof = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const top = Number(process.argv[3] ?? 25);
const self = new Map<number, number>();
prof.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const byFn = new Map<string, number>();
const byFile = new Map<string, number>();
for (const n of prof.nodes) {
  const t = self.get(n.id) ?? 0;
  const file = n.callFrame.url.replace(/^.*\/(node_modules\/[^/]+|src|bench)\//, '$1/') || '(native)';
  const key = `${n.callFrame.functionName || '(anon)'}  ${file}:${n.callFrame.lineNumber + 1}`;
  byFn.set(key, (byFn.get(key) ?? 0) + t);
  byFile.set(file, (byFile.get(file) ?? 0) + t);
}
const show = (m: Map<string, number>, k: number) =>
  [...m].sort((a, b) => b[1] - a[1]).slice(0, k).forEach(([name, t]) => console.log(`${((100 * t) / total).toFixed(1).padStart(5)}%  ${name}`));
console.log(`total ${(total / 1e6).toFixed(2)} s sampled\n-- by function (self)`);
show(byFn, top);
console.log('-- by file (self)');
show(byFile, 12);
