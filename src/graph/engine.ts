// The engine: op dispatch and recording (apply), the tape walk (backward), grad mode, and tensor
// lifetimes (tidy scopes, live counts). Every engine invariant lives in this file.
import {
  getBackend, type AttrsOf, type Backend, type DType, type Device, type Kernel, type OpName, type Storage,
} from '../backends/backend';
import { sameShape } from '../backends/view';
import { getOp, fmtShape } from '../ops';
import type { OpSpec } from '../ops/registry';
import { isTensor, Tensor } from './tensor';
import { show } from './args';

// ---------------------------------------------------------------- grad mode

let gradEnabled = true;

/**
 * Run fn with tape recording off. fn must be synchronous: an async fn is refused.
 *
 * @example
 * const y = noGrad(() => x.mul(2));   // y.requiresGrad === false, nothing recorded
 */
export function noGrad<T>(fn: () => T): T {
  return withGradMode('noGrad', false, fn);
}

/**
 * Run fn with tape recording on (inside a noGrad, for example). fn must be synchronous.
 *
 * @example
 * noGrad(() => enableGrad(() => w.square().sum()).backward());
 */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode('enableGrad', true, fn);
}

function withGradMode<T>(name: string, on: boolean, fn: () => T): T {
  refuseAsync(name, fn);
  const prev = gradEnabled;
  gradEnabled = on;
  let result: T;
  try {
    result = fn();
  } finally {
    gradEnabled = prev;
  }
  // The mode is restored when fn returns, so whatever fn does after an await runs in the
  // caller's mode (under noGrad: recorded on the tape). The call cannot keep its promise: refuse.
  if (isThenable(result)) throw asyncError(name, result);
  return result;
}

// Scopes (tidy) and modes (noGrad, enableGrad) are dynamic extents of a synchronous call: code
// after an await runs later, from the event loop, when the call has returned. So async work is
// refused: an async function before it runs, any other function that returns a promise after.
const AsyncFunction = (async () => {}).constructor;

function refuseAsync(name: string, fn: unknown): void {
  if (typeof fn !== 'function') throw new TypeError(`${name}: expected a function, got ${describeValue(fn)}`);
  if (fn instanceof AsyncFunction) throw asyncError(name, null);
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  if ((typeof v !== 'object' && typeof v !== 'function') || v === null) return false;
  return typeof (v as { then?: unknown }).then === 'function';
}

function asyncError(name: string, pending: PromiseLike<unknown> | null): Error {
  // The promise goes on running and most likely fails (tidy freed what it made before its first
  // await). That failure is this error's consequence, already reported: without a handler it
  // would also surface as an unhandled rejection, which ends a Node process.
  pending?.then(undefined, () => {});
  const why =
    name === 'tidy'
      ? 'a tidy scope cannot follow an await (tensors made after it would escape the scope)'
      : 'grad mode cannot follow an await (ops after it would run in the caller\'s mode)';
  return new Error(
    `${name}: fn is async (${pending ? 'it returned a Promise' : 'an async function'}); ${why}. ` +
      `Call ${name}() inside the async function, around synchronous steps: await outside ${name}()`,
  );
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v;
}

/**
 * Whether ops are being recorded on the tape (false inside noGrad).
 *
 * @example
 * noGrad(() => isGradEnabled());   // false
 */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

// ---------------------------------------------------------------- the tape

/** One recorded op application. */
export interface TapeNode {
  op: OpName;
  inputs: Tensor[];
  /** weak enough: the output links to its node, the node to the output (a cycle the GC handles) */
  out: Tensor;
  attrs: unknown;
  /** versions of the tensors the VJP reads, taken at record time */
  saved: { t: Tensor; version: number }[];
  freed: boolean;
}

// ---------------------------------------------------------------- lifetimes

const scopes: Set<Tensor>[] = [];
const live: Partial<Record<Device, number>> = {};
/** live tensors owned by no tidy scope: what a loop without tidy() piles up */
let unscoped = 0;

const finalizer =
  typeof FinalizationRegistry === 'undefined'
    ? null
    : new FinalizationRegistry<Held>(({ storage, device }) => {
        // A safety net for tensors the user forgot; dispose() and tidy() are the mechanism.
        getBackend(device).release(storage);
        live[device] = (live[device] ?? 1) - 1;
        unscoped--;
      });

