// The torch layout of safetensors files, checked with a reader written here from the format's
// description (not src/nn/safetensors.ts): an 8-byte little-endian header length N, N bytes of
// JSON { name: { dtype, shape, data_offsets: [begin, end] }, __metadata__? }, then the data.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  Linear,
  Module,
  ReLU,
  Sequential,
  Tanh,
  manualSeed,
  noGrad,
  randn,
  tensor,
  writeSafetensors,
  type Tensor,
} from '../../src';

interface Read {
  metadata: Record<string, string> | undefined;
  tensors: Map<string, { shape: number[]; values: number[] }>;
}

/** A minimal independent safetensors reader (F32 only, which is what these nets hold). */
function readIndependently(file: Uint8Array): Read {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const n = Number(view.getBigUint64(0, true));
  const header = JSON.parse(Buffer.from(file.subarray(8, 8 + n)).toString('utf8')) as Record<
    string,
    unknown
  >;
  const base = 8 + n;
  const tensors = new Map<string, { shape: number[]; values: number[] }>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const {
      dtype,
      shape,
      data_offsets: [begin, end],
    } = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
    expect(dtype, name).toBe('F32');
    const values: number[] = [];
    for (let at = base + begin; at < base + end; at += 4) values.push(view.getFloat32(at, true));
    expect(values.length, `${name} holds its shape's elements`).toBe(
      shape.reduce((p, d) => p * d, 1),
    );
    tensors.set(name, { shape, values });
  }
  return { metadata: header.__metadata__ as Record<string, string> | undefined, tensors };
}

/** What PyTorch's nn.Linear computes from its (out, in) weight: y[o] = Σᵢ W[o][i]·x[i] + b[o]. */
function torchLinear(
  x: number[],
  w: { shape: number[]; values: number[] },
  b?: { values: number[] },
): number[] {
  const [out, inn] = w.shape as [number, number];
  return Array.from({ length: out }, (_, o) =>
    x.reduce((s, xi, i) => s + w.values[o * inn + i]! * xi, b ? b.values[o]! : 0),
  );
}

const net = () =>
  new Sequential(
    new Linear(3, 5),
    new Tanh(),
    new Sequential(new Linear(5, 4, { bias: false }), new ReLU()),
    new Linear(4, 2),
  );
