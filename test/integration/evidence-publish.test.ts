/**
 * The scheduled evidence Lambda's use case on a real ledger (dynalite) with a fake S3: it writes the previous UTC
 * day's digest — the one `offboard evidence verify` prints — and that day's export, byte for byte what the CLI's
 * core renders, idempotently; a broken chain is still published (naming the break) and fails the invocation.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DynamoLedger } from '../../lambdas/adapters/ledger.js';
import { chainHeadsBetween, verifyEvidenceChain } from '../../lambdas/core/evidence-chain.js';
import { buildEvidence } from '../../lambdas/core/evidence.js';
import { renderEvidenceJson, toEvidenceExport } from '../../lambdas/core/evidence-export.js';
import { EvidenceChainBrokenError, publishEvidence, type EvidencePublishDeps } from '../../lambdas/handlers/evidence-publish.js';
import { startLedgerTestBed, type LedgerTestBed } from '../support/dynalite.js';

let bed: LedgerTestBed;
beforeAll(async () => {
  bed = await startLedgerTestBed();
});
afterAll(async () => {
  await bed.close();
});

const s3 = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
const s3Mock = mockClient(s3);
beforeEach(() => {
  s3Mock.reset();
  s3Mock.on(PutObjectCommand).resolves({});
});

const DAY = '2026-12-04';
const SLA_HOURS = 24;

/** What the fake S3 received, by key (the last write wins, as a new version would read). */
function written(): Map<string, { bucket: string; body: string; type: string }> {
  const out = new Map<string, { bucket: string; body: string; type: string }>();
  for (const call of s3Mock.commandCalls(PutObjectCommand)) {
    const input = call.args[0].input;
    out.set(String(input.Key), { bucket: String(input.Bucket), body: typeof input.Body === 'string' ? input.Body : '', type: String(input.ContentType) });
  }
  return out;
}

async function seed(ledger: DynamoLedger): Promise<void> {
  await ledger.createRequestState({
    requestId: 'bamboohr:evt-1', status: 'COMPLETED', at: `${DAY}T09:00:00.000Z`, source: 'webhook',
    request: { requestId: 'bamboohr:evt-1', type: 'employee.terminated', emails: ['ann@example.com', 'nobody@example.com'], effectiveAt: `${DAY}T08:00:00.000Z`, effectiveAtOriginal: DAY, source: 'webhook', dryRun: false },
  });
  await ledger.recordOutcomes([
    { requestId: 'bamboohr:evt-1', email: 'ann@example.com', userId: 'u-ann', attempt: 1, recordedAt: `${DAY}T09:05:00.000Z`, status: 'DELETED', verifiedAt: `${DAY}T09:05:01.000Z` },
    { requestId: 'bamboohr:evt-1', email: 'nobody@example.com', attempt: 0, recordedAt: `${DAY}T09:04:00.000Z`, status: 'NOT_FOUND' },
  ]);
  await ledger.createRequestState({
    requestId: 'ticket-7', status: 'COMPLETED_WITH_FAILURES', at: `${DAY}T22:00:00.000Z`, source: 'cli',
    request: { requestId: 'ticket-7', type: 'employee.terminated', emails: ['bo@example.com'], source: 'cli', dryRun: false },
  });
  await ledger.recordOutcomes([{ requestId: 'ticket-7', email: 'bo@example.com', userId: 'u-bo', attempt: 3, recordedAt: `${DAY}T22:10:00.000Z`, status: 'FAILED', errorClass: 'ServerError', retryable: true }]);
  // The next day: neither in the export nor in the digest of DAY.
  await ledger.createRequestState({
    requestId: 'ticket-8', status: 'COMPLETED', at: '2026-12-05T00:10:00.000Z', source: 'cli',
    request: { requestId: 'ticket-8', type: 'employee.terminated', emails: ['cy@example.com'], source: 'cli', dryRun: false },
  });
  await ledger.recordOutcomes([{ requestId: 'ticket-8', email: 'cy@example.com', userId: 'u-cy', attempt: 1, recordedAt: '2026-12-05T00:20:00.000Z', status: 'DELETED', verifiedAt: '2026-12-05T00:20:01.000Z' }]);
}

