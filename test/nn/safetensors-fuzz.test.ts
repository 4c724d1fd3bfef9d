// safetensors files from an untrusted source: names that are special in JavaScript, headers that
// ask for unbounded work, and a seeded mutation fuzzer. Every read must either throw a plain
// Error that names the source (never a TypeError or RangeError from inside the reader) or
// return exactly the tensors that an independent reading of the spec finds in the bytes.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Linear, ReLU, Sequential, memory, readSafetensors, tensor, writeSafetensors, type Tensor } from '../../src';
import { SAFETENSORS_LIMITS } from '../../src/nn/safetensors';

const enc = new TextEncoder();

/** A file from a header object (serialized as is) and a data section. */
function file(header: unknown, data: Uint8Array = new Uint8Array(0), headerText = JSON.stringify(header)): Uint8Array {
  const head = enc.encode(headerText);
  const out = new Uint8Array(8 + head.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  out.set(data, 8 + head.length);
  return out;
}

const f32 = (...v: number[]) => new Uint8Array(new Float32Array(v).buffer);

/** read, expecting a clean Error whose message contains `what` */
function rejects(bytes: Uint8Array, what: string | RegExp): void {
  let err: unknown;
  try {
    readSafetensors(bytes, 'evil.safetensors');
  } catch (e) {
    err = e;
  }
  expect(err, 'the read should have thrown').toBeInstanceOf(Error);
  expect((err as Error).constructor).toBe(Error);
  expect((err as Error).message).toMatch(what);
}

function disposeAll(d: Record<string, Tensor>): void {
  for (const t of Object.values(d)) t.dispose();
}

describe('safetensors: names and dtypes that are special in JavaScript', () => {
  it("an entry named __proto__ is an ordinary entry (it replaced the result's prototype)", () => {
    // written as text: in an object literal, __proto__ would set the prototype instead of a key
    const text = '{"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}';
    const r = readSafetensors(file(null, f32(7, 8), text));
    expect(Object.keys(r).sort()).toEqual(['__proto__', 'w']);
    expect(Object.getPrototypeOf(r)).toBeNull();
    expect(Object.hasOwn(r, '__proto__')).toBe(true);
    expect([...r['__proto__']!.dataSync()]).toEqual([7]);
    disposeAll(r);
  });

  it('names such as constructor and hasOwnProperty are plain entries too', () => {
    const r = readSafetensors(file({ constructor: { dtype: 'F32', shape: [], data_offsets: [0, 4] }, hasOwnProperty: { dtype: 'F32', shape: [0], data_offsets: [4, 4] } }, f32(3)));
    expect(r['constructor' as string]!.item()).toBe(3);
    expect(r['hasOwnProperty' as string]!.shape).toEqual([0]);
    disposeAll(r);
  });

  it('writing: __proto__ round-trips, __metadata__ (reserved by the format) is refused', async () => {
    const t = tensor([1, 2]);
    const bytes = await writeSafetensors({ ['__proto__']: t, b: tensor([3]) });
    const back = readSafetensors(bytes);
    expect(Object.keys(back).sort()).toEqual(['__proto__', 'b']);
    expect([...back['__proto__']!.dataSync()]).toEqual([1, 2]);
    disposeAll(back);
    await expect(writeSafetensors({ __metadata__: t })).rejects.toThrow("the name '__metadata__' is reserved");
    await expect(writeSafetensors({ a: t }, { n: 1 } as unknown as Record<string, string>)).rejects.toThrow('metadata must map strings to strings');
  });

  it('Module.load with a __proto__ entry: strict refuses it, non-strict ignores it; nothing leaks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tapegrad-st-'));
    const net = new Sequential(new Linear(2, 3), new ReLU(), new Linear(3, 1));
    const dict = { ...net.stateDict(), ['__proto__']: tensor([1]) };
    writeFileSync(join(dir, 'p.safetensors'), await writeSafetensors(dict));
    disposeAll(dict);
    const before = memory().tensors;
    await expect(net.load(join(dir, 'p.safetensors'))).rejects.toThrow('unexpected __proto__');
    expect(memory().tensors).toBe(before);
    await net.load(join(dir, 'p.safetensors'), { strict: false });
    expect(memory().tensors).toBe(before);
  });

  it('dtype strings are looked up as own entries: "constructor", "__proto__", "toString" and ["F32"] are refused', () => {
    for (const dtype of ['constructor', '__proto__', 'toString', 'valueOf', ['F32'], 4, null, 'f32']) {
      rejects(file({ w: { dtype, shape: [1], data_offsets: [0, 4] } }, f32(1)), /has dtype .*tapegrad reads F32, F64 and I32/);
    }
  });
});

