import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { SfnExecutionStarter, executionStarterFrom } from '../../lambdas/adapters/execution-starter.js';
import { DynamoLedger } from '../../lambdas/adapters/ledger.js';
import { startRequests, type StartDeps } from '../../lambdas/usecases/start.js';
import { rejectionIdFor } from '../../lambdas/core/rejection.js';
import { startLedgerTestBed, type LedgerTestBed } from '../support/dynalite.js';
import { silentLog, sqsEvent } from '../support/records.js';

const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:offboarding';
const sfnMock = mockClient(SFNClient);
let bed: LedgerTestBed;

beforeAll(async () => {
  bed = await startLedgerTestBed();
});
afterAll(async () => {
  sfnMock.restore();
  await bed.close();
});
afterEach(() => {
  sfnMock.reset();
});

const NOW = new Date('2026-11-27T12:00:00.000Z');

async function deps(): Promise<StartDeps & { ledger: Awaited<ReturnType<LedgerTestBed['freshLedger']>>['ledger'] }> {
  const { ledger } = await bed.freshLedger();
  return {
    ledger,
    starter: new SfnExecutionStarter(STATE_MACHINE_ARN, new SFNClient({ region: 'us-east-1' })),
    clock: () => NOW,
    log: silentLog,
  };
}

const valid = (requestId: string, emails = ['ann@example.com']) => JSON.stringify({ requestId, type: 'employee.terminated', emails, source: 'webhook' });