/** What the finalizer frees for a tensor; assign() points it at the tensor's new storage. */
export interface Held {
  storage: Storage;
  device: Device;
  /**
   * owned by no scope: registered with the finalizer (where there is one) and counted in
   * `unscoped` (only tensors that outlive every tidy scope are)
   */
  registered: boolean;
}

/**
 * The safety net is for tensors nobody will dispose: those made outside any tidy scope, kept,
 * or returned from the outermost tidy. A tensor that dies with its scope never pays for
 * registering (measured: a register/unregister pair was most of a tiny op's engine cost).
 */
function guard(t: Tensor): void {
  const held = t._held;
  if (held.registered || t.isDisposed) return;
  held.registered = true;
  finalizer?.register(t, held, t);
  // the growth warning's whole cost on the op path: one increment and one compare
  if (++unscoped > warnAt) warnGrowth();
}

/** @internal called by the Tensor constructor */
export function track(t: Tensor, storage: Storage): Held {
  live[t.device] = (live[t.device] ?? 0) + 1;
  return { storage, device: t.device, registered: false };
}

/** @internal called by the Tensor constructor once its fields are set */
export function adopt(t: Tensor): void {
  const scope = scopes[scopes.length - 1];
  if (scope) scope.add(t);
  else guard(t);
}

/** @internal Tensor._relocate: its memory moved from `from` to `to` on `device` */
export function rehome(t: Tensor, from: Storage, to: Storage, device: Device): void {
  getBackend(t.device).release(from);
  live[t.device] = (live[t.device] ?? 1) - 1;
  live[device] = (live[device] ?? 0) + 1;
  t._held.storage = to;
  t._held.device = device;
}

/** @internal called by Tensor.dispose */
export function untrack(t: Tensor, storage: Storage): void {
  if (t._held.registered) {
    finalizer?.unregister(t);
    unscoped--;
  }
  live[t.device] = (live[t.device] ?? 1) - 1;
  for (const s of scopes) s.delete(t);
  // last: the books are right even if the backend throws (a lost WebGPU device, say)
  getBackend(t.device).release(storage);
}

/**
 * Take tensors out of every enclosing tidy scope: their owner frees them.
 *
 * @example
 * let total: Tensor;
 * tidy(() => { total = keep(x.sum()); x.mul(2); });   // total survives, x.mul(2) is freed
 */
export function keep<T extends Tensor>(t: T): T {
  if (!(t instanceof Tensor)) throw new TypeError(`keep: expected a Tensor, got ${describeValue(t)}`);
  for (const s of scopes) s.delete(t);
  guard(t);
  return t;
}

function collectTensors(value: unknown, into: Set<Tensor>, depth = 0): void {
  if (value instanceof Tensor) into.add(value);
  else if (depth < 4 && Array.isArray(value)) for (const v of value) collectTensors(v, into, depth + 1);
  else if (depth < 4 && isPlainObject(value)) for (const v of Object.values(value)) collectTensors(v, into, depth + 1);
}

/** An object literal, or a dictionary made with Object.create(null). */
function isPlainObject(v: unknown): v is object {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Run fn and dispose every tensor created inside it, except those it returns (found in the
 * returned value, arrays and plain objects included) and those passed to keep(). Gradients
 * stored on leaves by backward() belong to their leaf and are never disposed by tidy.
 * fn must be synchronous: an async function is refused before it runs; a function that returns
 * a promise has what it made before its first await freed, and tidy throws.
 *
 * @example
 * const loss = tidy(() => x.matmul(w).sub(y).square().mean()); // only loss is kept
 */
export function tidy<T>(fn: () => T): T {
  refuseAsync('tidy', fn);
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    // nothing is returned, so nothing is kept: without this a throwing fn leaked its tensors
    scopes.pop();
    for (const t of scope) t.dispose();
    throw e;
  }
  scopes.pop();
  if (isThenable(result)) {
    // What fn made before its first await is in this scope, which nothing returned from: free
    // it now (never registered with the finalizer, it would otherwise live for good). What fn
    // makes after the await cannot land in this scope, which is popped by then: the rest of fn
    // runs from the event loop, when no tidy is running (tidy is synchronous), so those tensors
    // are made outside any scope, owned by whoever holds them, like any other such tensor.
    for (const t of scope) t.dispose();
    throw asyncError('tidy', result);
  }
  const kept = new Set<Tensor>();
  collectTensors(result, kept);
  const parent = scopes[scopes.length - 1];
  for (const t of scope) {
    if (!kept.has(t)) t.dispose();
    else if (parent) parent.add(t);
    else guard(t);
  }
  return result;
}