describe('safetensors: bounds on what a header can ask for', () => {
  const entry = (shape: unknown, data_offsets: unknown = [0, 0]) => file({ w: { dtype: 'F32', shape, data_offsets } });

  it('rank above the limit is refused before anything is built', () => {
    rejects(entry(new Array(100_000).fill(1), [0, 4]), `has rank 100000; tapegrad reads at most ${SAFETENSORS_LIMITS.rank}`);
    const ok = readSafetensors(file({ w: { dtype: 'F32', shape: new Array(SAFETENSORS_LIMITS.rank).fill(1), data_offsets: [0, 4] } }, f32(5)));
    expect(ok.w!.item()).toBe(5);
    disposeAll(ok);
  });

  it('dimensions must be safe integers and their (nonzero) product too: [0, 2^53, 2^53] is refused', () => {
    rejects(entry([0, 2 ** 53, 2 ** 53]), 'has shape [0,9007199254740992,9007199254740992]');
    rejects(entry([0, 2 ** 40, 2 ** 40]), 'is too large');
    rejects(entry([2 ** 30, 2 ** 30], [0, 2 ** 62]), 'is too large');
    rejects(entry([1.5]), 'has shape [1.5]');
    rejects(entry([-1]), 'has shape [-1]');
    rejects(entry(['2']), 'has shape ["2"]');
  });

  it('data_offsets must be exactly two safe integers', () => {
    rejects(entry([1], [0, 4, 8]), 'must be two numbers [begin, end]');
    rejects(entry([1], [0]), 'must be two numbers [begin, end]');
    rejects(entry([0], [2 ** 53 + 2, 2 ** 53 + 2]), 'do not hold 0 bytes');
    rejects(entry([1], ['0', '4']), 'do not hold 4 bytes');
    rejects(entry([1], [4, 8]), 'ends at byte 8 of a 0-byte data section');
  });

  it(`more than ${SAFETENSORS_LIMITS.entries} entries are refused`, () => {
    const n = SAFETENSORS_LIMITS.entries + 1;
    const text = `{${Array.from({ length: n }, (_, i) => `"t${i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`).join(',')}}`;
    // refused after parsing the JSON (bounded by the 100 MB header limit) and before any tensor
    const before = memory().tensors;
    rejects(file(null, undefined, text), `header has ${n} entries; tapegrad reads at most ${SAFETENSORS_LIMITS.entries}`);
    expect(memory().tensors).toBe(before);
  });

  it('zero-sized entries may share the offset of the next entry (sorted by begin, then end)', () => {
    const r = readSafetensors(file({ b: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, a: { dtype: 'F32', shape: [0], data_offsets: [0, 0] } }, f32(2)));
    expect([...r.b!.dataSync()]).toEqual([2]);
    expect(r.a!.shape).toEqual([0]);
    disposeAll(r);
  });

  it('a __metadata__ that is not an object, a non-object header and non-bytes are clean errors', () => {
    rejects(file({ __metadata__: 'x' }), "'__metadata__' is not an object");
    for (const h of ['[]', '3', 'null', '"x"']) rejects(file(null, undefined, h), 'header is not a JSON object');
    expect(() => readSafetensors(null as unknown as Uint8Array)).toThrow('readSafetensors: expects a Uint8Array, got null');
  });
});

// ---------------------------------------------------------------- the fuzzer

/** mulberry32: a small seeded generator, so every run tries the same files */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Expected {
  dtype: 'float32' | 'float64';
  shape: number[];
  values: number[];
}

/**
 * The spec, read independently of src/: the tensors a file holds, or null if it is not one
 * tapegrad should accept (F32/F64 only, exact coverage of the data section, the limits).
 */
