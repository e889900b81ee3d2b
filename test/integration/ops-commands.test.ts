/**
 * The operator commands' logic over a real ledger (dynalite), and the `--stack` backend over the real
 * local SQS and dynalite standing in for the deployed queue and table; only CloudFormation is mocked.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoLedger } from '../../lambdas/adapters/ledger.js';
import type { Outcome } from '../../lambdas/core/outcome.js';
import { parseRequest, type OffboardingRequest } from '../../lambdas/core/request.js';
import { startSqs, type LocalSqs } from '../../local/engines/sqs.js';
import { CliError } from '../../local/cli/errors.js';
import { connectStack, type OpsBackend } from '../../local/cli/ops-backend.js';
import { runAudit } from '../../lambdas/usecases/audit.js';
import { approvalRequest } from '../../local/cli/approve-command.js';
import { listFailures } from '../../local/cli/failures-command.js';
import { redrivePlan } from '../../local/cli/redrive-command.js';
import { renderRequestStatus } from '../../local/cli/status-command.js';
import { buildReport, emailStatusView, OUTCOME_COLUMNS, outcomeRecord, requestStatus, writeOutcomes } from '../../local/cli/ops-report.js';
import { OUTPUT_FORMATS, render, renderCsv, renderJson, type OutputFormat } from '../../local/cli/output.js';
import { startLedgerTestBed, type LedgerTestBed } from '../support/dynalite.js';

let bed: LedgerTestBed;
let sqs: LocalSqs;

beforeAll(async () => {
  [bed, sqs] = await Promise.all([startLedgerTestBed(), startSqs()]);
}, 60_000);

afterAll(async () => {
  await Promise.all([bed.close(), sqs.close()]);
});

const T1 = '2025-03-01T10:00:00.000Z';
const T2 = '2025-03-01T11:00:00.000Z';
const T3 = '2025-03-01T12:00:00.000Z';

/** Only the ledger is used by the logic under test; anything else would be a bug, so it throws. */
function ledgerBackend(ledger: DynamoLedger): OpsBackend {
  const unused = () => Promise.reject(new Error('not used by this logic'));
  return { label: 'test ledger', kind: 'local', ledger, canLeaveEarly: false, submit: unused, waitFor: unused, redriveDlq: unused, close: () => Promise.resolve() };
}

/**
 * r1: ann deleted, bo failed (retryable) then settled by r2, cy failed permanently, di failed (retryable, unsettled).
 * h1: HELD for eve and fay.
 */
async function seededLedger(): Promise<DynamoLedger> {
  const { ledger } = await bed.freshLedger();
  await ledger.createRequestState({ requestId: 'r1', status: 'RECEIVED', at: T1, source: 'webhook', emailCount: 4 });
  await ledger.updateRequestState('r1', { status: 'COMPLETED_WITH_FAILURES', at: T1 });
  const failed = (email: string, retryable: boolean, attempt: number): Outcome => ({
    requestId: 'r1',
    email,
    status: 'FAILED',
    errorClass: retryable ? 'HTTP_503' : 'HTTP_403',
    error: retryable ? 'service unavailable' : 'forbidden',
    retryable,
    attempt,
    recordedAt: T1,
    userId: `id-${email[0] ?? ''}`,
  });
  await ledger.recordOutcomes([
    { requestId: 'r1', email: 'ann@example.com', status: 'DELETED', userId: 'id-a', attempt: 1, recordedAt: T1 },
    failed('bo@example.com', true, 3),
    failed('cy@example.com', false, 1),
    failed('di@example.com', true, 3),
  ]);
  await ledger.createRequestState({ requestId: 'r2', status: 'COMPLETED', at: T2, source: 'redrive' });
  await ledger.recordOutcomes([{ requestId: 'r2', email: 'bo@example.com', status: 'DELETED', userId: 'id-b', attempt: 1, recordedAt: T2 }]);
  await ledger.createRequestState({ requestId: 'h1', status: 'HELD', at: T3, source: 'webhook', emailCount: 2 });
  await ledger.recordOutcomes(
    ['eve@example.com', 'fay@example.com'].map((email): Outcome => ({ requestId: 'h1', email, status: 'HELD', reason: 'blast radius', attempt: 0, recordedAt: T3 })),
  );
  return ledger;
}

