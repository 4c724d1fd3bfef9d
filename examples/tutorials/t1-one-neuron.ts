// Tutorial 1: one neuron (p = w·x + b) restores y = 2x + 3 by stochastic gradient descent on
// ½(p − t)², one random sample per step. Without the bias the line can only turn about the origin.
import { Linear, MSE, Progress, SGD, linspace, makeRandom, manualSeed, noGrad, tensor, tidy } from '../../src';
import { values, type Curve, type RunOptions } from './common';

export interface OneNeuronOptions extends RunOptions {
  steps?: number;
  lr?: number;
  bias?: boolean;
}

export interface OneNeuronResult {
  w: number;
  b: number;
  /** ½·mean((p − t)²) over the 1000 points after training */
  halfMse: number;
  /** w and b after each step */
  trajectory: { step: number[]; w: number[]; b: number[] };
  /** the true line, the neuron before and after training */
  fit: Curve;
}

export async function oneNeuron(opts: OneNeuronOptions = {}): Promise<OneNeuronResult> {
  const { seed = 0, device = 'cpu', steps = 500, lr = 0.01, bias = true, progress = false } = opts;
  manualSeed(seed);
  const pick = makeRandom(seed);
  const x = linspace(-3, 3, 1000, { device }).reshape([-1, 1]);
  const y = noGrad(() => x.mul(2).add(3));
  const neuron = new Linear(1, 1, { bias, device });
  tidy(() => neuron.weight.assign(tensor([[1]], { device }))); // w starts at 1, b at 0
  const opt = new SGD(neuron.parameters(), { lr });
  const loss = new MSE({ half: true });
  const predict = () => tidy(() => noGrad(() => neuron.forward(x)));

  const before = predict();
  const trajectory: OneNeuronResult['trajectory'] = { step: [0], w: [1], b: [0] };
  const bar = await Progress.create(steps, { mode: progress, label: `tutorial 1 (${bias ? 'bias' : 'no bias'})` });
  for (let s = 1; s <= steps; s++) {
    const i = Math.floor(pick() * 1000);
    tidy(() => {
      opt.zeroGrad();
      loss.forward(neuron.forward(x.slice([i], [i + 1])), y.slice([i], [i + 1])).backward();
      opt.step();
    });
    trajectory.step.push(s);
    trajectory.w.push((await values(neuron.weight))[0]!);
    trajectory.b.push(neuron.bias ? (await values(neuron.bias))[0]! : 0);
    bar.update(s, { w: trajectory.w.at(-1), b: trajectory.b.at(-1) });
  }
  bar.stop();
  const after = predict();
  const halfMse = (await values(tidy(() => noGrad(() => loss.forward(after, y)))))[0]!;
  const fit: Curve = {
    x: await values(x),
    series: { 'y = 2x + 3': await values(y), before: await values(before), after: await values(after) },
  };
  for (const t of [x, y, before, after, ...neuron.parameters()]) t.dispose();
  return { w: trajectory.w.at(-1)!, b: trajectory.b.at(-1)!, halfMse, trajectory, fit };
}