function reference(bytes: Uint8Array): Map<string, Expected> | null {
  if (bytes.length < 8) return null;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = dv.getBigUint64(0, true);
  if (n > 100_000_000n || 8n + n > BigInt(bytes.length)) return null;
  let h: unknown;
  try {
    h = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + Number(n))));
  } catch {
    return null;
  }
  if (typeof h !== 'object' || h === null || Array.isArray(h)) return null;
  const start = 8 + Number(n);
  const out = new Map<string, Expected>();
  const spans: [number, number][] = [];
  for (const [k, e] of Object.entries(h as Record<string, any>)) {
    if (k === '__metadata__') {
      if (typeof e !== 'object' || e === null || Array.isArray(e)) return null;
      continue;
    }
    if (typeof e !== 'object' || e === null || Array.isArray(e)) return null;
    const width = e.dtype === 'F32' ? 4 : e.dtype === 'F64' ? 8 : 0;
    if (!width || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets) || e.data_offsets.length !== 2) return null;
    if (e.shape.length > SAFETENSORS_LIMITS.rank) return null;
    if (!e.shape.every((d: unknown) => Number.isSafeInteger(d) && (d as number) >= 0)) return null;
    const span = e.shape.reduce((p: number, d: number) => p * Math.max(d, 1), 1) * width;
    if (!Number.isSafeInteger(span)) return null;
    const count = e.shape.reduce((p: number, d: number) => p * d, 1);
    const [b, end] = e.data_offsets;
    if (!Number.isSafeInteger(b) || !Number.isSafeInteger(end) || b < 0 || end - b !== count * width) return null;
    if (start + end > bytes.length) return null;
    const values: number[] = [];
    for (let i = 0; i < count; i++) {
      values.push(width === 4 ? dv.getFloat32(start + b + 4 * i, true) : dv.getFloat64(start + b + 8 * i, true));
    }
    out.set(k, { dtype: width === 4 ? 'float32' : 'float64', shape: e.shape, values });
    spans.push([b, end]);
  }
  if (out.size > SAFETENSORS_LIMITS.entries) return null;
  spans.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let at = 0;
  for (const [b, end] of spans) {
    if (b !== at) return null;
    at = end;
  }
  return at === bytes.length - start ? out : null;
}

/** Valid seeds: several dtypes, ranks 0–3, empty tensors, odd names, metadata. */
async function seeds(): Promise<Uint8Array[]> {
  const f64 = (v: number[], shape: number[]) => tensor(v, { shape, dtype: 'float64' });
  const dicts: Record<string, Tensor>[] = [
    { w: tensor([[1.5, -2], [3, 4.25]]), b: tensor([0.5]) },
    { s: tensor(2.5), e: tensor([], { shape: [0, 3] }), d: f64([1e300, -0, NaN], [3]) },
    { ['__proto__']: tensor([1, 2, 3]), 'ünï.cødé': f64([Math.PI], [1, 1, 1]), '': tensor([Infinity]) },
    { a: tensor(Array.from({ length: 24 }, (_, i) => i / 7), { shape: [2, 3, 4] }) },
  ];
  const out: Uint8Array[] = [];
  for (const [i, d] of dicts.entries()) {
    out.push(await writeSafetensors(d, i % 2 ? { format: 'pt', note: 'x' } : undefined));
    disposeAll(d);
  }
  return out;
}

const EVIL: unknown[] = [
  null, true, 0, -1, 0.5, 1e300, -0, 2 ** 53, 2 ** 53 + 2, '', 'F32', 'F64', 'F16', 'constructor', '__proto__',
  [], [0], [1], [0, 4], [0, 4, 8], [-4, 0], [0.5, 4.5], ['0', '4'], [2 ** 53, 2 ** 53 + 4], [0, 2 ** 53, 2 ** 53],
  [1, 1, 1, 1, 1, 1, 1, 1, 1, 1], {}, { a: 1 }, [[1]], [null],
];
const NAMES = ['__proto__', 'constructor', '__metadata__', 'hasOwnProperty', '', 'w', 'b', 'x'.repeat(200)];

