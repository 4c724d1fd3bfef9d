// The tape, drawn: the recorded graph behind a tensor as Graphviz DOT (one box per op with its
// output shape and dtype, one ellipse per leaf, parameters by their module names, optionally each
// leaf's gradient norm), and a lazily loaded WebAssembly Graphviz to render it to SVG.
import { fmtShape } from '../ops/registry';
import type { TapeNode } from '../graph/engine';
import { getBackend } from '../backends/backend';
import { Tensor } from '../graph/tensor';
import { Module } from '../nn/module';

export interface DotOptions {
  /** names for the leaves: a Module (its dotted parameter names, `0.weight`) or name → tensor */
  params?: Module | Record<string, Tensor>;
  /** label each leaf that has a gradient with its norm ‖grad‖₂ (after backward(); CPU only) */
  gradNorms?: boolean;
  /** Graphviz rankdir: 'TB' (default: inputs at the top, the result below), 'LR', 'BT', 'RL' */
  rankdir?: 'TB' | 'LR' | 'BT' | 'RL';
}

/** A DOT string literal: quotes and backslashes escaped, newlines as Graphviz's \n. */
const lit = (s: string) =>
  `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

const fmtAttrs = (attrs: unknown): string =>
  attrs && typeof attrs === 'object'
    ? Object.entries(attrs as Record<string, unknown>)
        .map(([k, v]) => `${k}=${Array.isArray(v) ? `[${v.join(',')}]` : String(v)}`)
        .join(' ')
    : '';

/** ‖g‖₂ read on the host (the drawing is synchronous: the gradient must be readable now). */
function gradNorm(t: Tensor, label: string): number {
  const g = t.grad!;
  if (!getBackend(g.device).readSync) {
    throw new Error(
      `toDot: gradNorms reads gradients synchronously, but the gradient of ${label} lives on ` +
        `${g.device}; draw without gradNorms or move the model to the CPU`,
    );
  }
  let s = 0;
  for (const v of g.dataSync()) s += v * v;
  return Math.sqrt(s);
}

/**
 * The recorded graph behind `t` as Graphviz DOT, like torchviz's make_dot: each recorded op is a
 * box (op, attributes, output shape and dtype), each leaf an ellipse (parameters blue, with
 * their names from `params` or their `.name`; other leaves grey, one-element ones with their
 * value), and an edge runs from each input to the op that read it. The result's box is green.
 * Tensors produced by ops that record no tape node (comparisons, noGrad work) appear as leaves.
 *
 * @example
 * const loss = net.forward(x).sub(y).square().mean();
 * writeFileSync('loss.dot', toDot(loss, { params: net }));   // then: dot -Tsvg loss.dot
 */
export function toDot(t: Tensor, options: DotOptions = {}): string {
  if (!(t instanceof Tensor)) throw new Error(`toDot: expects a Tensor, got ${typeof t}`);
  const names = new Map<Tensor, string>();
  const p = options.params;
  const entries = p instanceof Module ? p.namedParameters() : Object.entries(p ?? {});
  for (const [k, v] of entries) if (!names.has(v)) names.set(v, k);

  // nodes reachable from t, found without recursion (graphs can be deeper than the JS stack)
  const nodes: TapeNode[] = [];
  const leaves: Tensor[] = [];
  const seenNode = new Set<TapeNode>();
  const seenLeaf = new Set<Tensor>();
  const stack: Tensor[] = [t];
  while (stack.length) {
    const x = stack.pop()!;
    const n = x._node;
    if (!n) {
      if (!seenLeaf.has(x)) (seenLeaf.add(x), leaves.push(x));
    } else if (!seenNode.has(n)) {
      seenNode.add(n);
      nodes.push(n);
      for (let i = n.inputs.length - 1; i >= 0; i--) stack.push(n.inputs[i]!);
    }
  }

  const ids = new Map<Tensor, string>();
  const lines = [
    'digraph tape {',
    `  graph [rankdir=${options.rankdir ?? 'TB'}];`,
    '  node [fontname="Helvetica", fontsize=11];',
  ];
  leaves.forEach((x, i) => {
    const id = `t${i}`;
    ids.set(x, id);
    const name = names.get(x) ?? x.name;
    const isParam = x.requiresGrad;
    const head = name ?? (isParam ? 'parameter' : 'tensor');
    let label = `${head}\n${fmtShape(x.shape)} ${x.dtype}`;
    if (!name && !isParam && x.size === 1 && !x.isDisposed && getBackend(x.device).readSync)
      label = `${x.dataSync()[0]}\n${x.dtype}`;
    if (options.gradNorms && x.grad) label += `\n‖grad‖ = ${gradNorm(x, head).toPrecision(4)}`;
    const fill = x === t ? 'darkolivegreen1' : isParam ? 'lightblue' : 'lightgrey';
    lines.push(`  ${id} [shape=ellipse, style=filled, fillcolor=${fill}, label=${lit(label)}];`);
  });
  nodes.forEach((n, i) => {
    const id = `n${i}`;
    ids.set(n.out, id);
    const attrs = fmtAttrs(n.attrs);
    const label = `${n.op}${attrs ? `\n${attrs}` : ''}\n${fmtShape(n.out.shape)} ${n.out.dtype}`;
    const fill = n.out === t ? 'darkolivegreen1' : 'white';
    lines.push(`  ${id} [shape=box, style=filled, fillcolor=${fill}, label=${lit(label)}];`);
  });
  for (const n of nodes)
    for (const x of n.inputs) lines.push(`  ${ids.get(x)} -> ${ids.get(n.out)};`);
  lines.push('}');
  return lines.join('\n') + '\n';
}

type Viz = { renderString(src: string, opts: { format: string; engine?: string }): string };
let viz: Promise<Viz> | null = null;

/**
 * Render DOT text with Graphviz compiled to WebAssembly (@viz-js/viz, loaded on first use; works
 * in Node and in browsers). Resolves to the SVG (or the `format` Graphviz names) as a string.
 *
 * @example
 * const svg = await renderDot('digraph { a -> b }');
 */
export async function renderDot(
  dot: string,
  format: 'svg' | 'json' | 'dot' = 'svg',
): Promise<string> {
  // an optional peer dependency: the main entry stays light for users who never draw
  viz ??= import('@viz-js/viz').then(
    (m) => m.instance() as Promise<Viz>,
    (e: unknown) => {
      throw new Error('renderDot: needs the optional package @viz-js/viz (npm install @viz-js/viz)', { cause: e });
    },
  );
  viz.catch(() => (viz = null)); // a failed load is retried next time
  const instance = await viz;
  try {
    return instance.renderString(dot, { format });
  } catch (e) {
    throw new Error(`renderDot: Graphviz could not render the graph: ${(e as Error).message}`);
  }
}

/**
 * The recorded graph behind `t` as SVG: `renderDot(toDot(t, options))`.
 *
 * @example
 * const svg = await toSvg(loss, { params: net, rankdir: 'LR' });
 */
export function toSvg(t: Tensor, options?: DotOptions): Promise<string> {
  return renderDot(toDot(t, options));
}
