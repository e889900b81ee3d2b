/**
 * The scheduled audit against the Arize sandbox (real HTTP), dynalite and local SQS, with Arize calls counted.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DynamoLedger } from '../../lambdas/adapters/ledger.js';
import { SqsRequestQueue } from '../../lambdas/adapters/queue.js';
import { ArizeUsersClient } from '../../lambdas/arize/index.js';
import { auditReportCsv, type AuditReport } from '../../lambdas/core/audit.js';
import type { Outcome } from '../../lambdas/core/outcome.js';
import { runAudit, type AuditDeps } from '../../lambdas/usecases/audit.js';
import { startSqs, type LocalSqs } from '../../local/engines/sqs.js';
import { generateDirectory, startSandbox, type Sandbox } from '../../local/sandbox/server.js';
import { startLedgerTestBed, type LedgerTestBed } from '../support/dynalite.js';
import { freshQueues, receiveAllRequests } from '../support/sqs.js';
import { failedOutcome, silentLog } from '../support/records.js';

const NOW = new Date('2030-06-01T12:00:00.000Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString();
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const POLICY = { redriveOlderThanMinutes: 60, driftLookbackDays: 90 };

let bed: LedgerTestBed;
let sqs: LocalSqs;
let sandbox: Sandbox;
let ledger: DynamoLedger;
let queueUrl: string;
const written: { report: AuditReport; csv: string }[] = [];

function deps(): AuditDeps {
  const client = new ArizeUsersClient({ baseUrl: sandbox.url, apiKey: sandbox.apiKey, maxRequestsPerSecond: 1000 });
  return {
    ledger,
    directory: () => Promise.resolve(client),
    queue: new SqsRequestQueue({ queueUrl, client: sqs.client }),
    clock: () => NOW,
    log: silentLog,
    reports: {
      write(report, csv) {
        written.push({ report, csv });
        return Promise.resolve(['memory://report']);
      },
    },
  };
}

const receiveAll = () => receiveAllRequests(sqs.client, queueUrl);

const failed = (requestId: string, email: string, recordedAt: string, retryable = true): Outcome =>
  failedOutcome(requestId, email, recordedAt, { errorClass: 'ArizeApiError', retryable, attempt: 3, userId: `u-${email}` });

beforeAll(async () => {
  [bed, sqs] = await Promise.all([startLedgerTestBed(), startSqs()]);
}, 60_000);

afterAll(async () => {
  await Promise.all([bed.close(), sqs.close(), sandbox?.close()]);
});

beforeEach(async () => {
  ({ ledger } = await bed.freshLedger());
  ({ queueUrl } = await freshQueues(sqs, 'audit-intake'));
  await sandbox?.close();
  // 250 generated users + the drift cases below: 3 list pages of 100.
  sandbox = await startSandbox({ seed: generateDirectory(250, { domain: 'corp.example' }) });
  written.length = 0;
});

describe('audit re-drive', () => {
  it('re-drives old retryable failures only: not recent, not permanent, not superseded, not from a dry run', async () => {
    await ledger.recordOutcomes([
      failed('req-a', 'old.retryable@corp.example', ago(2 * HOUR)),
      failed('req-a', 'recent@corp.example', ago(10 * 60_000)),
      failed('req-a', 'permanent@corp.example', ago(2 * HOUR), false),
      failed('req-b', 'superseded@corp.example', ago(3 * HOUR)),
      failed('req-dry', 'dry.failed@corp.example', ago(2 * HOUR)),
      { requestId: 'req-dry', email: 'dry.other@corp.example', status: 'DRY_RUN', reason: 'dry run', attempt: 0, recordedAt: ago(2 * HOUR) },
    ]);
    await ledger.recordOutcomes([{ requestId: 'req-c', email: 'superseded@corp.example', status: 'DELETED', attempt: 1, recordedAt: ago(2 * HOUR) }]);

    sandbox.counters.reset();
    const report = await runAudit(deps(), POLICY);

    expect(report.redrive).toMatchObject({ candidates: 3, superseded: 1, skippedDryRun: 1 });
    expect(report.redrive.items.map((i) => [i.email, i.failedRequestId])).toEqual([['old.retryable@corp.example', 'req-a']]);
    const [redriveId] = report.redrive.requestIds;
    expect(redriveId).toMatch(/^redrive-[0-9a-f]{16}$/);
    expect(await receiveAll()).toEqual([
      expect.objectContaining({ requestId: redriveId, source: 'redrive', emails: ['old.retryable@corp.example'], type: 'employee.terminated', dryRun: false }),
    ]);
    // The only DELETED outcome (superseded@) has no account: the directory is scanned once, 251 users ⇒ 3 pages.
    expect(sandbox.counters.byRoute.list).toBe(3);
    expect(sandbox.counters.total).toBe(3);

    // A second audit over the same state submits the same id: the execution name makes it a no-op.
    const again = await runAudit(deps(), POLICY);
    expect(again.redrive.requestIds).toEqual([redriveId]);
  }, 60_000);

  it('does not call Arize at all when nothing was deleted in the lookback window', async () => {
    await ledger.recordOutcomes([
      failed('req-x', 'someone@corp.example', ago(5 * HOUR)),
      { requestId: 'req-old', email: 'long.gone@corp.example', status: 'DELETED', attempt: 1, recordedAt: ago(200 * DAY) },
    ]);
    sandbox.store.add({ email: 'long.gone@corp.example', status: 'ACTIVE' });
    sandbox.counters.reset();
    const report = await runAudit(deps(), POLICY);
    expect(sandbox.counters.total).toBe(0);
    expect(report.drift).toMatchObject({ terminatedEmails: 0, directoryUsersScanned: 0, findings: [] });
    expect(report.redrive.items).toHaveLength(1);
  }, 60_000);
});

describe('audit drift', () => {
  it('finds terminated people who are back (ACTIVE, INVITED, EXPIRED), exactly, with one directory scan', async () => {
    await ledger.recordOutcomes([
      { requestId: 'req-1', email: 'back.active@corp.example', status: 'DELETED', attempt: 1, recordedAt: ago(10 * DAY) },
      { requestId: 'req-1', email: 'back.invited@corp.example', status: 'DELETED', attempt: 1, recordedAt: ago(10 * DAY) },
      { requestId: 'req-2', email: 'back.expired@corp.example', status: 'DELETED', attempt: 1, recordedAt: ago(20 * DAY) },
      { requestId: 'req-2', email: 'still.gone@corp.example', status: 'DELETED', attempt: 1, recordedAt: ago(20 * DAY) },
      { requestId: 'req-3', email: 'ann@corp.example', status: 'DELETED', attempt: 1, recordedAt: ago(5 * DAY) },
      { requestId: 'req-3', email: 'kept@corp.example', status: 'PROTECTED', reason: 'protected role ADMIN', attempt: 0, recordedAt: ago(5 * DAY) },
      { requestId: 'req-4', email: 'never.there@corp.example', status: 'NOT_FOUND', attempt: 0, recordedAt: ago(5 * DAY) },
    ]);
    const active = sandbox.store.add({ email: 'Back.Active@corp.example', status: 'ACTIVE' });
    const invited = sandbox.store.add({ email: 'back.invited@corp.example', status: 'INVITED' });
    const expired = sandbox.store.add({ email: 'back.expired@corp.example', status: 'EXPIRED' });
    sandbox.store.add({ email: 'kept@corp.example', status: 'ACTIVE' });
    sandbox.store.add({ email: 'never.there@corp.example', status: 'ACTIVE' });
    // Near-duplicates of a terminated email: substring matches must never count.
    sandbox.store.add({ email: 'joann@corp.example', status: 'ACTIVE' });
    sandbox.store.add({ email: 'ann@corp.example.au', status: 'ACTIVE' });
    const total = sandbox.store.users().filter((u) => !u.deleted).length;

    sandbox.counters.reset();
    const report = await runAudit(deps(), POLICY);

    expect(sandbox.counters.byRoute.list).toBe(Math.ceil(total / 100));
    expect(sandbox.counters.total).toBe(Math.ceil(total / 100));
    expect(report.drift.directoryUsersScanned).toBe(total);
    expect(report.drift.terminatedEmails).toBe(5);
    expect(report.drift.findings.map((f) => [f.email, f.arizeUserId, f.arizeStatus])).toEqual([
      ['back.active@corp.example', active.id, 'ACTIVE'],
      ['back.expired@corp.example', expired.id, 'EXPIRED'],
      ['back.invited@corp.example', invited.id, 'INVITED'],
    ]);
    const messages = await receiveAll();
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({
      requestId: report.drift.requestIds[0],
      source: 'audit',
      emails: ['back.active@corp.example', 'back.expired@corp.example', 'back.invited@corp.example'],
    });
    expect(report.drift.findings.every((f) => f.newRequestId === messages[0]?.requestId)).toBe(true);

    // Deterministic: the same drifted accounts give the same request id on the next run.
    const again = await runAudit(deps(), POLICY);
    expect(again.drift.requestIds).toEqual(report.drift.requestIds);

    // The report: JSON (returned, written) and CSV, one row per finding.
    expect(written[0]?.report.auditId).toBe(report.auditId);
    const csvLines = (written[0]?.csv ?? '').trim().split('\n');
    expect(csvLines[0]).toBe('kind,email,arizeUserId,arizeStatus,originalRequestId,recordedAt,detail,newRequestId');
    expect(csvLines.slice(1).map((line) => line.split(',').slice(0, 4).join(','))).toEqual([
      `drift,back.active@corp.example,${active.id},ACTIVE`,
      `drift,back.expired@corp.example,${expired.id},EXPIRED`,
      `drift,back.invited@corp.example,${invited.id},INVITED`,
    ]);
  }, 60_000);

  it('counts a deletion intended but never settled (lost record, or NOT_FOUND after a crash) for drift', async () => {
    await ledger.recordDeleteIntents([
      { requestId: 'req-crash', email: 'lost.record@corp.example', userId: 'u-lost', attempt: 1, recordedAt: ago(3 * DAY) },
      { requestId: 'req-crash', email: 'old.notfound@corp.example', userId: 'u-old', attempt: 1, recordedAt: ago(3 * DAY) },
      { requestId: 'req-crash', email: 'failed.delete@corp.example', userId: 'u-failed', attempt: 1, recordedAt: ago(3 * DAY) },
    ]);
    await ledger.recordOutcomes([
      { requestId: 'req-crash', email: 'old.notfound@corp.example', status: 'NOT_FOUND', attempt: 0, recordedAt: ago(3 * DAY) },
      failed('req-crash', 'failed.delete@corp.example', ago(3 * DAY), false),
    ]);
    const lost = sandbox.store.add({ email: 'lost.record@corp.example', status: 'ACTIVE' });
    const old = sandbox.store.add({ email: 'old.notfound@corp.example', status: 'INVITED' });
    // Its delete settled as FAILED: it is still there for a recorded reason, not drift.
    sandbox.store.add({ email: 'failed.delete@corp.example', status: 'ACTIVE' });
    const report = await runAudit(deps(), POLICY, { submit: false });
    expect(report.drift.findings.map((f) => [f.email, f.arizeUserId, f.deletedRequestId])).toEqual([
      ['lost.record@corp.example', lost.id, 'req-crash'],
      ['old.notfound@corp.example', old.id, 'req-crash'],
    ]);
  });

  it('report-only mode enqueues nothing', async () => {
    await ledger.recordOutcomes([{ requestId: 'req-1', email: 'back@corp.example', status: 'DELETED', attempt: 1, recordedAt: ago(DAY) }]);
    sandbox.store.add({ email: 'back@corp.example', status: 'ACTIVE' });
    const report = await runAudit(deps(), POLICY, { submit: false });
    expect(report.drift.findings).toHaveLength(1);
    expect(report.submitted).toBe(false);
    expect(await receiveAll()).toEqual([]);
  }, 60_000);
});

describe('audit CSV', () => {
  it('quotes commas and neutralises spreadsheet formulas', () => {
    const csv = auditReportCsv({
      auditId: 'a', startedAt: '', finishedAt: '', policy: POLICY, submitted: false,
      redrive: { candidates: 1, superseded: 0, skippedDryRun: 0, requestIds: [], items: [{ email: '=cmd@x.com', failedRequestId: 'r,1', attempt: 1, errorClass: 'E', failedAt: 't' }] },
      drift: { terminatedEmails: 0, directoryUsersScanned: 0, findings: [], requestIds: [] },
    });
    expect(csv.split('\n')[1]).toBe(`redrive,'=cmd@x.com,,,"r,1",t,E (attempt 1),`);
  });
});
