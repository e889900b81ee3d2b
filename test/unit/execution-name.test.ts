import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { executionNameFor, isValidExecutionName } from '../../lambdas/core/execution-name.js';

describe('executionNameFor', () => {
  it('keeps safe ids as they are', () => {
    expect(executionNameFor('hr-evt-001')).toBe('hr-evt-001');
    expect(executionNameFor('A'.repeat(80))).toBe('A'.repeat(80));
  });

  it('turns unsafe or long ids into a readable prefix plus a hash', () => {
    const name = executionNameFor('workday:2026-11-27/evt+7');
    expect(name).toMatch(/^workday-2026-11-27-evt-7_[0-9a-f]{20}$/);
    const long = executionNameFor('x'.repeat(81));
    expect(long.length).toBeLessThanOrEqual(80);
    expect(long.startsWith('x'.repeat(59) + '_')).toBe(true);
    expect(executionNameFor('@@@')).toMatch(/^req_[0-9a-f]{20}$/);
  });

  it('always yields a valid name, deterministically', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 300 }), (id) => {
        const name = executionNameFor(id);
        expect(isValidExecutionName(name)).toBe(true);
        expect(executionNameFor(id)).toBe(name);
      }),
      { numRuns: 500 },
    );
  });

  it('never maps two different ids to one name, even ids that differ only in unsafe characters', () => {
    expect(executionNameFor('a/b')).not.toBe(executionNameFor('a:b'));
    expect(executionNameFor('a-b')).not.toBe(executionNameFor('a/b'));
    // A safe id shaped like a hashed name stays distinct: pass-through names never contain '_'.
    const hashed = executionNameFor('a/b');
    expect(executionNameFor(hashed)).not.toBe(executionNameFor('a/b'));
    fc.assert(
      fc.property(fc.string({ maxLength: 120 }), fc.string({ maxLength: 120 }), (a, b) => {
        fc.pre(a.length > 0 && b.length > 0 && a !== b);
        expect(executionNameFor(a)).not.toBe(executionNameFor(b));
      }),
      { numRuns: 500 },
    );
  });
});
