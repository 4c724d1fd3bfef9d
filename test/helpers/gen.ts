// Arbitraries of logical inputs for the op tables, on top of the exported ones in src/check.
import fc from 'fast-check';
import { shapeArb, valuesArb, type ShapeOptions, type ValueOptions } from '../../src/testing';
import type { Draw, Input } from './optable';
import { size } from './reference';

export const input = (shape: number[], opts: ValueOptions = {}): fc.Arbitrary<Input> =>
  valuesArb(shape, opts).map((values) => ({ shape, values }));

/** Small integers (−2..2): comparisons and where conditions see ties and zeros often. */
export const intInput = (shape: number[], min = -2, max = 2): fc.Arbitrary<Input> =>
  fc.array(fc.integer({ min, max }), { minLength: size(shape), maxLength: size(shape) }).map((values) => ({ shape, values }));

/**
 * Inputs whose values are all distinct, across inputs too, at least `step` apart: random keys
 * are ranked and the ranks spread over [−step·n/2, step·n/2]. For max/min, where a tie in a
 * random case would sit on a kink of the function (ties get fixed tests of their own).
 */
export function distinctInputs(shapes: number[][], step = 0.1): fc.Arbitrary<Input[]> {
  const n = shapes.reduce((t, s) => t + size(s), 0);
  return fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: n, maxLength: n }).map((keys) => {
    const order = keys.map((k, i) => [k, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const vals = new Array<number>(n);
    order.forEach(([, i], rank) => (vals[i] = (rank - n / 2) * step));
    let at = 0;
    return shapes.map((shape) => {
      const values = vals.slice(at, at + size(shape));
      at += size(shape);
      return { shape, values };
    });
  });
}

/** n shapes that broadcast together: each drops leading axes of one shape and turns dims into 1. */
export function broadcastShapesN(n: number, opts: ShapeOptions = {}): fc.Arbitrary<number[][]> {
  const side = (shape: number[]) =>
    fc
      .tuple(fc.integer({ min: 0, max: shape.length }), fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }))
      .map(([drop, ones]) => shape.map((d, i) => (ones[i] ? 1 : d)).slice(drop));
  return shapeArb(opts).chain((shape) => fc.tuple(...Array.from({ length: n }, () => side(shape))));
}

/** A unary draw: one input of a random shape (rank 0–4) with values from `opts`. */
export const unaryDraw = (opts: ValueOptions = {}, shape: ShapeOptions = {}): fc.Arbitrary<Draw<undefined>> =>
  shapeArb(shape).chain((s) => input(s, opts).map((x) => ({ inputs: [x], args: undefined })));

/** An axis argument for rank r: undefined (all), one axis (maybe negative), or a list of axes (maybe empty). */
export function axisArb(r: number): fc.Arbitrary<number | number[] | undefined> {
  const all = [...Array(r).keys()];
  const opts: fc.Arbitrary<number | number[] | undefined>[] = [fc.constant(undefined)];
  if (r > 0) {
    opts.push(fc.integer({ min: -r, max: r - 1 }));
    opts.push(
      fc
        .tuple(fc.subarray(all), fc.array(fc.boolean(), { minLength: r, maxLength: r }))
        .map(([axes, negs]) => axes.map((a, i) => (negs[i] ? a - r : a))),
    );
  }
  return fc.oneof(...opts);
}

/** Normalized, sorted axes of an axis argument. */
export function normAxes(axis: number | number[] | undefined, r: number): number[] {
  if (axis === undefined) return [...Array(r).keys()];
  const list = typeof axis === 'number' ? [axis] : axis;
  return list.map((a) => (a < 0 ? a + r : a)).sort((a, b) => a - b);
}
