import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AccessInventory } from '../../lambdas/core/access-inventory.js';
import {
  EVIDENCE_OUTCOMES,
  EvidenceReconciliationError,
  checkEvidenceQuery,
  evidenceRow,
  slaMissesOf,
  slaVerdict,
  summarizeEvidence,
  type EvidenceOutcome,
  type EvidenceRow,
  type EvidenceState,
} from '../../lambdas/core/evidence.js';
import type { Outcome } from '../../lambdas/core/outcome.js';
import { summarizeAccess } from '../../lambdas/core/access-inventory.js';

const NOW = new Date('2026-12-10T12:00:00.000Z');
const state = (over: Partial<EvidenceState> = {}): EvidenceState => ({
  requestId: 'bamboohr:evt-1',
  status: 'COMPLETED',
  createdAt: '2026-12-04T10:00:00.000Z',
  updatedAt: '2026-12-04T10:05:00.000Z',
  source: 'webhook',
  request: { emails: ['ann@example.com'], effectiveAt: '2026-12-05T00:00:00.000Z', effectiveAtOriginal: '2026-12-04', source: 'webhook' },
  ...over,
});
const access: AccessInventory = {
  status: 'available',
  userId: 'u1',
  role: { type: 'PREDEFINED', name: 'MEMBER' },
  roleBindings: [{ id: 'b1', roleId: 'r1', roleName: 'Space Admin', resourceType: 'SPACE', resourceId: 's1', resourceName: 'ml-prod' }],
  userKeys: [{ id: 'k1', name: 'laptop', keyType: 'USER', status: 'ACTIVE', redactedKey: 'ak-…1234', createdAt: '2026-01-01T00:00:00Z' }],
  serviceKeys: [],
  spacesChecked: [{ id: 's1', name: 'ml-prod' }],
  counts: { roleBindings: 1, userKeys: 1, serviceKeys: 0, spacesChecked: 1 },
};

describe('SLA verdict', () => {
  const termination = '2026-12-05T00:00:00.000Z';
  it('met at the deadline, missed a millisecond after, per configured hours', () => {
    expect(slaVerdict('DELETED', termination, '2026-12-06T00:00:00.000Z', NOW, 24)).toBe('met');
    expect(slaVerdict('DELETED', termination, '2026-12-06T00:00:00.001Z', NOW, 24)).toBe('missed');
    expect(slaVerdict('DELETED', termination, '2026-12-06T00:00:00.001Z', NOW, 48)).toBe('met');
  });
  it('not removed: pending before the deadline, missed after; nothing to remove: not applicable', () => {
    for (const outcome of ['FAILED', 'HELD', 'REJECTED', 'PENDING'] as const) {
      expect(slaVerdict(outcome, termination, undefined, new Date('2026-12-05T23:59:59Z'), 24)).toBe('pending');
      expect(slaVerdict(outcome, termination, undefined, new Date('2026-12-06T00:00:01Z'), 24)).toBe('missed');
    }
    for (const outcome of ['NOT_FOUND', 'PROTECTED', 'DRY_RUN'] as const) expect(slaVerdict(outcome, termination, undefined, NOW, 24)).toBe('not_applicable');
  });
  it('counts only deletions past the deadline as misses (the SlaMissed metric)', () => {
    const o = (recordedAt: string, status: 'DELETED' | 'NOT_FOUND' = 'DELETED'): Outcome => ({ requestId: 'r', email: `${recordedAt}@x.io`, attempt: 1, recordedAt, status });
    expect(slaMissesOf([o('2026-12-05T10:00:00Z'), o('2026-12-06T10:00:00Z'), o('2026-12-07T10:00:00Z', 'NOT_FOUND')], termination, 24)).toBe(1);
    expect(slaMissesOf([o('2026-12-06T10:00:00Z')], undefined, 24)).toBe(0);
  });
});

