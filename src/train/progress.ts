// Progress reporting: a cli-progress bar on a terminal, a few plain lines elsewhere, or nothing.
// cli-progress needs Node's readline, so it is loaded only when a bar is shown (never in a browser).
import type { SingleBar } from 'cli-progress';

export interface ProgressOptions {
  /** 'auto' (default): a bar when stderr is a terminal, plain lines otherwise; false: silent */
  mode?: 'auto' | 'bar' | 'lines' | false;
  /** shown before the bar or each line */
  label?: string;
  /** where plain lines go; default stderr */
  write?: (line: string) => void;
  /** how many plain lines over the whole run (besides the last); default 10 */
  lines?: number;
}

const fmt = (v: number | undefined) =>
  v === undefined ? '' : Number.isNaN(v) ? 'NaN' : Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(3) : v.toFixed(4);

/**
 * A progress display over `total` steps (epochs), with the latest figures beside it. Create it
 * with `await Progress.create(total, opts)`.
 */
export class Progress {
  readonly #total: number;
  readonly #label: string;
  #bar: SingleBar | null = null;
  #write: ((line: string) => void) | null = null;
  readonly #every: number;

  private constructor(total: number, label: string, lines: number) {
    this.#total = total;
    this.#label = label;
    this.#every = Math.max(1, Math.ceil(total / Math.max(1, lines)));
  }

  /** A display for `total` steps: a bar, plain lines or nothing, per `opts.mode`. */
  static async create(total: number, opts: ProgressOptions = {}): Promise<Progress> {
    const { mode = 'auto', label = '', lines = 10 } = opts;
    const p = new Progress(total, label, lines);
    const tty = typeof process !== 'undefined' && !!process.stderr?.isTTY;
    const kind = mode === 'auto' ? (tty ? 'bar' : 'lines') : mode;
    if (kind === 'bar') {
      const { default: cliProgress } = await import('cli-progress');
      p.#bar = new cliProgress.SingleBar(
        {
          format: `${label ? label + ' ' : ''}{bar} {value}/{total} {figures} | {duration_formatted}`,
          barsize: 24,
          hideCursor: true,
          clearOnComplete: false,
          stream: process.stderr,
        },
        cliProgress.Presets.shades_classic,
      );
      p.#bar.start(total, 0, { figures: '' });
    } else if (kind === 'lines') {
      p.#write = opts.write ?? ((line) => process.stderr.write(line + '\n'));
    }
    return p;
  }

  /** Report that `done` steps are complete, with named figures (e.g. { loss: 0.12 }). */
  update(done: number, figures: Record<string, number | undefined> = {}): void {
    const text = Object.entries(figures)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k} ${fmt(v)}`)
      .join('  ');
    if (this.#bar) this.#bar.update(done, { figures: text });
    else if (this.#write && (done % this.#every === 0 || done === this.#total)) {
      const w = String(this.#total).length;
      this.#write(`${this.#label ? this.#label + ' ' : ''}${String(done).padStart(w)}/${this.#total}  ${text}`);
    }
  }

  /** Finish the display (the bar stays on screen at its final state). */
  stop(): void {
    this.#bar?.stop();
  }
}
