// The safetensors file format (https://huggingface.co/docs/safetensors): an unsigned 64-bit
// little-endian header length N, N bytes of UTF-8 JSON mapping each name to
// { dtype, shape, data_offsets: [begin, end] } (offsets into the data that follows), then the
// raw little-endian values, packed without gaps. An optional "__metadata__" maps strings to strings.
import { tensor } from '../graph/creation';
import { typedArray, type DType, type TypedArray } from '../backends/backend';
import { Tensor } from './util';

const CODES: Record<DType, string> = { float32: 'F32', float64: 'F64', int32: 'I32' };
const BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4 };
const FROM_CODE: Record<string, DType> = { F32: 'float32', F64: 'float64', I32: 'int32' };
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** the reference implementation refuses headers above 100 MB */
const MAX_HEADER = 100_000_000;

interface Entry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** Serialize named tensors (any device) to safetensors bytes. */
export async function writeSafetensors(dict: Record<string, Tensor>, metadata?: Record<string, string>): Promise<Uint8Array> {
  const names = Object.keys(dict);
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
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

/**
 * Parse safetensors bytes into CPU tensors. Throws a clear error (naming `source`) on a truncated
 * or corrupt file, an unsupported dtype, or entries that overlap or leave gaps.
 */
export function readSafetensors(bytes: Uint8Array, source = 'safetensors data'): Record<string, Tensor> {
  const fail = (why: string): never => {
    throw new Error(`${source}: not a valid safetensors file: ${why}`);
  };
  if (bytes.byteLength < 8) fail(`${bytes.byteLength} bytes, shorter than the 8-byte header length`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = dv.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER)) fail(`header length ${n64} is implausibly large`);
  const n = Number(n64);
  if (8 + n > bytes.byteLength) fail(`header of ${n} bytes runs past the end of the ${bytes.byteLength}-byte file (truncated?)`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    return fail(`header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail('header is not a JSON object');
  const dataStart = 8 + n;
  const dataLen = bytes.byteLength - dataStart;
  const entries: [string, Entry][] = [];
  for (const [k, raw] of Object.entries(header)) {
    if (k === '__metadata__') continue;
    const e = raw as Entry;
    if (!e || typeof e !== 'object' || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets)) {
      fail(`entry '${k}' lacks dtype/shape/data_offsets`);
    }
    if (!(e.dtype in FROM_CODE)) fail(`entry '${k}' has dtype ${JSON.stringify(e.dtype)}; tapegrad reads F32, F64 and I32`);
    if (!e.shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`entry '${k}' has shape ${JSON.stringify(e.shape)}`);
    const [b, end] = e.data_offsets;
    const size = e.shape.reduce((p, d) => p * d, 1) * BYTES[FROM_CODE[e.dtype]!];
    if (!Number.isInteger(b) || !Number.isInteger(end) || b < 0 || end - b !== size) {
      fail(`entry '${k}': data_offsets ${JSON.stringify(e.data_offsets)} do not hold ${size} bytes for shape ${JSON.stringify(e.shape)}`);
    }
    if (end > dataLen) fail(`entry '${k}' ends at byte ${end} of a ${dataLen}-byte data section (truncated?)`);
    entries.push([k, e]);
  }
  // the data section must be covered exactly: no overlaps, no holes
  const sorted = [...entries].sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0]);
  let expect = 0;
  for (const [k, e] of sorted) {
    if (e.data_offsets[0] !== expect) fail(`entry '${k}' starts at byte ${e.data_offsets[0]}, expected ${expect} (overlap or gap)`);
    expect = e.data_offsets[1];
  }
  if (expect !== dataLen) fail(`data section has ${dataLen} bytes but the entries cover ${expect}`);

  const out: Record<string, Tensor> = {};
  for (const [k, e] of entries) {
    const dtype = FROM_CODE[e.dtype]!;
    const w = BYTES[dtype];
    const [b, end] = e.data_offsets;
    const count = (end - b) / w;
    const values = typedArray(dtype, count);
    for (let i = 0; i < count; i++) {
      const at = dataStart + b + i * w;
      values[i] = dtype === 'int32' ? dv.getInt32(at, true) : w === 4 ? dv.getFloat32(at, true) : dv.getFloat64(at, true);
    }
    out[k] = tensor(values, { shape: e.shape, dtype });
  }
  return out;
}