/** One mutation of a valid file, drawn by r. */
function mutate(src: Uint8Array, r: () => number): Uint8Array {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const n = Number(new DataView(src.buffer, src.byteOffset).getBigUint64(0, true));
  const kind = Math.floor(r() * 6);
  if (kind === 0) {
    // flip bytes, mostly in the header
    const out = src.slice();
    for (let k = 1 + Math.floor(r() * 3); k > 0; k--) {
      const at = r() < 0.8 ? Math.floor(r() * (8 + n)) : Math.floor(r() * out.length);
      out[at] = r() < 0.5 ? out[at]! ^ (1 << Math.floor(r() * 8)) : Math.floor(r() * 256);
    }
    return out;
  }
  if (kind === 1) return src.slice(0, Math.floor(r() * src.length));
  if (kind === 2) {
    // a wrong header length
    const out = src.slice();
    const dv = new DataView(out.buffer);
    dv.setBigUint64(0, pick([0n, 1n, BigInt(n - 1), BigInt(n + 1), BigInt(n + 8), 2n ** 63n, 2n ** 64n - 1n, 100_000_001n]), true);
    return out;
  }
  // structural edits to the header, then re-serialized (with a matching length or not)
  const header = JSON.parse(new TextDecoder().decode(src.subarray(8, 8 + n))) as Record<string, any>;
  const data = src.subarray(8 + n);
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  const k = names.length ? pick(names) : 'w';
  const e = (header[k] ??= { dtype: 'F32', shape: [1], data_offsets: [0, 4] });
  if (kind === 3) {
    const field = pick(['dtype', 'shape', 'data_offsets', 'entry']);
    if (field === 'entry') header[k] = pick(EVIL);
    else e[field] = pick(EVIL);
  } else if (kind === 4) {
    // rename, duplicate or drop an entry, or touch the metadata
    const op = pick(['rename', 'copy', 'drop', 'meta']);
    const to = pick(NAMES);
    if (op === 'rename') {
      delete header[k];
      Object.defineProperty(header, to, { value: e, enumerable: true, writable: true, configurable: true });
    } else if (op === 'copy') Object.defineProperty(header, to, { value: { ...e }, enumerable: true, writable: true, configurable: true });
    else if (op === 'drop') delete header[k];
    else header.__metadata__ = pick(EVIL);
  } else {
    // small numeric nudges that keep the JSON well-formed
    const d = pick([-8, -4, -1, 1, 4, 8]);
    const x = r();
    if (x < 0.2 && Array.isArray(e.data_offsets)) e.data_offsets.push(pick([0, 4, e.data_offsets[1]]));
    else if (x < 0.3 && Array.isArray(e.data_offsets)) e.data_offsets.pop();
    else if (x < 0.6 && Array.isArray(e.data_offsets)) e.data_offsets[Math.floor(r() * 2)] += d;
    else if (Array.isArray(e.shape) && e.shape.length) e.shape[Math.floor(r() * e.shape.length)] += Math.sign(d);
    else e.shape = [1];
  }
  const text = JSON.stringify(header);
  const out = file(null, data, text);
  if (r() < 0.1) new DataView(out.buffer).setBigUint64(0, BigInt(enc.encode(text).length + pick([-1, 1])), true);
  return out;
}

describe('safetensors: seeded mutation fuzzer', () => {
  it('3,000 mutated files: each read throws a clean Error or returns exactly the tensors of the spec', async () => {
    const valid = await seeds();
    const r = rng(20261202);
    const start = memory().tensors;
    let accepted = 0;
    let rejected = 0;
    for (let i = 0; i < 3000; i++) {
      const bytes = mutate(valid[i % valid.length]!, r);
      const want = reference(bytes);
      let got: Record<string, Tensor>;
      try {
        got = readSafetensors(bytes, 'fuzz.safetensors');
      } catch (e) {
        const err = e as Error;
        const where = `case ${i}: ${err?.constructor?.name}: ${err?.message}`;
        expect(err?.constructor, where).toBe(Error);
        expect(err.message.startsWith('fuzz.safetensors: not a valid safetensors file: '), where).toBe(true);
        expect(want, `case ${i}: a valid file was refused: ${err.message}`).toBeNull();
        rejected++;
        continue;
      }
      expect(want, `case ${i}: an invalid file was accepted`).not.toBeNull();
      expect(Object.getPrototypeOf(got)).toBeNull();
      expect(Object.keys(got).sort()).toEqual([...want!.keys()].sort());
      for (const [name, w] of want!) {
        const t = got[name]!;
        expect([t.dtype, t.shape], `case ${i}, '${name}'`).toEqual([w.dtype, w.shape]);
        expect([...t.dataSync()], `case ${i}, '${name}'`).toEqual(w.values);
      }
      disposeAll(got);
      accepted++;
    }
    // both outcomes are exercised, and nothing read was left alive
    expect(accepted).toBeGreaterThan(100);
    expect(rejected).toBeGreaterThan(1000);
    expect(memory().tensors).toBe(start);
  });
});