describe('start handler', () => {
  it('starts one execution per valid request, named after the sanitised request id, with the normalised request as input', async () => {
    sfnMock.on(StartExecutionCommand).callsFake((input: { name: string }) => ({ executionArn: `${STATE_MACHINE_ARN}:${input.name}`, startDate: NOW }));
    const d = await deps();
    const { response, results } = await startRequests(sqsEvent([valid('hr-1', [' Ann@Example.com ']), valid('workday/evt+2')]), d);
    expect(response.batchItemFailures).toEqual([]);
    expect(results.map((r) => r.status)).toEqual(['started', 'started']);
    const calls = sfnMock.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.name)).toEqual(['hr-1', expect.stringMatching(/^workday-evt-2_[0-9a-f]{20}$/)]);
    expect(calls.every((c) => c.stateMachineArn === STATE_MACHINE_ARN)).toBe(true);
    expect(JSON.parse(calls[0]?.input ?? '{}')).toEqual({ requestId: 'hr-1', type: 'employee.terminated', emails: ['ann@example.com'], source: 'webhook', dryRun: false });
    expect(await d.ledger.getRequestState('hr-1')).toMatchObject({ status: 'RECEIVED', emailCount: 1, source: 'webhook', executionName: 'hr-1' });
  });

  it('a poison message is recorded REJECTED with the reason and acknowledged; the rest of the batch proceeds', async () => {
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn', startDate: NOW });
    const d = await deps();
    const poison = JSON.stringify({ requestId: 'hr-2', type: 'employee.terminated', emails: ['bob@example.com', 'nope'], extra: 1 });
    const { response, results } = await startRequests(sqsEvent([valid('hr-1'), poison, '{not json', valid('hr-3')]), d);
    expect(response.batchItemFailures).toEqual([]);
    expect(results.map((r) => r.status)).toEqual(['started', 'rejected', 'rejected', 'started']);
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(2);

    const rejectionId = rejectionIdFor(poison);
    const state = await d.ledger.getRequestState(rejectionId);
    expect(state).toMatchObject({ status: 'REJECTED', detail: 'claimed requestId: hr-2' });
    expect(state?.reason).toContain('emails.1: not a valid email address');
    expect(state?.reason).toContain('unknown field: extra');
    // The valid address in the rejected message shows the rejection in its history.
    expect((await d.ledger.historyOfEmail('bob@example.com')).map((o) => [o.status, o.requestId])).toEqual([['REJECTED', rejectionId]]);
    expect(await d.ledger.getRequestState(rejectionIdFor('{not json'))).toMatchObject({ status: 'REJECTED', reason: 'body: not valid JSON' });
    // A redelivered poison message lands on the same record.
    await startRequests(sqsEvent([poison]), d);
    expect(await d.ledger.requestsByStatus('REJECTED')).toHaveLength(2);
  });

  it('a duplicate request id is acknowledged, not an error', async () => {
    sfnMock.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));
    const d = await deps();
    const { response, results } = await startRequests(sqsEvent([valid('hr-1')]), d);
    expect(response.batchItemFailures).toEqual([]);
    expect(results[0]?.status).toBe('duplicate');
  });

  it('throttling or a 5xx from Step Functions fails only that record', async () => {
    sfnMock.on(StartExecutionCommand).callsFake((input: { name: string }) => {
      if (input.name === 'hr-throttled') throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client' });
      if (input.name === 'hr-5xx') throw Object.assign(new Error('internal'), { name: 'InternalServerError', $fault: 'server' });
      return { executionArn: 'arn', startDate: NOW };
    });
    const d = await deps();
    const { response } = await startRequests(sqsEvent([valid('hr-ok'), valid('hr-throttled'), valid('hr-5xx'), '[]']), d);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }, { itemIdentifier: 'm2' }]);
  });

  it('an input SFN can never start is rejected, not retried forever', async () => {
    sfnMock.on(StartExecutionCommand).rejects(Object.assign(new Error('too large'), { name: 'InvalidExecutionInput' }));
    const d = await deps();
    const body = valid('hr-big');
    const { response, results } = await startRequests(sqsEvent([body]), d);
    expect(response.batchItemFailures).toEqual([]);
    expect(results[0]).toMatchObject({ status: 'rejected', reason: 'execution could not start: InvalidExecutionInput' });
    expect(await d.ledger.getRequestState(rejectionIdFor(body))).toMatchObject({ status: 'REJECTED' });
  });

  it('splits a message over the 1,000-email limit into several executions', async () => {
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn', startDate: NOW });
    const d = await deps();
    const emails = Array.from({ length: 1500 }, (_, i) => `p${i}@example.com`);
    const { results } = await startRequests(sqsEvent([valid('hr-big', emails)]), d);
    expect(results[0]).toMatchObject({ status: 'started', requestIds: ['hr-big.p1of2', 'hr-big.p2of2'] });
    const inputs = sfnMock.commandCalls(StartExecutionCommand).map((c) => JSON.parse(c.args[0].input.input ?? '{}') as { emails: string[] });
    expect(inputs.map((i) => i.emails.length)).toEqual([1000, 500]);
  });

  it('a ledger outage fails the record (retried by SQS) instead of losing the rejection', async () => {
    const d = await deps();
    const broken: StartDeps = { ...d, ledger: new DynamoLedger({ tableName: 'table-that-does-not-exist', client: bed.doc }) };
    const { response } = await startRequests(sqsEvent(['{bad', valid('hr-1')]), broken);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm0' }, { itemIdentifier: 'm1' }]);
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('executionStarterFrom maps ExecutionAlreadyExists from a local engine to a duplicate', async () => {
    const d = await deps();
    const seen = new Set<string>();
    const starter = executionStarterFrom(({ name }) => {
      if (seen.has(name)) return Promise.reject(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
      seen.add(name);
      return Promise.resolve({ executionArn: `arn:${name}` });
    });
    const { results } = await startRequests(sqsEvent([valid('hr-1'), valid('hr-1')]), { ...d, starter });
    expect(results.map((r) => r.status).sort()).toEqual(['duplicate', 'started']);
  });

  it('the same id with other content is REJECTED (conflicting request id) for the new emails, never started nor merged', async () => {
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn', startDate: NOW });
    const d = await deps();
    await startRequests(sqsEvent([valid('hr-7', ['ann@example.com', 'bob@example.com'])]), d);
    // Same content (order, case, reason differ): a duplicate, acknowledged.
    const same = JSON.stringify({ requestId: 'hr-7', type: 'employee.terminated', emails: ['BOB@example.com', 'ann@example.com'], source: 'webhook', reason: 'resent' });
    const other = valid('hr-7', ['carol@example.com']);
    const { response, results } = await startRequests(sqsEvent([same]), d);
    expect(results[0]?.status).not.toBe('rejected');
    const second = await startRequests(sqsEvent([other]), d);
    expect(response.batchItemFailures).toEqual([]);
    expect(second.results[0]).toMatchObject({ status: 'rejected', reason: expect.stringContaining('conflicting request id') as unknown });
    const rejectionId = (second.results[0] as { rejectionId: string }).rejectionId;
    expect(await d.ledger.getRequestState(rejectionId)).toMatchObject({ status: 'REJECTED', detail: 'claimed requestId: hr-7' });
    const carol = await d.ledger.historyOfEmail('carol@example.com');
    expect(carol.map((o) => [o.status, o.requestId])).toEqual([['REJECTED', rejectionId]]);
    expect(carol[0]).toMatchObject({ reason: expect.stringContaining('conflicting request id') as unknown });
    // The first request is untouched: no outcome for carol under it, its stored request unchanged.
    expect(await d.ledger.outcomesOfRequest('hr-7')).toEqual([]);
    expect(await d.ledger.getRequestState('hr-7')).toMatchObject({ request: { emails: ['ann@example.com', 'bob@example.com'] } });
    const started = sfnMock.commandCalls(StartExecutionCommand).map((c) => JSON.parse(c.args[0].input.input ?? '{}') as { emails: string[] });
    expect(started.flatMap((input) => input.emails)).not.toContain('carol@example.com');
  });

  it('two racing starts of one id with different content: exactly one wins the conditional write, the other is REJECTED', async () => {
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn', startDate: NOW });
    for (let round = 0; round < 5; round += 1) {
      const d = await deps();
      const bodies = [valid('hr-race', ['ann@example.com']), valid('hr-race', ['bob@example.com'])];
      const { results } = await startRequests(sqsEvent(bodies), d);
      expect(results.map((r) => r.status).sort()).toEqual(['rejected', 'started']);
      const winner = results.findIndex((r) => r.status === 'started');
      const stored = await d.ledger.getRequestState('hr-race');
      expect(stored?.request?.emails).toEqual([winner === 0 ? 'ann@example.com' : 'bob@example.com']);
      sfnMock.resetHistory();
    }
  });

  it('a state written before digests is compared through its stored request', async () => {
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn', startDate: NOW });
    const d = await deps();
    const request = { requestId: 'hr-old', type: 'employee.terminated' as const, emails: ['ann@example.com'], source: 'webhook' as const, dryRun: false };
    await d.ledger.createRequestState({ requestId: 'hr-old', status: 'COMPLETED', at: NOW.toISOString(), request });
    expect((await startRequests(sqsEvent([valid('hr-old', ['bob@example.com'])]), d)).results[0]?.status).toBe('rejected');
    expect((await startRequests(sqsEvent([valid('hr-old', ['ann@example.com'])]), d)).results[0]?.status).toBe('started');
  });
});