const deps = (ledger: DynamoLedger, now = '2026-12-05T01:30:00.000Z'): EvidencePublishDeps => ({ ledger, bucket: 'evidence-bucket', s3, slaHours: SLA_HOURS, clock: () => new Date(now) });

describe('publishEvidence (the scheduled evidence Lambda)', () => {
  it("writes the previous UTC day's digest and export: the same digest verify prints, the same export the CLI core builds", async () => {
    const { ledger } = await bed.freshLedger();
    await seed(ledger);
    const result = await publishEvidence(deps(ledger), {});
    expect(result.day).toBe(DAY);
    const objects = written();
    expect([...objects.keys()]).toEqual([`digests/${DAY}.json`, `exports/${DAY}.json`]);
    expect([...objects.values()].every((o) => o.bucket === 'evidence-bucket' && o.type === 'application/json')).toBe(true);

    const verified = await verifyEvidenceChain(ledger, { fromDay: DAY, toDay: DAY });
    const digest = JSON.parse(objects.get(`digests/${DAY}.json`)!.body) as Record<string, unknown>;
    expect(digest).toEqual({ kind: 'arize-offboarding.evidence-digest', version: 1, ...verified.days[0]!.digest, unacknowledged: 0, problems: [] });
    expect(digest.count).toBe(2);

    // `offboard evidence --from DAY --to DAY+1`'s core, as of the end of the day, with that day's chain head.
    const report = await buildEvidence(ledger, { from: `${DAY}T00:00:00.000Z`, to: '2026-12-05T00:00:00.000Z', slaHours: SLA_HOURS }, new Date('2026-12-05T00:00:00.000Z'));
    const expected = renderEvidenceJson(toEvidenceExport(report, await chainHeadsBetween(ledger, DAY, DAY)));
    expect(objects.get(`exports/${DAY}.json`)!.body).toBe(expected);
    const doc = JSON.parse(expected) as { rows: { email: string; outcome: string; sla: string }[]; summary: { leavers: number } };
    expect(doc.rows.map((r) => [r.email, r.outcome, r.sla]).sort()).toEqual([
      ['ann@example.com', 'DELETED', 'met'],
      ['bo@example.com', 'FAILED', 'pending'],
      ['nobody@example.com', 'NOT_FOUND', 'not_applicable'],
    ]);
    expect(result.leavers).toBe(3);
  });

  it('is idempotent: a re-run for the same day, later, writes the same bytes', async () => {
    const { ledger } = await bed.freshLedger();
    await seed(ledger);
    await publishEvidence(deps(ledger), {});
    const first = written();
    s3Mock.resetHistory();
    await publishEvidence(deps(ledger, '2026-12-05T07:00:00.000Z'), { day: DAY });
    expect(written()).toEqual(first);
  });

  it('a chain record edited in the ledger: the digest names the break, and the invocation fails', async () => {
    const { ledger, tableName } = await bed.freshLedger();
    await seed(ledger);
    await bed.doc.send(new UpdateCommand({ TableName: tableName, Key: { pk: `CHAIN#${DAY}`, sk: 'REC#0000000001' }, UpdateExpression: 'SET prevHash = :h', ExpressionAttributeValues: { ':h': 'f'.repeat(64) } }));
    await expect(publishEvidence(deps(ledger), {})).rejects.toThrow(EvidenceChainBrokenError);
    const digest = JSON.parse(written().get(`digests/${DAY}.json`)!.body) as { count: number; problems: { seq: number }[] };
    expect(digest.count).toBe(0);
    expect(digest.problems[0]?.seq).toBe(1);
  });

  it('refuses a malformed day in the event, naming it, and writes nothing', async () => {
    const { ledger } = await bed.freshLedger();
    await expect(publishEvidence(deps(ledger), { day: '2026-02-30' })).rejects.toThrow(/day: expected a calendar date/);
    await expect(publishEvidence(deps(ledger), { day: 20261204 })).rejects.toThrow(/invalid event: .*day/);
    expect(written().size).toBe(0);
  });
});
