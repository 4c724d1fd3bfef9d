// Binary elementwise ops and where over broadcast pairs. Runs per op: 40 gradient checks + 40
// forward checks.
import { describeOpTable } from '../helpers/optable';
import { binaryCases } from './cases/binary';

describeOpTable('binary', binaryCases, { vjp: 40, forward: 40, secondOrder: 15 });
