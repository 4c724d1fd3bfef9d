// Movement primitives: they move or copy elements and never combine them. Attributes arrive
// normalized (full-length, non-negative) from the frontend in graph/functional.ts. reshape,
// permute, expand and slice are views: the engine applies `view` to the input's layout and no
// backend runs a kernel; pad and concat write a new buffer (compute kernels).
import { sizeOf, type MovementOp } from '../backends/backend';
import * as V from '../backends/view';
import { fmtShape, type OpSpec } from './registry';

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
