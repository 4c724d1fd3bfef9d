// Tutorial 6: the numerical gradient against backprop. The ml4a tutorial estimates each weight's
// gradient with a forward difference (Δ = 1e−8) in float64: one extra forward pass per weight.
// Central differences ((f(w+ε) − f(w−ε)) / 2ε, as gradcheck uses) are more accurate; backprop gets
// every weight's gradient from one forward and one backward pass.
import { Linear, ReLU, Sequential, gradcheck, linspace, manualSeed, noGrad, tensor, tidy, type Module, type Tensor } from '../../src';
import { irisCost, irisData, irisNet } from './t4-iris';
import { timed, type RunOptions } from './common';

type Cost = () => Tensor;

/** Every parameter's gradient by backprop, flattened in parameter order. */
export function backpropGradient(net: Module, cost: Cost): number[] {
  net.zeroGrad();
  tidy(() => cost().backward());
  const g = net.parameters().flatMap((p) => Array.from(p.grad!.dataSync()));
  net.zeroGrad();
  return g;
}

/**
 * Finite differences over every parameter element: 'forward' (f(w+Δ) − f(w)) / Δ, or 'central'
 * (f(w+Δ) − f(w−Δ)) / 2Δ. Parameters are perturbed with assign() and restored afterwards.
 */
export function numericalGradient(net: Module, cost: Cost, kind: 'forward' | 'central', delta: number): number[] {
  const f = () => tidy(() => noGrad(() => cost().item()));
  const out: number[] = [];
  const base = kind === 'forward' ? f() : 0;
  for (const p of net.parameters()) {
    const orig = p.dataSync();
    const set = (v: ArrayLike<number>) => tidy(() => void p.assign(tensor(v, { shape: p.shape, dtype: p.dtype, device: p.device })));
    const w = Float64Array.from(orig);
    for (let i = 0; i < w.length; i++) {
      w[i] = orig[i]! + delta;
      set(w);
      const up = f();
      if (kind === 'forward') out.push((up - base) / delta);
      else {
        w[i] = orig[i]! - delta;
        set(w);
        out.push((up - f()) / (2 * delta));
      }
      w[i] = orig[i]!;
    }
    set(orig);
  }
  return out;
}

/** The library's gradcheck (central differences, float64) on the iris cost as a function of its two weight matrices, at the net's current weights. */
export function gradcheckIris(net: Sequential, x: Tensor, y: Tensor): { ok: boolean; maxAbsError: number; maxRelError: number } {
  const [w1, w2] = net.parameters();
  const r = gradcheck((a, b) => irisCost.forward(x.matmul(a!).sigmoid().matmul(b!), y), [w1!, w2!]);
  return { ok: r.ok, maxAbsError: r.maxAbsError, maxRelError: r.maxRelError };
}

export interface GradientRow {
  name: string;
  backprop: number;
  forward: number;
  central: number;
}

export interface GradientComparison {
  net: string;
  weights: number;
  rows: GradientRow[];
  /** the library's gradcheck on the same cost (iris only) */
  gradcheck?: { ok: boolean; maxAbsError: number; maxRelError: number; ms: number };
  /** max |numerical − backprop| / max(1, |backprop|) */
  maxRelError: { forward: number; central: number };
  /** milliseconds for one full gradient, median of `repeats` runs */
  ms: { backprop: number; forward: number; central: number };
}

async function compare(label: string, net: Module, cost: Cost, repeats: number): Promise<GradientComparison> {
  const names = net.namedParameters().flatMap(([k, p]) => Array.from({ length: p.size }, (_, i) => `${k}[${i}]`));
  // warm up: the first run of each kernel pays for compiling it
  backpropGradient(net, cost);
  tidy(() => noGrad(() => cost().item()));
  // the three methods take turns, so load from the rest of the machine falls on each alike
  const runs = { bp: [] as number[], fd: [] as number[], cd: [] as number[] };
  let bp: number[] = [];
  let fd: number[] = [];
  let cd: number[] = [];
  for (let r = 0; r < repeats; r++) {
    let ms: number;
    [bp, ms] = await timed(() => backpropGradient(net, cost));
    runs.bp.push(ms);
    [fd, ms] = await timed(() => numericalGradient(net, cost, 'forward', 1e-8));
    runs.fd.push(ms);
    [cd, ms] = await timed(() => numericalGradient(net, cost, 'central', 1e-6));
    runs.cd.push(ms);
  }
  const median = (v: number[]) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)]!;
  const [tb, tf, tc] = [median(runs.bp), median(runs.fd), median(runs.cd)];
  const rel = (v: number[]) => Math.max(...v.map((a, i) => Math.abs(a - bp[i]!) / Math.max(1, Math.abs(bp[i]!))));
  return {
    net: label,
    weights: bp.length,
    rows: names.map((name, i) => ({ name, backprop: bp[i]!, forward: fd[i]!, central: cd[i]! })),
    maxRelError: { forward: rel(fd), central: rel(cd) },
    ms: { backprop: tb, forward: tf, central: tc },
  };
}

export interface GradientsResult {
  iris: GradientComparison;
  /** the same comparison on tutorial 3's 1→100→1 net (301 weights, 64 points), where one forward pass per weight shows */
  wide: GradientComparison;
}

/** Compare the three gradients on the iris net (float64, at its seeded initialization) and on a wider net. */
export async function gradients(opts: RunOptions & { repeats?: number } = {}): Promise<GradientsResult> {
  const { seed = 0, repeats = 5 } = opts;
  manualSeed(seed);
  const { x, y } = irisData({ dtype: 'float64' });
  const net = irisNet({ dtype: 'float64' });
  const iris = await compare('iris 2→3→1', net, () => irisCost.forward(net.forward(x), y), repeats);
  const [gc, tg] = await timed(() => gradcheckIris(net, x, y));
  iris.gradcheck = { ...gc, ms: tg };

  const xs = linspace(-3, 3, 64, { dtype: 'float64' }).reshape([-1, 1]);
  const ys = noGrad(() => xs.sin().mul(2).add(5));
  const wideNet = new Sequential(
    new Linear(1, 100, { initScheme: 'gaussian', dtype: 'float64' }),
    new ReLU(),
    new Linear(100, 1, { initScheme: 'gaussian', dtype: 'float64' }),
  );
  const wide = await compare('1→100→1 ReLU', wideNet, () => wideNet.forward(xs).sub(ys).square().mean().mul(0.5), 3);
  for (const t of [x, y, xs, ys, ...net.parameters(), ...wideNet.parameters()]) t.dispose();
  return { iris, wide };
}
