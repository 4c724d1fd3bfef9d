// Indexing ops with drawn shapes, axes and in-range indices. Fast-check runs per op: 40 VJP checks
// against float64 central differences, 40 float64 and 20 float32 forward checks against the JS
// reference, 15 second-order checks (gather's VJP is scatterAdd and scatterAdd's is gather).
import { describeOpTable } from '../helpers/optable';
import { indexingCases } from './cases/indexing';

describeOpTable('indexing', indexingCases, { vjp: 40, forward: 40, float32: 20, secondOrder: 15 });
