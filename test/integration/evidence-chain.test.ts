/**
 * The evidence chain on a real dynalite: appended where outcomes are recorded, by concurrent writers without
 * transactions, surviving a crash between the record and the head write, and verification naming the first
 * broken record when an item, a chain record or a head is edited directly in the table.
 */
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoLedger } from '../../lambdas/adapters/ledger.js';
import { genesisHash, linkRecords, verifyEvidenceChain } from '../../lambdas/core/evidence-chain.js';
import type { Outcome } from '../../lambdas/core/outcome.js';
import { recordRejection } from '../../lambdas/core/rejection.js';
import { startLedgerTestBed, type LedgerTestBed } from '../support/dynalite.js';

let bed: LedgerTestBed;
beforeAll(async () => {
  bed = await startLedgerTestBed();
});
afterAll(async () => {
  await bed.close();
});

const deleted = (requestId: string, email: string, recordedAt = '2026-12-05T10:00:00.000Z'): Outcome => ({ requestId, email, userId: `u-${email}`, attempt: 1, recordedAt, status: 'DELETED' });

describe('evidence chain', () => {
  it('seals every outcome item written (attempt and current) per day; verify recomputes the daily digests', async () => {
    const { ledger } = await bed.freshLedger();
    await ledger.recordOutcomes([deleted('r1', 'a@x.io'), deleted('r1', 'b@x.io'), deleted('r2', 'c@x.io', '2026-12-06T01:00:00.000Z')]);
    // A stale replay that loses the condition on the current outcome seals only what it wrote (nothing, in fallback).
    await ledger.recordOutcomes([{ requestId: 'r1', email: 'a@x.io', attempt: 1, recordedAt: '2026-12-05T11:00:00.000Z', status: 'FAILED', errorClass: 'X', retryable: true }], { mode: 'fallback' });
    const result = await verifyEvidenceChain(ledger);
    expect(result.problems).toEqual([]);
    // One record per write and day, sealing its items: 2 attempts + 2 current outcomes on the 5th, 1 + 1 on the 6th.
    expect(result.days.map((d) => [d.digest.day, d.digest.count])).toEqual([['2026-12-05', 1], ['2026-12-06', 1]]);
    expect((await ledger.chainRecords('2026-12-05'))[0]?.items.map((i) => i.sk).sort()).toEqual(['ATT#a@x.io#0001', 'ATT#b@x.io#0001', 'OUT#a@x.io', 'OUT#b@x.io']);
    expect(await ledger.chainHead('2026-12-05')).toEqual({ day: '2026-12-05', seq: 1, hash: result.days[0]?.digest.headHash });
  });

  it('a rejected message delivered twice, handled at once, keeps its first record and an unbroken chain', async () => {
    const { ledger, tableName } = await bed.freshLedger();
    const body = JSON.stringify({ requestId: 'x', type: 'employee.hired', emails: ['lucas.martin@example.com'] });
    const second = new DynamoLedger({ tableName, client: bed.doc, sleep: () => Promise.resolve() });
    const [first] = await Promise.all([
      recordRejection(ledger, body, 'type: not a termination', new Date('2026-12-05T10:00:00.000Z')),
      recordRejection(second, body, 'type: not a termination', new Date('2026-12-05T10:00:01.000Z')),
    ]);
    const outcomes = await ledger.outcomesOfRequest(first.rejectionId);
    expect(outcomes).toHaveLength(1);
    const result = await verifyEvidenceChain(ledger);
    expect(result.problems).toEqual([]);
    // A later redelivery changes nothing either.
    await recordRejection(ledger, body, 'type: not a termination', new Date('2026-12-05T11:00:00.000Z'));
    expect(await ledger.outcomesOfRequest(first.rejectionId)).toEqual(outcomes);
    expect((await verifyEvidenceChain(ledger)).problems).toEqual([]);
  });

  it('concurrent writers (separate adapters, no transactions) interleave into one unbroken chain', async () => {
    const { ledger, tableName } = await bed.freshLedger();
    const writers = Array.from({ length: 4 }, () => new DynamoLedger({ tableName, client: bed.doc, sleep: () => Promise.resolve() }));
    await Promise.all(writers.map((writer, w) => Promise.all(Array.from({ length: 5 }, (_, i) => writer.recordOutcomes([deleted(`w${w}`, `u${i}@x.io`)])))));
    const result = await verifyEvidenceChain(ledger);
    expect(result.problems).toEqual([]);
    // 4 writers × 5 writes, each sealing an attempt and a current outcome.
    expect(result.days[0]?.digest.count).toBe(20);
    expect(new Set((await ledger.chainRecords('2026-12-05')).flatMap((r) => r.items.map((i) => `${i.pk}|${i.sk}`))).size).toBe(40);
  });

  it('a crash between a record and its head write is reported, then rolled forward by the next write (no gap)', async () => {
    const { ledger, tableName } = await bed.freshLedger();
    await ledger.recordOutcomes([deleted('r1', 'a@x.io')]);
    const head = await ledger.chainHead('2026-12-05');
    if (!head) throw new Error('no head');
    // What a writer killed after its record put and before its head put leaves behind.
    const [orphan] = linkRecords('2026-12-05', head, [{ pk: 'REQ#r9', sk: 'OUT#z@x.io', item: { pk: 'REQ#r9', sk: 'OUT#z@x.io' } }]);
    if (!orphan) throw new Error('no record');
    const { items, ...rest } = orphan;
    await bed.doc.send(new PutCommand({ TableName: tableName, Item: { ...rest, sealed: items, pk: 'CHAIN#2026-12-05', sk: `REC#${String(orphan.seq).padStart(10, '0')}`, kind: 'CHAIN_RECORD' } }));
    await bed.doc.send(new PutCommand({ TableName: tableName, Item: { pk: 'REQ#r9', sk: 'OUT#z@x.io' } }));
    const before = await verifyEvidenceChain(ledger);
    expect(before.problems).toEqual([]);
    expect(before.days[0]).toMatchObject({ unacknowledged: 1, digest: { count: 2 } });
    await ledger.recordOutcomes([deleted('r2', 'b@x.io')]);
    const after = await verifyEvidenceChain(ledger);
    expect(after.problems).toEqual([]);
    expect(after.days[0]).toMatchObject({ unacknowledged: 0, digest: { count: 3 } });
  });

  it('names the first broken record: an item edited with UpdateItem, a chain record edited, a head moved', async () => {
    const { ledger, tableName } = await bed.freshLedger();
    await ledger.recordOutcomes([deleted('r1', 'a@x.io', '2026-12-05T10:00:00.000Z'), deleted('r1', 'b@x.io', '2026-12-05T10:00:01.000Z')]);
    // Backdating a deletion to meet the SLA.
    await bed.doc.send(new UpdateCommand({ TableName: tableName, Key: { pk: 'REQ#r1', sk: 'OUT#b@x.io' }, UpdateExpression: 'SET recordedAt = :t', ExpressionAttributeValues: { ':t': '2026-12-05T09:00:00.000Z' } }));
    const edited = await verifyEvidenceChain(ledger);
    expect(edited.problems[0]).toMatchObject({ day: '2026-12-05', item: 'REQ#r1 / OUT#b@x.io', problem: expect.stringMatching(/edited after it was recorded/) as unknown });

    const { ledger: second, tableName: table2 } = await bed.freshLedger();
    await second.recordOutcomes([deleted('r1', 'a@x.io')]);
    await second.recordOutcomes([deleted('r1', 'b@x.io')]);
    await bed.doc.send(new UpdateCommand({ TableName: table2, Key: { pk: 'CHAIN#2026-12-05', sk: 'REC#0000000002' }, UpdateExpression: 'SET sealed[0].itemHash = :h', ExpressionAttributeValues: { ':h': 'sha256:00' } }));
    expect((await verifyEvidenceChain(second)).problems[0]).toMatchObject({ seq: 2, problem: 'record 2 was edited: its hash does not match its content' });

    const { ledger: third, tableName: table3 } = await bed.freshLedger();
    await third.recordOutcomes([deleted('r1', 'a@x.io')]);
    await bed.doc.send(new UpdateCommand({ TableName: table3, Key: { pk: 'CHAIN#2026-12-05', sk: 'HEAD' }, UpdateExpression: 'SET #h = :h', ExpressionAttributeNames: { '#h': 'hash' }, ExpressionAttributeValues: { ':h': genesisHash('2026-12-05') } }));
    expect((await verifyEvidenceChain(third)).problems[0]).toMatchObject({ seq: 1, problem: "the head's hash does not match record 1: the head was edited" });
  });
});
