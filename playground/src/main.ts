// The playground page: knobs (mirrored in the URL hash), a training worker, and the live pictures
// (uPlot charts, the tape drawing, the digit pad). window.playground.train() drives it for tests.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './style.css';
import {
  DEFAULTS,
  TASKS,
  TITLES,
  defaultConfig,
  type Config,
  type DeviceName,
  type EpochReport,
  type FitPicture,
  type FromWorker,
  type GradRow,
  type Memory,
  type TaskName,
  type ToWorker,
} from './protocol';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const form = $<HTMLFormElement>('knobs');
const field = (name: string) =>
  form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement;
const status = $('status');

// ---- configuration ⇄ knobs ⇄ URL hash -------------------------------------------------------

const isTask = (v: unknown): v is TaskName => (TASKS as readonly unknown[]).includes(v);

function readHash(): Config {
  const h = new URLSearchParams(location.hash.slice(1));
  const task = isTask(h.get('task')) ? (h.get('task') as TaskName) : 'relu-sine';
  const cfg = defaultConfig(task, h.get('device') === 'webgpu' ? 'webgpu' : 'cpu');
  const num = (k: 'lr' | 'momentum' | 'batch' | 'epochs' | 'seed', min: number) => {
    const v = Number(h.get(k));
    if (h.has(k) && Number.isFinite(v) && v >= min) cfg[k] = v;
  };
  num('lr', 0);
  num('momentum', 0);
  num('batch', 0);
  num('epochs', 1);
  num('seed', 0);
  const hidden = h.get('hidden');
  if (hidden !== null) {
    const sizes = hidden === '' ? [] : hidden.split(',').map(Number);
    if (sizes.every((s) => Number.isInteger(s) && s > 0)) cfg.hidden = sizes;
  }
  for (const k of ['net', 'activation', 'optimizer', 'loss'] as const) {
    const v = h.get(k);
    const sel = field(k) as HTMLSelectElement;
    if (v !== null && Array.from(sel.options).some((o) => o.value === v))
      (cfg as unknown as Record<string, string>)[k] = v;
  }
  // a shared link cannot ask for the convnet on a task without images
  if (cfg.net === 'convnet' && cfg.task !== 'digits') cfg.net = 'mlp';
  return cfg;
}

function writeHash(cfg: Config): void {
  const h = new URLSearchParams();
  for (const [k, v] of Object.entries(cfg)) h.set(k, Array.isArray(v) ? v.join(',') : String(v));
  history.replaceState(null, '', `#${h}`);
}

function showConfig(cfg: Config): void {
  for (const [k, v] of Object.entries(cfg))
    field(k).value = Array.isArray(v) ? v.join(',') : String(v);
  $('title').textContent = TITLES[cfg.task];
  $('digits-panel').hidden = cfg.task !== 'digits';
  $('fit-panel').hidden = cfg.task === 'digits';
  $('grad-panel').hidden = cfg.task === 'digits';
  $('fit-title').textContent =
    cfg.task === 'iris'
      ? 'petal length per sample: target and prediction'
      : 'the fit over the data';
}

/** The knobs as a Config; throws naming the knob that does not parse. */
function readKnobs(): Config {
  const n = (k: string, min: number, integer = false) => {
    const v = Number(field(k).value);
    if (!Number.isFinite(v) || v < min || (integer && !Number.isInteger(v)))
      throw new Error(
        `${k} must be ${integer ? 'an integer' : 'a number'} ≥ ${min}, got '${field(k).value}'`,
      );
    return v;
  };
  const text = field('hidden').value.trim();
  const hidden = text === '' ? [] : text.split(',').map((s) => Number(s.trim()));
  if (!hidden.every((s) => Number.isInteger(s) && s > 0))
    throw new Error(`hidden layers must be positive integers separated by commas, got '${text}'`);
  const task = field('task').value as TaskName;
  const net = field('net').value as Config['net'];
  if (net === 'convnet' && task !== 'digits')
    throw new Error(`net 'convnet' takes 28×28 images: only task 'digits' has them, not '${task}'`);
  return {
    task,
    device: field('device').value as DeviceName,
    net,
    hidden,
    activation: field('activation').value as Config['activation'],
    optimizer: field('optimizer').value as Config['optimizer'],
    lr: n('lr', 0),
    momentum: n('momentum', 0),
    batch: n('batch', 0, true),
    epochs: n('epochs', 1, true),
    loss: field('loss').value as Config['loss'],
    seed: n('seed', 0, true),
  };
}

