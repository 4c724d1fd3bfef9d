// Tutorial 2 as a script: npx tsx examples/02-linear-net.ts [--device cpu|webgpu] [--out DIR] [--seed N]
import { runOne } from './run';

await runOne(2);
