// Movement ops (views and copies) with drawn arguments. Runs per op: 40 gradient checks + 40
// forward checks.
import { describeOpTable } from '../helpers/optable';
import { movementCases } from './cases/movement';

describeOpTable('movement', movementCases, { vjp: 40, forward: 40, secondOrder: 15 });