describe('status', () => {
  it('a request: state and one outcome per email, in the documented JSON shape', async () => {
    const ledger = await seededLedger();
    const view = await requestStatus(ledger, 'r1');
    expect(view).toBeDefined();
    const json = JSON.parse(renderRequestStatus(view!, 'json')) as Record<string, unknown>;
    expect(json).toMatchObject({ requestId: 'r1', state: 'COMPLETED_WITH_FAILURES', source: 'webhook' });
    expect(json.outcomes).toEqual([
      { email: 'ann@example.com', status: 'DELETED', userId: 'id-a', attempts: 1 },
      { email: 'bo@example.com', status: 'FAILED', userId: 'id-b', error: 'HTTP_503: service unavailable', attempts: 3 },
      { email: 'cy@example.com', status: 'FAILED', userId: 'id-c', error: 'HTTP_403: forbidden', attempts: 1 },
      { email: 'di@example.com', status: 'FAILED', userId: 'id-d', error: 'HTTP_503: service unavailable', attempts: 3 },
    ]);
    expect(json.counts).toMatchObject({ DELETED: 1, FAILED: 3 });
    expect(await requestStatus(ledger, 'nope')).toBeUndefined();
  });

  it('an email: its history across requests, latest last', async () => {
    const ledger = await seededLedger();
    const view = emailStatusView('bo@example.com', await ledger.historyOfEmail('bo@example.com'));
    expect(view.latest).toBe('DELETED');
    expect(view.history.map((h) => [h.requestId, h.status, h.attempts])).toEqual([
      ['r1', 'FAILED', 3],
      ['r2', 'DELETED', 1],
    ]);
  });
});

describe('report', () => {
  it('covers every request with totals; json/csv rows are one per outcome', async () => {
    const ledger = await seededLedger();
    const report = await buildReport(ledger, { now: new Date(T3) });
    expect(report.requests.map((r) => [r.requestId, r.state, r.emails])).toEqual([
      ['r1', 'COMPLETED_WITH_FAILURES', 4],
      ['r2', 'COMPLETED', 1],
      ['h1', 'HELD', 2],
    ]);
    expect(report.totals).toMatchObject({ DELETED: 2, FAILED: 3, HELD: 2, NOT_FOUND: 0 });
    expect(report.outcomes).toHaveLength(7);
    const only = await buildReport(ledger, { requestIds: ['h1'] });
    expect(only.outcomes.map((o) => o.email)).toEqual(['eve@example.com', 'fay@example.com']);
  });

  it('written request by request, each format is the whole report\'s: one CSV header, the table\'s widths, the same JSON', async () => {
    const ledger = await seededLedger();
    const ids = ['r2', 'h1', 'r1', 'h1'];
    const now = new Date(T3);
    const whole = await buildReport(ledger, { requestIds: ids, now });
    const records = whole.outcomes.map(outcomeRecord);
    const expected: Record<OutputFormat, string> = {
      csv: renderCsv(records, OUTCOME_COLUMNS),
      table: render('table', { records, columns: OUTCOME_COLUMNS }),
      json: renderJson(whole),
    };
    for (const format of OUTPUT_FORMATS) {
      const chunks: string[] = [];
      const streamed = await writeOutcomes(ledger, ids, format, (text) => chunks.push(text), now);
      expect(chunks.join(''), format).toBe(expected[format]);
      expect(chunks.length, `${format} is written in parts`).toBeGreaterThan(3);
      expect(streamed.totals).toEqual(whole.totals);
      expect(streamed.requests).toEqual(whole.requests);
    }
    expect(expected.table).toMatch(/^REQUEST_ID +EMAIL /);
    expect(expected.csv.match(/^request_id,/gm)).toHaveLength(1);
  });

  it('written while the request is still gaining outcomes (a run that timed out), every format counts exactly the rows it wrote', async () => {
    for (const format of OUTPUT_FORMATS) {
      const { ledger } = await bed.freshLedger();
      await ledger.createRequestState({ requestId: 'live', status: 'RUNNING', at: T1, source: 'webhook', emailCount: 3 });
      await ledger.recordOutcomes([{ requestId: 'live', email: 'ann@example.com', status: 'DELETED', userId: 'id-a', attempt: 1, recordedAt: T1 }]);
      // The workflow records two more outcomes right after the report's first read of the request.
      let reads = 0;
      const racing: typeof ledger = Object.create(ledger) as typeof ledger;
      racing.outcomesOfRequest = async (requestId) => {
        const outcomes = await ledger.outcomesOfRequest(requestId);
        if (++reads === 1) {
          await ledger.recordOutcomes(
            ['bo@example.com', 'cy@example.com'].map((email): Outcome => ({ requestId: 'live', email, status: 'DELETED', userId: `id-${email[0] ?? ''}`, attempt: 1, recordedAt: T2 })),
          );
        }
        return outcomes;
      };
      const chunks: string[] = [];
      const returned = await writeOutcomes(racing, ['live'], format, (text) => chunks.push(text), new Date(T3));
      const text = chunks.join('');
      const rowsWritten =
        format === 'json'
          ? (JSON.parse(text) as { outcomes: unknown[] }).outcomes.length
          : text.split('\n').filter((line) => line.includes('@example.com')).length;
      expect(returned.totals.DELETED, format).toBe(rowsWritten);
      expect(returned.requests.map((r) => r.emails), format).toEqual([rowsWritten]);
      if (format === 'json') {
        const report = JSON.parse(text) as { totals: { DELETED: number }; requests: { emails: number }[] };
        expect(report.totals.DELETED, 'the JSON totals count its own rows').toBe(rowsWritten);
        expect(report.requests[0]?.emails).toBe(rowsWritten);
      }
      // Table: its second pass sees all three; CSV and JSON read once, before the new outcomes.
      expect(rowsWritten, format).toBe(format === 'table' ? 3 : 1);
    }
  });

  it('written for requests without outcomes: the table says so, the JSON has an empty list, the CSV a header', async () => {
    const ledger = await seededLedger();
    const now = new Date(T3);
    const written = async (format: OutputFormat) => {
      const chunks: string[] = [];
      await writeOutcomes(ledger, ['unknown-request'], format, (text) => chunks.push(text), now);
      return chunks.join('');
    };
    expect(await written('table')).toBe('No outcomes recorded.\n');
    expect(await written('json')).toBe(renderJson(await buildReport(ledger, { requestIds: ['unknown-request'], now })));
    expect(JSON.parse(await written('json'))).toMatchObject({ outcomes: [], requests: [{ requestId: 'unknown-request', emails: 0 }] });
    expect(await written('csv')).toBe(renderCsv([], OUTCOME_COLUMNS));
  });
});

