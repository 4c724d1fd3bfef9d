// Each tutorial as a report: run it, compare its figures with the reference figures measured for
// the tutorial (shared/TUTORIALS.md: numpy float64 re-runs of the tutorials' own algorithms), and
// draw its plots. The scripts examples/0N-*.ts run one; examples/demo.ts runs them all.
import { join } from 'node:path';
import { linesChart, longRows, panels, savePlot, type Spec } from '../plot';
import { bestLine, type RunOptions } from './common';
import { oneNeuron } from './t1-one-neuron';
import { linearNet } from './t2-linear-net';
import { reluMomentum } from './t3-relu-momentum';
import { iris } from './t4-iris';
import { fTrue, tanhSine } from './t5-tanh-sine';
import { gradients, type GradientComparison } from './t6-gradients';

export interface ReportRow {
  figure: string;
  ours: string;
  reference: string;
  /** whether ours meets the tutorial's target (the threshold) */
  ok?: boolean;
}

export interface Report {
  id: number;
  title: string;
  rows: ReportRow[];
  plots: string[];
  notes: string[];
}

export interface ReportOptions extends RunOptions {
  /** folder for the plots; default 'out' */
  outDir?: string;
  /** skip drawing (faster) */
  plots?: boolean;
}

const f = (v: number, d = 4) => (Number.isNaN(v) ? 'NaN' : v.toFixed(d));
const BLACK = '#222';

async function draw(o: ReportOptions, name: string, spec: Spec): Promise<string[]> {
  if (o.plots === false) return [];
  return [await savePlot(spec, join(o.outDir ?? 'out', name))];
}

/** Tutorial 1: one neuron, with and without bias. */
export async function report1(o: ReportOptions = {}): Promise<Report> {
  const withBias = await oneNeuron(o);
  const noBias = await oneNeuron({ ...o, bias: false });
  const { x, series } = withBias.fit;
  const fit = linesChart({
    title: 'Fit after 500 SGD steps (lr 0.01)',
    rows: longRows(x, {
      'y = 2x + 3': series['y = 2x + 3']!,
      'before (w 1, b 0)': series.before!,
      'after, with bias': series.after!,
      'after, no bias': noBias.fit.series.after!,
    }),
    xTitle: 'x',
    yTitle: 'y',
    colors: [BLACK, '#999', '#1f77b4', '#d62728'],
    dashed: ['y = 2x + 3'],
  });
  const t = withBias.trajectory;
  const traj = linesChart({
    title: 'Weights during training',
    x: 'step',
    rows: longRows(t.step, { 'w (with bias)': t.w, 'b (with bias)': t.b, 'w (no bias)': noBias.trajectory.w, 'target w 2': t.w.map(() => 2), 'target b 3': t.b.map(() => 3) }, 'step'),
    xTitle: 'step',
    yTitle: 'value',
    colors: ['#1f77b4', '#ff7f0e', '#d62728', '#1f77b4', '#ff7f0e'],
    dashed: ['target w 2', 'target b 3'],
  });
  return {
    id: 1,
    title: 'One neuron restores y = 2x + 3',
    rows: [
      { figure: 'w after 500 steps', ours: f(withBias.w), reference: '1.999–2.002', ok: Math.abs(withBias.w - 2) < 0.05 },
      { figure: 'b after 500 steps', ours: f(withBias.b), reference: '2.980–2.982', ok: Math.abs(withBias.b - 3) < 0.05 },
      { figure: 'no bias: half-MSE', ours: f(noBias.halfMse, 3), reference: '≥ 4.5 (parallel line)', ok: noBias.halfMse >= 4.4 },
    ],
    plots: await draw(o, '01-one-neuron', panels([fit, traj], 'Tutorial 1 — one neuron, y = 2x + 3')),
    notes: [],
  };
}

