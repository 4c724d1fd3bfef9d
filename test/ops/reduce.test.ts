// Reductions (sum, max, min, mean) over random axis arguments. Runs per op: 40 gradient checks +
// 40 forward checks.
import { describeOpTable } from '../helpers/optable';
import { reduceCases } from './cases/reduce';

describeOpTable('reduce', reduceCases, { vjp: 40, forward: 40, secondOrder: 15 });