describe('failures, redrive and approve', () => {
  it('failures lists FAILED and HELD; an approved HELD request drops out', async () => {
    const ledger = await seededLedger();
    const backend = ledgerBackend(ledger);
    const before = await listFailures(backend, ['FAILED', 'HELD']);
    expect(before.map((o) => [o.requestId, o.email, o.status])).toEqual([
      ['r1', 'bo@example.com', 'FAILED'],
      ['r1', 'cy@example.com', 'FAILED'],
      ['r1', 'di@example.com', 'FAILED'],
      ['h1', 'eve@example.com', 'HELD'],
      ['h1', 'fay@example.com', 'HELD'],
    ]);
    expect((await listFailures(backend, ['FAILED'], T2)).map((o) => o.email)).toEqual([]);
    await ledger.createRequestState({ requestId: 'h1.approved', status: 'RECEIVED', at: T3 });
    expect((await listFailures(backend, ['HELD'])).map((o) => o.email)).toEqual([]);
  });

  it('redrive retries retryable failures not settled since; permanent ones are left to a human', async () => {
    const backend = ledgerBackend(await seededLedger());
    const { selection, requests } = await redrivePlan(backend, { dataDir: 'unused', olderThan: 0 }, new Date(T3), () => undefined);
    expect(selection.items.map((i) => [i.email, i.failedRequestId])).toEqual([['di@example.com', 'r1']]);
    // bo: settled by r2's DELETED; cy: not retryable, counted for the operator's note but never re-driven.
    expect(selection).toMatchObject({ candidates: 2, superseded: 1, skippedDryRun: 0, permanent: 1 });
    expect(requests).toEqual([expect.objectContaining({ emails: ['di@example.com'], source: 'redrive', dryRun: false })]);
    expect(requests[0]?.requestId).toMatch(/^redrive-[0-9a-f]{16}$/);
  });

  it('redrive and the audit pick the same failures and submit the same request id; a rehearsal never takes it', async () => {
    const ledger = await seededLedger();
    const backend = ledgerBackend(ledger);
    const now = new Date('2025-03-02T12:00:00.000Z');
    const cli = await redrivePlan(backend, { dataDir: 'unused', olderThan: 0 }, now, () => undefined);
    const noop = () => undefined;
    const audit = await runAudit(
      {
        ledger,
        directory: () => Promise.resolve({ listAll: async function* () {} }),
        queue: { send: () => Promise.reject(new Error('report-only audit must not enqueue')) },
        clock: () => now,
        log: { info: noop, warn: noop, error: noop },
      },
      { redriveOlderThanMinutes: 60, driftLookbackDays: 90 },
      { submit: false },
    );
    expect(audit.redrive.items).toEqual(cli.selection.items);
    expect(audit.redrive.requestIds).toEqual(cli.requests.map((r) => r.requestId));

    // Against a real Arize without --confirm the CLI rehearses under its own id, so the real re-drive stays possible.
    const rehearsal = await redrivePlan(backend, { dataDir: 'unused', stack: 'prod', olderThan: 0 }, now, () => undefined);
    expect(rehearsal.requests).toEqual([expect.objectContaining({ emails: ['di@example.com'], dryRun: true })]);
    expect(rehearsal.requests[0]?.requestId).toMatch(/^redrive-dry-run-[0-9a-f]{16}$/);
    expect(rehearsal.requests[0]?.requestId).not.toBe(cli.requests[0]?.requestId);
  });

  it('one settled-ness rule: later decisions settle, newer failures stand in, rehearsals hide nothing, --older-than bounds the age', async () => {
    const { ledger } = await bed.freshLedger();
    const fail = (requestId: string, email: string, recordedAt: string, retryable = true): Outcome => ({
      requestId, email, status: 'FAILED', errorClass: 'HTTP_503', retryable, attempt: 2, recordedAt,
    });
    await ledger.recordOutcomes([
      fail('a', 'protected.later@example.com', T1),
      fail('a', 'rehearsed.later@example.com', T1),
      fail('a', 'failed.again@example.com', T1),
      fail('a', 'failed.for.good@example.com', T1),
      fail('a', 'dry.failed.later@example.com', T1),
      fail('a', 'recent@example.com', T3),
    ]);
    await ledger.recordOutcomes([
      { requestId: 'b', email: 'protected.later@example.com', status: 'PROTECTED', reason: 'protected role', attempt: 0, recordedAt: T2 },
      fail('b', 'failed.again@example.com', T2),
      fail('b', 'failed.for.good@example.com', T2, false),
    ]);
    // A later dry run: its DRY_RUN and its failures say nothing about whether the real deletion happened.
    await ledger.recordOutcomes([
      { requestId: 'dry', email: 'rehearsed.later@example.com', status: 'DRY_RUN', attempt: 0, recordedAt: T2 },
      fail('dry', 'dry.failed.later@example.com', T2),
    ]);
    const backend = ledgerBackend(ledger);
    const at = (olderThan: number) => redrivePlan(backend, { dataDir: 'unused', olderThan }, new Date('2025-03-01T12:30:00.000Z'), () => undefined);

    const all = await at(0);
    expect(all.selection.items.map((i) => [i.email, i.failedRequestId])).toEqual([
      ['dry.failed.later@example.com', 'a'],
      ['rehearsed.later@example.com', 'a'],
      ['failed.again@example.com', 'b'],
      ['recent@example.com', 'a'],
    ]);
    // Superseded: protected.later (a decision), failed.again in 'a' (stood in for by 'b'), failed.for.good (a human's now).
    expect(all.selection).toMatchObject({ superseded: 3, skippedDryRun: 1, permanent: 1 });
    expect(all.requests[0]?.emails).toEqual(['dry.failed.later@example.com', 'failed.again@example.com', 'recent@example.com', 'rehearsed.later@example.com']);

    const older = await at(60);
    expect(older.selection.items.map((i) => i.email)).not.toContain('recent@example.com');
    expect(older.selection.items).toHaveLength(3);
    expect(older.requests[0]?.requestId).not.toBe(all.requests[0]?.requestId);
  });

  it('approve builds <id>.approved for exactly the held emails, once, and only for HELD requests', async () => {
    const ledger = await seededLedger();
    const backend = ledgerBackend(ledger);
    const request = await approvalRequest(backend, 'h1');
    expect(request).toMatchObject({ requestId: 'h1.approved', approvesHeldRequest: 'h1', emails: ['eve@example.com', 'fay@example.com'], source: 'cli', dryRun: false });
    await expect(approvalRequest(backend, 'r1')).rejects.toThrow(/is COMPLETED_WITH_FAILURES, not HELD/);
    await expect(approvalRequest(backend, 'missing')).rejects.toThrow(/no request 'missing'/);
    await ledger.createRequestState({ requestId: 'h1.approved', status: 'COMPLETED', at: T3 });
    await expect(approvalRequest(backend, 'h1')).rejects.toThrow(/already approved as h1\.approved \(COMPLETED\)/);
  });
});

