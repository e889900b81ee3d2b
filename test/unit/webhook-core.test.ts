import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  MAX_WEBHOOK_BODY_BYTES,
  isJsonContentType,
  parseWebhookEvent,
  parseWebhookSecrets,
  requestsFromEvent,
  signWebhook,
  verifySignature,
} from '../../lambdas/core/webhook.js';

const SECRET = 'whsec_test_0123456789abcdef';
const OLD_SECRET = 'whsec_old_fedcba9876543210';
const NOW = 1_750_000_000;
const BODY = '{"eventId":"evt-1","type":"employee.terminated","emails":["Ann@Example.com"]}';

/** Independent of signWebhook: the documented formula, spelled out. */
function v1(secret: string, t: number, body: string): string {
  return createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
}

describe('webhook signature vectors', () => {
  it('accepts a valid signature computed with the documented formula', () => {
    expect(verifySignature(`t=${NOW},v1=${v1(SECRET, NOW, BODY)}`, BODY, [SECRET], NOW)).toEqual({ ok: true });
    expect(signWebhook(SECRET, BODY, NOW)).toBe(`t=${NOW},v1=${v1(SECRET, NOW, BODY)}`);
  });

  it('rejects a signature made with the wrong secret', () => {
    expect(verifySignature(`t=${NOW},v1=${v1('another-secret-of-16+', NOW, BODY)}`, BODY, [SECRET], NOW)).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('rejects stale and future timestamps beyond 300 s, accepts the edges', () => {
    const header = (t: number) => `t=${t},v1=${v1(SECRET, t, BODY)}`;
    expect(verifySignature(header(NOW - 301), BODY, [SECRET], NOW)).toEqual({ ok: false, reason: 'stale' });
    expect(verifySignature(header(NOW + 301), BODY, [SECRET], NOW)).toEqual({ ok: false, reason: 'stale' });
    expect(verifySignature(header(NOW - 300), BODY, [SECRET], NOW)).toEqual({ ok: true });
    expect(verifySignature(header(NOW + 300), BODY, [SECRET], NOW)).toEqual({ ok: true });
  });

  it('rejects a tampered body and a tampered timestamp', () => {
    const header = `t=${NOW},v1=${v1(SECRET, NOW, BODY)}`;
    expect(verifySignature(header, BODY.replace('Ann', 'Bob'), [SECRET], NOW)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifySignature(header.replace(`t=${NOW}`, `t=${NOW + 1}`), BODY, [SECRET], NOW)).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('rejects a missing header', () => {
    expect(verifySignature(undefined, BODY, [SECRET], NOW)).toEqual({ ok: false, reason: 'missing' });
    expect(verifySignature('  ', BODY, [SECRET], NOW)).toEqual({ ok: false, reason: 'missing' });
  });

  it('accepts rotation both ways: several v1 values, several configured secrets', () => {
    const both = signWebhook([OLD_SECRET, SECRET], BODY, NOW);
    expect(both.split(',v1=')).toHaveLength(3);
    expect(verifySignature(both, BODY, [SECRET], NOW)).toEqual({ ok: true });
    expect(verifySignature(`t=${NOW},v1=${v1(OLD_SECRET, NOW, BODY)}`, BODY, [SECRET, OLD_SECRET], NOW)).toEqual({ ok: true });
    expect(verifySignature(`t=${NOW},v1=${v1(OLD_SECRET, NOW, BODY)}`, BODY, [SECRET], NOW)).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('treats malformed headers as malformed, never throws', () => {
    const good = v1(SECRET, NOW, BODY);
    for (const header of [
      `v1=${good}`,
      `t=${NOW}`,
      `t=abc,v1=${good}`,
      `t=${NOW},t=${NOW},v1=${good}`,
      `t=${NOW},v1=${good.slice(2)}`,
      `t=${NOW},v1=${good}zz`,
      `t=${NOW};v1=${good}`,
      `t=${NOW},v1`,
      `t=${NOW},${Array.from({ length: 9 }, () => `v1=${good}`).join(',')}`,
      `t=${NOW},v1=${good},${'x'.repeat(3000)}=1`,
    ]) {
      expect(verifySignature(header, BODY, [SECRET], NOW), header.slice(0, 40)).toEqual({ ok: false, reason: 'malformed' });
    }
  });

  it('ignores unknown schemes next to a valid v1, and signs raw bytes (not re-encoded text)', () => {
    expect(verifySignature(`t=${NOW}, v0=abc, v1=${v1(SECRET, NOW, BODY)}`, BODY, [SECRET], NOW)).toEqual({ ok: true });
    const bytes = Buffer.from([0x7b, 0xff, 0x7d]);
    expect(verifySignature(signWebhook(SECRET, bytes, NOW), bytes, [SECRET], NOW)).toEqual({ ok: true });
    expect(verifySignature(signWebhook(SECRET, bytes, NOW), bytes.toString('utf8'), [SECRET], NOW)).toEqual({ ok: false, reason: 'mismatch' });
  });
});

describe('webhook secrets', () => {
  it('reads a raw secret, a JSON array and {"secrets": [...]}', () => {
    expect(parseWebhookSecrets('X', ` ${SECRET} `)).toEqual([SECRET]);
    expect(parseWebhookSecrets('X', JSON.stringify([SECRET, OLD_SECRET]))).toEqual([SECRET, OLD_SECRET]);
    expect(parseWebhookSecrets('X', JSON.stringify({ secrets: [SECRET] }))).toEqual([SECRET]);
  });

  it('refuses empty, short and malformed values, naming the source but never the value', () => {
    expect(() => parseWebhookSecrets('OFFBOARDING_WEBHOOK_SECRET', '')).toThrow(/OFFBOARDING_WEBHOOK_SECRET is empty/);
    expect(() => parseWebhookSecrets('X', 'short')).toThrow(/at least 16/);
    expect(() => parseWebhookSecrets('X', '{"secrets": [1]}')).toThrow(/JSON array of strings/);
    let message = '';
    try {
      parseWebhookSecrets('X', '{not json but-long-enough');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/does not parse/);
    expect(message).not.toContain('not json');
  });
});

describe('webhook content type', () => {
  it('accepts JSON media types with a UTF-8 charset only', () => {
    expect(isJsonContentType('application/json')).toBe(true);
    expect(isJsonContentType('Application/JSON; charset=UTF-8')).toBe(true);
    expect(isJsonContentType('application/cloudevents+json')).toBe(true);
    expect(isJsonContentType('application/json; charset=latin1')).toBe(false);
    expect(isJsonContentType('text/plain')).toBe(false);
    expect(isJsonContentType('application/x-www-form-urlencoded')).toBe(false);
    expect(isJsonContentType(undefined)).toBe(false);
  });
});

describe('webhook event → requests', () => {
  it('maps the bulk form to a webhook request with a deterministic id, emails normalised and de-duplicated', () => {
    const event = parseWebhookEvent({ eventId: 'evt-1', type: 'employee.terminated', emails: [' Ann@Example.com', 'ann@example.com', 'bo@x.io'], reason: 'left' });
    expect(event.ok).toBe(true);
    if (!event.ok) return;
    const requests = requestsFromEvent(event.value);
    expect(requests).toEqual({
      ok: true,
      value: [{ requestId: 'hr-evt-1', type: 'employee.terminated', emails: ['ann@example.com', 'bo@x.io'], source: 'webhook', reason: 'left', dryRun: false }],
    });
  });

  it('maps the single-employee form, keeping effectiveAt', () => {
    const event = parseWebhookEvent({ eventId: 'e2', type: 'employee.terminated', employee: { email: 'Z@Y.com', id: 'E-7' }, effectiveAt: '2030-01-01T00:00:00Z' });
    expect(event).toEqual({ ok: true, value: { eventId: 'e2', type: 'employee.terminated', emails: ['z@y.com'], effectiveAt: '2030-01-01T00:00:00Z' } });
  });

  it('splits more than 1,000 emails into deterministic parts', () => {
    const emails = Array.from({ length: 2500 }, (_, i) => `u${i}@example.com`);
    const event = parseWebhookEvent({ eventId: 'big', type: 'employee.terminated', emails });
    if (!event.ok) throw new Error(event.reason);
    const parts = requestsFromEvent(event.value);
    if (!parts.ok) throw new Error(parts.reason);
    expect(parts.value.map((p) => [p.requestId, p.emails.length])).toEqual([
      ['hr-big.p1of3', 1000],
      ['hr-big.p2of3', 1000],
      ['hr-big.p3of3', 500],
    ]);
  });

  it('names the offending field', () => {
    const reason = (json: unknown) => {
      const parsed = parseWebhookEvent(json);
      return parsed.ok ? 'ok' : parsed.reason;
    };
    expect(reason({ eventId: 'e', type: 'employee.terminated', emails: ['ok@x.com', 'nope'] })).toBe('emails.1: not a valid email address');
    expect(reason({ eventId: 'e', type: 'employee.hired', emails: ['ok@x.com'] })).toMatch(/^type:/);
    expect(reason({ eventId: 'e', type: 'employee.terminated', emails: ['ok@x.com'], extra: 1 })).toBe('unknown field: extra');
    expect(reason({ eventId: 'e', type: 'employee.terminated', employee: { email: 'a@b.co' }, reason: 'x' })).toBe('unknown field: reason');
    expect(reason({ eventId: 'e', type: 'employee.terminated', employee: { email: 'a@b.co', name: 'A' } })).toBe('unknown field: employee.name');
    expect(reason({ type: 'employee.terminated', emails: ['ok@x.com'] })).toMatch(/^eventId:/);
    expect(reason({ eventId: 'has space', type: 'employee.terminated', emails: ['ok@x.com'] })).toMatch(/^eventId:/);
    expect(reason({ eventId: 'e', type: 'employee.terminated', emails: [] })).toMatch(/^emails:/);
    expect(reason({ eventId: 'e', type: 'employee.terminated', emails: ['a@b.co'], effectiveAt: 'tomorrow' })).toMatch(/^effectiveAt:/);
    expect(reason([1, 2])).toBe('body: must be a JSON object');
    expect(MAX_WEBHOOK_BODY_BYTES).toBe(262_144);
  });
});