/** Tutorial 2: the 1→2→1 linear net on a line and on a sine. */
export async function report2(o: ReportOptions = {}): Promise<Report> {
  const line = await linearNet({ ...o, target: 'line', steps: 100 });
  // the reference: 100 steps is seed-dependent (one seed in five ends at 0.24); 300 is safe
  const line300 = await linearNet({ ...o, target: 'line', steps: 300 });
  const sine = await linearNet({ ...o, target: 'sine', steps: 5000 });
  const chart = (r: typeof line, title: string, extra: Record<string, number[]> = {}) =>
    linesChart({
      title,
      rows: longRows(r.fit.x, { ...r.fit.series, ...extra }),
      xTitle: 'x',
      yTitle: 'y',
      colors: [BLACK, '#999', '#1f77b4', '#2ca02c'],
      dashed: [Object.keys(r.fit.series)[0]!, ...Object.keys(extra)],
    });
  const xs = sine.fit.x;
  const ys = sine.fit.series['y = 2 sin(x) + 5']!;
  const { slope, intercept } = bestLine(xs, ys);
  const curve = linesChart({
    title: 'Half-MSE on y = 2 sin(x) + 5',
    x: 'step',
    rows: longRows(sine.curve.step, { 'linear net': sine.curve.halfMse, 'best straight line': sine.curve.step.map(() => sine.bestLineHalfMse) }, 'step'),
    xTitle: 'step',
    yTitle: 'half-MSE',
    logY: true,
    colors: ['#1f77b4', BLACK],
    dashed: ['best straight line'],
  });
  return {
    id: 2,
    title: 'A 1→2→1 linear net',
    rows: [
      { figure: 'y = 2x + 3: half-MSE, 100 steps', ours: f(line.halfMse), reference: '0.0000–0.0018 in 4 of 5 seeds, 0.24 in one' },
      { figure: 'y = 2x + 3: half-MSE, 300 steps', ours: f(line300.halfMse), reference: '< 0.01 for every seed', ok: line300.halfMse < 0.01 },
      { figure: 'y = 2 sin(x) + 5: half-MSE, 5000 steps', ours: f(sine.halfMse, 3), reference: '0.33–0.38', ok: sine.halfMse >= sine.bestLineHalfMse - 1e-3 },
      { figure: 'best straight line: half-MSE', ours: f(sine.bestLineHalfMse, 3), reference: '0.331' },
    ],
    plots: await draw(
      o,
      '02-linear-net',
      panels(
        [
          chart(line, 'y = 2x + 3 after 100 steps'),
          chart(sine, 'y = 2 sin(x) + 5 after 5000 steps', { 'best straight line': xs.map((v) => slope * v + intercept) }),
          curve,
        ],
        'Tutorial 2 — a linear net is a line',
      ),
    ),
    notes: [],
  };
}

/** Tutorial 3: the 1→100→1 ReLU net with momentum; and the full-MSE variant that diverges. */
export async function report3(o: ReportOptions = {}): Promise<Report> {
  const r = await reluMomentum({ ...o, recordBatches: true });
  const full = await reluMomentum({ ...o, half: false, progress: false, stopOnNaN: true, recordBatches: true });
  const fit = linesChart({
    title: 'Fit after 100 epochs',
    rows: longRows(r.fit.x, r.fit.series),
    xTitle: 'x',
    yTitle: 'y',
    colors: [BLACK, '#999', '#1f77b4'],
    dashed: ['y = 2 sin(x) + 5'],
  });
  const loss = linesChart({
    title: 'Training loss per batch',
    x: 'epoch',
    rows: [
      ...longRows(r.batches.epoch, { '½·mean (tutorial)': r.batches.loss }, 'epoch', 1200),
      ...longRows(full.batches.epoch, { 'full mean, same lr': full.batches.loss }, 'epoch', 1200),
    ],
    xTitle: 'epoch',
    yTitle: 'loss',
    logY: true,
    colors: ['#1f77b4', '#d62728'],
  });
  const diverged = full.history.findIndex((v) => !Number.isFinite(v));
  return {
    id: 3,
    title: 'A 1→100→1 ReLU net with momentum fits 2 sin(x) + 5',
    rows: [
      { figure: 'MSE after 100 epochs (½·mean loss)', ours: f(r.mse), reference: '0.0010–0.0076', ok: r.mse < 0.01 },
      {
        figure: 'full-mean loss at the same lr',
        ours: diverged >= 0 ? `NaN at epoch ${diverged + 1}` : `MSE ${f(full.mse)}`,
        reference: '2 of 6 seeds NaN',
      },
    ],
    plots: await draw(o, '03-relu-momentum', panels([fit, loss], 'Tutorial 3 — 1→100→1 ReLU, Momentum(0.9, lr 0.01), batch 100')),
    notes: [],
  };
}

