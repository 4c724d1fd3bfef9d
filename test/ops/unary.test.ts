// Unary elementwise ops and cast. Fast-check runs per op (random shapes rank 0–4,
// values and view layouts each run): 40 VJP-vs-finite-difference checks, 40 float64 and 20 float32
// forward checks against the JS reference, 15 second-order (createGraph) checks.
import { describeOpTable } from '../helpers/optable';
import { unaryCases } from './cases/unary';

describeOpTable('unary', unaryCases, { vjp: 40, forward: 40, float32: 20, secondOrder: 15 });
