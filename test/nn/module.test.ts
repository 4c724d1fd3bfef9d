// Module: names, recursion, state dicts (all-or-nothing), safetensors files.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Linear, Module, ReLU, SGD, Sequential, Tanh, manualSeed, readSafetensors, tensor, tidy, writeSafetensors, type Tensor } from '../../src';

const vals = (t: Tensor) => Array.from(t.dataSync());
const net3 = () => new Sequential(new Linear(2, 4), new ReLU(), new Linear(4, 1));
const snapshot = (m: Module) => m.parameters().map(vals);
const tmp = () => mkdtempSync(join(tmpdir(), 'tapegrad-nn-'));

describe('Module', () => {
  it('names parameters with dotted paths, nested containers included', () => {
    const net = new Sequential(new Linear(1, 3), new Sequential(new Linear(3, 2, { bias: false }), new Tanh()), new Linear(2, 1));
    expect(net.namedParameters().map(([k]) => k)).toEqual(['0.weight', '0.bias', '1.0.weight', '2.weight', '2.bias']);
    expect(net.namedParameters().map(([, t]) => t.shape)).toEqual([[1, 3], [3], [3, 2], [2, 1], [1]]);
  });

  it('lists a shared parameter once and counts parameters', () => {
    const shared = new Linear(3, 3);
    const net = new Sequential(shared, new ReLU(), shared);
    expect(net.parameters()).toHaveLength(2);
    expect(net.numParameters()).toBe(12);
    expect(net3().numParameters()).toBe(2 * 4 + 4 + 4 + 1);
  });

  it('train() and eval() reach every descendant', () => {
    const net = new Sequential(new Linear(1, 2), new Sequential(new ReLU(), new Linear(2, 1)));
    net.eval();
    expect(net.namedModules().map(([, m]) => m.training)).toEqual([false, false, false, false, false]);
    net.train();
    expect(net.namedModules().every(([, m]) => m.training)).toBe(true);
  });

  it('zeroGrad clears every parameter gradient', () => {
    const net = net3();
    tidy(() => net.forward(tensor([[1, 2]])).sum().backward());
    expect(net.parameters().every((p) => p.grad !== null)).toBe(true);
    net.zeroGrad();
    expect(net.parameters().every((p) => p.grad === null)).toBe(true);
  });

  it('stateDict is a snapshot: later updates do not change it, loadStateDict restores it', () => {
    const net = net3();
    const before = snapshot(net);
    const dict = net.stateDict();
    const opt = new SGD(net.parameters(), { lr: 0.1 });
    tidy(() => net.forward(tensor([[1, 2]])).sum().backward());
    opt.step();
    expect(snapshot(net)).not.toEqual(before);
    expect(Object.values(dict).map(vals)).toEqual(before);
    net.loadStateDict(dict);
    expect(snapshot(net)).toEqual(before);
    // the dict stays the caller's: loading did not dispose it
    expect(Object.values(dict).every((t) => !t.isDisposed)).toBe(true);
  });

  it('loadStateDict converts dtype', () => {
    const net = new Linear(2, 1);
    net.loadStateDict({ weight: tensor([[0.5], [0.25]], { dtype: 'float64' }), bias: tensor([1], { dtype: 'float64' }) });
    expect(net.weight.dtype).toBe('float32');
    expect(vals(net.weight)).toEqual([0.5, 0.25]);
  });

  it('loadStateDict with a missing or mis-shaped entry throws and loads nothing', () => {
    const net = net3();
    const before = snapshot(net);
    const good = net3().stateDict();
    const missing = { ...good };
    delete missing['2.bias'];
    expect(() => net.loadStateDict(missing)).toThrow('Sequential.loadStateDict: missing 2.bias; nothing was loaded');
    const misShaped = { ...good, '2.weight': tensor([[1, 2, 3, 4]]) };
    expect(() => net.loadStateDict(misShaped)).toThrow('2.weight has shape [1,4], expected [4,1]');
    expect(() => net.loadStateDict({ ...good, extra: tensor([1]) })).toThrow('unexpected extra');
    expect(snapshot(net)).toEqual(before);
    net.loadStateDict({ ...good, extra: tensor([1]) }, { strict: false });
    expect(snapshot(net)).toEqual(Object.values(good).map(vals));
  });
});

