// Tutorial 5 as a script: npx tsx examples/05-tanh-sine.ts [--device cpu|webgpu] [--out DIR] [--seed N]
import { runOne } from './run';

await runOne(5);
