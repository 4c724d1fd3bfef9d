// Every family's case table, for the coverage test.
export { binaryCases } from './binary';
export { composedCases } from './composed';
export { matmulCases } from './matmul';
export { movementCases } from './movement';
export { reduceCases } from './reduce';
export { unaryCases } from './unary';
export { indexingCases } from './indexing';
export { convCases } from './conv';
