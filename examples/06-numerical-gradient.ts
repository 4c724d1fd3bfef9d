// Tutorial 6 as a script: npx tsx examples/06-numerical-gradient.ts [--device cpu|webgpu] [--out DIR] [--seed N]
import { runOne } from './run';

await runOne(6);
