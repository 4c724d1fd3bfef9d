// Elementwise unary primitives. x = input, out = result, g = upstream gradient.
import type { UnaryOp } from '../backends/backend';
import type { OpSpec } from './registry';

const same: OpSpec['shape'] = ([x], _attrs, [dtype]) => ({ shape: [...x!], dtype: dtype! });

export const unaryOps = {
  neg: { shape: same, ints: true, saves: 'none', vjp: ({ g }) => [g.neg()] },
  // d exp(x) = exp(x) = out
  exp: { shape: same, saves: 'out', vjp: ({ g, out }) => [g.mul(out)] },
  // d log(x) = 1/x
  log: { shape: same, saves: 'inputs', vjp: ({ g, inputs: [x] }) => [g.div(x!)] },
  // d log(1 + x) = 1/(1 + x)
  log1p: { shape: same, saves: 'inputs', vjp: ({ g, inputs: [x] }) => [g.div(x!.add(1))] },
  // d sqrt(x) = 1 / (2 sqrt(x))
  sqrt: { shape: same, saves: 'out', vjp: ({ g, out }) => [g.div(out.mul(2))] },
  // d|x| = sign(x); the kink at 0 gets 0, as in PyTorch
  abs: { shape: same, ints: true, saves: 'inputs', vjp: ({ g, inputs: [x] }) => [g.mul(x!.sign())] },
  // piecewise constant: zero almost everywhere, so no gradient flows
  sign: { shape: same, ints: true, vjp: null },
  // d relu(x) = [x > 0]; relu'(0) = 0
  relu: { shape: same, ints: true, saves: 'inputs', vjp: ({ g, inputs: [x] }) => [g.reluGrad(x!)] },
  // d σ(x) = σ(x)(1 − σ(x))
  sigmoid: { shape: same, saves: 'out', vjp: ({ g, out }) => [g.mul(out.mul(out.neg().add(1)))] },
  // d tanh(x) = 1 − tanh²(x)
  tanh: { shape: same, saves: 'out', vjp: ({ g, out }) => [g.mul(out.mul(out).neg().add(1))] },
  sin: { shape: same, saves: 'inputs', vjp: ({ g, inputs: [x] }) => [g.mul(x!.cos())] },
  cos: { shape: same, saves: 'inputs', vjp: ({ g, inputs: [x] }) => [g.mul(x!.sin()).neg()] },
} satisfies { [K in UnaryOp]: OpSpec<K> };
