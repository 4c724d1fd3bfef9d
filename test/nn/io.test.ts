// Where Module.save/load get their bytes (src/nn/io.ts): file paths and file: URLs in Node, bytes,
// ArrayBuffers, Blobs, fetch Responses and http URLs everywhere; and that the library's bundle for
// browsers needs no Node built-in to do it.
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Linear, Module, ReLU, Sequential, manualSeed, tensor } from '../../src';

const make = () => new Sequential(new Linear(2, 3), new ReLU(), new Linear(3, 1));
const values = (m: Module) => m.parameters().map((p) => [...p.dataSync()]);

describe('Module.saveBytes / load from any source', () => {
  manualSeed(3);
  const net = make();
  const dir = mkdtempSync(join(tmpdir(), 'tapegrad-io-'));

  it('saveBytes is what save writes, and each kind of source loads it back', async () => {
    const bytes = await net.saveBytes({ note: 'x' });
    const path = join(dir, 'n.safetensors');
    await net.save(path, { note: 'x' });
    expect(new Uint8Array(readFileSync(path))).toEqual(bytes);
    const sources = [
      path, pathToFileURL(path), pathToFileURL(path).href, bytes, bytes.slice().buffer, new Blob([bytes]), new Response(bytes),
    ];
    for (const source of sources) {
      const fresh = make();
      expect(values(fresh)).not.toEqual(values(net));
      expect(await fresh.load(source)).toBe(fresh);
      expect(values(fresh)).toEqual(values(net));
    }
    expect(values(await Module.load(new Blob([bytes]), make))).toEqual(values(net));
  });

  it('fetches http URLs, and says which status a failed fetch gave', async () => {
    const bytes = await net.saveBytes();
    const server = createServer((req, res) => (req.url === '/w.safetensors' ? res.writeHead(200).end(bytes) : res.writeHead(404).end()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const fresh = make();
      await fresh.load(`http://127.0.0.1:${port}/w.safetensors`);
      expect(values(fresh)).toEqual(values(net));
      const before = values(fresh);
      await expect(fresh.load(new URL(`http://127.0.0.1:${port}/missing`))).rejects.toThrow(
        /Sequential\.load: fetching http:\/\/127\.0\.0\.1:\d+\/missing gave HTTP 404/,
      );
      expect(values(fresh)).toEqual(before);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('names the source in format errors and refuses other kinds of value', async () => {
    await expect(make().load(new Uint8Array([1, 2, 3]))).rejects.toThrow(/bytes: .*shorter than the 8-byte header length/);
    await expect(make().load(42 as never)).rejects.toThrow(/Sequential\.load: expected a path, URL, Uint8Array, ArrayBuffer, Blob or Response, got \[object Number\]/);
    await expect(make().load(tensor([1]) as never)).rejects.toThrow(TypeError);
  });
});
