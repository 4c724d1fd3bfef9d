// Elementwise binary primitives with numpy broadcasting. The engine sums each gradient back to
// its input's shape, so these VJPs return gradients in the broadcast (output) shape.
import type { BinaryOp } from '../backends/backend';
import { broadcastShapes, type Fused, type OpSpec } from './registry';

const broadcast =
  (op: string): OpSpec['shape'] =>
  ([a, b], _attrs, [dtype]) => ({ shape: broadcastShapes(op, a!, b!), dtype: dtype! });

const compare = (op: BinaryOp): OpSpec => ({ shape: broadcast(op), vjp: null, ints: true });

export const binaryOps = {
  add: { shape: broadcast('add'), ints: true, saves: 'none', vjp: ({ g }) => [g, g] },
  sub: { shape: broadcast('sub'), ints: true, saves: 'none', vjp: ({ g, needs }) => [g, needs[1] ? g.neg() : null] },
  mul: {
    shape: broadcast('mul'),
    ints: true,
    saves: 'inputs',
    vjp: ({ g, inputs: [a, b], needs }) => [needs[0] ? g.mul(b!) : null, needs[1] ? g.mul(a!) : null],
  },
  // d(a/b) = g/b, −g·a/b², taken as −(g·(a/b))/b: b·b under- or overflows long before a/b does
  // (float32 a = b = 1e-25: b² = 0 gave −inf; the answer is −1e25)
  div: {
    shape: broadcast('div'),
    vjp: ({ g, inputs: [, b], out, needs }) => [
      needs[0] ? g.div(b!) : null,
      needs[1] ? g.mul(out).div(b!).neg() : null,
    ],
  },
  // PyTorch's rules, including its conventions where a derivative does not exist:
  // d(aᵇ)/da = b·aᵇ⁻¹, and 0 where b = 0 (aᵇ = 1 is constant in a; b·a⁻¹ would be 0·inf at a = 0);
  // d(aᵇ)/db = aᵇ·ln a, and 0 where a = 0 and b ≥ 0 (0^b is 0 or 1 there). Elsewhere ln a of a
  // negative base is NaN, as in PyTorch: (−2)ᵇ is not defined for b off the integers.
  pow: {
    shape: broadcast('pow'),
    vjp: ({ g, inputs: [a, b], out, needs }) => [
      needs[0] ? g.mul(b!.mul(a!.pow(b!.sub(1))).where(b!.ne(0), 0)) : null,
      needs[1] ? g.mul(out.mul(a!.log()).where(a!.eq(0).mul(b!.ge(0)).eq(0), 0)) : null,
    ],
  },
  // Ties split the gradient evenly between a and b (as PyTorch does).
  maximum: {
    shape: broadcast('maximum'),
    ints: true,
    saves: 'inputs',
    vjp: ({ g, inputs: [a, b], needs }) => {
      const share = a!.gt(b!).add(a!.eq(b!).mul(0.5));
      return [needs[0] ? g.mul(share) : null, needs[1] ? g.mul(share.neg().add(1)) : null];
    },
  },
  minimum: {
    shape: broadcast('minimum'),
    ints: true,
    saves: 'inputs',
    vjp: ({ g, inputs: [a, b], needs }) => {
      const share = a!.lt(b!).add(a!.eq(b!).mul(0.5));
      return [needs[0] ? g.mul(share) : null, needs[1] ? g.mul(share.neg().add(1)) : null];
    },
  },
  // Comparisons return 1 or 0 in the inputs' dtype and carry no gradient.
  eq: compare('eq'),
  ne: compare('ne'),
  lt: compare('lt'),
  le: compare('le'),
  gt: compare('gt'),
  ge: compare('ge'),
} satisfies { [K in BinaryOp]: OpSpec<K> };

/**
 * relu's backward, fused: g where x > 0, else 0 (one pass where gt then where take two). Linear
 * in g; zero almost everywhere in x.
 */
export const reluGradOp: Fused<'reluGrad'> = {
  shape: broadcast('reluGrad'),
  saves: 'inputs',
  decompose: ([g, x]) => g!.where(x!.gt(0), 0),
  vjp: ({ g, inputs: [, x], needs }) => [needs[0] ? g.reluGrad(x!) : null, null],
};
