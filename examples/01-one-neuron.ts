// Tutorial 1 as a script: npx tsx examples/01-one-neuron.ts [--device cpu|webgpu] [--out DIR] [--seed N]
import { runOne } from './run';

await runOne(1);