// ---------------------------------------------------------------- the growth warning

/** Settings of the one-time warning about tensors piling up outside tidy(). */
export interface MemoryWarningOptions {
  /** warn once more than this many live tensors are owned by no tidy scope (default 10,000) */
  threshold: number;
  /** false silences the warning (default true) */
  enabled: boolean;
}

const warning: MemoryWarningOptions = { threshold: 10_000, enabled: true };
/** the count at which guard() warns: Infinity once warned or while disabled */
let warnAt = warning.threshold;

/**
 * Configure the warning printed (once, with console.warn) when more than `threshold` live
 * tensors are owned by no tidy scope: the sign of a loop that makes tensors without tidy() or
 * dispose(), which the finalizer cannot rescue while the loop runs. Options left out keep their
 * value; each call re-arms the warning. Returns the settings now in force.
 *
 * @example configureMemoryWarning({ threshold: 50_000 }) // a program that holds many tensors
 * @example configureMemoryWarning({ enabled: false })    // silence it
 */
export function configureMemoryWarning(opts: Partial<MemoryWarningOptions> = {}): MemoryWarningOptions {
  if (opts === null || typeof opts !== 'object') {
    throw new TypeError(`configureMemoryWarning: expected { threshold?, enabled? }, got ${describeValue(opts)}`);
  }
  const { threshold = warning.threshold, enabled = warning.enabled, ...rest } = opts;
  const unknown = Object.keys(rest);
  if (unknown.length) {
    throw new TypeError(`configureMemoryWarning: unknown option ${unknown.join(', ')} (expected threshold, enabled)`);
  }
  if (!Number.isSafeInteger(threshold) || threshold < 0) {
    throw new TypeError(`configureMemoryWarning: threshold must be a non-negative integer, got ${String(threshold)}`);
  }
  if (typeof enabled !== 'boolean') {
    throw new TypeError(`configureMemoryWarning: enabled must be true or false, got ${String(enabled)}`);
  }
  warning.threshold = threshold;
  warning.enabled = enabled;
  warnAt = enabled ? threshold : Infinity;
  return { ...warning };
}

function warnGrowth(): void {
  warnAt = Infinity; // once
  console.warn(
    `tapegrad: ${unscoped} live tensors are owned by no tidy() scope (more than ${warning.threshold}). ` +
      'A loop that makes tensors without tidy() or dispose() keeps every one of them: the ' +
      'finalizer frees forgotten tensors only after garbage collection, between turns of the ' +
      'event loop, never during a synchronous loop. Wrap each step in tidy(() => ...), or ' +
      'dispose() what you no longer need. If this many are meant to live, raise the threshold ' +
      'or silence this with configureMemoryWarning({ threshold, enabled }).',
  );
}

export interface MemoryInfo {
  /** live tensors over all devices */
  tensors: number;
  /** live tensors owned by no tidy scope (made outside one, returned from the outermost, kept) */
  unscoped: number;
  /** per device: live tensors, and the buffers and bytes the backend holds */
  devices: Partial<Record<Device, { tensors: number; buffers: number; bytes: number }>>;
}

/**
 * Live tensors and bytes per device.
 *
 * @example
 * const before = memory().tensors;
 * tidy(() => x.mul(2));
 * memory().tensors === before;   // true
 */
export function memory(): MemoryInfo {
  const devices: MemoryInfo['devices'] = {};
  let tensors = 0;
  for (const [device, n] of Object.entries(live) as [Device, number][]) {
    const m = getBackend(device).memory();
    devices[device] = { tensors: n, ...m };
    tensors += n;
  }
  return { tensors, unscoped, devices };
}

// ---------------------------------------------------------------- dispatch

/**
 * Apply a primitive: check devices and dtypes, compute the output shape (the op's rule throws
 * with the op's name and the shapes), run the device's kernel, and record a tape node when any
 * input requires grad and grad mode is on.
 */
