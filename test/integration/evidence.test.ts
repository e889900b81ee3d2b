/**
 * Evidence rows from a real ledger (dynalite): the records are written through the ledger adapter, DELETED ones
 * with the verification and access fields the delete task records, and the SLA-miss metric is counted by the
 * delete task itself against the sandbox over HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArizeUsersClient } from '../../lambdas/arize/index.js';
import type { AccessInventory } from '../../lambdas/core/access-inventory.js';
import { buildEvidence } from '../../lambdas/core/evidence.js';
import { loadRuntimeConfig } from '../../lambdas/core/runtime-config.js';
import { deleteChunk } from '../../lambdas/usecases/delete.js';
import type { WorkflowDeps } from '../../lambdas/usecases/ports.js';
import { demoDirectory, startSandbox, type Sandbox } from '../../local/sandbox/server.js';
import { startLedgerTestBed, type LedgerTestBed } from '../support/dynalite.js';
import { silentLog } from '../support/records.js';

let bed: LedgerTestBed;
let sandbox: Sandbox;
beforeAll(async () => {
  bed = await startLedgerTestBed();
  sandbox = await startSandbox({ seed: demoDirectory() });
});
afterAll(async () => {
  await sandbox.close();
  await bed.close();
});

const access: AccessInventory = {
  status: 'available',
  userId: 'u-ann',
  role: { type: 'PREDEFINED', name: 'MEMBER' },
  roleBindings: [],
  userKeys: [{ id: 'k1', name: 'cli', keyType: 'USER', status: 'ACTIVE', redactedKey: 'ak-…99', createdAt: '2026-01-01T00:00:00Z' }],
  serviceKeys: [{ id: 'k2', name: 'etl', keyType: 'SERVICE', status: 'ACTIVE', redactedKey: 'ak-…42', createdAt: '2026-02-01T00:00:00Z', spaceId: 's1', spaceName: 'prod' }],
  spacesChecked: [{ id: 's1', name: 'prod' }],
  counts: { roleBindings: 0, userKeys: 1, serviceKeys: 1, spacesChecked: 1 },
};

describe('buildEvidence over the ledger', () => {
  it('every event received in the period appears with its outcome; follow-ups fold in; counts add up', async () => {
    const { ledger } = await bed.freshLedger();
    const at = (iso: string) => iso;
    // In the period: an HR event deleted with verification and inventory, a CLI request with a FAILED leaver
    // later deleted by a re-drive, a waiting future request, a rejected HR event without an address.
    await ledger.createRequestState({
      requestId: 'bamboohr:evt-1', status: 'COMPLETED', at: at('2026-12-04T10:00:00.000Z'), source: 'webhook',
      request: { requestId: 'bamboohr:evt-1', type: 'employee.terminated', emails: ['ann@example.com', 'nobody@example.com'], effectiveAt: '2026-12-05T00:00:00.000Z', effectiveAtOriginal: '2026-12-04', source: 'webhook', dryRun: false },
    });
    await ledger.recordOutcomes([
      { requestId: 'bamboohr:evt-1', email: 'ann@example.com', userId: 'u-ann', attempt: 1, recordedAt: '2026-12-05T00:30:00.000Z', status: 'DELETED', verifiedAt: '2026-12-05T00:30:02.000Z', access, activityAfterTermination: { status: 'available', from: '2026-12-05T00:00:00.000Z', to: '2026-12-05T00:30:00.000Z', entries: [] } },
      { requestId: 'bamboohr:evt-1', email: 'nobody@example.com', attempt: 0, recordedAt: '2026-12-05T00:29:00.000Z', status: 'NOT_FOUND' },
    ]);
    await ledger.createRequestState({
      requestId: 'ticket-7', status: 'COMPLETED_WITH_FAILURES', at: '2026-12-04T11:00:00.000Z', source: 'cli',
      request: { requestId: 'ticket-7', type: 'employee.terminated', emails: ['bo@example.com'], source: 'cli', dryRun: false },
    });
    await ledger.recordOutcomes([{ requestId: 'ticket-7', email: 'bo@example.com', userId: 'u-bo', attempt: 3, recordedAt: '2026-12-04T11:10:00.000Z', status: 'FAILED', errorClass: 'ServerError', retryable: true }]);
    await ledger.createRequestState({
      requestId: 'redrive-1', status: 'COMPLETED', at: '2026-12-05T15:00:00.000Z', source: 'redrive',
      request: { requestId: 'redrive-1', type: 'employee.terminated', emails: ['bo@example.com'], source: 'redrive', dryRun: false },
    });
    await ledger.recordOutcomes([{ requestId: 'redrive-1', email: 'bo@example.com', userId: 'u-bo', attempt: 1, recordedAt: '2026-12-05T15:01:00.000Z', status: 'DELETED' }]);
    await ledger.createRequestState({
      requestId: 'hibob:evt-9', status: 'RUNNING', at: '2026-12-06T09:00:00.000Z', source: 'webhook',
      request: { requestId: 'hibob:evt-9', type: 'employee.terminated', emails: ['cy@example.com'], effectiveAt: '2026-12-20T00:00:00.000Z', source: 'webhook', dryRun: false },
    });
    await ledger.createRequestState({ requestId: 'rejected-abc', status: 'REJECTED', at: '2026-12-06T10:00:00.000Z', source: 'hr:personio', reason: 'personio has no work email on file for employee 42' });
    // Outside the period: not in the population.
    await ledger.createRequestState({ requestId: 'old', status: 'COMPLETED', at: '2026-11-01T00:00:00.000Z', source: 'cli', request: { requestId: 'old', type: 'employee.terminated', emails: ['old@example.com'], source: 'cli', dryRun: false } });

    const report = await buildEvidence(ledger, { from: '2026-12-01T00:00:00Z', to: '2026-12-08T00:00:00Z', slaHours: 24 }, new Date('2026-12-07T00:00:00Z'));
    const byEmail = new Map(report.rows.map((r) => [r.email, r]));
    expect(report.rows.map((r) => `${r.hrEventId}|${r.email}|${r.outcome}|${r.sla}`).sort()).toEqual(
      [
        'bamboohr:evt-1|ann@example.com|DELETED|met',
        'bamboohr:evt-1|nobody@example.com|NOT_FOUND|not_applicable',
        'ticket-7|bo@example.com|DELETED|missed',
        'hibob:evt-9|cy@example.com|PENDING|pending',
        'rejected-abc||REJECTED|pending',
      ].sort(),
    );
    expect(byEmail.get('ann@example.com')).toMatchObject({
      source: 'bamboohr', terminationAsSent: '2026-12-04', verifiedAt: '2026-12-05T00:30:02.000Z', timeToRemovalMs: 30 * 60_000,
      accessRemoved: 'role MEMBER; bindings: none; USER keys: 1; SERVICE keys: 1', activityAfterTermination: 'none',
    });
    expect(byEmail.get('bo@example.com')).toMatchObject({ outcomeRequestId: 'redrive-1', attempts: 2, accessRemoved: 'not recorded' });
    expect(byEmail.get('bo@example.com')).not.toHaveProperty('verifiedAt');
    expect(byEmail.get('')).toMatchObject({ source: 'hr:personio', detail: 'personio has no work email on file for employee 42' });
    expect(report.summary).toMatchObject({
      eventsReceived: 4,
      leavers: 5,
      byOutcome: { DELETED: 2, NOT_FOUND: 1, PENDING: 1, REJECTED: 1, FAILED: 0, HELD: 0, PROTECTED: 0, DRY_RUN: 0 },
      sla: { met: 1, missed: 1, pending: 2, not_applicable: 1 },
    });
  });
});

describe('SlaMissed metric', () => {
  it('the delete task counts the deletions it records after the SLA, from the request’s effective time', async () => {
    const { ledger, tableName } = await bed.freshLedger();
    const [first, second] = demoDirectory().filter((u) => u.role.name !== 'ADMIN' && u.status === 'ACTIVE').slice(2);
    if (!first || !second) throw new Error('demo directory too small');
    const misses: number[] = [];
    const client = new ArizeUsersClient({ baseUrl: sandbox.url, apiKey: sandbox.apiKey, maxRetries: 1, sleep: () => Promise.resolve() });
    const deps = (now: string): WorkflowDeps => ({
      config: loadRuntimeConfig({ LEDGER_TABLE_NAME: tableName, EVIDENCE_SLA_HOURS: '24' }),
      ledger,
      directory: () => Promise.resolve(client),
      clock: () => new Date(now),
      metrics: { countOutcomes: () => undefined, countSlaMisses: (n) => void misses.push(n) },
      log: silentLog,
    });
    await ledger.createRequestState({
      requestId: 'late', status: 'RUNNING', at: '2026-12-01T00:00:00.000Z',
      request: { requestId: 'late', type: 'employee.terminated', emails: [first.email.toLowerCase()], effectiveAt: '2026-12-01T00:00:00.000Z', source: 'cli', dryRun: false },
    });
    await deleteChunk({ requestId: 'late', attempt: 1, targets: [{ userId: first.id, email: first.email.toLowerCase() }] }, deps('2026-12-02T00:00:01.000Z'));
    await ledger.createRequestState({
      requestId: 'on-time', status: 'RUNNING', at: '2026-12-01T00:00:00.000Z',
      request: { requestId: 'on-time', type: 'employee.terminated', emails: [second.email.toLowerCase()], effectiveAt: '2026-12-01T00:00:00.000Z', source: 'cli', dryRun: false },
    });
    await deleteChunk({ requestId: 'on-time', attempt: 1, targets: [{ userId: second.id, email: second.email.toLowerCase() }] }, deps('2026-12-01T23:59:59.000Z'));
    expect((await ledger.outcomesOfRequest('late')).map((o) => o.status)).toEqual(['DELETED']);
    expect(misses).toEqual([1, 0]);
  });
});