const taskSelect = field('task') as HTMLSelectElement;
for (const t of TASKS) taskSelect.append(new Option(`${t} — ${TITLES[t]}`, t));

// ---- charts ---------------------------------------------------------------------------------

const WIDTH = 500;
let lossChart: uPlot | null = null;
let fitChart: uPlot | null = null;
let gradChart: uPlot | null = null;
const hist: {
  epoch: number[];
  loss: number[];
  accuracy: (number | null)[];
  test: (number | null)[];
} = { epoch: [], loss: [], accuracy: [], test: [] };

function resetCharts(cfg: Config): void {
  for (const c of [lossChart, fitChart, gradChart]) c?.destroy();
  fitChart = gradChart = null;
  hist.epoch = [];
  hist.loss = [];
  hist.accuracy = [];
  hist.test = [];
  const classes = cfg.task === 'digits';
  lossChart = new uPlot(
    {
      width: WIDTH,
      height: 260,
      scales: { x: { time: false }, loss: { distr: 3 }, acc: { range: [0, 1] } },
      axes: [
        { label: 'epoch' },
        { scale: 'loss', label: cfg.loss },
        ...(classes ? [{ scale: 'acc', side: 1, label: 'accuracy', grid: { show: false } }] : []),
      ],
      series: [
        { label: 'epoch' },
        { label: 'loss', scale: 'loss', stroke: '#d0604a', width: 2 },
        ...(classes
          ? [
              { label: 'train acc', scale: 'acc', stroke: '#4a7fd0' },
              { label: 'test acc', scale: 'acc', stroke: '#2a9d4a', width: 2 },
            ]
          : []),
      ],
    },
    classes ? [[], [], [], []] : [[], []],
    $('loss-chart'),
  );
  $('grad-chart').replaceChildren();
  $('filters').replaceChildren();
  $('filters-title').textContent = '';
  $('grad-title').textContent =
    'gradient check: central differences (float64) vs backprop, per weight';
}

function addEpoch(r: EpochReport, classes: boolean): void {
  hist.epoch.push(r.epoch);
  hist.loss.push(r.loss);
  hist.accuracy.push(r.accuracy ?? null);
  hist.test.push(r.testAccuracy ?? null);
  lossChart?.setData(
    (classes
      ? [hist.epoch, hist.loss, hist.accuracy, hist.test]
      : [hist.epoch, hist.loss]) as uPlot.AlignedData,
  );
}

const pointsOnly = { paths: () => null, points: { show: true, size: 6 } } as const;

function showFit(fit: FitPicture): void {
  let data: uPlot.AlignedData;
  let series: uPlot.Series[];
  if (fit.kind === 'samples') {
    data = [fit.x, fit.target, fit.prediction];
    series = [
      { label: 'sample' },
      { label: 'target', stroke: '#888', ...pointsOnly },
      { label: 'prediction', stroke: '#d0604a', ...pointsOnly },
    ];
  } else if (fit.points) {
    data = uPlot.join([
      [fit.x, fit.target, fit.prediction],
      [fit.points.x, fit.points.y],
    ]);
    series = [
      { label: 'x' },
      { label: 'noise-free f', stroke: '#888', dash: [4, 4] },
      { label: 'net', stroke: '#d0604a', width: 2 },
      { label: 'training points', stroke: '#4a7fd0', ...pointsOnly },
    ];
  } else {
    data = [fit.x, fit.target, fit.prediction];
    series = [
      { label: 'x' },
      { label: 'target', stroke: '#888', width: 2 },
      { label: 'net', stroke: '#d0604a', width: 2 },
    ];
  }
  if (fitChart && fitChart.series.length === series.length) fitChart.setData(data);
  else {
    fitChart?.destroy();
    fitChart = new uPlot(
      { width: WIDTH, height: 260, scales: { x: { time: false } }, series },
      data,
      $('fit-chart'),
    );
  }
}