export function apply<K extends OpName>(name: K, inputs: Tensor[], attrs: AttrsOf<K>): Tensor {
  const spec = getOp(name);
  const x0 = inputs[0]!;
  const n = inputs.length;
  // one pass gathers what the rule and the kernel need (this runs for every op: no map/some chains)
  const shapes = new Array<number[]>(n);
  const dtypes = new Array<DType>(n);
  const storages = new Array<Storage>(n);
  let anyGrad = false;
  for (let i = 0; i < n; i++) {
    const t = inputs[i]!;
    if (!isTensor(t) || !Tensor._own(t)) {
      // a tensor of another copy of the package has its memory in that copy's backend
      throw new TypeError(
        `${name}: input ${i}${isTensor(t) ? ` (shape ${fmtShape(t.shape)}) is a Tensor from another copy of tapegrad (ES module and CommonJS builds both loaded?); copy it into this one with tensor(x)` : ` is ${typeof t}, not a Tensor`}`,
      );
    }
    if (t.isDisposed) throw new Error(`${name}: an input of shape ${fmtShape(t.shape)} was disposed`);
    if (t.device !== x0.device) {
      throw new Error(`${name}: tensors are on different devices (${x0.device} and ${t.device}); move one with .to()`);
    }
    if (t.dtype !== x0.dtype && spec.sameDtype !== false) {
      throw new Error(
        `${name}: dtypes ${x0.dtype} and ${t.dtype} differ (shapes ${fmtShape(x0.shape)} and ${fmtShape(t.shape)}); cast one with .cast('${t.dtype === 'float64' ? 'float64' : x0.dtype}')`,
      );
    }
    if (t.dtype === 'int32' && spec.ints !== true) throw intError(name, t, i, n);
    shapes[i] = t.shape as number[];
    dtypes[i] = t.dtype;
    storages[i] = t.storage;
    anyGrad ||= t.requiresGrad;
  }
  const { shape, dtype } = spec.shape(shapes, attrs, dtypes);
  const backend = getBackend(x0.device);
  if (dtype !== x0.dtype && !backend.dtypes.includes(dtype)) {
    throw new Error(`${name}: dtype ${dtype} is not supported on ${x0.device}`);
  }
  let storage: Storage;
  if (spec.view !== undefined) {
    // a view op: a new handle on input 0's buffer, no kernel (a copy first when no view fits)
    const v = spec.view(storages[0]!.view, attrs, shape);
    storage = v !== null ? backend.view(storages[0]!, v) : viewOfCopy(backend, storages[0]!, spec.view, attrs, shape, dtype);
  } else {
    const kernel = (backend.kernels as Partial<Record<OpName, Kernel<Storage, K>>>)[name];
    if (kernel === undefined) {
      // a fused op this backend has no kernel for: its composition, recorded op by op
      if (spec.decompose !== undefined) return spec.decompose(inputs, attrs);
      throw new Error(`${name}: no kernel for device ${x0.device}`);
    }
    storage = kernel(storages, attrs, { shape, dtype });
  }
  const version = spec.view !== undefined ? x0._version : undefined;
  const out = new Tensor(storage, shape, dtype, x0.device, version);
  if (tracer) tracer({ op: name, inputs, out, attrs });

  // an int32 result carries no gradient (indices, labels, comparisons of ints): no tape node
  if (anyGrad && gradEnabled && spec.vjp && dtype !== 'int32') {
    const saves = spec.saves ?? 'both';
    const saved: TapeNode['saved'] = [];
    if (saves === 'inputs' || saves === 'both') for (const t of inputs) saved.push({ t, version: t._version.v });
    if (saves === 'out' || saves === 'both') saved.push({ t: out, version: out._version.v });
    out.requiresGrad = true;
    out._node = { op: name, inputs, out, attrs, saved, freed: false };
  }
  return out;
}

function intError(name: OpName, t: Tensor, i: number, n: number): Error {
  const which = n > 1 ? `input ${i + 1} is int32 (shape ${fmtShape(t.shape)})` : `the input is int32 (shape ${fmtShape(t.shape)})`;
  const hint = name === 'div' ? ' (integer / gives a float in PyTorch: cast both operands)' : '';
  return new TypeError(`${name}: not defined for int32; ${which}. Cast first: x.cast('float32')${hint}`);
}

/** A view op's output when no view of x's buffer expresses it: a row-major copy of x, seen so. */
function viewOfCopy<K extends OpName>(
  backend: Backend,
  x: Storage,
  view: NonNullable<OpSpec<K>['view']>,
  attrs: AttrsOf<K>,
  shape: number[],
  dtype: DType,
): Storage {
  // every view op maps a row-major input to a view, so the second call cannot fail
  const copy = backend.materialize(x, dtype);
  const out = backend.view(copy, view(copy.view, attrs, shape)!);
  backend.release(copy);
  return out;
}

