// The `tapegrad/testing` entry: fast-check arbitraries for shapes, values and tensors, and a
// property that runs gradcheck over them. Needs the optional peer dependency `fast-check`.
// the CPU backend registers itself on import: this entry may be the first (or only) one loaded
import './backends/cpu';
export * from './check/arbitraries';
