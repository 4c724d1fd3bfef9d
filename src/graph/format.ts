// Printing tensors the way PyTorch's repr does: one number format for the whole tensor (chosen
// from the values shown), every element padded to one width so rows line up, nan/inf spelled out,
// and tensors over a threshold summarised by their first and last few entries per axis.
import type { TypedArray } from '../backends/backend';

/** Print options (see {@link setPrintOptions}). */
export interface PrintOptions {
  /** digits after the point in fixed notation, and of the mantissa in scientific (default 4) */
  precision: number;
  /** tensors with more elements than this are summarised (default 1000) */
  threshold: number;
  /** entries shown at each end of a summarised axis (default 3) */
  edgeItems: number;
  /** characters per line before a row wraps (default 80) */
  lineWidth: number;
}

const DEFAULTS: PrintOptions = { precision: 4, threshold: 1000, edgeItems: 3, lineWidth: 80 };
const options: PrintOptions = { ...DEFAULTS };

/**
 * Change how tensors print (PyTorch's set_printoptions); omitted fields keep their values,
 * `setPrintOptions()` restores the defaults.
 *
 * @example
 * setPrintOptions({ precision: 2, threshold: 50 });
 * console.log(String(randn([100])));   // 6 values and '...'
 */
export function setPrintOptions(opts?: Partial<PrintOptions>): void {
  if (!opts) return void Object.assign(options, DEFAULTS);
  for (const [k, v] of Object.entries(opts)) {
    if (!(k in DEFAULTS)) throw new Error(`setPrintOptions: unknown option '${k}' (known: ${Object.keys(DEFAULTS).join(', ')})`);
    if (v === undefined) continue;
    if (!Number.isInteger(v) || (v as number) < 0) throw new Error(`setPrintOptions: ${k} must be a non-negative integer, got ${String(v)}`);
    options[k as keyof PrintOptions] = v as number;
  }
}

/**
 * The indices shown along an axis of length n: all of them, or the first and last `edge` with a
 * gap (-1) between when summarising.
 */
function shownIndices(n: number, summarise: boolean, edge: number): number[] {
  if (!summarise || n <= 2 * edge) return Array.from({ length: n }, (_, i) => i);
  return [...Array.from({ length: edge }, (_, i) => i), -1, ...Array.from({ length: edge }, (_, i) => n - edge + i)];
}

/** The values that will be printed (to choose one format from them). */
function collect(values: TypedArray, shape: readonly number[], summarise: boolean, edge: number): number[] {
  const out: number[] = [];
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const walk = (axis: number, offset: number) => {
    if (axis === shape.length) return void out.push(values[offset]!);
    for (const i of shownIndices(shape[axis]!, summarise, edge)) if (i >= 0) walk(axis + 1, offset + i * strides[axis]!);
  };
  walk(0, 0);
  return out;
}

/**
 * One formatter for every element (PyTorch's rule): integers print as `3.`; fixed notation with
 * `precision` decimals unless the finite magnitudes span more than 10³, exceed 10⁸ or fall below
 * 10⁻⁴, where scientific notation keeps small and large values readable side by side.
 */
function formatter(shown: number[], precision: number, integer = false): (v: number) => string {
  // an integer dtype prints its values as they are (PyTorch: `tensor([1, -2], dtype=torch.int32)`)
  if (integer) return (v) => String(v);
  const finite = shown.filter(Number.isFinite);
  const special = (v: number) => (Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf');
  if (finite.length === 0) return special;
  const abs = finite.map(Math.abs).filter((v) => v !== 0);
  const max = abs.length ? Math.max(...abs) : 0;
  const min = abs.length ? Math.min(...abs) : 0;
  const sci = (v: number) => {
    // toExponential gives 'e+0'; PyTorch (and C's printf) show at least two exponent digits
    const [m, e] = v.toExponential(precision).split('e');
    return `${m}e${e![0]}${e!.slice(1).padStart(2, '0')}`;
  };
  let f: (v: number) => string;
  if (finite.every(Number.isInteger)) {
    f = max > 1e8 ? sci : (v) => `${v.toFixed(0)}.`;
  } else if (max / min > 1e3 || max > 1e8 || min < 1e-4) {
    f = sci;
  } else {
    f = (v) => v.toFixed(precision);
  }
  return (v) => (Number.isFinite(v) ? (Object.is(v, -0) ? '-' + f(0) : f(v)) : special(v));
}

/**
 * The body of a tensor's repr: nested brackets with aligned elements. `indent` is the column the
 * first '[' sits in (continuation rows line up under it).
 */
export function formatValues(values: TypedArray, shape: readonly number[], indent: number, opts: PrintOptions = options): string {
  const size = shape.reduce((a, b) => a * b, 1);
  const summarise = size > opts.threshold;
  const fmt = formatter(collect(values, shape, summarise, opts.edgeItems), opts.precision, values instanceof Int32Array);
  if (shape.length === 0) return fmt(values[0]!);
  const cells = collect(values, shape, summarise, opts.edgeItems).map(fmt);
  const width = Math.max(...cells.map((c) => c.length), 0);
  const pad = (s: string) => s.padStart(width);
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));

  const block = (axis: number, offset: number, col: number): string => {
    const idx = shownIndices(shape[axis]!, summarise, opts.edgeItems);
    if (axis === shape.length - 1) {
      // PyTorch's gap in a row is ' ...' (one more space than the separator)
      const items = idx.map((i) => (i < 0 ? ' ...' : pad(fmt(values[offset + i]!))));
      // wrap the innermost row so no line passes lineWidth; wrapped lines start under the first element
      const lines: string[] = [];
      let line = '';
      for (const item of items) {
        const next = line ? `${line}, ${item}` : item;
        if (line && col + 1 + next.length + 2 > opts.lineWidth) {
          lines.push(line + ',');
          line = item;
        } else line = next;
      }
      lines.push(line);
      return `[${lines.join('\n' + ' '.repeat(col + 1))}]`;
    }
    const blank = '\n'.repeat(shape.length - axis - 1);
    const parts = idx.map((i) => (i < 0 ? '...' : block(axis + 1, offset + i * strides[axis]!, col + 1)));
    return `[${parts.join(`,${blank}${' '.repeat(col + 1)}`)}]`;
  };
  return block(0, 0, indent);
}

/**
 * The current print options (a copy).
 *
 * @example
 * const { precision } = getPrintOptions();   // 4 unless changed
 */
export function getPrintOptions(): PrintOptions {
  return { ...options };
}
