/**
 * The local pipeline end to end, through its SQS path: local SQS (queue + DLQ as the stack configures them)
 * → poller → the real start handler → the synthesised workflow with the real task handlers → dynalite;
 * Arize is the sandbox. Waits are scaled to 0; redelivery tests use the shortest visibility timeout local SQS
 * honours (1 s), so each redelivery costs one real second.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import type { ExecutionStarter } from '../../lambdas/adapters/execution-starter.js';
import { MessageTooLargeError } from '../../lambdas/adapters/queue.js';
import { MAX_REQUEST_MESSAGE_BYTES } from '../../lambdas/core/request.js';
import {
  connectOrStartLocalRuntime,
  RuntimeInUseError,
  startLocalRuntime,
  type LocalRuntime,
  type LocalRuntimeOptions,
  type ProgressEvent,
} from '../../local/runtime/index.js';
import { useLocalRuntimeHarness } from '../support/local-runtime.js';
import { requestInput } from '../support/records.js';

const harness = useLocalRuntimeHarness();

async function runtime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  return harness.track(await startLocalRuntime({ inMemory: true, waitTimeScale: 0, definition: harness.definition(), ...options }));
}

const request = (requestId: string, emails: string[]) => requestInput(requestId, emails);

async function dlqBodies(rt: LocalRuntime): Promise<string[]> {
  const { Messages = [] } = await rt.queue.client.send(
    new ReceiveMessageCommand({ QueueUrl: rt.queue.dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 0 }),
  );
  return Messages.map((message) => message.Body ?? '');
}

/** Fails `start` for the matching request ids while `shouldFail` says so, counting calls per id. */
function flakyStarter(shouldFail: (requestId: string, call: number) => boolean) {
  const calls = new Map<string, number>();
  const wrap = (starter: ExecutionStarter): ExecutionStarter => ({
    start(name, input) {
      const requestId = (input as { requestId: string }).requestId;
      const call = (calls.get(requestId) ?? 0) + 1;
      calls.set(requestId, call);
      if (shouldFail(requestId, call)) {
        const error = new Error('Rate exceeded');
        error.name = 'ThrottlingException';
        return Promise.reject(error);
      }
      return starter.start(name, input);
    },
  });
  return { wrap, calls };
}

