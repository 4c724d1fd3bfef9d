// Tutorial 3 as a script: npx tsx examples/03-relu-momentum.ts [--device cpu|webgpu] [--out DIR] [--seed N]
import { runOne } from './run';

await runOne(3);
