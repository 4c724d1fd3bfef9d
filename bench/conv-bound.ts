// conv2d forward + backward against a plain im2col + matmul bound, in one process.
//
//   npm run build && npx tsx bench/conv-bound.ts
//
// The bound is what an im2col implementation has to do at the least. It is the sum of three
// parts, each timed on its own:
// - im2col: a plain loop that copies x's windows into a preallocated [N·oH·oW, C·k·k] array
// - the three products of the same shapes as conv2d's, each from our matmul on ready-made
//   tensors: the forward (cols @ W), the columns' gradient (gY @ Wᵀ) and the weight's gradient
//   (colsᵀ @ gY)
// - col2im: a plain loop that adds the columns' gradient back into a zeroed dx
// The bound leaves out the NCHW ↔ rows layout changes of y and gY, the allocations and the tape,
// which conv2d pays for. So "within 2× of the bound" is measured against a floor that no
// implementation reaches.
// conv2d itself is timed as bench/cases.ts times it: y = conv2d(x, w) and y.backward(cot), for
// dx and dw. The ratio conv2d / bound is the figure to read; absolute times move with the load.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { time, uniform } from './common';

const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'index.js');
const tg: typeof import('../src/index') = await import(pathToFileURL(dist).href);

function im2col(x: Float32Array, n: number, c: number, hw: number, k: number, cols: Float32Array): void {
  const o = hw - k + 1;
  let p = 0;
  for (let b = 0; b < n; b++)
    for (let i = 0; i < o; i++)
      for (let j = 0; j < o; j++)
        for (let ch = 0; ch < c; ch++) {
          const base = (b * c + ch) * hw * hw;
          for (let a = 0; a < k; a++) {
            const row = base + (i + a) * hw + j;
            for (let e = 0; e < k; e++) cols[p++] = x[row + e]!;
          }
        }
}

function col2im(dcols: Float32Array, n: number, c: number, hw: number, k: number, dx: Float32Array): void {
  dx.fill(0);
  const o = hw - k + 1;
  let p = 0;
  for (let b = 0; b < n; b++)
    for (let i = 0; i < o; i++)
      for (let j = 0; j < o; j++)
        for (let ch = 0; ch < c; ch++) {
          const base = (b * c + ch) * hw * hw;
          for (let a = 0; a < k; a++) {
            const row = base + (i + a) * hw + j;
            for (let e = 0; e < k; e++) dx[row + e]! += dcols[p++]!;
          }
        }
}

const configs: [n: number, c: number, o: number, hw: number, k: number][] = [
  [64, 1, 8, 28, 5],
  [64, 8, 16, 12, 5],
];

for (const [n, c, o, hw, k] of configs) {
  const oh = hw - k + 1;
  const [rows, K] = [n * oh * oh, c * k * k];
  const xv = uniform(n * c * hw * hw, 21);
  const X = tg.tensor(xv, { shape: [n, c, hw, hw], requiresGrad: true });
  const W = tg.tensor(uniform(o * K, 22, -0.2, 0.2), { shape: [o, c, k, k], requiresGrad: true });
  const COT = tg.tensor(uniform(n * o * oh * oh, 23), { shape: [n, o, oh, oh] });
  const ours = time(
    () => {
      tg.tidy(() => tg.conv2d(X, W).backward(COT));
      X.zeroGrad();
      W.zeroGrad();
    },
    { budget: 3 },
  );

  const cols = new Float32Array(rows * K);
  im2col(xv, n, c, hw, k, cols);
  const C = tg.tensor(cols, { shape: [rows, K] });
  const W2 = tg.tensor(uniform(o * K, 22, -0.2, 0.2), { shape: [o, K] });
  const GY = tg.tensor(uniform(rows * o, 23), { shape: [rows, o] });
  const mm = time(
    () =>
      tg.tidy(() => {
        C.matmul(W2.T); // forward: [rows, o]
        GY.matmul(W2); // the columns' gradient: [rows, K]
        C.T.matmul(GY); // the weight's gradient: [K, o]
      }),
    { budget: 3 },
  );
  const unfold = time(() => im2col(xv, n, c, hw, k, cols), { budget: 1 });
  const dcols = uniform(rows * K, 24);
  const dx = new Float32Array(n * c * hw * hw);
  const fold = time(() => col2im(dcols, n, c, hw, k, dx), { budget: 1 });

  const bound = mm.median + unfold.median + fold.median;
  const ms = (s: number) => (s * 1e3).toFixed(2);
  console.log(
    `conv2d fwd+bwd b${n} ${c}→${o} ${k}×${k} on ${hw}×${hw}: ${ms(ours.median)} ms; bound ${ms(bound)} ms ` +
      `(matmuls ${ms(mm.median)}, im2col ${ms(unfold.median)}, col2im ${ms(fold.median)}); ` +
      `conv2d / bound ${(ours.median / bound).toFixed(2)}`,
  );
  for (const t of [X, W, COT, C, W2, GY]) t.dispose();
}
