// A small SVG drawing of one step's tape: the forward chain top to bottom (input, each layer's
// output, the loss) with each layer's parameters beside it, every tensor labelled with its shape
// and ‖∂loss/∂tensor‖₂. drawTape() is the one place that turns a TapeSummary into a picture, so
// it can be swapped for a rendering of the library's toDot output when that lands.
import type { TapeSummary } from './protocol';

const NS = 'http://www.w3.org/2000/svg';
const W = 190;
const H = 40;
const GAP = 22;

function el<K extends keyof SVGElementTagNameMap>(
  name: K,
  attrs: Record<string, string | number>,
  text?: string,
): SVGElementTagNameMap[K] {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

const fmt = (v: number | null) =>
  v === null
    ? '—'
    : v === 0
      ? '0'
      : Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3
        ? v.toExponential(2)
        : v.toPrecision(3);

/** The tape as an SVG element; the fill darkens with log10 of the gradient norm. */
export function drawTape(tape: TapeSummary): SVGSVGElement {
  const chain = tape.nodes.filter((n) => n.kind !== 'parameter');
  const params = tape.nodes.filter((n) => n.kind === 'parameter');
  const pos = new Map<string, { x: number; y: number }>();
  chain.forEach((n, i) => pos.set(n.id, { x: W + 3 * GAP, y: GAP + i * (H + GAP) }));
  // a layer's parameters sit to its left, stacked around its row
  for (const n of chain) {
    const mine = params.filter((p) => tape.edges.some(([a, b]) => a === p.id && b === n.id));
    mine.forEach((p, j) =>
      pos.set(p.id, { x: GAP, y: pos.get(n.id)!.y + (j - (mine.length - 1) / 2) * (H / 2 + 4) }),
    );
  }
  const height = GAP * 2 + chain.length * (H + GAP);
  const svg = el('svg', {
    width: 2 * W + 4 * GAP,
    height,
    viewBox: `0 ${-H / 2} ${2 * W + 4 * GAP} ${height + H / 2}`,
    role: 'img',
  });
  svg.append(el('defs', {}));
  const marker = el('marker', {
    id: 'arrow',
    viewBox: '0 0 10 10',
    refX: 10,
    refY: 5,
    markerWidth: 6,
    markerHeight: 6,
    orient: 'auto',
  });
  marker.append(el('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#666' }));
  svg.firstChild!.appendChild(marker);
  const norms = tape.nodes
    .map((n) => n.gradNorm)
    .filter((v): v is number => v !== null && v > 0)
    .map(Math.log10);
  const [lo, hi] = [Math.min(...norms, 0), Math.max(...norms, 0)];
  const shade = (v: number | null) => {
    if (v === null || v <= 0) return '#f4f4f4';
    const t = hi > lo ? (Math.log10(v) - lo) / (hi - lo) : 0.5;
    return `hsl(210, 70%, ${92 - 40 * t}%)`;
  };
  for (const [a, b] of tape.edges) {
    const p = pos.get(a);
    const q = pos.get(b);
    if (!p || !q) continue;
    const side = p.x < q.x;
    const [x1, y1] = side ? [p.x + (a.includes('.') ? W : W), p.y + H / 4] : [p.x + W / 2, p.y + H];
    const [x2, y2] = side ? [q.x, q.y + H / 2] : [q.x + W / 2, q.y];
    svg.append(el('line', { x1, y1, x2, y2, stroke: '#666', 'marker-end': 'url(#arrow)' }));
  }
  for (const n of tape.nodes) {
    const p = pos.get(n.id);
    if (!p) continue;
    const small = n.kind === 'parameter';
    const [w, h] = small ? [W, H / 2 + 2] : [W, H];
    const g = el('g', { transform: `translate(${p.x},${p.y})`, 'data-kind': n.kind });
    g.append(
      el('rect', {
        width: w,
        height: h,
        rx: 4,
        fill: shade(n.gradNorm),
        stroke: n.kind === 'loss' ? '#b44' : '#557',
      }),
    );
    const shape = `[${n.shape.join('×')}]`;
    g.append(el('text', { x: 6, y: small ? 14 : 16, 'font-size': 12 }, `${n.label} ${shape}`));
    const gtext = `‖g‖ ${fmt(n.gradNorm)}`;
    if (small) g.lastChild!.textContent = `${n.label} ${shape}  ${gtext}`;
    else
      g.append(
        el(
          'text',
          { x: 6, y: 32, 'font-size': 11, fill: '#333' },
          n.kind === 'input' ? 'data (no gradient)' : gtext,
        ),
      );
    svg.append(g);
  }
  return svg;
}