describe('safetensors files', () => {
  it('save then load restores the values; Module.load builds and loads', async () => {
    const dir = tmp();
    const a = net3();
    await a.save(join(dir, 'a.safetensors'));
    const b = net3();
    expect(snapshot(b)).not.toEqual(snapshot(a));
    await b.load(join(dir, 'a.safetensors'));
    expect(snapshot(b)).toEqual(snapshot(a));
    const c = await Module.load(join(dir, 'a.safetensors'), net3);
    expect(snapshot(c)).toEqual(snapshot(a));
  });

  it('writes the layout of the spec: u64 LE header length, JSON header, packed LE data', async () => {
    const w = tensor([[1.5, -2], [3, 4.25]]);
    const b = tensor([0.5], { dtype: 'float64' });
    const bytes = await writeSafetensors({ w, b }, { format: 'pt' });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(header.__metadata__).toEqual({ format: 'pt' });
    expect(header.w).toEqual({ dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] });
    expect(header.b).toEqual({ dtype: 'F64', shape: [1], data_offsets: [16, 24] });
    const data = bytes.slice(8 + n);
    expect(Array.from(new Float32Array(data.buffer, 0, 4))).toEqual([1.5, -2, 3, 4.25]);
    expect(new DataView(data.buffer).getFloat64(16, true)).toBe(0.5);
    const back = readSafetensors(bytes);
    expect(vals(back.w!)).toEqual([1.5, -2, 3, 4.25]);
    expect(back.b!.dtype).toBe('float64');
  });

  it('a truncated or corrupt file is a clear error and leaves the module unchanged', async () => {
    const dir = tmp();
    const net = net3();
    await net3().save(join(dir, 'm.safetensors'));
    const full = readFileSync(join(dir, 'm.safetensors'));
    const before = snapshot(net);
    writeFileSync(join(dir, 'cut.safetensors'), full.subarray(0, full.length - 3));
    await expect(net.load(join(dir, 'cut.safetensors'))).rejects.toThrow(/cut\.safetensors: not a valid safetensors file: .*truncated/);
    writeFileSync(join(dir, 'short.safetensors'), full.subarray(0, 5));
    await expect(net.load(join(dir, 'short.safetensors'))).rejects.toThrow('shorter than the 8-byte header length');
    const garbled = Buffer.from(full);
    garbled[9] = 0x7b; // '{' inside the header: no longer JSON
    garbled[10] = 0x7b;
    writeFileSync(join(dir, 'bad.safetensors'), garbled);
    await expect(net.load(join(dir, 'bad.safetensors'))).rejects.toThrow('header is not valid UTF-8 JSON');
    expect(snapshot(net)).toEqual(before);
  });

  it('a file with other names or shapes loads nothing', async () => {
    const dir = tmp();
    await new Sequential(new Linear(2, 5), new ReLU(), new Linear(5, 1)).save(join(dir, 'wide.safetensors'));
    const net = net3();
    const before = snapshot(net);
    await expect(net.load(join(dir, 'wide.safetensors'))).rejects.toThrow('0.weight has shape [2,5], expected [2,4]');
    expect(snapshot(net)).toEqual(before);
  });

  let python = false;
  try {
    execFileSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' });
    python = true;
  } catch {
    python = false;
  }
  it.skipIf(!python)('numpy reads the file by the spec (an independent reader)', async () => {
    manualSeed(5);
    const dir = tmp();
    const net = net3();
    await net.save(join(dir, 'py.safetensors'));
    const script = [
      'import json, struct, sys, numpy as np',
      'b = open(sys.argv[1], "rb").read()',
      '(n,) = struct.unpack("<Q", b[:8])',
      'h = json.loads(b[8:8 + n])',
      'out = {}',
      'for k, e in h.items():',
      '    if k == "__metadata__": continue',
      '    s, t = e["data_offsets"]',
      '    out[k] = np.frombuffer(b[8 + n + s:8 + n + t], dtype="<f4").reshape(e["shape"]).tolist()',
      'print(json.dumps(out))',
    ].join('\n');
    const read = JSON.parse(execFileSync('python3', ['-c', script, join(dir, 'py.safetensors')]).toString());
    for (const [k, t] of net.namedParameters()) expect(read[k].flat(2)).toEqual(vals(t));
  });
});
