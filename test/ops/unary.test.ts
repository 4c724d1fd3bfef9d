// Unary elementwise ops: VJP vs finite differences and forward vs the JS reference, every entry
// of the table. Runs per op: 40 gradient checks + 40 forward checks (random shapes rank 0–4,
// random layouts).
import { describeOpTable } from '../helpers/optable';
import { unaryCases } from './cases/unary';

describeOpTable('unary', unaryCases, { vjp: 40, forward: 40, secondOrder: 15 });
