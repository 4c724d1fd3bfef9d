// Progress reporting that works wherever the library runs: a bar redrawn in place on a Node
// terminal, a few plain lines on a non-terminal stderr, console lines (or the caller's callbacks)
// in browsers and workers. `process` is only ever read through globalThis, so a browser (where it
// does not exist) takes the console path instead of throwing, and bundles need no Node built-ins.

/** Options of {@link Progress.create} (the Trainer passes its `progress` and `label` here). */
export interface ProgressOptions {
  /**
   * 'auto' (default): a bar when stderr is a terminal, plain lines otherwise (console lines in a
   * browser); 'bar' falls back to lines where there is no terminal; false: silent
   */
  mode?: 'auto' | 'bar' | 'lines' | false;
  /** shown before the bar or each line */
  label?: string;
  /** where plain lines go; default stderr in Node, `console.log` elsewhere */
  write?: (line: string) => void;
  /** how many plain lines over the whole run (besides the last); default 10 */
  lines?: number;
  /** called on every update, whatever the mode (e.g. to drive a page's own progress element) */
  onUpdate?: (done: number, total: number, figures: Record<string, number>) => void;
}

/** The bits of Node's stderr a bar needs; absent in browsers. */
interface Terminal {
  isTTY?: boolean;
  columns?: number;
  write(s: string): unknown;
}

function nodeStderr(): Terminal | null {
  const proc = (globalThis as { process?: { stderr?: Terminal } }).process;
  const s = proc?.stderr;
  return s && typeof s.write === 'function' ? s : null;
}

const fmt = (v: number) =>
  Number.isNaN(v) ? 'NaN' : Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(3) : v.toFixed(4);

const clock = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/**
 * A progress display over `total` steps (epochs), with the latest figures beside it. Create it
 * with `await Progress.create(total, opts)`.
 *
 * @example
 * const p = await Progress.create(3, { mode: 'lines', write: (l) => console.log(l) });
 * for (let i = 1; i <= 3; i++) p.update(i, { loss: 1 / i });
 * p.stop();
 */
export class Progress {
  readonly #total: number;
  readonly #label: string;
  readonly #every: number;
  readonly #start = clock();
  readonly #onUpdate: ProgressOptions['onUpdate'];
  #bar: Terminal | null = null;
  #write: ((line: string) => void) | null = null;
  #drawn = -Infinity;
  #last = '';

  private constructor(total: number, opts: ProgressOptions) {
    this.#total = total;
    this.#label = opts.label ?? '';
    this.#every = Math.max(1, Math.ceil(total / Math.max(1, opts.lines ?? 10)));
    this.#onUpdate = opts.onUpdate;
  }

  /** A display for `total` steps: a bar, plain lines or nothing, per `opts.mode`. */
  static async create(total: number, opts: ProgressOptions = {}): Promise<Progress> {
    const { mode = 'auto' } = opts;
    const p = new Progress(total, opts);
    if (mode === false) return p;
    const err = nodeStderr();
    if (mode !== 'lines' && err?.isTTY && !opts.write) {
      p.#bar = err;
      p.#draw(0, '');
    } else {
      p.#write = opts.write ?? (err ? (line) => err.write(line + '\n') : (line) => console.log(line));
    }
    return p;
  }

  /** Report that `done` steps are complete, with named figures (e.g. { loss: 0.12 }). */
  update(done: number, figures: Record<string, number | undefined> = {}): void {
    const shown = Object.fromEntries(Object.entries(figures).filter((e): e is [string, number] => e[1] !== undefined));
    const text = Object.entries(shown)
      .map(([k, v]) => `${k} ${fmt(v)}`)
      .join('  ');
    this.#onUpdate?.(done, this.#total, shown);
    if (this.#bar) {
      // redraw at most ten times a second (a terminal write per epoch would dominate tiny epochs)
      if (done === this.#total || clock() - this.#drawn >= 100) this.#draw(done, text);
      this.#last = text;
    } else if (this.#write && (done % this.#every === 0 || done === this.#total)) {
      const w = String(this.#total).length;
      this.#write(`${this.#label ? this.#label + ' ' : ''}${String(done).padStart(w)}/${this.#total}  ${text}`);
    }
  }

  /** Finish the display (the bar stays on screen at its final state). */
  stop(): void {
    if (!this.#bar) return;
    this.#bar.write('\n');
    this.#bar = null;
  }

  /** The bar line, rewritten in place: carriage return, erase line, then the text. */
  #draw(done: number, text: string): void {
    const width = 24;
    const filled = this.#total > 0 ? Math.round((width * Math.min(done, this.#total)) / this.#total) : width;
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    const line = `${this.#label ? this.#label + ' ' : ''}${bar} ${done}/${this.#total} ${text || this.#last} | ${duration(clock() - this.#start)}`;
    const cols = this.#bar!.columns ?? 200;
    this.#bar!.write(`\r\x1b[2K${line.slice(0, Math.max(20, cols - 1))}`);
    this.#drawn = clock();
  }
}