const tmp = () => mkdtempSync(join(tmpdir(), 'tapegrad-torch-'));
const values = (t: Tensor) => Array.from(t.dataSync());
const numpy = (() => {
  try {
    execFileSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('safetensors in the torch layout', () => {
  it('writes Linear weights as (out, in) under nn.Sequential names, and the file computes the same net', async () => {
    manualSeed(5);
    const a = net();
    const path = join(tmp(), 'torch.safetensors');
    await a.save(path, { note: 'test' }, { layout: 'torch' });
    const read = readIndependently(new Uint8Array(readFileSync(path)));
    expect(read.metadata).toEqual({ format: 'pt', note: 'test' });
    expect([...read.tensors.keys()].sort()).toEqual([
      '0.bias',
      '0.weight',
      '2.0.weight',
      '3.bias',
      '3.weight',
    ]);
    for (const [name, p] of a.namedParameters()) {
      const r = read.tensors.get(name)!;
      if (name.endsWith('weight')) {
        const [inn, out] = p.shape as [number, number];
        expect(r.shape, name).toEqual([out, inn]);
        const w = values(p);
        for (let i = 0; i < inn; i++)
          for (let o = 0; o < out; o++) expect(r.values[o * inn + i]).toBe(w[i * out + o]);
      } else {
        expect(r.shape).toEqual([...p.shape]);
        expect(r.values).toEqual(values(p));
      }
    }
    // the forward PyTorch would run with these tensors matches ours
    const x = randn([4, 3]);
    const ours = noGrad(() => a.forward(x));
    const t = read.tensors;
    const rows = (x.toArray() as number[][]).map((row) => {
      const h1 = torchLinear(row, t.get('0.weight')!, t.get('0.bias')).map(Math.tanh);
      const h2 = torchLinear(h1, t.get('2.0.weight')!).map((v) => Math.max(v, 0));
      return torchLinear(h2, t.get('3.weight')!, t.get('3.bias'));
    });
    const want = values(ours);
    rows.flat().forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(1e-5));
    for (const p of [x, ours, ...a.parameters()]) p.dispose();
  });

  it.skipIf(!numpy)(
    "numpy runs the file with PyTorch's Linear formula (x Wᵀ + b) and gets our outputs",
    async () => {
      manualSeed(7);
      const a = net();
      const dir = tmp();
      await a.save(join(dir, 'np.safetensors'), undefined, { layout: 'torch' });
      const x = randn([6, 3]);
      writeFileSync(join(dir, 'x.json'), JSON.stringify(x.toArray()));
      const script = [
        'import json, struct, sys, numpy as np',
        'b = open(sys.argv[1], "rb").read()',
        '(n,) = struct.unpack("<Q", b[:8])',
        'h = json.loads(b[8:8 + n])',
        'p = {k: np.frombuffer(b[8 + n + e["data_offsets"][0]:8 + n + e["data_offsets"][1]], dtype="<f4").reshape(e["shape"])',
        '     for k, e in h.items() if k != "__metadata__"}',
        'lin = lambda x, w, b=None: x @ w.T + (0 if b is None else b)  # torch.nn.functional.linear',
        'x = np.array(json.load(open(sys.argv[2])), dtype=np.float32)',
        'h1 = np.tanh(lin(x, p["0.weight"], p["0.bias"]))',
        'h2 = np.maximum(lin(h1, p["2.0.weight"]), 0)',
        'print(json.dumps(lin(h2, p["3.weight"], p["3.bias"]).tolist()))',
      ].join('\n');
      const got = JSON.parse(
        execFileSync('python3', [
          '-c',
          script,
          join(dir, 'np.safetensors'),
          join(dir, 'x.json'),
        ]).toString(),
      ) as number[][];
      const ours = noGrad(() => a.forward(x));
      const want = values(ours);
      got.flat().forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(1e-5));
      for (const p of [x, ours, ...a.parameters()]) p.dispose();
    },
  );

  it('loads a torch-layout file back, and refuses it without the layout, loading nothing', async () => {
    manualSeed(6);
    const a = net();
    const dir = tmp();
    await a.save(join(dir, 'a.safetensors'), undefined, { layout: 'torch' });
    const b = await Module.load(join(dir, 'a.safetensors'), net, { layout: 'torch' });
    expect(b.parameters().map(values)).toEqual(a.parameters().map(values));
    const c = net();
    const before = c.parameters().map(values);
    await expect(c.load(join(dir, 'a.safetensors'))).rejects.toThrow(
      /0\.weight has shape \[5,3\], expected \[3,5\];.*nothing was loaded$/,
    );
    expect(c.parameters().map(values)).toEqual(before);
    // a tapegrad-layout file read as torch is refused too, with the layout named
    await a.save(join(dir, 'own.safetensors'));
    await expect(c.load(join(dir, 'own.safetensors'), { layout: 'torch' })).rejects.toThrow(
      /0\.weight has shape \[5,3\], expected \[3,5\];.*nothing was loaded \(torch layout/,
    );
    expect(c.parameters().map(values)).toEqual(before);
    for (const p of [...a.parameters(), ...b.parameters(), ...c.parameters()]) p.dispose();
  });

  it('stateDict({ layout }) feeds writeSafetensors; the default layout is unchanged; bad layouts are named', async () => {
    const l = new Linear(2, 3);
    l.weight.assign(
      tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]),
    );
    const dict = l.stateDict({ layout: 'torch' });
    expect(dict.weight!.toArray()).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
    const read = readIndependently(await writeSafetensors(dict));
    expect(read.tensors.get('weight')).toEqual({ shape: [3, 2], values: [1, 4, 2, 5, 3, 6] });
    const own = l.stateDict();
    expect(own.weight!.shape).toEqual([2, 3]);
    expect(() => l.stateDict({ layout: 'jax' as never })).toThrow(
      `Linear(2→3).stateDict: unknown layout "jax" (known: 'tapegrad', 'torch')`,
    );
    for (const t of [...Object.values(dict), ...Object.values(own), ...l.parameters()]) t.dispose();
  });
});
