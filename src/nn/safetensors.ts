// The safetensors file format (https://huggingface.co/docs/safetensors): an unsigned 64-bit
// little-endian header length N, N bytes of UTF-8 JSON mapping each name to
// { dtype, shape, data_offsets: [begin, end] } (offsets into the data that follows), then the
// raw little-endian values, packed without gaps. An optional "__metadata__" maps strings to strings.
import { tensor } from '../graph/creation';
import { typedArray, type DType, type TypedArray } from '../backends/backend';
import { Tensor } from './util';

const CODES: Record<DType, string> = { float32: 'F32', float64: 'F64', int32: 'I32' };
const BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4 };
// a Map, so that dtype strings such as "constructor" or "__proto__" find nothing
const FROM_CODE = new Map<string, DType>([['F32', 'float32'], ['F64', 'float64'], ['I32', 'int32']]);
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** the reference implementation refuses headers above 100 MB */
const MAX_HEADER = 100_000_000;
/**
 * Bounds on the work a header can ask for. A model split into files keeps a few thousand tensors
 * per file; a million tiny entries took 10 s and 1.15 GB. numpy allows 64 dimensions.
 */
export const SAFETENSORS_LIMITS = { entries: 100_000, rank: 64 } as const;
/** the header key the format reserves for string metadata */
const METADATA = '__metadata__';

interface Entry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/**
 * Serialize named tensors (any device) to safetensors bytes.
 *
 * @example
 * const bytes = await writeSafetensors({ w: randn([2, 2]) }, { author: 'me' });
 */
export async function writeSafetensors(dict: Record<string, Tensor>, metadata?: Record<string, string>): Promise<Uint8Array<ArrayBuffer>> {
  const names = Object.keys(dict);
  if (names.includes(METADATA)) {
    throw new Error(`writeSafetensors: the name '${METADATA}' is reserved by the format for metadata`);
  }
  for (const k of names) {
    if (!(dict[k] instanceof Tensor)) throw new Error(`writeSafetensors: entry '${k}' is not a Tensor`);
  }
  if (metadata !== undefined) {
    const isObject = metadata !== null && typeof metadata === 'object';
    const bad = isObject ? Object.keys(metadata).find((k) => typeof metadata[k] !== 'string') : undefined;
    if (!isObject || bad !== undefined) {
      const why = bad === undefined ? '' : ` ('${bad}' is not a string)`;
      throw new Error(`writeSafetensors: metadata must map strings to strings${why}`);
    }
  }
  // no prototype: a tensor named "__proto__" is then an ordinary key (on {} it set the prototype
  // and vanished from the JSON)
  const header: Record<string, unknown> = Object.create(null);
  if (metadata) header[METADATA] = { ...metadata };
  const chunks: Uint8Array[] = [];
  let at = 0;
  for (const k of names) {
    const t = dict[k]!;
    const values = await t.data();
    const bytes = toLittleEndian(values, t.dtype);
    header[k] = { dtype: CODES[t.dtype], shape: [...t.shape], data_offsets: [at, at + bytes.byteLength] };
    chunks.push(bytes);
    at += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  // pad with spaces so the data starts 8-byte aligned, as the reference writer does
  const enc = new TextEncoder();
  let head = enc.encode(json);
  const pad = (8 - ((8 + head.byteLength) % 8)) % 8;
  if (pad) head = enc.encode(json + ' '.repeat(pad));
  const out = new Uint8Array(8 + head.byteLength + at);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.byteLength), true);
  out.set(head, 8);
  let off = 8 + head.byteLength;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}

function toLittleEndian(values: TypedArray, dtype: DType): Uint8Array {
  if (LITTLE) return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  const n = BYTES[dtype];
  const out = new Uint8Array(values.length * n);
  const dv = new DataView(out.buffer);
  values.forEach((v, i) =>
    dtype === 'int32' ? dv.setInt32(i * n, v, true) : n === 4 ? dv.setFloat32(i * n, v, true) : dv.setFloat64(i * n, v, true),
  );
  return out;
}

/** A name as it appears in an error: quoted, and cut short (a header may hold 100 MB of one name). */
function quote(k: string): string {
  return k.length > 80 ? `'${k.slice(0, 80)}…' (${k.length} characters)` : `'${k}'`;
}

/**
 * Parse safetensors bytes into CPU tensors, as an object without a prototype (so any entry name,
 * `__proto__` included, is an ordinary key). Throws a clear error (naming `source`) on a
 * truncated or corrupt file, an unsupported dtype, entries that overlap or leave gaps, or a
 * header beyond SAFETENSORS_LIMITS (entry count, rank).
 *
 * @example
 * const { w } = readSafetensors(bytes);   // CPU tensors by name
 */
