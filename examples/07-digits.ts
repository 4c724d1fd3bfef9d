// A digit classifier trained end to end on the mnist package's 10,000 digits (8,000 train, 2,000
// test, a fixed seeded split), with pictures: loss and accuracy per epoch, the confusion matrix,
// misclassified digits, the first layer's weights.
//
//   npx tsx examples/07-digits.ts [--epochs N] [--device cpu|webgpu] [--arch mlp|lenet] [--quick]
//                                  [--seed N] [--batch N] [--lr X] [--schedule cosine|constant]
//                                  [--dropout P] [--shift N] [--out DIR] [--quiet]
//
// --quick: 2 epochs on 2,000 training digits (a demo in seconds). --arch lenet (default) is the
// convnet; --arch mlp a dense net to compare with.
import { resolve } from 'node:path';
import type { Device } from '../src';
import { DEFAULT_ARCH, DEFAULT_DROPOUT, DEFAULT_EPOCHS, DEFAULT_SHIFT, trainDigits, type Arch } from './digits-run';
import { setupDevice } from './run';

interface Flags {
  epochs: number | null;
  device: Device;
  arch: Arch;
  quick: boolean;
  seed: number;
  batch: number;
  lr: number;
  schedule: 'cosine' | 'constant';
  dropout: number | undefined;
  shift: number | undefined;
  out: string;
  quiet: boolean;
}

const HELP = `options:
  --epochs N          epochs to train (default ${DEFAULT_EPOCHS}; --quick: 2)
  --device cpu|webgpu (default cpu)
  --arch mlp|lenet    the net (default ${DEFAULT_ARCH}: the convnet)
  --quick             2 epochs on 2,000 training digits, for a demo (no shifts or dropout
                      unless given: a short run is better off without them)
  --seed N            init, split and shuffling seed (default 0)
  --batch N           batch size (default 64)
  --lr X              Adam's learning rate (default 0.001)
  --schedule S        cosine (default: the lr falls to 0 over the epochs) or constant
  --dropout P         the convnet's dropout before its 128-unit layer (default ${DEFAULT_DROPOUT}; 0: none)
  --shift N           training batches move by up to N pixels (default ${DEFAULT_SHIFT}; 0: none)
  --out DIR           folder for the pictures (default out)
  --quiet             no progress bar`;

function parse(argv: string[]): Flags {
  const f: Flags = { epochs: null, device: 'cpu', arch: DEFAULT_ARCH, quick: false, seed: 0, batch: 64, lr: 1e-3, schedule: 'cosine', dropout: undefined, shift: undefined, out: 'out', quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const [k, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    const val = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${k} needs a value (try --help)`);
      return v;
    };
    const int = (what: string, min: number) => {
      const v = Number(val());
      if (!Number.isInteger(v) || v < min) throw new Error(`${what} must be an integer ≥ ${min}`);
      return v;
    };
    if (k === '--epochs') f.epochs = int('--epochs', 0);
    else if (k === '--device') f.device = val() as Device;
    else if (k === '--arch') f.arch = val() as Arch;
    else if (k === '--quick') f.quick = true;
    else if (k === '--seed') f.seed = int('--seed', 0);
    else if (k === '--batch') f.batch = int('--batch', 1);
    else if (k === '--lr') f.lr = Number(val());
    else if (k === '--schedule') f.schedule = val() as Flags['schedule'];
    else if (k === '--dropout') f.dropout = Number(val());
    else if (k === '--shift') f.shift = int('--shift', 0);
    else if (k === '--out') f.out = val();
    else if (k === '--quiet') f.quiet = true;
    else if (k === '--help' || k === '-h') {
      console.log(HELP);
      process.exit(0);
    } else throw new Error(`unknown option ${argv[i]} (try --help)`);
  }
  if (f.device !== 'cpu' && f.device !== 'webgpu') throw new Error(`--device must be cpu or webgpu, got '${f.device}'`);
  if (f.arch !== 'mlp' && f.arch !== 'lenet') throw new Error(`--arch must be mlp or lenet, got '${f.arch}'`);
  if (!(f.lr > 0)) throw new Error('--lr must be a positive number');
  if (f.schedule !== 'cosine' && f.schedule !== 'constant') throw new Error(`--schedule must be cosine or constant, got '${f.schedule}'`);
  if (f.dropout !== undefined && !(f.dropout >= 0 && f.dropout < 1)) throw new Error('--dropout must be a number in [0, 1)');
  return f;
}

const flags = parse(process.argv.slice(2));
await setupDevice(flags.device);
const t0 = performance.now();
const r = await trainDigits({
  arch: flags.arch,
  device: flags.device,
  epochs: flags.epochs ?? (flags.quick ? 2 : DEFAULT_EPOCHS),
  train: flags.quick ? 2000 : 8000,
  test: 2000,
  seed: flags.seed,
  batchSize: flags.batch,
  lr: flags.lr,
  schedule: flags.schedule,
  dropout: flags.dropout ?? (flags.quick ? 0 : undefined),
  shift: flags.shift ?? (flags.quick ? 0 : undefined),
  outDir: flags.out,
  progress: flags.quiet ? false : 'auto',
});
console.log(`\ntest accuracy ${(100 * r.testAccuracy).toFixed(2)}%, ${r.secondsPerEpoch.toFixed(2)} s per epoch (training and test evaluation)`);
for (const p of r.plots) console.log(`  plot: ${resolve(p)}  (and .svg)`);
console.log(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