describe('local pipeline through SQS', () => {
  it('takes events in and writes every outcome to the ledger, reporting progress', async () => {
    const rt = await runtime();
    const events: ProgressEvent[] = [];
    rt.onProgress((event) => events.push(event));
    await rt.submit([
      request('hr-1', ['ann@example.com', 'nobody@example.com']),
      request('hr-2', ['tom@example.com']),
      request('hr-3', ['sofia.rossi@example.com']),
    ]);
    await rt.drain({ timeoutMs: 60_000 });

    expect(await rt.ledger.getRequestState('hr-1')).toMatchObject({ status: 'COMPLETED', counts: expect.objectContaining({ DELETED: 1, NOT_FOUND: 1 }) as unknown });
    expect(await rt.ledger.getRequestState('hr-2')).toMatchObject({ status: 'COMPLETED' });
    // ADMIN is a protected role in the cdk.json defaults.
    expect(await rt.ledger.outcomesOfRequest('hr-3')).toMatchObject([{ email: 'sofia.rossi@example.com', status: 'PROTECTED', reason: 'protected-role:ADMIN' }]);
    expect(rt.sandbox?.store.find('ann@example.com')?.deleted).toBe(true);
    expect(rt.sandbox?.store.find('tom@example.com')?.deleted).toBe(true);
    expect(rt.sandbox?.store.find('joann@example.com')?.deleted).toBe(false);
    expect(rt.sandbox?.store.find('sofia.rossi@example.com')?.deleted).toBe(false);

    const finished = Object.fromEntries(events.filter((e) => e.kind === 'finished').map((e) => [e.requestId, e.status]));
    expect(finished).toEqual({ 'hr-1': 'COMPLETED', 'hr-2': 'COMPLETED', 'hr-3': 'COMPLETED' });
    expect(events.filter((e) => e.kind === 'started').map((e) => e.requestId).sort()).toEqual(['hr-1', 'hr-2', 'hr-3']);
    // Per-email progress: before hr-1 finishes, the runtime has said that both its emails have an outcome.
    const hr1 = events.filter((e) => e.requestId === 'hr-1').map((e) => (e.kind === 'outcomes' ? `outcomes:${String(e.emails)}` : e.kind));
    expect(hr1.indexOf('outcomes:2')).toBeGreaterThan(hr1.indexOf('started'));
    expect(hr1.indexOf('outcomes:2')).toBeLessThan(hr1.indexOf('finished'));

    // A finished execution keeps its status, not its event log: memory must not grow with every request a run holds.
    const results = await Promise.all(rt.executions.listExecutions().map((execution) => rt.executions.waitForExecution(execution.executionArn)));
    expect(results).toHaveLength(3);
    for (const result of results) {
      expect(result.events).toEqual([]);
      expect(result.transitions).toBeGreaterThan(0);
    }
  }, 120_000);

  it('records a poison message REJECTED while the rest of its batch proceeds', async () => {
    const rt = await runtime();
    const events: ProgressEvent[] = [];
    rt.onProgress((event) => events.push(event));
    const poison = JSON.stringify({ requestId: 'bad-1', type: 'employee.terminated', emails: ['tom@example.com', 'not-an-email'] });
    // One SendMessageBatch, so the poller receives them together.
    await rt.queue.client.send(
      new SendMessageBatchCommand({
        QueueUrl: rt.queue.queueUrl,
        Entries: [
          { Id: 'a', MessageBody: JSON.stringify(request('good-1', ['ann@example.com'])) },
          { Id: 'b', MessageBody: poison },
          { Id: 'c', MessageBody: '{not json' },
        ],
      }),
    );
    await rt.drain({ timeoutMs: 60_000 });

    const rejected = events.filter((e) => e.kind === 'rejected');
    expect(rejected).toHaveLength(2);
    const states = await Promise.all(rejected.map((e) => rt.ledger.getRequestState(e.requestId)));
    expect(states.map((s) => s?.status)).toEqual(['REJECTED', 'REJECTED']);
    expect(states.map((s) => s?.reason).sort()).toEqual(['body: not valid JSON', 'emails.1: not a valid email address']);
    // The valid address in the poison message shows the rejection in its history, and was not deleted.
    expect((await rt.ledger.historyOfEmail('tom@example.com')).map((o) => o.status)).toEqual(['REJECTED']);
    expect(rt.sandbox?.store.find('tom@example.com')?.deleted).toBe(false);
    expect(await rt.ledger.getRequestState('good-1')).toMatchObject({ status: 'COMPLETED' });
    expect(rt.sandbox?.store.find('ann@example.com')?.deleted).toBe(true);
    expect(await dlqBodies(rt)).toEqual([]);
  }, 120_000);

  it('redelivers a message whose start fails, until it succeeds (one execution)', async () => {
    const flaky = flakyStarter((_id, call) => call <= 1);
    const rt = await runtime({ visibilityTimeoutSeconds: 1, seams: { wrapStarter: flaky.wrap } });
    await rt.submit(request('flaky-1', ['tom@example.com']));
    await rt.drain({ timeoutMs: 60_000 });
    expect(flaky.calls.get('flaky-1')).toBe(2);
    expect(rt.executions.listExecutions()).toHaveLength(1);
    expect(await rt.ledger.getRequestState('flaky-1')).toMatchObject({ status: 'COMPLETED' });
    expect(await rt.ledger.outcomesOfRequest('flaky-1')).toMatchObject([{ status: 'DELETED', attempt: 1 }]);
    expect(await dlqBodies(rt)).toEqual([]);
  }, 120_000);

  it('moves a message to the DLQ after maxReceiveCount receives, and redrives it back', async () => {
    let healed = false;
    const flaky = flakyStarter((requestId) => requestId === 'doomed-1' && !healed);
    const rt = await runtime({ visibilityTimeoutSeconds: 1, seams: { wrapStarter: flaky.wrap } });
    const definition = harness.definition();
    expect(definition.intake.maxReceiveCount).toBe(5);
    await rt.submit([request('doomed-1', ['tom@example.com']), request('fine-1', ['ann@example.com'])]);
    await rt.drain({ timeoutMs: 60_000 });

    expect(flaky.calls.get('doomed-1')).toBe(definition.intake.maxReceiveCount);
    const { Attributes } = await rt.queue.client.send(
      new GetQueueAttributesCommand({ QueueUrl: rt.queue.dlqUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    expect(Attributes?.ApproximateNumberOfMessages).toBe('1');
    expect(await rt.ledger.getRequestState('fine-1')).toMatchObject({ status: 'COMPLETED' });
    // Received but never started: the ledger shows it arrived, nothing was deleted.
    expect(await rt.ledger.getRequestState('doomed-1')).toMatchObject({ status: 'RECEIVED' });
    expect(rt.sandbox?.store.find('tom@example.com')?.deleted).toBe(false);

    healed = true;
    expect(await rt.redriveDlq()).toBe(1);
    await rt.drain({ timeoutMs: 60_000 });
    expect(await rt.ledger.getRequestState('doomed-1')).toMatchObject({ status: 'COMPLETED' });
    expect(rt.sandbox?.store.find('tom@example.com')?.deleted).toBe(true);
    expect(await dlqBodies(rt)).toEqual([]);
  }, 120_000);

  it('sends a submission past the batch byte limit in parts, each message once, and refuses an oversized one as the Lambdas do', async () => {
    // Nothing here fails, so a long visibility timeout costs nothing; the scaled 1 s one can expire while a busy
    // machine still handles the batch, and SQS then delivers that message again (handled idempotently, counted twice here).
    const rt = await runtime({ visibilityTimeoutSeconds: 60 });
    const events: ProgressEvent[] = [];
    rt.onProgress((event) => events.push(event));
    // Three ~100 KiB messages cannot share one SendMessageBatch (256 KiB); an over-long reason makes each REJECTED quickly.
    const bulky = [0, 1, 2].map((index) => ({ ...request(`bulky-${index}`, ['tom@example.com']), reason: 'x'.repeat(100 * 1024) }));
    await rt.submit(bulky);
    await expect(rt.submitRaw('x'.repeat(MAX_REQUEST_MESSAGE_BYTES + 1))).rejects.toBeInstanceOf(MessageTooLargeError);
    await rt.drain({ timeoutMs: 60_000 });

    const rejected = events.filter((event) => event.kind === 'rejected');
    expect(new Set(rejected.map((event) => event.requestId)).size).toBe(3);
    const states = await Promise.all(rejected.map((event) => rt.ledger.getRequestState(event.requestId)));
    expect(states.map((state) => state?.reason)).toEqual(Array(3).fill('reason: reason must be at most 500 characters'));
    expect(rt.sandbox?.store.find('tom@example.com')?.deleted).toBe(false);
    expect(await dlqBodies(rt)).toEqual([]);
  }, 120_000);

  it('runs one execution for duplicate events, during and after the first run', async () => {
    const rt = await runtime();
    const event = request('dup-1', ['tom@example.com', 'ann@example.com']);
    await rt.submit([event, event, event]);
    await rt.drain({ timeoutMs: 60_000 });
    await rt.submit(event);
    await rt.drain({ timeoutMs: 60_000 });
    expect(rt.executions.listExecutions()).toHaveLength(1);
    expect(rt.sandbox?.counters.byRoute.delete).toBe(2);
    expect((await rt.ledger.outcomesOfRequest('dup-1')).map((o) => [o.email, o.status, o.attempt])).toEqual([
      ['ann@example.com', 'DELETED', 1],
      ['tom@example.com', 'DELETED', 1],
    ]);
  }, 120_000);

  it('lets a second process connect to a running data dir instead of opening it twice', async () => {
    const definition = harness.definition();
    const dataDir = harness.tempDir('offboard-runtime-');
    const owner = harness.track(await startLocalRuntime({ dataDir, waitTimeScale: 0, definition }));
    expect(existsSync(join(dataDir, 'runtime.json'))).toBe(true);
    await expect(startLocalRuntime({ dataDir, waitTimeScale: 0, definition })).rejects.toBeInstanceOf(RuntimeInUseError);

    const remote = harness.track(await connectOrStartLocalRuntime({ dataDir, waitTimeScale: 0, definition }));
    expect(remote.mode).toBe('remote');
    await remote.submit(request('remote-1', ['tom@example.com']));
    await remote.drain({ timeoutMs: 60_000 });
    expect(await remote.ledger.getRequestState('remote-1')).toMatchObject({ status: 'COMPLETED' });
    expect(owner.sandbox?.store.find('tom@example.com')?.deleted).toBe(true);

    await owner.close();
    expect(existsSync(join(dataDir, 'runtime.json'))).toBe(false);
    // The ledger was persisted: a new runtime on the same dir sees the earlier request.
    const reopened = harness.track(await startLocalRuntime({ dataDir, waitTimeScale: 0, definition }));
    expect(await reopened.ledger.getRequestState('remote-1')).toMatchObject({ status: 'COMPLETED' });
  }, 120_000);

  it('a reused request id with new emails in a later process is REJECTED (conflicting request id), never merged into the old request', async () => {
    const definition = harness.definition();
    const dataDir = harness.tempDir('offboard-identity-');
    const first = harness.track(await startLocalRuntime({ dataDir, waitTimeScale: 0, definition }));
    await first.submit(request('same-id', ['ann@example.com']));
    await first.drain({ timeoutMs: 60_000 });
    await first.close();

    // A new process has no execution named same-id: without the identity rule, tom would run under it.
    const second = harness.track(await startLocalRuntime({ dataDir, waitTimeScale: 0, definition }));
    await second.submit(request('same-id', ['tom@example.com']));
    await second.drain({ timeoutMs: 60_000 });
    expect(second.executions.listExecutions()).toEqual([]);
    expect(second.sandbox?.store.find('tom@example.com')?.deleted).toBe(false);
    expect((await second.ledger.outcomesOfRequest('same-id')).map((o) => o.email)).toEqual(['ann@example.com']);
    const tom = await second.ledger.historyOfEmail('tom@example.com');
    expect(tom).toEqual([expect.objectContaining({ status: 'REJECTED', reason: expect.stringContaining("conflicting request id: 'same-id'") as unknown })]);
  }, 120_000);
});
