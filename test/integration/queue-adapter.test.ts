/**
 * The one queue sender against a real local SQS: the Lambdas' adapter and the local runtime's sender
 * (`sendBodies`, behind submit, submitRaw, resume and DLQ redrive) batch, refuse and retry the same way, and
 * every message arrives exactly once.
 */
import { type SendMessageBatchCommandInput, type SendMessageBatchCommandOutput, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MessageTooLargeError, QueueSendError, SqsRequestQueue } from '../../lambdas/adapters/queue.js';
import { MAX_REQUEST_MESSAGE_BYTES, type OffboardingRequest } from '../../lambdas/core/request.js';
import { createLocalSqsClient, startSqs, type LocalSqs } from '../../local/engines/sqs.js';
import { sendBodies } from '../../local/runtime/queue.js';
import { freshQueues, receiveAllBodies } from '../support/sqs.js';

let sqs: LocalSqs;
let queueUrl: string;

beforeAll(async () => {
  sqs = await startSqs();
}, 60_000);

afterAll(async () => {
  await sqs.close();
});

beforeEach(async () => {
  ({ queueUrl } = await freshQueues(sqs, 'adapter'));
});

interface Recorded {
  client: SQSClient;
  /** Entry ids of every SendMessageBatch call, in order. */
  batches: string[][];
}

/**
 * A client that records each SendMessageBatch and, for the entry ids in `refuseOnce`, keeps the entry from SQS
 * on its first send and reports it Failed — as SQS does for an entry it could not take.
 */
function recordingClient(refuseOnce: readonly string[] = []): Recorded {
  const client = createLocalSqsClient(sqs.endpoint);
  const batches: string[][] = [];
  const refuse = new Set(refuseOnce);
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'SendMessageBatchCommand') return next(args);
      const input = args.input as SendMessageBatchCommandInput;
      batches.push((input.Entries ?? []).map((entry) => entry.Id ?? ''));
      const refused = (input.Entries ?? []).filter((entry) => refuse.has(entry.Id ?? ''));
      for (const entry of refused) refuse.delete(entry.Id ?? '');
      const result = await next({ ...args, input: { ...input, Entries: (input.Entries ?? []).filter((entry) => !refused.includes(entry)) } });
      const output = result.output as SendMessageBatchCommandOutput;
      output.Failed = [...(output.Failed ?? []), ...refused.map((entry) => ({ Id: entry.Id, Code: 'InternalError', SenderFault: false }))];
      return result;
    },
    { step: 'initialize', name: 'recordAndRefuse' },
  );
  return { client, batches };
}

const receiveAll = () => receiveAllBodies(sqs.client, queueUrl);

/**
 * A request whose queue message is about `bytes` long, so a few of them pass SQS's batch byte limit. The senders
 * are transport only (validation is the start handler's), so an over-long reason is a fair filler.
 */
function bulkyRequest(requestId: string, bytes: number): OffboardingRequest {
  return { requestId, type: 'employee.terminated', emails: ['ann@example.com'], source: 'cli', dryRun: false, reason: 'x'.repeat(bytes) };
}

const lambdaSend = (client: SQSClient, requests: OffboardingRequest[]) => new SqsRequestQueue({ queueUrl, client }).send(requests);
const localSend = (client: SQSClient, requests: OffboardingRequest[]) => sendBodies(client, queueUrl, requests.map((request) => JSON.stringify(request)));

describe.each([
  ['the Lambdas’ adapter', lambdaSend],
  ['the local runtime’s sender', localSend],
])('%s on a real local SQS', (_name, send) => {
  it('splits bodies past the batch byte limit into more batches, and each message arrives once', async () => {
    const recorded = recordingClient();
    const bulky = [0, 1, 2].map((index) => bulkyRequest(`bulky-${index}`, 100 * 1024));
    const small = Array.from({ length: 12 }, (_, index) => bulkyRequest(`small-${index}`, 10));
    await send(recorded.client, [...bulky, ...small]);

    // Two bulky bodies fill a batch's bytes; the third starts a new one, which then takes 9 small ones (10 entries).
    expect(recorded.batches.map((batch) => batch.length)).toEqual([2, 10, 3]);
    const received = (await receiveAll()).map((body) => (JSON.parse(body) as OffboardingRequest).requestId);
    expect(received.sort()).toEqual([...bulky, ...small].map((request) => request.requestId).sort());
  });

  it('refuses a body over the message limit up front, enqueuing nothing of the call', async () => {
    const recorded = recordingClient();
    const oversized = bulkyRequest('oversized', MAX_REQUEST_MESSAGE_BYTES);
    await expect(send(recorded.client, [bulkyRequest('fits', 10), oversized])).rejects.toBeInstanceOf(MessageTooLargeError);
    expect(recorded.batches).toEqual([]);
    expect(await receiveAll()).toEqual([]);
  });

  it('sends again only the entries SQS refused: each message arrives exactly once', async () => {
    const recorded = recordingClient(['m1', 'm12']);
    const requests = Array.from({ length: 15 }, (_, index) => bulkyRequest(`r-${index}`, 10));
    await send(recorded.client, requests);

    expect(recorded.batches).toEqual([
      ['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9'],
      ['m1'],
      ['m10', 'm11', 'm12', 'm13', 'm14'],
      ['m12'],
    ]);
    const received = (await receiveAll()).map((body) => (JSON.parse(body) as OffboardingRequest).requestId);
    expect(received.sort()).toEqual(requests.map((request) => request.requestId).sort());
  });

  it('names the messages SQS keeps refusing instead of losing them silently', async () => {
    const { client } = recordingClient();
    // Refused on every round, before the message reaches SQS.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'SendMessageBatchCommand') {
          const input = args.input as SendMessageBatchCommandInput;
          if ((input.Entries ?? []).some((entry) => entry.Id === 'm0')) {
            return { output: { Successful: [], Failed: (input.Entries ?? []).map((entry) => ({ Id: entry.Id, Code: 'InternalError', SenderFault: false })), $metadata: {} }, response: {} };
          }
        }
        return next(args);
      },
      { step: 'initialize', name: 'refuseAlways' },
    );
    const error = await send(client, [bulkyRequest('stuck', 10)]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(QueueSendError);
    expect((error as QueueSendError).message).toMatch(/^1 message\(s\) could not be enqueued \(SQS refused them: InternalError\)$/);
    expect(await receiveAll()).toEqual([]);
  });
});