describe('evidence row', () => {
  it('shows the termination as sent and as interpreted, removal, verification, access and the SLA', () => {
    const own: Outcome = { requestId: 'bamboohr:evt-1', email: 'ann@example.com', userId: 'u1', attempt: 1, recordedAt: '2026-12-05T02:00:00.000Z', status: 'DELETED', verifiedAt: '2026-12-05T02:00:01.000Z', access };
    const row = evidenceRow({ state: state(), email: 'ann@example.com', own, related: [own] }, NOW, 24);
    expect(row).toMatchObject({
      email: 'ann@example.com',
      hrEventId: 'bamboohr:evt-1',
      source: 'bamboohr',
      terminationAsSent: '2026-12-04',
      terminationAt: '2026-12-05T00:00:00.000Z',
      receivedAt: '2026-12-04T10:00:00.000Z',
      outcome: 'DELETED',
      deletedAt: '2026-12-05T02:00:00.000Z',
      verifiedAt: '2026-12-05T02:00:01.000Z',
      timeToRemovalMs: 2 * 3_600_000,
      slaDeadline: '2026-12-06T00:00:00.000Z',
      sla: 'met',
      attempts: 1,
      activityAfterTermination: 'not recorded',
    });
    expect(row.accessRemoved).toBe('role MEMBER; bindings: Space Admin on space ml-prod; USER keys: 1; SERVICE keys: 0');
  });

  it('an older DELETED record without verification or inventory says so instead of inventing them', () => {
    const own: Outcome = { requestId: 'r', email: 'bo@example.com', attempt: 1, recordedAt: '2026-12-04T10:01:00.000Z', status: 'DELETED' };
    const row = evidenceRow({ state: state({ requestId: 'r', source: 'cli', request: { emails: ['bo@example.com'] } }), email: 'bo@example.com', own, related: [own] }, NOW, 24);
    expect(row.verifiedAt).toBeUndefined();
    expect(row.accessRemoved).toBe('not recorded');
    // No date from HR: effective on receipt.
    expect(row).toMatchObject({ source: 'cli', terminationAsSent: '', terminationAt: '2026-12-04T10:00:00.000Z', timeToRemovalMs: 60_000, sla: 'met' });
  });

  it('a re-drive that deleted the leaver later decides the outcome and the SLA; attempts add up across both', () => {
    const failed: Outcome = { requestId: 'bamboohr:evt-1', email: 'ann@example.com', attempt: 3, recordedAt: '2026-12-05T01:00:00.000Z', status: 'FAILED', errorClass: 'ServerError', retryable: true };
    const redriven: Outcome = { requestId: 'redrive-abc', email: 'ann@example.com', attempt: 1, recordedAt: '2026-12-06T06:00:00.000Z', status: 'DELETED' };
    const row = evidenceRow({ state: state(), email: 'ann@example.com', own: failed, related: [failed, redriven] }, NOW, 24);
    expect(row).toMatchObject({ outcome: 'DELETED', outcomeRequestId: 'redrive-abc', attempts: 2, sla: 'missed', timeToRemovalMs: 30 * 3_600_000 });
  });

  it('a request still waiting is PENDING, and missed once its deadline passed', () => {
    const waiting = state({ status: 'RUNNING', request: { emails: ['cy@example.com'], effectiveAt: '2026-12-20T00:00:00.000Z' } });
    expect(evidenceRow({ state: waiting, email: 'cy@example.com', related: [] }, NOW, 24)).toMatchObject({ outcome: 'PENDING', sla: 'pending' });
    expect(evidenceRow({ state: waiting, email: 'cy@example.com', related: [] }, new Date('2026-12-22T00:00:00Z'), 24)).toMatchObject({ outcome: 'PENDING', sla: 'missed' });
  });
});

describe('reconciliation', () => {
  const row = (outcome: EvidenceOutcome, hrEventId: string): EvidenceRow =>
    evidenceRow(
      {
        state: state({ requestId: hrEventId, status: outcome === 'PENDING' ? 'RUNNING' : 'COMPLETED' }),
        email: `${hrEventId}@example.com`,
        ...(outcome === 'PENDING'
          ? {}
          : { own: { requestId: hrEventId, email: 'x', attempt: 1, recordedAt: '2026-12-05T01:00:00Z', status: outcome, reason: 'r', errorClass: 'E', retryable: false } }),
        related: [],
      },
      NOW,
      24,
    );

  it('every leaver is counted under exactly one outcome and one SLA status (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...EVIDENCE_OUTCOMES), { maxLength: 40 }), (outcomes) => {
        const rows = outcomes.map((o, i) => row(o, `e${i}`));
        const summary = summarizeEvidence(rows, rows.map((r) => r.hrEventId));
        expect(Object.values(summary.byOutcome).reduce((a, b) => a + b, 0)).toBe(rows.length);
        expect(Object.values(summary.sla).reduce((a, b) => a + b, 0)).toBe(rows.length);
        for (const o of EVIDENCE_OUTCOMES) expect(summary.byOutcome[o]).toBe(outcomes.filter((x) => x === o).length);
        expect(summary.eventsReceived).toBe(rows.length);
      }),
    );
  });

  it('refuses a population where an event received has no row', () => {
    expect(() => summarizeEvidence([row('DELETED', 'e1')], ['e1', 'e2'])).toThrow(new EvidenceReconciliationError('evidence: events received without a row: e2'));
  });

  it('SLA compliance and time-to-removal statistics come from the DELETED rows only', () => {
    const rows = [row('DELETED', 'a'), row('FAILED', 'b'), row('NOT_FOUND', 'c')];
    const summary = summarizeEvidence(rows, ['a', 'b', 'c']);
    // a: deleted 1 h after termination (met); b: failed past the deadline (missed); c: not applicable.
    expect(summary.sla).toEqual({ met: 1, missed: 1, pending: 0, not_applicable: 1 });
    expect(summary.slaCompliance).toBe(0.5);
    expect(summary.medianTimeToRemovalMs).toBe(3_600_000);
  });
});

describe('query', () => {
  it('names the offending field', () => {
    expect(() => checkEvidenceQuery({ from: 'yesterday', to: '2026-12-01', slaHours: 24 })).toThrow(/^from: expected an ISO-8601/);
    expect(() => checkEvidenceQuery({ from: '2026-12-01', to: '2026-13-45', slaHours: 24 })).toThrow(/^to: expected an ISO-8601/);
    expect(() => checkEvidenceQuery({ from: '2026-12-02', to: '2026-12-01', slaHours: 24 })).toThrow(/^from: must be before to/);
    expect(checkEvidenceQuery({ from: '2026-12-01', to: '2026-12-02T00:00:00+01:00', slaHours: 24 })).toEqual({ from: '2026-12-01T00:00:00.000Z', to: '2026-12-01T23:00:00.000Z', slaHours: 24 });
  });
  it('summarizes no inventory as not recorded', () => {
    expect(summarizeAccess(undefined)).toBe('not recorded');
  });
});
