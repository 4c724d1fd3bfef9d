// Tutorial 2: a 1→2→1 net with no activation is still a straight line. It restores y = 2x + 3
// (in about 100 steps for most seeds), but on y = 2 sin(x) + 5 its error cannot go below the best
// straight line's.
import { Linear, MSE, Progress, SGD, Sequential, linspace, makeRandom, manualSeed, noGrad, tidy, type Tensor } from '../../src';
import { bestLine, values, type Curve, type RunOptions } from './common';

export type Target = 'line' | 'sine';

export interface LinearNetOptions extends RunOptions {
  target?: Target;
  steps?: number;
  lr?: number;
}

export interface LinearNetResult {
  target: Target;
  steps: number;
  /** ½·mean((p − t)²) over the 1000 points after training */
  halfMse: number;
  /** the same figure for the least-squares line (the best any linear net can do) */
  bestLineHalfMse: number;
  /** half-MSE over all points, every `every` steps */
  curve: { step: number[]; halfMse: number[] };
  fit: Curve;
}

export const TARGETS: Record<Target, { label: string; f: (x: Tensor) => Tensor }> = {
  line: { label: 'y = 2x + 3', f: (x) => x.mul(2).add(3) },
  sine: { label: 'y = 2 sin(x) + 5', f: (x) => x.sin().mul(2).add(5) },
};

export async function linearNet(opts: LinearNetOptions = {}): Promise<LinearNetResult> {
  const { seed = 0, device = 'cpu', target = 'line', steps = target === 'line' ? 100 : 5000, lr = 0.01, progress = false } = opts;
  manualSeed(seed);
  const pick = makeRandom(seed);
  const x = linspace(-3, 3, 1000, { device }).reshape([-1, 1]);
  const y = noGrad(() => TARGETS[target].f(x));
  const net = new Sequential(
    new Linear(1, 2, { initScheme: 'gaussian', device }),
    new Linear(2, 1, { initScheme: 'gaussian', device }),
  );
  const opt = new SGD(net.parameters(), { lr });
  const loss = new MSE({ half: true });
  const predict = () => tidy(() => noGrad(() => net.forward(x)));
  const cost = async () => {
    const c = tidy(() => noGrad(() => loss.forward(net.forward(x), y)));
    const v = (await values(c))[0]!;
    c.dispose();
    return v;
  };

  const before = predict();
  const every = Math.max(1, Math.floor(steps / 100));
  const curve: LinearNetResult['curve'] = { step: [0], halfMse: [await cost()] };
  const bar = await Progress.create(steps, { mode: progress, label: `tutorial 2 (${target})` });
  for (let s = 1; s <= steps; s++) {
    const i = Math.floor(pick() * 1000);
    tidy(() => {
      opt.zeroGrad();
      loss.forward(net.forward(x.slice([i], [i + 1])), y.slice([i], [i + 1])).backward();
      opt.step();
    });
    if (s % every === 0 || s === steps) {
      curve.step.push(s);
      curve.halfMse.push(await cost());
      bar.update(s, { 'half-MSE': curve.halfMse.at(-1) });
    }
  }
  bar.stop();
  const after = predict();
  const xs = await values(x);
  const ys = await values(y);
  const fit: Curve = {
    x: xs,
    series: { [TARGETS[target].label]: ys, before: await values(before), after: await values(after) },
  };
  for (const t of [x, y, before, after, ...net.parameters()]) t.dispose();
  return { target, steps, halfMse: curve.halfMse.at(-1)!, bestLineHalfMse: bestLine(xs, ys).halfMse, curve, fit };
}
