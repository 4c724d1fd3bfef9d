// toDot: the DOT text against the tape it draws (nodes, edges, labels), and rendering to SVG.
import { describe, expect, it } from 'vitest';
import {
  Linear,
  MSE,
  ReLU,
  Sequential,
  manualSeed,
  randn,
  renderDot,
  tensor,
  toDot,
  toSvg,
  type Tensor,
} from '../../src';
import type { TapeNode } from '../../src/graph/engine';
import { WEBGPU } from '../helpers/devices';

interface Parsed {
  labels: Map<string, string>;
  edges: [string, string][];
}

/** Node ids with their labels, and edges, from the DOT text (the statements toDot writes). */
function parse(dot: string): Parsed {
  const labels = new Map<string, string>();
  const edges: [string, string][] = [];
  for (const line of dot.split('\n')) {
    const node = /^\s+(\w+) \[.*label="((?:[^"\\]|\\.)*)"\];$/.exec(line);
    if (node) labels.set(node[1]!, node[2]!.replace(/\\n/g, '\n'));
    const edge = /^\s+(\w+) -> (\w+);$/.exec(line);
    if (edge) edges.push([edge[1]!, edge[2]!]);
  }
  return { labels, edges };
}

/** The tape behind t counted independently of toDot: ops, distinct leaves, input edges. */
function census(t: Tensor): { ops: number; leaves: number; edges: number } {
  const nodes = new Set<TapeNode>();
  const leaves = new Set<Tensor>();
  const visit = (x: Tensor): void => {
    if (!x._node) return void leaves.add(x);
    if (nodes.has(x._node)) return;
    nodes.add(x._node);
    x._node.inputs.forEach(visit);
  };
  visit(t);
  return {
    ops: nodes.size,
    leaves: leaves.size,
    edges: [...nodes].reduce((n, x) => n + x.inputs.length, 0),
  };
}

const find = (p: Parsed, first: string) =>
  [...p.labels].filter(([, l]) => l.split('\n')[0] === first).map(([id]) => id);

describe('toDot', () => {
  it('draws one training step of a ReLU net: every op, leaf and edge of the tape, with names and gradient norms', () => {
    manualSeed(3);
    const net = new Sequential(new Linear(1, 4), new ReLU(), new Linear(4, 1));
    const x = randn([5, 1]);
    const y = randn([5, 1]);
    const loss = new MSE().forward(net.forward(x), y);
    loss.backward(); // frees the graph's saved tensors: it stays drawable
    const dot = toDot(loss, { params: net, gradNorms: true });
    const p = parse(dot);
    const c = census(loss);
    expect(p.labels.size).toBe(c.ops + c.leaves);
    expect(p.edges.length).toBe(c.edges);
    expect(c.ops).toBeGreaterThanOrEqual(4); // linear, relu, linear, mse at least

    // every parameter appears under its module name, with shape, dtype and its gradient's norm
    for (const [name, t] of net.namedParameters()) {
      const [id] = find(p, name);
      expect(id, name).toBeDefined();
      const g = Array.from(t.grad!.dataSync());
      const norm = Math.sqrt(g.reduce((s, v) => s + v * v, 0));
      expect(p.labels.get(id!)).toBe(
        `${name}\n[${t.shape.join(',')}] float32\n‖grad‖ = ${norm.toPrecision(4)}`,
      );
    }
    // edges go where the tape says: 0.weight into the first linear, that linear into relu
    const [w0] = find(p, '0.weight');
    const linears = find(p, 'linear');
    const [relu] = find(p, 'relu');
    expect(p.edges).toContainEqual([
      w0!,
      linears.find((l) => p.edges.some(([a, b]) => a === w0 && b === l))!,
    ]);
    expect(p.edges.some(([a, b]) => linears.includes(a) && b === relu)).toBe(true);
    expect(p.labels.get(relu!)).toBe('relu\n[5,4] float32');
    // the result is the green box
    expect(dot).toMatch(/n\d+ \[shape=box, style=filled, fillcolor=darkolivegreen1, label="mse/);
    for (const t of [x, y, loss, ...net.parameters()]) t.dispose();
  });

  it('draws a tensor used twice with two edges, attributes, and scalar constants by value', () => {
    const a = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { requiresGrad: true },
    );
    a.name = 'a';
    const out = a.mul(a).sum([1], true).add(0.5);
    const p = parse(toDot(out));
    const [leaf] = find(p, 'a');
    const [mul] = find(p, 'mul');
    expect(p.edges.filter(([s, d]) => s === leaf && d === mul)).toHaveLength(2);
    expect([...p.labels.values()]).toContain('sum\naxes=[1] keepDims=true\n[2,1] float32');
    expect([...p.labels.values()]).toContain('0.5\nfloat32');
    const c = census(out);
    expect(p.edges.length).toBe(c.edges);
    expect(p.labels.size).toBe(c.ops + c.leaves);
    a.dispose();
  });

  it('draws a leaf alone, and refuses a non-tensor', () => {
    const t = tensor([1, 2, 3]);
    expect(parse(toDot(t)).labels.size).toBe(1);
    expect(() => toDot(3 as unknown as Tensor)).toThrow(/toDot: expects a Tensor, got number/);
    t.dispose();
  });

  it.skipIf(!WEBGPU.available)(
    'draws a WebGPU tape; gradient norms there are refused with the reason',
    () => {
      const a = tensor([1, 2, 3], { device: 'webgpu', requiresGrad: true });
      a.name = 'a';
      const out = a.exp().sum();
      out.backward();
      const p = parse(toDot(out));
      expect(p.labels.size).toBe(3);
      expect(() => toDot(out, { gradNorms: true })).toThrow(
        /toDot: gradNorms reads gradients synchronously, but the gradient of a lives on webgpu/,
      );
      for (const t of [a, out]) t.dispose();
    },
  );

  it('renders to SVG with the WebAssembly Graphviz: one SVG node per DOT node, one path per edge', async () => {
    const a = tensor([1, 2, 3], { requiresGrad: true });
    const out = a.exp().mul(a).sum();
    const p = parse(toDot(out, { rankdir: 'LR' }));
    const svg = await toSvg(out, { rankdir: 'LR' });
    expect(svg).toMatch(/^<\?xml[\s\S]*<svg[\s\S]*<\/svg>\s*$/);
    expect(svg.match(/class="node"/g)).toHaveLength(p.labels.size);
    expect(svg.match(/class="edge"/g)).toHaveLength(p.edges.length);
    expect(svg).toContain('exp');
    await expect(renderDot('digraph { a -> }')).rejects.toThrow(
      /renderDot: Graphviz could not render the graph/,
    );
    a.dispose();
  });
});
