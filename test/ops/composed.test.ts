// Composed frontend ops. Runs per op: 40 gradient checks + 40 forward checks.
import { describeOpTable } from '../helpers/optable';
import { composedCases } from './cases/composed';

describeOpTable('composed', composedCases, { vjp: 40, forward: 40, secondOrder: 15 });
