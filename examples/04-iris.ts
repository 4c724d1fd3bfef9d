// Tutorial 4 as a script: npx tsx examples/04-iris.ts [--device cpu|webgpu] [--out DIR] [--seed N]
import { runOne } from './run';

await runOne(4);