const ticks = (_: uPlot, splits: number[]) => splits.map((v) => String(+v.toPrecision(3)));

function showGradcheck(rows: GradRow[], maxRelError: number): void {
  const sorted = [...rows].sort((a, b) => a.backprop - b.backprop);
  const bp = sorted.map((r) => r.backprop);
  gradChart?.destroy();
  gradChart = new uPlot(
    {
      width: WIDTH,
      height: 260,
      scales: { x: { time: false } },
      // three significant digits: gradients of 1e-4 would otherwise tick as '-0'
      axes: [
        { label: 'backprop ∂L/∂w', values: ticks },
        { label: 'numerical', values: ticks, size: 80 },
      ],
      series: [
        { label: 'backprop' },
        { label: 'numerical = backprop', stroke: '#888', dash: [4, 4] },
        { label: 'numerical', stroke: '#d0604a', ...pointsOnly },
      ],
    },
    [bp, bp, sorted.map((r) => r.numerical)],
    $('grad-chart'),
  );
  $('grad-title').textContent =
    `gradient check, ${rows.length} weights: central differences (float64) vs backprop; max relative error ${maxRelError.toExponential(2)}`;
}

// ---- the tape ---------------------------------------------------------------------------------

/** toDot's graph as renderDot drew it (Graphviz SVG), or the DOT text if Graphviz could not load. */
function showTape(dot: string, svg?: string, error?: string): void {
  const box = $('tape');
  if (svg !== undefined) {
    const doc = new DOMParser().parseFromString(svg, 'image/svg+xml');
    const root = doc.documentElement;
    if (root.nodeName === 'svg') {
      // Graphviz's own size (points), shrunk to the panel's width when wider
      box.replaceChildren(document.importNode(root, true));
      return;
    }
    error = `the SVG did not parse: ${root.textContent ?? ''}`;
  }
  const note = document.createElement('p');
  note.className = 'error';
  note.textContent = `could not draw the tape (${error}); its DOT:`;
  const pre = document.createElement('pre');
  pre.textContent = dot;
  box.replaceChildren(note, pre);
}

// ---- the digit pad --------------------------------------------------------------------------

const pad = $<HTMLCanvasElement>('pad');
const ctx = pad.getContext('2d')!;
function clearPad(): void {
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, pad.width, pad.height);
}
clearPad();
function padPixels(): number[] {
  const small = document.createElement('canvas');
  small.width = small.height = 28;
  const s = small.getContext('2d')!;
  s.drawImage(pad, 0, 0, 28, 28);
  const rgba = s.getImageData(0, 0, 28, 28).data;
  return Array.from({ length: 784 }, (_, i) => rgba[4 * i]! / 255);
}
function showDigit(pixels: number[]): void {
  const img = ctx.createImageData(28, 28);
  pixels.forEach((v, i) => img.data.set([255 * v, 255 * v, 255 * v, 255], 4 * i));
  const small = document.createElement('canvas');
  small.width = small.height = 28;
  small.getContext('2d')!.putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(small, 0, 0, pad.width, pad.height);
}
function showProbs(probs: number[], label?: number): void {
  const best = probs.indexOf(Math.max(...probs));
  $('probs').replaceChildren(
    ...probs.map((p, d) => {
      const row = document.createElement('div');
      row.className = d === best ? 'bar best' : 'bar';
      const fill = document.createElement('span');
      fill.className = 'fill';
      fill.style.width = `${Math.round(200 * p)}px`;
      row.append(`${d}${label === d ? '✓' : ' '} ${(100 * p).toFixed(1).padStart(5)}% `, fill);
      return row;
    }),
  );
}
let drawing = false;
pad.addEventListener('pointerdown', (e) => {
  drawing = true;
  pad.setPointerCapture(e.pointerId);
});
pad.addEventListener('pointermove', (e) => {
  if (!drawing) return;
  const r = pad.getBoundingClientRect();
  ctx.fillStyle = '#fff';
  ctx.beginPath();
  ctx.arc(
    ((e.clientX - r.left) * pad.width) / r.width,
    ((e.clientY - r.top) * pad.height) / r.height,
    14,
    0,
    2 * Math.PI,
  );
  ctx.fill();
});
pad.addEventListener('pointerup', () => {
  drawing = false;
  send({ type: 'predict', pixels: padPixels() });
});
$('clear').addEventListener('click', clearPad);

