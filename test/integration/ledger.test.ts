import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchWriteCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoLedger } from '../../lambdas/adapters/ledger.js';
import type { Outcome } from '../../lambdas/core/outcome.js';
import { startLedgerTestBed, type LedgerTestBed } from '../support/dynalite.js';
import { deletedOutcome, failedOutcome } from '../support/records.js';

let bed: LedgerTestBed;
beforeAll(async () => {
  bed = await startLedgerTestBed();
});
afterAll(async () => {
  await bed.close();
});

const at = (minute: number) => `2026-11-27T10:${String(minute).padStart(2, '0')}:00.000Z`;
const failed = (requestId: string, email: string, attempt: number, minute: number): Outcome =>
  failedOutcome(requestId, email, at(minute), { userId: `id-${email}`, errorClass: 'HTTP_503', error: 'unavailable', httpStatus: 503, attempt });
const deleted = (requestId: string, email: string, attempt: number, minute: number): Outcome =>
  deletedOutcome(requestId, email, at(minute), { userId: `id-${email}`, attempt });

describe('DynamoLedger', () => {
  it('serves outcomes of a request, history of an email and outcomes by status', async () => {
    const { ledger } = await bed.freshLedger();
    await ledger.recordOutcomes([
      deleted('r1', 'ann@example.com', 1, 1),
      { requestId: 'r1', email: 'ghost@example.com', status: 'NOT_FOUND', attempt: 0, recordedAt: at(1) },
      { requestId: 'r1', email: 'ceo@example.com', userId: 'u-ceo', status: 'PROTECTED', reason: 'protected-email', attempt: 0, recordedAt: at(1) },
      { requestId: 'r2', email: 'ann@example.com', status: 'NOT_FOUND', attempt: 0, recordedAt: at(5) },
      { requestId: 'r3', email: 'zed@example.com', status: 'NOT_FOUND', attempt: 0, recordedAt: at(9) },
    ]);
    const r1 = await ledger.outcomesOfRequest('r1');
    expect(Object.fromEntries(r1.map((o) => [o.email, o.status]))).toEqual({
      'ann@example.com': 'DELETED',
      'ghost@example.com': 'NOT_FOUND',
      'ceo@example.com': 'PROTECTED',
    });
    expect(r1.find((o) => o.status === 'PROTECTED')).toMatchObject({ reason: 'protected-email', userId: 'u-ceo' });

    const history = await ledger.historyOfEmail('ANN@example.com');
    expect(history.map((o) => [o.requestId, o.status])).toEqual([['r1', 'DELETED'], ['r2', 'NOT_FOUND']]);

    const notFound = await ledger.outcomesByStatus('NOT_FOUND');
    expect(notFound.map((o) => o.requestId)).toEqual(['r1', 'r2', 'r3']);
    const window = await ledger.outcomesByStatus('NOT_FOUND', { since: at(2), until: at(9) });
    expect(window.map((o) => o.requestId)).toEqual(['r2']);
  });

  it('is idempotent: the same request + email + attempt written twice is one record', async () => {
    const { ledger, tableName } = await bed.freshLedger();
    const outcome = deleted('r1', 'ann@example.com', 1, 1);
    await ledger.recordOutcomes([outcome]);
    await ledger.recordOutcomes([{ ...outcome, recordedAt: at(2) }]);
    await ledger.recordOutcomes([outcome, outcome]);
    const items = await bed.doc.send(new QueryCommand({ TableName: tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'REQ#r1' } }));
    expect(items.Items?.map((i) => i.sk as string).sort()).toEqual(['ATT#ann@example.com#0001', 'OUT#ann@example.com']);
    expect(await ledger.historyOfEmail('ann@example.com')).toHaveLength(1);
  });

  it('a later attempt supersedes the current outcome; history keeps every attempt; a stale replay changes nothing', async () => {
    const { ledger } = await bed.freshLedger();
    await ledger.recordOutcomes([failed('r1', 'ann@example.com', 1, 1)]);
    expect((await ledger.outcomesByStatus('FAILED')).map((o) => o.email)).toEqual(['ann@example.com']);
    await ledger.recordOutcomes([deleted('r1', 'ann@example.com', 2, 3)]);
    // Replay of attempt 1 (e.g. a retried Lambda that ran late) must not resurrect the failure.
    await ledger.recordOutcomes([failed('r1', 'ann@example.com', 1, 4)]);

    const current = await ledger.outcomesOfRequest('r1');
    expect(current).toEqual([{ requestId: 'r1', email: 'ann@example.com', userId: 'id-ann@example.com', status: 'DELETED', attempt: 2, recordedAt: at(3) }]);
    expect(await ledger.outcomesByStatus('FAILED')).toEqual([]);
    expect((await ledger.outcomesByStatus('DELETED')).map((o) => o.attempt)).toEqual([2]);
    // One record per attempt; the replayed attempt 1 is still attempt 1 (re-written, not added).
    const history = await ledger.historyOfEmail('ann@example.com');
    expect(history.map((o) => [o.attempt, o.status]).sort()).toEqual([[1, 'FAILED'], [2, 'DELETED']]);
    expect(history.find((o) => o.attempt === 1)).toMatchObject({ errorClass: 'HTTP_503', retryable: true, httpStatus: 503 });
  });

  it('fallback writes fill gaps only: never over a recorded result of the same or a later attempt', async () => {
    const { ledger } = await bed.freshLedger();
    await ledger.recordOutcomes([deleted('r1', 'ann@example.com', 2, 1), failed('r1', 'bob@example.com', 1, 1)]);
    const catchPath = (email: string): Outcome => ({
      requestId: 'r1', email, status: 'FAILED', errorClass: 'States.Timeout', error: 'task timed out', retryable: true, attempt: 2, recordedAt: at(5),
    });
    await ledger.recordOutcomes([catchPath('ann@example.com'), catchPath('bob@example.com'), catchPath('cid@example.com')], { mode: 'fallback' });
    const current = Object.fromEntries((await ledger.outcomesOfRequest('r1')).map((o) => [o.email, o]));
    expect(current['ann@example.com']).toMatchObject({ status: 'DELETED', attempt: 2 });
    expect(current['bob@example.com']).toMatchObject({ status: 'FAILED', errorClass: 'States.Timeout', attempt: 2 });
    expect(current['cid@example.com']).toMatchObject({ status: 'FAILED', errorClass: 'States.Timeout' });
    expect((await ledger.historyOfEmail('ann@example.com')).map((o) => o.status)).toEqual(['DELETED']);
  });

  it('writes more than one BatchWrite worth (25) of outcomes', async () => {
    const { ledger } = await bed.freshLedger();
    const many = Array.from({ length: 120 }, (_, i) => deleted('big', `user${String(i).padStart(3, '0')}@example.com`, 1, 1));
    await ledger.recordOutcomes(many);
    const outcomes = await ledger.outcomesOfRequest('big');
    expect(outcomes).toHaveLength(120);
    expect(new Set(outcomes.map((o) => o.email)).size).toBe(120);
  });

  it('keeps one request state item: created once, then updated, and listed by status', async () => {
    const { ledger } = await bed.freshLedger();
    expect(await ledger.createRequestState({ requestId: 'r1', status: 'RECEIVED', at: at(1), emailCount: 2, source: 'cli', executionName: 'r1' })).toBe('created');
    expect(await ledger.createRequestState({ requestId: 'r1', status: 'RECEIVED', at: at(2), emailCount: 99 })).toBe('exists');
    await ledger.updateRequestState('r1', { status: 'HELD', at: at(3), detail: 'blast radius' });
    expect(await ledger.getRequestState('r1')).toEqual({
      requestId: 'r1', status: 'HELD', createdAt: at(1), updatedAt: at(3), emailCount: 2, source: 'cli', executionName: 'r1', detail: 'blast radius',
    });
    expect((await ledger.requestsByStatus('HELD')).map((r) => r.requestId)).toEqual(['r1']);
    expect(await ledger.requestsByStatus('RECEIVED')).toEqual([]);
    await ledger.updateRequestState('r2', { status: 'COMPLETED', at: at(4), counts: { DELETED: 1 } });
    expect(await ledger.getRequestState('r2')).toMatchObject({ status: 'COMPLETED', createdAt: at(4), counts: { DELETED: 1 } });
    expect(await ledger.getRequestState('nope')).toBeUndefined();
  });

  it('stores the request with its state on the first write only; older items read without one', async () => {
    const { ledger } = await bed.freshLedger();
    const request = { requestId: 'r1', type: 'employee.terminated' as const, emails: ['ann@example.com', 'bob@example.com'], source: 'webhook' as const, dryRun: false, effectiveAt: '2026-12-01T09:00:00Z' };
    expect(await ledger.createRequestState({ requestId: 'r1', status: 'RECEIVED', at: at(1), emailCount: 2, source: 'webhook', request })).toBe('created');
    const replay = { ...request, emails: ['mallory@example.com'] };
    expect(await ledger.createRequestState({ requestId: 'r1', status: 'RECEIVED', at: at(2), emailCount: 1, request: replay })).toBe('exists');
    await ledger.updateRequestState('r1', { status: 'RUNNING', at: at(3) });
    expect((await ledger.getRequestState('r1'))?.request).toEqual(request);
    expect((await ledger.requestsByStatus('RUNNING')).map((state) => state.request)).toEqual([request]);
    await ledger.createRequestState({ requestId: 'r0', status: 'RECEIVED', at: at(4), emailCount: 1 });
    const older = await ledger.getRequestState('r0');
    expect(older).toMatchObject({ requestId: 'r0', status: 'RECEIVED' });
    expect(older?.request).toBeUndefined();
  });

  it('a run started again after its deletion resolves NOT_FOUND at attempt 0: DELETED stays the current outcome', async () => {
    const { ledger } = await bed.freshLedger();
    await ledger.recordOutcomes([deleted('r1', 'ann@example.com', 1, 1)]);
    await ledger.recordOutcomes([{ requestId: 'r1', email: 'ann@example.com', status: 'NOT_FOUND', attempt: 0, recordedAt: at(5) }]);
    expect((await ledger.outcomesOfRequest('r1')).map((o) => [o.status, o.attempt])).toEqual([['DELETED', 1]]);
    expect((await ledger.outcomesByStatus('NOT_FOUND')).map((o) => o.requestId)).toEqual([]);
    expect((await ledger.historyOfEmail('ann@example.com')).map((o) => [o.status, o.attempt])).toEqual([['DELETED', 1], ['NOT_FOUND', 0]]);
  });

  it('retries UnprocessedItems of a BatchWrite with backoff, and gives up loudly', async () => {
    const { tableName } = await bed.freshLedger();
    // DynamoDB returns UnprocessedItems under load; dynalite never does, so the first N batch writes are answered
    // "all unprocessed" without writing, and everything else goes to the real dynalite.
    const throttledClient = (unprocessedAnswers: number) => {
      let left = unprocessedAnswers;
      return {
        send: (command: unknown) => {
          if (command instanceof BatchWriteCommand && left > 0) {
            left -= 1;
            return Promise.resolve({ UnprocessedItems: command.input.RequestItems });
          }
          return bed.doc.send(command as QueryCommand);
        },
      } as unknown as DynamoDBDocumentClient;
    };
    const sleeps: number[] = [];
    const sleep = (ms: number) => {
      sleeps.push(ms);
      return Promise.resolve();
    };
    const ledger = new DynamoLedger({ tableName, client: throttledClient(2), sleep });
    await ledger.recordOutcomes([deleted('u1', 'ann@example.com', 1, 1)]);
    expect(sleeps).toEqual([50, 100]);
    expect(await ledger.historyOfEmail('ann@example.com')).toHaveLength(1);

    const hopeless = new DynamoLedger({ tableName, client: throttledClient(100), sleep, maxBatchRetries: 3 });
    await expect(hopeless.recordOutcomes([deleted('u2', 'bob@example.com', 1, 1)])).rejects.toThrow(/1 items still unprocessed after 3 retries/);
  });
});
