/**
 * Native HR adapters, pure: each provider's authenticity scheme (valid, wrong secret, tampered body, rotated
 * secrets, stale where the provider signs a timestamp) and the mapping of payload fixtures written from the docs.
 */
import { describe, expect, it } from 'vitest';
import { HR_ADAPTERS } from '../../lambdas/core/hr/registry.js';
import { HR_PROVIDERS, hrRequestId, hrTerminationRequest, type HrHttpRequest, type HrPersonEvent, type HrProvider } from '../../lambdas/core/hr/types.js';
import { HR_SECRETS, HR_TERMINATIONS, hrFixture, matching, providerHeaders } from '../support/hr.js';

const NOW = 1_796_000_000;

function request(provider: HrProvider, body: string, headers: Record<string, string>): HrHttpRequest {
  return { method: 'POST', headers, body: Buffer.from(body, 'utf8') };
}

function mapFixture(provider: HrProvider, name: string) {
  const text = hrFixture(name);
  const adapter = HR_ADAPTERS[provider];
  return adapter.map(adapter.bodyFormat === 'form' ? Object.fromEntries(new URLSearchParams(text)) : JSON.parse(text));
}

describe.each(HR_PROVIDERS)('%s authenticity', (provider) => {
  const adapter = HR_ADAPTERS[provider];
  const body = hrFixture(HR_TERMINATIONS[provider].fixture);
  const secret = HR_SECRETS[provider];

  it('accepts the provider-signed body', () => {
    expect(adapter.authenticate(request(provider, body, providerHeaders(provider, secret, body, NOW)), [secret], NOW)).toEqual({ ok: true });
  });

  it('refuses a wrong secret and a missing header', () => {
    const forged = providerHeaders(provider, `${secret}-not-it`, body, NOW);
    expect(adapter.authenticate(request(provider, body, forged), [secret], NOW)).toEqual({ ok: false, reason: 'mismatch' });
    expect(adapter.authenticate(request(provider, body, { 'content-type': 'application/json' }), [secret], NOW)).toEqual({ ok: false, reason: 'missing' });
  });

  it('refuses a tampered body where the body is signed', () => {
    const headers = providerHeaders(provider, secret, body, NOW);
    const tampered = body.replace(/[0-9]/, (digit) => String((Number(digit) + 1) % 10));
    const check = adapter.authenticate(request(provider, tampered, headers), [secret], NOW);
    // Token schemes (Okta, Personio, Rippling) authenticate the sender, not the body: documented, not a gap here.
    if (['okta', 'personio', 'rippling'].includes(provider)) expect(check).toEqual({ ok: true });
    else expect(check).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('accepts either secret while rotating (old or new signer)', () => {
    const next = `${secret}-next-generation`;
    for (const signer of [secret, next]) {
      expect(adapter.authenticate(request(provider, body, providerHeaders(provider, signer, body, NOW)), [next, secret], NOW)).toEqual({ ok: true });
    }
  });

  it('treats the timestamp as the provider does (BambooHR: 5 minutes; others send none to check)', () => {
    const headers = providerHeaders(provider, secret, body, NOW - 301);
    const check = adapter.authenticate(request(provider, body, headers), [secret], NOW);
    if (provider === 'bamboohr') {
      expect(check).toEqual({ ok: false, reason: 'stale' });
      expect(adapter.authenticate(request(provider, body, providerHeaders(provider, secret, body, NOW - 299)), [secret], NOW)).toEqual({ ok: true });
    } else {
      // A redelivery days later (Gusto 16 tries, Personio 3 days) carries the same body and must still be accepted.
      expect(check).toEqual({ ok: true });
    }
  });
});

describe('mapping fixtures', () => {
  it('BambooHR: a status change is a termination to confirm by lookup; a name change is ignored', () => {
    expect(mapFixture('bamboohr', 'bamboohr-employee-updated-status.json')).toEqual([
      expect.objectContaining({ kind: 'termination', eventKey: '12345-4101:employee.terminated', subject: { employeeId: '4101' }, confirmWithLookup: true, keyWithTerminationDate: true }),
    ]);
    expect(mapFixture('bamboohr', 'bamboohr-employee-updated-name.json')).toEqual([{ kind: 'ignore', reason: matching(/without a status/) }]);
  });

  it('HiBob: employee.left is a thin termination effective on the day it fired; updates are ignored', () => {
    expect(mapFixture('hibob', 'hibob-employee-left.json')).toEqual([
      { kind: 'termination', eventKey: '640812-3332883884017713238:employee.left:2026-11-30', eventType: 'employee.left', subject: { employeeId: '3332883884017713238' }, effectiveDayOf: '2026-11-30T08:00:00.000Z' },
    ]);
    expect(mapFixture('hibob', 'hibob-employee-updated.json')).toEqual([{ kind: 'ignore', reason: matching(/employee.updated/) }]);
    expect(HR_ADAPTERS.hibob.setupCall?.('Ping test')).toMatchObject({ kind: 'handshake' });
  });

  it('Gusto: uuid is the key; termination_cancelled is a rescind; the verification token is a set-up call', () => {
    expect(mapFixture('gusto', 'gusto-employee-terminated.json')).toEqual([
      { kind: 'termination', eventKey: '7c0f2d1e-3b4a-4c5d-8e9f-0a1b2c3d4e5f', eventType: 'employee.terminated', subject: { employeeId: 'bcfc9744-0ab3-4ef3-ab0d-e728255d659c' } },
    ]);
    expect(mapFixture('gusto', 'gusto-termination-cancelled.json')).toEqual([expect.objectContaining({ kind: 'rescind', eventType: 'employee.termination_cancelled' })]);
    expect(HR_ADAPTERS.gusto.setupCall?.(hrFixture('gusto-verification.json'))).toMatchObject({ kind: 'handshake', response: { status: 200 } });
    expect(HR_ADAPTERS.gusto.setupCall?.(hrFixture('gusto-employee-terminated.json'))).toBeUndefined();
  });

  it('Deel: tracking_id is the key and completion_date the effective date; other events are ignored', () => {
    expect(mapFixture('deel', 'deel-contract-terminated.json')).toEqual([
      { kind: 'termination', eventKey: 'd5e2f0a4c3b2', eventType: 'contract.terminated', subject: { employeeId: '37nex2x' }, effective: '2026-11-30' },
    ]);
    expect(mapFixture('deel', 'deel-contract-created.json')).toEqual([{ kind: 'ignore', reason: matching(/contract.created/) }]);
  });

  it('Personio: no event id, so the key is (company, employment, event, day); other events ignored', () => {
    expect(mapFixture('personio', 'personio-employment-terminated.json')).toEqual([
      { kind: 'termination', eventKey: '47821-91234:employment.terminated:2026-11-30', eventType: 'employment.terminated', subject: { employeeId: '91234' }, effectiveDayOf: '2026-11-30T09:00:00Z' },
    ]);
    expect(mapFixture('personio', 'personio-person-updated.json')).toEqual([{ kind: 'ignore', reason: matching(/person.updated/) }]);
  });

  it('Rippling: form fields; EmployeeDeleted keyed by (company, employee, event), so a repeat maps onto the same request', () => {
    const first = mapFixture('rippling', 'rippling-employee-deleted.txt');
    expect(first).toEqual([{ kind: 'termination', eventKey: '5f1c2a3b4d5e6f708192a3b4-60a1f2e3d4c5b6a798877665:EmployeeDeleted', eventType: 'EmployeeDeleted', subject: { employeeId: '60a1f2e3d4c5b6a798877665' } }]);
    expect(mapFixture('rippling', 'rippling-employee-deleted.txt')).toEqual(first);
    expect(mapFixture('rippling', 'rippling-employee-updated.txt')).toEqual([{ kind: 'ignore', reason: matching(/EmployeeUpdated/) }]);
  });

  it('Okta: each event of a batch separately; deactivate carries the email, suspend is ignored on purpose', () => {
    expect(mapFixture('okta', 'okta-user-deactivated.json')).toEqual([
      { kind: 'termination', eventKey: '4a0a2b3c-74e5-11ee-8a5a-69d62fcd0f8b', eventType: 'user.lifecycle.deactivate', subject: { email: 'tom@example.com', employeeId: '00u2tomb' } },
      { kind: 'ignore', reason: matching(/user.lifecycle.suspend/) },
    ]);
    const challenge = HR_ADAPTERS.okta.challenge?.({ method: 'GET', headers: { 'x-okta-verification-challenge': 'X0ZzFq2n-example' }, body: new Uint8Array() });
    expect(challenge).toEqual({ status: 200, headers: { 'content-type': 'application/json' }, body: '{"verification":"X0ZzFq2n-example"}' });
    expect(HR_ADAPTERS.okta.challenge?.({ method: 'GET', headers: { 'x-okta-verification-challenge': '<script>' }, body: new Uint8Array() })).toBeUndefined();
  });

  it('names the missing field of a malformed payload', () => {
    expect(HR_ADAPTERS.gusto.map({ event_type: 'employee.terminated', entity_type: 'Employee', entity_uuid: 'x' })).toEqual({ error: 'uuid: is required' });
    expect(HR_ADAPTERS.deel.map({ data: { meta: { event_type: 'contract.terminated' }, resource: {} } })).toEqual({ error: 'data.resource.id: is required' });
    expect(HR_ADAPTERS.okta.map({ data: {} })).toEqual({ error: 'data.events: must be an array' });
  });
});

describe('hrTerminationRequest', () => {
  const event: HrPersonEvent = { kind: 'termination', eventKey: 'd5e2f0a4c3b2', eventType: 'contract.terminated', subject: { employeeId: '37nex2x' }, effective: '2030-06-14' };

  it('derives the request id from the provider key, keeps the original date and the interpreted instant', () => {
    const result = hrTerminationRequest('deel', event, 'Zara.Ahmed@Example.com', { timeZone: 'Europe/Berlin', graceMinutes: 0 });
    expect(result.ok).toBe(true);
    expect(result.ok && result.value).toMatchObject({
        requestId: 'deel:d5e2f0a4c3b2',
        emails: ['zara.ahmed@example.com'],
        effectiveAt: '2030-06-14T22:00:00.000Z',
        effectiveAtOriginal: '2030-06-14',
        source: 'webhook',
        reason: 'deel contract.terminated',
    });
  });

  it('hashes keys a request id cannot hold, deterministically', () => {
    const id = hrRequestId('okta', 'weird key with spaces');
    expect(id).toMatch(/^okta:h-[0-9a-f]{40}$/);
    expect(hrRequestId('okta', 'weird key with spaces')).toBe(id);
  });

  it('refuses an effective date it cannot interpret, naming it', () => {
    expect(hrTerminationRequest('deel', { ...event, effective: 'soon' }, 'zara.ahmed@example.com', { timeZone: 'UTC', graceMinutes: 0 })).toEqual({
      ok: false,
      reason: matching(/^effective date: .*soon/),
    });
  });
});