// ---------------------------------------------------------------- tracing

/** One op application as a trace sees it: the tape's fields, for every op (comparisons too). */
export type TraceEntry = Pick<TapeNode, 'op' | 'inputs' | 'out' | 'attrs'>;

let tracer: ((e: TraceEntry) => void) | null = null;

/** @internal Whether a trace is running (composite calls are remembered only then). */
export const tracing = (): boolean => tracer !== null;

/**
 * @internal Run fn and show `onOp` every op it applies, in order, whether or not the tape records
 * it: an exporter needs the comparisons (no VJP, so no tape node) and the work done under noGrad
 * (softmax's max) as much as the differentiable ops. Not reentrant: one trace at a time.
 */
export function traceOps<T>(fn: () => T, onOp: (e: TraceEntry) => void): T {
  if (tracer) throw new Error('traceOps: a trace is already running (exports cannot nest)');
  tracer = onOp;
  try {
    return fn();
  } finally {
    tracer = null;
  }
}

// ---------------------------------------------------------------- backward

/** Sum a gradient back to `shape`: leading broadcast dims and size-1 dims that were stretched. */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.shape.length - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.shape.length; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  const s = axes.length ? g.sum(axes, true) : g;
  return s.reshape(shape);
}

/** Nodes reachable from root, in topological order (inputs before outputs), found without recursion. */
function topoOrder(root: TapeNode): TapeNode[] {
  const order: TapeNode[] = [];
  const seen = new Set<TapeNode>([root]);
  // an explicit DFS stack of (node, next input index): post-order gives a topological order
  const stack: [TapeNode, number][] = [[root, 0]];
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const [node, i] = top;
    if (i < node.inputs.length) {
      top[1] = i + 1;
      const child = node.inputs[i]!._node;
      if (child && !seen.has(child)) {
        seen.add(child);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      order.push(node);
    }
  }
  return order;
}

export interface BackwardOptions {
  /** keep the tape so backward can run over it again */
  retainGraph?: boolean;
  /** record the gradient computation itself, so gradients can be differentiated again */
  createGraph?: boolean;
}

/** @internal Tensor.backward */
export function backward(root: Tensor, grad?: Tensor, opts: BackwardOptions = {}): void {
  const createGraph = opts.createGraph ?? false;
  walk(root, grad, opts, (x, gx) => {
    if (!x._node) accumulateLeaf(x, gx, createGraph);
  });
}

/**
 * Gradients of `output` with respect to each of `inputs` (leaves or not), returned instead of
 * accumulated into `.grad` (PyTorch's autograd.grad). An input that `output` does not depend on
 * gets null. With createGraph the results are differentiable.
 *
 * @example
 * const x = tensor([1, 2], { requiresGrad: true });
 * const [dx] = grad(x.square().sum(), [x]);   // 2x = [2, 4]; x.grad stays null
 */
export function grad(output: Tensor, inputs: readonly Tensor[], opts: BackwardOptions & { grad?: Tensor } = {}): (Tensor | null)[] {
  const createGraph = opts.createGraph ?? false;
  const found = new Map<Tensor, Tensor>();
  const wanted = new Set(inputs);
  walk(output, opts.grad, opts, (x, gx) => {
    if (!wanted.has(x)) return;
    // a non-leaf gets its summed gradient once; a leaf gets one call per use.
    // Take an own handle here, while gx is alive: without createGraph the walk runs inside a
    // tidy that disposes every gradient it made (taking it after walk() returned read freed memory).
    const prev = found.get(x);
    const total = prev ? prev.add(gx) : gx;
    found.set(x, createGraph ? total : total.detach());
    if (prev && !createGraph) prev.dispose();
    return found.get(x);
  });
  return inputs.map((x) => found.get(x) ?? null);
}

/**
 * The tape walk shared by backward() and grad(): sort the nodes reachable from root, run each
 * VJP in reverse order, sum each gradient back to its input's shape, and show `sink` every
 * gradient that reaches a tensor: a non-leaf's total once, a leaf's once per use.
 */