describe('--stack: outputs from CloudFormation, then the queue and the table', () => {
  const outputsFor = (queueUrl: string, dlqUrl: string, tableName: string) => [
    { OutputKey: 'QueueUrl', OutputValue: queueUrl },
    { OutputKey: 'DeadLetterQueueUrl', OutputValue: dlqUrl },
    { OutputKey: 'LedgerTableName', OutputValue: tableName },
    { OutputKey: 'StateMachineArn', OutputValue: 'arn:aws:states:us-east-1:000000000000:stateMachine:x' },
  ];

  it('submits requests to the stack queue, reads its ledger, moves DLQ messages back', async () => {
    const queues = await sqs.createQueues({ name: 'stack-intake', dlqName: 'stack-intake-dlq', maxReceiveCount: 3, visibilityTimeoutSeconds: 30 });
    const { ledger, tableName } = await bed.freshLedger();
    const cloudFormation = new CloudFormationClient({ region: 'us-east-1' });
    const cfn = mockClient(cloudFormation);
    cfn.on(DescribeStacksCommand, { StackName: 'arize-offboarding' }).resolves({
      Stacks: [{ StackName: 'arize-offboarding', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: outputsFor(queues.queueUrl, queues.dlqUrl, tableName) }],
    });
    const backend = await connectStack('arize-offboarding', { cloudFormation, sqs: sqs.client, dynamo: bed.dynamo.client });
    try {
      expect(backend.kind).toBe('stack');
      expect(backend.label).toContain(tableName);
      const parsed = parseRequest({ requestId: 'stack-1', type: 'employee.terminated', emails: ['ann@example.com'], dryRun: true });
      if (!parsed.ok) throw new Error(parsed.reason);
      const request: OffboardingRequest = parsed.value;
      await backend.submit([request]);
      const received = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: queues.queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 30 }));
      expect((received.Messages ?? []).map((m) => JSON.parse(m.Body ?? '') as unknown)).toEqual([request]);

      await ledger.createRequestState({ requestId: 'stack-1', status: 'COMPLETED', at: T1 });
      const states = await backend.waitFor(['stack-1'], { timeoutMs: 5_000, pollIntervalMs: 10 });
      expect(states.get('stack-1')?.status).toBe('COMPLETED');

      await sqs.client.send(new SendMessageCommand({ QueueUrl: queues.dlqUrl, MessageBody: '{"poison":true}' }));
      expect(await backend.redriveDlq()).toBe(1);
      const again = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: queues.queueUrl, MaxNumberOfMessages: 10 }));
      expect((again.Messages ?? []).map((m) => m.Body)).toContain('{"poison":true}');
    } finally {
      await backend.close();
      cfn.restore();
    }
  });

  it('a stack without the outputs, or that cannot be read, is a configuration error (exit 2) naming the problem', async () => {
    const cloudFormation = new CloudFormationClient({ region: 'us-east-1' });
    const cfn = mockClient(cloudFormation);
    cfn.on(DescribeStacksCommand, { StackName: 'other' }).resolves({
      Stacks: [{ StackName: 'other', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: [{ OutputKey: 'QueueUrl', OutputValue: 'http://q' }] }],
    });
    cfn.on(DescribeStacksCommand, { StackName: 'missing' }).rejects(Object.assign(new Error('Stack with id missing does not exist'), { name: 'ValidationError' }));
    try {
      const noOutputs = connectStack('other', { cloudFormation, sqs: sqs.client, dynamo: bed.dynamo.client });
      await expect(noOutputs).rejects.toThrow(CliError);
      await expect(noOutputs).rejects.toThrow(/no output LedgerTableName/);
      const missing = connectStack('missing', { cloudFormation, sqs: sqs.client, dynamo: bed.dynamo.client });
      await expect(missing).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining('Stack with id missing does not exist') as unknown });
    } finally {
      cfn.restore();
    }
  });
});