export function readSafetensors(bytes: Uint8Array, source = 'safetensors data'): Record<string, Tensor> {
  const fail = (why: string): never => {
    throw new Error(`${source}: not a valid safetensors file: ${why}`);
  };
  if (!(bytes instanceof Uint8Array)) {
    throw new Error(`readSafetensors: expects a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`);
  }
  if (bytes.byteLength < 8) fail(`${bytes.byteLength} bytes, shorter than the 8-byte header length`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = dv.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER)) fail(`header length ${n64} is implausibly large`);
  const n = Number(n64);
  if (8 + n > bytes.byteLength) fail(`header of ${n} bytes runs past the end of the ${bytes.byteLength}-byte file (truncated?)`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    return fail(`header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) return fail('header is not a JSON object');
  // JSON.parse makes "__proto__" an own key, so Object.keys sees every entry
  const keys = Object.keys(header);
  const count = keys.length - (Object.hasOwn(header, METADATA) ? 1 : 0);
  if (count > SAFETENSORS_LIMITS.entries) {
    fail(`header has ${count} entries; tapegrad reads at most ${SAFETENSORS_LIMITS.entries}`);
  }
  const dataStart = 8 + n;
  const dataLen = bytes.byteLength - dataStart;
  const entries: [string, DType, number[], number, number][] = [];
  for (const k of keys) {
    const raw: unknown = (header as Record<string, unknown>)[k];
    if (k === METADATA) {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail(`'${METADATA}' is not an object`);
      continue;
    }
    const e = raw as Partial<Entry> | null;
    if (!e || typeof e !== 'object' || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets)) {
      fail(`entry ${quote(k)} lacks dtype/shape/data_offsets`);
    }
    const { dtype: code, shape, data_offsets: offsets } = e as Entry;
    const dtype = typeof code === 'string' ? FROM_CODE.get(code) : undefined;
    if (dtype === undefined) {
      fail(`entry ${quote(k)} has dtype ${JSON.stringify(code)?.slice(0, 40)}; tapegrad reads F32, F64 and I32`);
    }
    if (shape.length > SAFETENSORS_LIMITS.rank) {
      fail(`entry ${quote(k)} has rank ${shape.length}; tapegrad reads at most ${SAFETENSORS_LIMITS.rank}`);
    }
    // every dimension, and the product of the nonzero ones, a safe integer: [0, 2^53, 2^53] holds
    // no values but no backend can stride over it
    let count = 1;
    let span = 1;
    for (const d of shape) {
      if (!Number.isSafeInteger(d) || d < 0) fail(`entry ${quote(k)} has shape ${JSON.stringify(shape)}`);
      count *= d;
      span *= Math.max(d, 1);
      if (!Number.isSafeInteger(span * BYTES[dtype!])) {
        fail(`entry ${quote(k)}: shape ${JSON.stringify(shape)} is too large`);
      }
    }
    const size = count * BYTES[dtype!];
    if (offsets.length !== 2) {
      const given = JSON.stringify(offsets).slice(0, 80);
      fail(`entry ${quote(k)}: data_offsets ${given} must be two numbers [begin, end]`);
    }
    const [b, end] = offsets as [number, number];
    if (!Number.isSafeInteger(b) || !Number.isSafeInteger(end) || b < 0 || end - b !== size) {
      const given = JSON.stringify(offsets);
      fail(`entry ${quote(k)}: data_offsets ${given} do not hold ${size} bytes for shape ${JSON.stringify(shape)}`);
    }
    if (end > dataLen) fail(`entry ${quote(k)} ends at byte ${end} of a ${dataLen}-byte data section (truncated?)`);
    entries.push([k, dtype!, shape, b, end]);
  }
  // the data section must be covered exactly: no overlaps, no holes
  const sorted = [...entries].sort((x, y) => x[3] - y[3] || x[4] - y[4]);
  let expect = 0;
  for (const [k, , , b, end] of sorted) {
    if (b !== expect) fail(`entry ${quote(k)} starts at byte ${b}, expected ${expect} (overlap or gap)`);
    expect = end;
  }
  if (expect !== dataLen) fail(`data section has ${dataLen} bytes but the entries cover ${expect}`);

  const out: Record<string, Tensor> = Object.create(null);
  try {
    for (const [k, dtype, shape, b, end] of entries) {
      const w = BYTES[dtype];
      const values = typedArray(dtype, (end - b) / w);
      for (let i = 0; i < values.length; i++) {
        const at = dataStart + b + i * w;
        values[i] = dtype === 'int32' ? dv.getInt32(at, true) : w === 4 ? dv.getFloat32(at, true) : dv.getFloat64(at, true);
      }
      out[k] = tensor(values, { shape, dtype });
    }
  } catch (e) {
    // nothing half-made outlives a failed read
    for (const t of Object.values(out)) t.dispose();
    throw e;
  }
  return out;
}
