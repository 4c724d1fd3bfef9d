// Movement primitives: they move or copy elements and never combine them. Attributes arrive
// normalized (full-length, non-negative) from the frontend in graph/functional.ts. reshape,
// permute, expand and slice are views: the engine applies `view` to the input's layout and no
// backend runs a kernel; pad and concat write a new buffer (compute kernels).
import { sizeOf, type MovementOp, type WindowAttrs } from '../backends/backend';
import * as V from '../backends/view';
import { fmtShape, type OpSpec } from './registry';

/** Checks window attrs against a shape; returns windows' output shape (origins in place, taps appended). */
function windowShape(op: string, x: readonly number[], a: WindowAttrs): number[] {
  const { axes, size, stride, dilation } = a;
  const k = axes.length;
  const posInt = (v: number) => Number.isSafeInteger(v) && v >= 1;
  const ok =
    size.length === k &&
    stride.length === k &&
    dilation.length === k &&
    axes.every((ax, i) => Number.isInteger(ax) && ax >= 0 && ax < x.length && (i === 0 || ax > axes[i - 1]!)) &&
    [...size, ...stride, ...dilation].every(posInt);
  if (!ok) {
    throw new Error(
      `${op}: axes [${axes.join(',')}], size [${size.join(',')}], stride [${stride.join(',')}], dilation [${dilation.join(',')}] do not fit shape ${fmtShape(x)} (one entry per axis; axes increasing and in range; sizes, strides, dilations positive integers)`,
    );
  }
  const shape = [...x];
  axes.forEach((ax, i) => (shape[ax] = V.windowCount(x[ax]!, size[i]!, stride[i], dilation[i])));
  return [...shape, ...size];
}