function walk(
  root: Tensor,
  grad: Tensor | undefined,
  opts: BackwardOptions,
  sink: (x: Tensor, g: Tensor) => Tensor | void,
): void {
  const { createGraph = false } = opts;
  const retainGraph = opts.retainGraph ?? createGraph;
  if (grad !== undefined && !isTensor(grad)) {
    const want = `a Tensor of shape ${fmtShape(root.shape)} ${root.dtype} on ${root.device} (or omitted for a scalar output)`;
    throw new TypeError(`backward: the gradient must be ${want}, got ${show(grad)}`);
  }
  if (!root.requiresGrad) {
    throw new Error('backward: this tensor does not require grad (no input was created with requiresGrad: true)');
  }
  if (grad === undefined && root.size !== 1) {
    throw new Error(
      `backward: output has shape ${fmtShape(root.shape)}; backward() without a gradient needs a scalar (call .sum() or .mean() first, or pass a gradient of shape ${fmtShape(root.shape)})`,
    );
  }
  if (grad !== undefined && (!sameShape(grad.shape, root.shape) || grad.dtype !== root.dtype || grad.device !== root.device)) {
    throw new Error(
      `backward: gradient of shape ${fmtShape(grad.shape)} ${grad.dtype} on ${grad.device} does not match the output's ${fmtShape(root.shape)} ${root.dtype} on ${root.device}`,
    );
  }

  const run = (sink: (x: Tensor, g: Tensor) => void) => {
    const seed = grad ?? Tensor.ones(root.shape, root.dtype, root.device);
    if (!root._node) {
      sink(root, seed);
      return;
    }
    const grads = new Map<Tensor, Tensor>([[root, seed]]);
    const order = topoOrder(root._node);
    for (let n = order.length - 1; n >= 0; n--) {
      const node = order[n]!;
      const g = grads.get(node.out);
      if (!g) continue;
      grads.delete(node.out);
      sink(node.out, g);
      if (node.freed) {
        throw new Error(
          `backward: the graph through '${node.op}' was already freed by an earlier backward(); pass { retainGraph: true } to the first call to run backward twice`,
        );
      }
      for (const { t, version } of node.saved) {
        if (t.isDisposed) {
          throw new Error(`backward: a tensor of shape ${fmtShape(t.shape)} saved by '${node.op}' was disposed before backward()`);
        }
        if (t._version.v !== version) {
          throw new Error(
            `backward: a tensor of shape ${fmtShape(t.shape)} saved by '${node.op}' was modified in place (version ${t._version.v}, expected ${version}); clone it before assigning to it`,
          );
        }
      }
      const needs = node.inputs.map((t) => t.requiresGrad);
      const spec = getOp(node.op);
      const gs = spec.vjp!({ g, inputs: node.inputs, out: node.out, attrs: node.attrs as never, needs });
      node.inputs.forEach((x, i) => {
        const gi = gs[i];
        if (!needs[i] || !gi) return;
        const gx = sumTo(gi, x.shape);
        if (!sameShape(gx.shape, x.shape) || gx.dtype !== x.dtype) {
          throw new Error(
            `backward: '${node.op}' produced a gradient of shape ${fmtShape(gx.shape)} ${gx.dtype} for an input of shape ${fmtShape(x.shape)} ${x.dtype}`,
          );
        }
        if (!x._node) sink(x, gx);
        else {
          const prev = grads.get(x);
          grads.set(x, prev ? prev.add(gx) : gx);
        }
      });
      if (!retainGraph) {
        node.freed = true;
        node.saved = [];
      }
    }
  };
  // Intermediate gradients die with this scope. What the sink returns is handed to the caller's
  // scope (so grad()'s results obey an enclosing tidy); leaf grads are taken out with keep().
  const handed: Tensor[] = [];
  const hand = (x: Tensor, g: Tensor) => {
    const t = sink(x, g);
    if (t) handed.push(t);
  };
  if (createGraph) enableGrad(() => run(hand));
  else tidy(() => (noGrad(() => run(hand)), handed));
}

function accumulateLeaf(x: Tensor, g: Tensor, createGraph: boolean): void {
  // Own a separate handle: the gradient may be a tensor the user passed in, or one still used elsewhere.
  const owned = createGraph ? g.reshape(x.shape) : g.detach();
  if (x.grad) {
    const prev = x.grad;
    if (createGraph) {
      // prev may be part of a graph the caller still differentiates: leave it alive
      x.grad = prev.add(owned);
    } else {
      x.grad = noGrad(() => prev.add(owned));
      prev.dispose();
      owned.dispose();
    }
  } else {
    x.grad = owned;
  }
  keep(x.grad);
}