/** The first conv layer's filters (first input channel), grey around 0, white positive, black negative. */
function showFilters(name: string, shape: number[], values: number[]): void {
  const [o, , kh, kw] = shape as [number, number, number, number];
  const per = values.length / o;
  const scale = Math.max(...values.map(Math.abs)) || 1;
  $('filters-title').textContent = `${name}: the first conv layer's ${o} filters, ${kh}×${kw}`;
  $('filters').replaceChildren(
    ...Array.from({ length: o }, (_, f) => {
      const c = document.createElement('canvas');
      c.width = kw;
      c.height = kh;
      const img = c.getContext('2d')!.createImageData(kw, kh);
      for (let i = 0; i < kh * kw; i++) {
        const g = Math.round(127.5 + (127.5 * values[f * per + i]!) / scale);
        img.data.set([g, g, g, 255], 4 * i);
      }
      c.getContext('2d')!.putImageData(img, 0, 0);
      return c;
    }),
  );
}

// ---- the worker and runs ---------------------------------------------------------------------

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
const send = (m: ToWorker) => worker.postMessage(m);
let lastMemory: Memory | null = null;
let running: {
  cfg: Config;
  resolve: (r: { loss: number; accuracy?: number }) => void;
  reject: (e: Error) => void;
} | null = null;
let settled: Promise<unknown> = Promise.resolve();

function showMemory(m: Memory): void {
  lastMemory = m;
  $('memory').textContent =
    `memory(): ${m.tensors} live tensors, ${(m.bytes / 1024).toFixed(1)} KiB`;
}

worker.onmessage = (e: MessageEvent<FromWorker>) => {
  const m = e.data;
  const classes = running?.cfg.task === 'digits';
  switch (m.type) {
    case 'status':
      status.textContent = m.text;
      break;
    case 'epoch':
      addEpoch(m.report, classes);
      if (m.fit) showFit(m.fit);
      showMemory(m.memory);
      status.textContent =
        `epoch ${m.report.epoch}/${m.report.epochs}: loss ${m.report.loss.toPrecision(4)}` +
        (m.report.testAccuracy !== undefined
          ? `, test accuracy ${(100 * m.report.testAccuracy).toFixed(1)}%`
          : '');
      break;
    case 'tape':
      showTape(m.dot, m.svg, m.error);
      break;
    case 'gradcheck':
      showGradcheck(m.rows, m.maxRelError);
      break;
    case 'filters':
      showFilters(m.name, m.shape, m.values);
      break;
    case 'probabilities':
      if (m.pixels && m.label !== undefined) showDigit(m.pixels);
      showProbs(m.probs, m.label);
      break;
    case 'done':
      showMemory(m.memory);
      status.textContent =
        `${m.stopped ? 'stopped' : 'done'} in ${m.seconds.toFixed(1)} s: loss ${m.loss.toPrecision(4)}` +
        (m.accuracy !== undefined ? `, test accuracy ${(100 * m.accuracy).toFixed(2)}%` : '');
      finish();
      running?.resolve({
        loss: m.loss,
        ...(m.accuracy !== undefined ? { accuracy: m.accuracy } : {}),
      });
      running = null;
      break;
    case 'error':
      status.textContent = m.message;
      status.className = 'error';
      if (running) {
        finish();
        running.reject(new Error(m.message));
        running = null;
      }
      break;
  }
};

