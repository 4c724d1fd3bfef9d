// Charts for the examples: a vega-lite spec is compiled to vega, rendered to SVG in Node by vega's
// headless view, and converted to PNG by resvg. Both files are written.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';

export type Spec = TopLevelSpec;
type Row = Record<string, number | string>;

const CONFIG = {
  font: 'DejaVu Sans',
  background: 'white',
  view: { stroke: '#ccc' },
  axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridColor: '#eee' },
  legend: { labelFontSize: 11, titleFontSize: 12, orient: 'bottom', direction: 'horizontal', columns: 3, labelLimit: 300 },
  title: { fontSize: 14, anchor: 'start', offset: 8 },
} as const;

// vega-lite warns about merged scales in concatenated views; the charts resolve them explicitly
const QUIET = { level: () => QUIET, error: (...a: unknown[]) => { console.error(...a); return QUIET; }, warn: () => QUIET, info: () => QUIET, debug: () => QUIET } as never;

/** Charts side by side, each with its own scales and legend. */
export function panels(charts: Spec[], title?: string): Spec {
  return {
    ...(title ? { title: { text: title, fontSize: 16 } } : {}),
    hconcat: charts,
    resolve: { scale: { color: 'independent', strokeDash: 'independent', x: 'independent', y: 'independent', shape: 'independent' } },
  } as unknown as Spec;
}

/** Render `spec` to `<file>.svg` and `<file>.png` (file without extension); returns the PNG path. */
export async function savePlot(spec: Spec, file: string): Promise<string> {
  const { spec: vgSpec } = vl.compile({ ...spec, config: { ...CONFIG, ...(spec.config ?? {}) } } as Spec, { logger: QUIET });
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none' });
  const svg = await view.toSVG(2);
  view.finalize();
  const png = new Resvg(svg, {
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
    fitTo: { mode: 'zoom', value: 1.5 },
    background: 'white',
  })
    .render()
    .asPng();
  await mkdir(dirname(file), { recursive: true });
  await writeFile(`${file}.svg`, svg);
  await writeFile(`${file}.png`, png);
  return `${file}.png`;
}

/**
 * Long-format rows from x and named series (for a color-encoded line chart), thinned to about
 * `maxPoints` per series: evenly spaced indices, or geometrically spaced ones (`log`) for a log x axis.
 */
export function longRows(
  x: readonly number[],
  series: Record<string, readonly number[]>,
  xName = 'x',
  maxPoints = 400,
  spacing: 'linear' | 'log' = 'linear',
): Row[] {
  const n = x.length;
  let idx: number[];
  if (n <= maxPoints) idx = [...Array(n).keys()];
  else if (spacing === 'log') {
    const set = new Set<number>();
    for (let k = 0; k < maxPoints; k++) set.add(Math.round(Math.exp((Math.log(n) * k) / (maxPoints - 1))) - 1);
    idx = [...set].filter((i) => i >= 0 && i < n).sort((a, b) => a - b);
  } else {
    const step = Math.ceil(n / maxPoints);
    idx = [];
    for (let i = 0; i < n; i += step) idx.push(i);
    if (idx.at(-1) !== n - 1) idx.push(n - 1);
  }
  const rows: Row[] = [];
  for (const [name, ys] of Object.entries(series)) {
    for (const i of idx) if (Number.isFinite(ys[i]!)) rows.push({ [xName]: x[i]!, y: ys[i]!, series: name });
  }
  return rows;
}

/** A line chart layer of several series (color by series, with an optional dash for some). */
export function linesChart(opts: {
  title: string;
  rows: Row[];
  x?: string;
  xTitle: string;
  yTitle: string;
  logX?: boolean;
  logY?: boolean;
  order?: string[];
  colors?: string[];
  dashed?: string[];
  width?: number;
  height?: number;
}): Spec {
  const { title, rows, x = 'x', xTitle, yTitle, logX, logY, order, colors, dashed = [], width = 340, height = 240 } = opts;
  const domain = order ?? [...new Set(rows.map((r) => String(r.series)))];
  // dashed series (targets, references) are drawn last, on top of the fits that may cover them
  const isDashed = (r: Row) => (dashed.includes(String(r.series)) ? 1 : 0);
  const drawn = [...rows].sort((a, b) => isDashed(a) - isDashed(b));
  return {
    title,
    width,
    height,
    data: { values: drawn },
    mark: { type: 'line', strokeWidth: 2, clip: true },
    encoding: {
      x: { field: x, type: 'quantitative', title: xTitle, scale: logX ? { type: 'log' } : { zero: false } },
      y: { field: 'y', type: 'quantitative', title: yTitle, scale: logY ? { type: 'log' } : { zero: false } },
      color: { field: 'series', type: 'nominal', title: null, scale: { domain, ...(colors ? { range: colors } : {}) } },
      strokeDash: {
        field: 'series',
        type: 'nominal',
        title: null,
        scale: { domain, range: domain.map((d) => (dashed.includes(d) ? [6, 4] : [1, 0])) },
      },
    },
  } as Spec;
}
