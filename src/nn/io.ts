// Where Module.save/load get and put bytes. Node's file system is reached only at run time, through
// process.getBuiltinModule (Node ≥ 20.16) or an import with a computed specifier, so bundling the
// main entry for a browser needs no Node built-ins; browsers read from bytes, Blobs, Responses
// and URLs (fetch), and write by handing back the bytes.

/** What `Module.load` reads: a file path or URL string, a URL, bytes, a Blob/File or a fetch Response. */
export type WeightsSource = string | URL | Uint8Array | ArrayBuffer | Blob | Response;

type Fs = typeof import('node:fs/promises');

const isNode = () => typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';

/**
 * An import whose specifier is a parameter: bundlers cannot resolve it (so they leave Node's
 * modules alone), and minifiers cannot fold it into a literal they would then try to resolve.
 */
const load = (name: string): Promise<unknown> => import(/* @vite-ignore */ /* webpackIgnore: true */ name);

async function nodeFs(op: string): Promise<Fs> {
  if (!isNode()) {
    throw new Error(
      `${op}: a file path needs Node's file system; in a browser pass bytes, a Blob, a Response or a URL ` +
        '(and save with `await net.saveBytes()`)',
    );
  }
  const proc = (globalThis as { process?: { getBuiltinModule?: (name: string) => unknown } }).process;
  const builtin = proc?.getBuiltinModule?.('node:fs/promises') as Fs | undefined;
  if (builtin) return builtin;
  return (await load('node:fs/promises')) as Fs;
}

/** Write bytes to a file (Node only). */
export async function writeFileBytes(op: string, path: string, bytes: Uint8Array): Promise<void> {
  await (await nodeFs(op)).writeFile(path, bytes);
}

async function fetched(op: string, url: string, res?: Response): Promise<Uint8Array> {
  const r = res ?? (await fetch(url));
  if (!r.ok) throw new Error(`${op}: fetching ${url} gave HTTP ${r.status} ${r.statusText}`.trimEnd());
  return new Uint8Array(await r.arrayBuffer());
}

/**
 * The bytes of `source` and a name for messages. Strings are file paths in Node and URLs
 * elsewhere (http(s): URLs are fetched everywhere); `file:` URLs are read from disk in Node.
 */
export async function readSourceBytes(op: string, source: WeightsSource): Promise<{ bytes: Uint8Array; name: string }> {
  if (source instanceof Uint8Array) return { bytes: source, name: 'bytes' };
  if (source instanceof ArrayBuffer) return { bytes: new Uint8Array(source), name: 'bytes' };
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    return { bytes: new Uint8Array(await source.arrayBuffer()), name: (source as { name?: string }).name ?? 'Blob' };
  }
  if (typeof Response !== 'undefined' && source instanceof Response) {
    return { bytes: await fetched(op, source.url || 'Response', source), name: source.url || 'Response' };
  }
  const text = source instanceof URL ? source.href : source;
  if (typeof text !== 'string') {
    throw new TypeError(`${op}: expected a path, URL, Uint8Array, ArrayBuffer, Blob or Response, got ${Object.prototype.toString.call(source)}`);
  }
  if (/^https?:/i.test(text) || (!isNode() && !/^file:/i.test(text))) return { bytes: await fetched(op, text), name: text };
  const fs = await nodeFs(op);
  const buf = await fs.readFile(source instanceof URL ? source : /^file:/i.test(text) ? new URL(text) : text);
  return { bytes: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), name: text };
}