function finish(): void {
  $<HTMLButtonElement>('stop').disabled = true;
  $<HTMLButtonElement>('train').disabled = false;
}

/** Start a run with cfg once any current run has stopped; resolves when it ends. */
async function run(cfg: Config, rows?: number): Promise<{ loss: number; accuracy?: number }> {
  if (running) send({ type: 'stop' });
  await settled.catch(() => undefined);
  showConfig(cfg);
  writeHash(cfg);
  resetCharts(cfg);
  status.className = '';
  $<HTMLButtonElement>('stop').disabled = false;
  $<HTMLButtonElement>('train').disabled = true;
  const p = new Promise<{ loss: number; accuracy?: number }>((resolve, reject) => {
    running = { cfg, resolve, reject };
  });
  settled = p;
  send({
    type: 'train',
    config: cfg,
    digitsUrl: new URL('digits.bin', document.baseURI).href,
    ...(rows !== undefined ? { rows } : {}),
  });
  return p;
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  let cfg: Config;
  try {
    cfg = readKnobs();
  } catch (err) {
    status.textContent = (err as Error).message;
    status.className = 'error';
    return;
  }
  run(cfg).catch(() => undefined); // the error is shown in the status line
});
form.addEventListener('change', (e) => {
  if ((e.target as HTMLElement).getAttribute('name') === 'task') {
    const cfg = defaultConfig(taskSelect.value as TaskName, field('device').value as DeviceName);
    showConfig(cfg);
    writeHash(cfg);
    return;
  }
  try {
    writeHash(readKnobs());
  } catch {
    // a half-typed value: the hash keeps the last good configuration
  }
});
$('stop').addEventListener('click', () => send({ type: 'stop' }));
$('reset').addEventListener('click', () => {
  const cfg = defaultConfig(taskSelect.value as TaskName, field('device').value as DeviceName);
  showConfig(cfg);
  writeHash(cfg);
});

const initial = readHash();
showConfig(initial);
resetCharts(initial);
$('isolation').textContent = globalThis.crossOriginIsolated
  ? 'cross-origin isolated (CPU worker threads on)'
  : 'not cross-origin isolated (CPU on one thread)';

/** For automation and tests. */
const api = {
  /**
   * Train a task with its tutorial's settings (epochs, device and the digits net overridable);
   * `rows` trains digits on the first rows of the split only (and tests on a quarter as many).
   */
  train(opts: {
    task: TaskName;
    device?: DeviceName;
    epochs?: number;
    net?: Config['net'];
    rows?: number;
  }): Promise<{ loss: number; accuracy?: number }> {
    if (!isTask(opts.task))
      return Promise.reject(
        new Error(
          `playground.train: unknown task '${String(opts.task)}' (one of ${TASKS.join(', ')})`,
        ),
      );
    const cfg = defaultConfig(opts.task, opts.device ?? 'cpu');
    if (opts.epochs !== undefined) cfg.epochs = opts.epochs;
    if (opts.net !== undefined) cfg.net = opts.net;
    if (opts.rows !== undefined && !(Number.isInteger(opts.rows) && opts.rows > 0))
      return Promise.reject(
        new Error(`playground.train: rows must be a positive integer, got ${String(opts.rows)}`),
      );
    return run(cfg, opts.rows);
  },
  stop: () => send({ type: 'stop' }),
  memory: () => lastMemory,
  /** the training loss per epoch of the latest run so far */
  losses: () => [...hist.loss],
  defaults: DEFAULTS,
};
(window as unknown as { playground: typeof api }).playground = api;
