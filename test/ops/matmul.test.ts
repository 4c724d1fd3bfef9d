// matmul and dot: 2-D, batched with broadcast batch dims, 1-D operands. Runs per op: 40 gradient
// checks + 40 forward checks.
import { describeOpTable } from '../helpers/optable';
import { matmulCases } from './cases/matmul';

describeOpTable('matmul', matmulCases, { vjp: 40, forward: 40, secondOrder: 15 });
