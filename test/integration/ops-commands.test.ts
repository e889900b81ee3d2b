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
import { approvalRequest, listFailures, redriveCandidates, renderRequestStatus } from '../../local/cli/ops-commands.js';
import { buildReport, emailStatusView, requestStatus } from '../../local/cli/ops-report.js';
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
    const { retry, permanent } = await redriveCandidates(backend);
    expect(retry.map((o) => o.email)).toEqual(['di@example.com']);
    expect(permanent.map((o) => o.email)).toEqual(['cy@example.com']);
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