export const movementOps = {
  reshape: {
    // null (a copy first) when the layout cannot be regrouped, e.g. a transpose flattened
    view: (v, _attrs, shape) => V.reshape(v, shape),
    saves: 'none',
    ints: true,
    shape: ([x], { shape }, [dtype]) => {
      if (sizeOf(x!) !== sizeOf(shape)) {
        throw new Error(
          `reshape: cannot reshape ${fmtShape(x!)} (${sizeOf(x!)} elements) to ${fmtShape(shape)} (${sizeOf(shape)} elements)`,
        );
      }
      return { shape: [...shape], dtype: dtype! };
    },
    vjp: ({ g, inputs: [x] }) => [g.reshape(x!.shape)],
  },
  permute: {
    view: (v, { perm }) => V.permute(v, perm),
    saves: 'none',
    ints: true,
    shape: ([x], { perm }, [dtype]) => {
      const ok = perm.length === x!.length && perm.every((p, i) => perm.indexOf(p) === i && p >= 0 && p < x!.length);
      if (!ok) throw new Error(`permute: [${perm.join(',')}] is not a permutation of the axes of shape ${fmtShape(x!)}`);
      return { shape: perm.map((p) => x![p]!), dtype: dtype! };
    },
    // the inverse permutation undoes it
    vjp: ({ g, attrs: { perm } }) => {
      const inv = new Array<number>(perm.length);
      perm.forEach((p, i) => (inv[p] = i));
      return [g.permute(inv)];
    },
  },
  expand: {
    view: (v, _attrs, shape) => V.expand(v, shape),
    saves: 'none',
    ints: true,
    shape: ([x], { shape }, [dtype]) => {
      const off = shape.length - x!.length;
      const ok = off >= 0 && x!.every((d, i) => d === shape[i + off] || d === 1);
      if (!ok) throw new Error(`expand: shape ${fmtShape(x!)} cannot broadcast to ${fmtShape(shape)}`);
      return { shape: [...shape], dtype: dtype! };
    },
    // the engine sums the broadcast dims back to x's shape
    vjp: ({ g }) => [g],
  },
  slice: {
    view: (v, { begin, end }) => V.slice(v, begin, end),
    saves: 'none',
    ints: true,
    shape: ([x], { begin, end }, [dtype]) => {
      const ok =
        begin.length === x!.length &&
        end.length === x!.length &&
        x!.every((d, i) => 0 <= begin[i]! && begin[i]! <= end[i]! && end[i]! <= d);
      if (!ok) throw new Error(`slice: [${begin.join(',')}] to [${end.join(',')}] is out of range for shape ${fmtShape(x!)}`);
      return { shape: begin.map((b, i) => end[i]! - b), dtype: dtype! };
    },
    // the gradient of a window is the window padded back with zeros
    vjp: ({ g, inputs: [x], attrs: { begin, end } }) => [g.pad(begin.map((b, i) => [b, x!.shape[i]! - end[i]!]))],
  },
  // Sliding windows (im2col as a view): no data moves, windows overlap in memory when stride < size.
  windows: {
    view: (v, a) => V.windows(v, a),
    saves: 'none',
    shape: ([x], a, [dtype]) => ({ shape: windowShape('windows', x!, a), dtype: dtype! }),
    // the adjoint of gathering overlapping taps is summing each tap back to where it came from
    vjp: ({ g, inputs: [x], attrs: { axes, size, stride, dilation } }) => [
      g.fold([...x!.shape], axes, size, { stride, dilation }),
    ],
  },
  pad: {
    saves: 'none',
    ints: true,
    shape: ([x], { before, after }, [dtype]) => {
      const ok = before.length === x!.length && after.length === x!.length && [...before, ...after].every((p) => p >= 0);
      if (!ok) throw new Error(`pad: widths [${before.join(',')}] / [${after.join(',')}] do not fit shape ${fmtShape(x!)}`);
      return { shape: x!.map((d, i) => before[i]! + d + after[i]!), dtype: dtype! };
    },
    vjp: ({ g, inputs: [x], attrs: { before } }) => [g.slice(before, before.map((b, i) => b + x!.shape[i]!))],
  },
  concat: {
    saves: 'none',
    ints: true,
    shape: (shapes, { axis }, [dtype]) => {
      const first = shapes[0]!;
      for (const s of shapes) {
        if (s.length !== first.length || s.some((d, i) => i !== axis && d !== first[i])) {
          throw new Error(`concat: shapes ${shapes.map(fmtShape).join(', ')} differ outside axis ${axis}`);
        }
      }
      const shape = [...first];
      shape[axis] = shapes.reduce((n, s) => n + s[axis]!, 0);
      return { shape, dtype: dtype! };
    },
    // each input gets its own window of g
    vjp: ({ g, inputs, attrs: { axis }, needs }) => {
      let at = 0;
      return inputs.map((x, i) => {
        const begin = g.shape.map((_, j) => (j === axis ? at : 0));
        at += x.shape[axis]!;
        const end = g.shape.map((d, j) => (j === axis ? at : d));
        return needs[i] ? g.slice(begin, end) : null;
      });
    },
  },
} satisfies { [K in MovementOp]: OpSpec<K> };

/**
 * fold, windows' adjoint (col2im): out[p] = Σ g[…, o, …, t] over every origin o and tap t with
 * o·stride + t·dilation = p along each window axis. A compute primitive (it adds, where windows
 * only looks); linear in g, so its VJP is windows again (and second order needs nothing more).
 */
export const foldOp: OpSpec<'fold'> = {
  saves: 'none',
  shape: ([g], a, [dtype]) => {
    const want = windowShape('fold', a.shape, a);
    if (!V.sameShape(g!, want)) {
      throw new Error(
        `fold: input ${fmtShape(g!)} is not the windows of shape ${fmtShape(a.shape)} (expected ${fmtShape(want)} for axes [${a.axes.join(',')}], size [${a.size.join(',')}], stride [${a.stride.join(',')}], dilation [${a.dilation.join(',')}])`,
      );
    }
    return { shape: [...a.shape], dtype: dtype! };
  },
  vjp: ({ g, attrs: { axes, size, stride, dilation } }) => [g.windows(axes, size, { stride, dilation })],
};
