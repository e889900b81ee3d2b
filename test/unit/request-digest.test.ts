import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { identityVerdict, parseRequest, requestDigest, type OffboardingRequest } from '../../lambdas/core/request.js';

const local = fc.stringMatching(/^[a-z][a-z0-9.]{0,8}$/).filter((s) => !s.endsWith('.') && !s.includes('..'));
const email = fc.tuple(local, fc.constantFrom('example.com', 'corp.io', 'x.co')).map(([l, d]) => `${l}@${d}`);
const emails = fc.uniqueArray(email, { minLength: 1, maxLength: 8 });
const instant = fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2027, 0, 1) }).map((ms) => Math.floor(ms / 1000) * 1000);

function request(fields: Partial<OffboardingRequest> & { emails: string[] }): OffboardingRequest {
  const parsed = parseRequest({ requestId: 'hr-1', type: 'employee.terminated', ...fields });
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.value;
}

const upperSome = (text: string, mask: number) => [...text].map((c, i) => ((mask >> i % 30) & 1 ? c.toUpperCase() : c)).join('');

describe('requestDigest: a request\'s identity is its id plus this digest of its content', () => {
  it('order, case and repeats of the emails, source, reason and the zone notation of effectiveAt do not change it', () => {
    fc.assert(
      fc.property(emails, fc.integer(), fc.integer({ min: 0, max: 2 ** 30 }), instant, fc.boolean(), (list, seed, mask, at, dryRun) => {
        const shuffled = [...list].sort((a, b) => ((a.length * seed) % 7) - ((b.length * seed) % 7) || b.localeCompare(a));
        const variant = [...shuffled.map((e) => upperSome(e, mask)), ...(list[0] ? [` ${list[0].toUpperCase()} `] : [])];
        const zoned = new Date(at + 2 * 3_600_000).toISOString().replace('.000Z', '+02:00');
        const base = request({ emails: list, effectiveAt: new Date(at).toISOString(), dryRun, source: 'webhook' });
        const same = request({ emails: variant, effectiveAt: zoned, dryRun, source: 'cli', reason: 'reworded' });
        expect(requestDigest(same)).toBe(requestDigest(base));
        expect(identityVerdict({ digest: requestDigest(base) }, same)).toBe('duplicate');
      }),
    );
  });

  it('any change of content changes it: an email added, removed or replaced, effectiveAt, dryRun, approvesHeldRequest', () => {
    fc.assert(
      fc.property(emails, email, instant, fc.integer({ min: 1, max: 10 ** 9 }), fc.boolean(), (list, extra, at, shift, dryRun) => {
        const base = request({ emails: list, effectiveAt: new Date(at).toISOString(), dryRun });
        const digest = requestDigest(base);
        const changed: OffboardingRequest[] = [
          { ...base, dryRun: !dryRun },
          { ...base, effectiveAt: new Date(at + shift).toISOString() },
          { ...base, effectiveAt: undefined },
          { ...base, approvesHeldRequest: 'hr-0' },
        ];
        if (!list.includes(extra)) changed.push({ ...base, emails: [...list, extra] }, { ...base, emails: [extra, ...list.slice(1)] });
        if (list.length > 1) changed.push({ ...base, emails: list.slice(1) });
        for (const other of changed) {
          expect(requestDigest(other)).not.toBe(digest);
          expect(identityVerdict({ digest }, other)).toBe('conflict');
        }
      }),
    );
  });

  it('compares against a stored request when the state has no digest, and says unknown when it has neither', () => {
    const stored = request({ emails: ['ann@example.com'] });
    expect(identityVerdict(undefined, stored)).toBe('new');
    expect(identityVerdict({ request: stored }, request({ emails: ['ANN@example.com'] }))).toBe('duplicate');
    expect(identityVerdict({ request: stored }, request({ emails: ['bob@example.com'] }))).toBe('conflict');
    expect(identityVerdict({}, stored)).toBe('unknown');
  });
});