/** Tutorial 4: the iris regression. */
export async function report4(o: ReportOptions = {}): Promise<Report> {
  const r = await iris(o);
  const cm = 6.9; // the max petal length: predictions back in centimetres
  const rows = r.target.map((t, i) => ({ actual: t * cm, predicted: r.prediction[i]! * cm, species: r.species[i]! }));
  const scatter = {
    title: 'Petal length (cm): prediction against truth',
    width: 300,
    height: 260,
    layer: [
      { data: { values: [{ a: 0.8, b: 0.8 }, { a: 7, b: 7 }] }, mark: { type: 'line', color: '#999', strokeDash: [6, 4] }, encoding: { x: { field: 'a', type: 'quantitative' }, y: { field: 'b', type: 'quantitative' } } },
      {
        data: { values: rows },
        mark: { type: 'point', filled: true, size: 40, opacity: 0.75 },
        encoding: {
          x: { field: 'actual', type: 'quantitative', title: 'actual', scale: { domain: [0.8, 7] } },
          y: { field: 'predicted', type: 'quantitative', title: 'predicted', scale: { domain: [0.8, 7] } },
          color: { field: 'species', type: 'nominal', title: null },
          shape: { field: 'species', type: 'nominal', title: null },
        },
      },
    ],
  } as unknown as Spec;
  const epochs = r.history.map((_, i) => i + 1);
  const cost = linesChart({
    title: 'Cost ½·Σ(p − t)² during each epoch',
    x: 'epoch',
    rows: longRows(epochs, { backprop: r.history, 'tutorial: 0.562': epochs.map(() => 0.562) }, 'epoch'),
    xTitle: 'epoch',
    yTitle: 'cost',
    logY: true,
    colors: ['#1f77b4', BLACK],
    dashed: ['tutorial: 0.562'],
  });
  return {
    id: 4,
    title: 'Iris: petal length from sepal length and width',
    rows: [
      { figure: 'final cost after 2000 epochs', ours: f(r.finalCost), reference: '0.556–0.593 (tutorial 0.562)', ok: r.finalCost <= 0.6 },
      { figure: 'initial cost', ours: f(r.initialCost, 1), reference: '4.4–497 (tutorial 85.6)' },
    ],
    plots: await draw(o, '04-iris', panels([scatter, cost], 'Tutorial 4 — iris, 2→3→1 sigmoid net, no biases, GD lr 0.01')),
    notes: [],
  };
}

