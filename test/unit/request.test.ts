import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MAX_EMAILS_PER_REQUEST, MAX_REQUEST_MESSAGE_BYTES, parseRequest, parseRequestJson, requestMessageBytes, splitRequest } from '../../lambdas/core/request.js';

interface Fixtures {
  valid: { name: string; input: unknown; expected: unknown }[];
  invalid: { name: string; input: unknown; reasonIncludes: string }[];
}
const fixtures = JSON.parse(readFileSync(new URL('../fixtures/requests.json', import.meta.url), 'utf8')) as Fixtures;

describe('request schema', () => {
  it.each(fixtures.valid)('accepts: $name', ({ input, expected }) => {
    expect(parseRequest(input)).toEqual({ ok: true, value: expected });
  });

  it.each(fixtures.invalid)('rejects with the field named: $name', ({ input, reasonIncludes }) => {
    const result = parseRequest(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(reasonIncludes);
  });

  it('reports a body that is not JSON instead of throwing', () => {
    expect(parseRequestJson('{"requestId": ')).toEqual({ ok: false, reason: 'body: not valid JSON' });
  });

  it('counts the limit after de-duplication', () => {
    const emails = Array.from({ length: MAX_EMAILS_PER_REQUEST }, (_, i) => `user${i}@example.com`);
    const withDuplicates = [...emails, ...emails.slice(0, 10).map((e) => e.toUpperCase())];
    const ok = parseRequest({ requestId: 'big', type: 'employee.terminated', emails: withDuplicates });
    expect(ok.ok && ok.value.emails.length).toBe(MAX_EMAILS_PER_REQUEST);
    const tooMany = parseRequest({ requestId: 'big', type: 'employee.terminated', emails: [...emails, 'one-more@example.com'] });
    expect(tooMany.ok).toBe(false);
    if (!tooMany.ok) expect(tooMany.reason).toContain('at most 1000');
  });
});

describe('splitRequest', () => {
  const emails = Array.from({ length: 2501 }, (_, i) => `p${i}@example.com`);

  it('splits into deterministic parts that together hold every distinct email once', () => {
    const result = splitRequest({ requestId: 'hr-9', type: 'employee.terminated', emails: [...emails, 'P0@EXAMPLE.COM'], source: 'audit' });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.map((r) => r.requestId)).toEqual(['hr-9.p1of3', 'hr-9.p2of3', 'hr-9.p3of3']);
    expect(result.value.map((r) => r.emails.length)).toEqual([1000, 1000, 501]);
    expect(result.value.flatMap((r) => r.emails)).toEqual(emails);
    expect(result.value.every((r) => r.source === 'audit')).toBe(true);
    const again = splitRequest({ requestId: 'hr-9', type: 'employee.terminated', emails, source: 'audit' });
    expect(again.ok && again.value.map((r) => r.requestId)).toEqual(['hr-9.p1of3', 'hr-9.p2of3', 'hr-9.p3of3']);
  });

  it('splits 1,000 long addresses (too large for one queue message) into parts that each fit, deterministically', () => {
    const domain = `${'a'.repeat(58)}.${'b'.repeat(58)}.${'c'.repeat(58)}.example.com`;
    const long = Array.from({ length: 1000 }, (_, i) => `${`user${i}`.padEnd(60, 'x')}@${domain}`);
    expect(long[0]?.length).toBeGreaterThan(240);
    const result = splitRequest({ requestId: 'hr-long', type: 'employee.terminated', emails: long });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.map((r) => r.requestId)).toEqual(['hr-long.p1of2', 'hr-long.p2of2']);
    expect(result.value.every((r) => requestMessageBytes(r) <= MAX_REQUEST_MESSAGE_BYTES)).toBe(true);
    expect(result.value.flatMap((r) => r.emails)).toEqual(long);
  });

  it('keeps a small input as one request with its own id', () => {
    const result = splitRequest({ requestId: 'hr-1', type: 'employee.terminated', emails: ['a@example.com'] });
    expect(result.ok && result.value.map((r) => r.requestId)).toEqual(['hr-1']);
  });

  it('names the part and the field when a part is invalid', () => {
    const bad = [...emails.slice(0, 1500), 'broken'];
    const result = splitRequest({ requestId: 'hr-2', type: 'employee.terminated', emails: bad });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(/^part 2 of 2: emails\.500: not a valid email address/);
  });
});
