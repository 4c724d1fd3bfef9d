// A new op is covered the moment it is added: every primitive in the OPS table and every function
// the frontend exports must have an entry in one of the family case tables (test/ops/cases/*).
import { describe, expect, it } from 'vitest';
import * as F from '../../src/graph/functional';
import { OPS } from '../../src/ops';
import * as cases from './cases';

const covered = new Set(Object.values(cases).flatMap((table) => Object.keys(table)));

describe('op table coverage', () => {
  it('every primitive in OPS has a case', () => {
    const missing = Object.keys(OPS).filter((op) => !covered.has(op));
    expect(missing, 'primitives without a case in test/ops/cases').toEqual([]);
  });

  it('every frontend op (graph/functional exports) has a case', () => {
    const exported = Object.entries(F).flatMap(([name, v]) => (typeof v === 'function' ? [name] : []));
    expect(exported.length).toBeGreaterThan(30);
    const missing = exported.filter((name) => !covered.has(name));
    expect(missing, 'frontend ops without a case in test/ops/cases').toEqual([]);
  });

  it('every case names a real op (no stale entries)', () => {
    const known = new Set([...Object.keys(OPS), ...Object.keys(F)]);
    expect([...covered].filter((name) => !known.has(name))).toEqual([]);
  });
});
