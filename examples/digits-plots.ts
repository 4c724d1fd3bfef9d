// Pictures for the digit classifier (examples/07-digits.ts): a confusion matrix and grids of small
// grey or signed images (digits, filters), as vega-lite specs for examples/plot.ts.
import type { Spec } from './plot';

/** A 10×10 confusion matrix: rows the true digit, columns the predicted one, counts in the cells. */
export function confusionChart(counts: number[][], title: string): Spec {
  const rows = counts.flatMap((row, t) => row.map((n, p) => ({ truth: t, predicted: p, n })));
  const max = Math.max(...rows.map((r) => r.n));
  return {
    title,
    width: 360,
    height: 360,
    data: { values: rows },
    encoding: {
      x: { field: 'predicted', type: 'ordinal', title: 'predicted digit', axis: { labelAngle: 0, grid: false } },
      y: { field: 'truth', type: 'ordinal', title: 'true digit', axis: { grid: false } },
    },
    layer: [
      { mark: 'rect', encoding: { color: { field: 'n', type: 'quantitative', scale: { type: 'symlog', domain: [0, max], range: ['#ffffff', '#08306b'] }, legend: null } } },
      {
        mark: { type: 'text', fontSize: 10 },
        encoding: {
          text: { field: 'n', type: 'quantitative' },
          color: { condition: { test: `datum.n > ${max / 8}`, value: 'white' }, value: 'black' },
        },
      },
    ],
  } as unknown as Spec;
}

export interface Picture {
  /** row-major values, `width` per row */
  values: ArrayLike<number>;
  width: number;
  height: number;
  /** written above the picture */
  caption: string;
}

/**
 * Pictures in a grid of `cols` columns, each pixel a rectangle. 'grey': values 0 (white) to 1
 * (black), pixels below 0.02 left out (the white background); 'signed': a diverging scale
 * centred on 0, each picture scaled by its own largest |value| (filters).
 */
export function pictureGrid(pictures: Picture[], opts: { title: string; cols: number; scale: 'grey' | 'signed'; cell?: number }): Spec {
  const { title, cols, scale, cell = 3 } = opts;
  const w = Math.max(...pictures.map((p) => p.width));
  const h = Math.max(...pictures.map((p) => p.height));
  const gapX = 2;
  const gapY = 5; // room for the caption
  const pixels: { x: number; y: number; v: number }[] = [];
  const captions: { x: number; y: number; text: string }[] = [];
  pictures.forEach((p, k) => {
    const ox = (k % cols) * (w + gapX);
    const oy = Math.floor(k / cols) * (h + gapY) + gapY;
    const peak = scale === 'signed' ? Math.max(1e-12, ...Array.from(p.values, Math.abs)) : 1;
    for (let r = 0; r < p.height; r++) {
      for (let c = 0; c < p.width; c++) {
        const v = p.values[r * p.width + c]! / peak;
        if (scale === 'grey' && v < 0.02) continue;
        pixels.push({ x: ox + c, y: oy + r, v });
      }
    }
    captions.push({ x: ox + p.width / 2, y: oy - 0.5, text: p.caption });
  });
  const rows = Math.ceil(pictures.length / cols);
  const spanX = cols * (w + gapX);
  const spanY = rows * (h + gapY);
  const pos = (f: string, span: number, reverse = false) => ({
    field: f,
    type: 'quantitative',
    axis: null,
    scale: { domain: [0, span], nice: false, zero: false, reverse },
  });
  return {
    title,
    width: spanX * cell,
    height: spanY * cell,
    layer: [
      {
        data: { values: pixels },
        transform: [
          { calculate: 'datum.x + 1', as: 'x2' },
          { calculate: 'datum.y + 1', as: 'y2' },
        ],
        mark: { type: 'rect', strokeWidth: 0 },
        encoding: {
          x: pos('x', spanX),
          x2: { field: 'x2' },
          y: pos('y', spanY, true),
          y2: { field: 'y2' },
          color: {
            field: 'v',
            type: 'quantitative',
            legend: null,
            scale: scale === 'grey' ? { domain: [0, 1], range: ['#ffffff', '#000000'] } : { domain: [-1, 1], scheme: 'redblue', reverse: true },
          },
        },
      },
      {
        data: { values: captions },
        mark: { type: 'text', fontSize: 10, baseline: 'bottom', color: '#b00' },
        encoding: { x: pos('x', spanX), y: pos('y', spanY, true), text: { field: 'text' } },
      },
    ],
    config: { view: { stroke: null } },
  } as unknown as Spec;
}