/** Tutorial 5: the tanh net on the noisy sine, with the fast schedule and with Adam. */
export async function report5(o: ReportOptions = {}): Promise<Report> {
  const gd = await tanhSine({ ...o, schedule: 'fast' });
  const adam = await tanhSine({ ...o, schedule: 'adam' });
  const { data } = gd;
  const pts = [
    ...data.xTrain.map((x, i) => ({ x, y: data.yTrain[i]!, set: 'train' })),
    ...data.xTest.map((x, i) => ({ x, y: data.yTest[i]!, set: 'test' })),
  ];
  const fit = {
    title: 'Data and fits',
    width: 340,
    height: 240,
    layer: [
      { ...linesChart({ title: '', rows: longRows(gd.grid.x, { 'true f': gd.grid.x.map(fTrue), [`GD ×10, ${gd.epochs} epochs`]: gd.grid.y, [`Adam, ${adam.epochs} epochs`]: adam.grid.y }), xTitle: 'x', yTitle: 'f(x)', colors: [BLACK, '#1f77b4', '#ff7f0e'], dashed: ['true f'] }), title: undefined, width: undefined, height: undefined },
      { data: { values: pts }, mark: { type: 'point', filled: true, size: 30 }, encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' }, shape: { field: 'set', type: 'nominal', title: null }, color: { value: '#777' }, opacity: { value: 0.8 } } },
    ],
    resolve: { scale: { color: 'independent', strokeDash: 'independent' } },
  } as unknown as Spec;
  const curve = (r: typeof gd, name: string) => ({ [`${name} train`]: r.trainRmse, [`${name} test`]: r.testRmse });
  const epochs = gd.trainRmse.map((_, i) => i + 1);
  const pad = (v: number[]) => epochs.map((_, i) => v[i] ?? NaN);
  const a = curve(adam, 'Adam');
  const rmse = linesChart({
    title: 'RMSE per epoch (data units)',
    x: 'epoch',
    rows: longRows(epochs, { ...curve(gd, 'GD ×10'), 'Adam train': pad(a['Adam train']!), 'Adam test': pad(a['Adam test']!), 'noise σ 0.2': epochs.map(() => 0.2) }, 'epoch', 300, 'log'),
    xTitle: 'epoch',
    yTitle: 'RMSE',
    logX: true,
    colors: ['#1f77b4', '#aec7e8', '#ff7f0e', '#ffbb78', BLACK],
    dashed: ['GD ×10 test', 'Adam test', 'noise σ 0.2'],
  });
  const ok = (v: number) => v < 0.3;
  return {
    id: 5,
    title: 'A 1→20→1 tanh net on a noisy sine',
    rows: [
      { figure: `GD ×10 rates, ${gd.epochs} epochs: train RMSE`, ours: f(gd.final.train, 3), reference: '0.10–0.16 (100,000 epochs)' },
      { figure: `GD ×10 rates, ${gd.epochs} epochs: test RMSE`, ours: f(gd.final.test, 3), reference: '0.235–0.297 (100,000 epochs)', ok: ok(gd.final.test) },
      { figure: `Adam, ${adam.epochs} epochs: train RMSE`, ours: f(adam.final.train, 3), reference: '0.10–0.16 (GD, 100,000 epochs)' },
      { figure: `Adam, ${adam.epochs} epochs: test RMSE`, ours: f(adam.final.test, 3), reference: '0.235–0.297 (GD, 100,000 epochs)', ok: ok(adam.final.test) },
    ],
    plots: await draw(o, '05-tanh-sine', panels([fit, rmse], 'Tutorial 5 — 1→20→1 tanh net, 30 noisy points')),
    notes: [
      'GD ×10: the tutorial\'s full-batch descent with both rates ×10 (1/30 hidden, 0.1/30 output) for 10,000 epochs, about the gradient flow of its 100,000 epochs.',
      'Adam: lr 0.01 (hidden) and 0.001 (output), 2,000 epochs.',
    ],
  };
}

/** Tutorial 6: numerical gradients against backprop (float64, CPU). */
export async function report6(o: ReportOptions = {}): Promise<Report> {
  const g = await gradients({ seed: o.seed });
  const { iris: ir, wide } = g;
  const diffs = ir.rows.flatMap((r) => [
    { weight: r.name, method: 'forward Δ=1e−8', err: Math.max(1e-16, Math.abs(r.forward - r.backprop)) },
    { weight: r.name, method: 'central ε=1e−6', err: Math.max(1e-16, Math.abs(r.central - r.backprop)) },
  ]);
  const errChart = {
    title: 'Iris net: |numerical − backprop| per weight',
    width: 340,
    height: 240,
    data: { values: diffs },
    mark: { type: 'point', filled: true, size: 70 },
    encoding: {
      x: { field: 'weight', type: 'nominal', title: null, axis: { labelAngle: -40 }, sort: null },
      y: { field: 'err', type: 'quantitative', scale: { type: 'log' }, title: 'absolute difference', axis: { format: '.0e' } },
      color: { field: 'method', type: 'nominal', title: null },
      shape: { field: 'method', type: 'nominal', title: null },
    },
  } as unknown as Spec;
  const timeChart = (c: GradientComparison): Spec =>
    ({
      title: { text: `${c.net}, ${c.weights} weights: ms per full gradient`, fontSize: 13 },
      width: 300,
      height: 100,
      data: {
        values: [
          { method: 'backprop', ms: c.ms.backprop },
          { method: 'forward differences', ms: c.ms.forward },
          { method: 'central differences', ms: c.ms.central },
          ...(c.gradcheck ? [{ method: 'gradcheck', ms: c.gradcheck.ms }] : []),
        ],
      },
      encoding: {
        y: { field: 'method', type: 'nominal', title: null, sort: null },
        x: { field: 'ms', type: 'quantitative', title: 'milliseconds' },
      },
      layer: [
        { mark: { type: 'bar', color: '#4c78a8' } },
        { mark: { type: 'text', align: 'left', dx: 4, fontSize: 11 }, encoding: { text: { field: 'ms', type: 'quantitative', format: '.1f' } } },
      ],
    }) as unknown as Spec;
  const times = { vconcat: [timeChart(ir), timeChart(wide)], resolve: { scale: { x: 'independent' } } } as unknown as Spec;
  const ms = (v: number) => `${v.toFixed(v < 10 ? 2 : 0)} ms`;
  return {
    id: 6,
    title: 'Numerical gradient versus backprop (float64, CPU)',
    rows: [
      { figure: 'iris: max rel. diff, forward Δ=1e−8', ours: ir.maxRelError.forward.toExponential(1), reference: 'agrees (tutorial uses it to train)', ok: ir.maxRelError.forward < 1e-4 },
      { figure: 'iris: max rel. diff, central ε=1e−6', ours: ir.maxRelError.central.toExponential(1), reference: 'agrees', ok: ir.maxRelError.central < 1e-6 },
      ...(ir.gradcheck ? [{ figure: 'iris: gradcheck', ours: `${ir.gradcheck.ok ? 'ok' : 'FAIL'}, max rel ${ir.gradcheck.maxRelError.toExponential(1)}`, reference: 'ok', ok: ir.gradcheck.ok }] : []),
      { figure: 'iris: time backprop / forward diff.', ours: `${ms(ir.ms.backprop)} / ${ms(ir.ms.forward)}`, reference: '1 pass vs 1 per weight' },
      { figure: `${wide.net}: backprop / forward diff.`, ours: `${ms(wide.ms.backprop)} / ${ms(wide.ms.forward)}`, reference: `${wide.weights} forward passes` },
    ],
    plots: await draw(o, '06-gradients', panels([errChart, times], 'Tutorial 6 — numerical gradients against backprop')),
    notes: [],
  };
}

export const REPORTS = [report1, report2, report3, report4, report5, report6] as const;

/** The report as a text table. */
export function formatReport(r: Report): string {
  const head = [`Tutorial ${r.id}: ${r.title}`];
  const w0 = Math.max(...r.rows.map((x) => x.figure.length));
  const w1 = Math.max(4, ...r.rows.map((x) => x.ours.length));
  const lines = r.rows.map((x) => `  ${x.figure.padEnd(w0)}  ${x.ours.padStart(w1)}  ${x.ok === undefined ? ' ' : x.ok ? '✓' : '✗'}  ref ${x.reference}`);
  return [...head, ...lines, ...r.notes.map((n) => `  note: ${n}`)].join('\n');
}
