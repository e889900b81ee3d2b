import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqsPoller, type SqsBatchHandler } from '../../local/engines/sqs-poller.js';
import { startSqs, type CreatedQueues, type LocalSqs } from '../../local/engines/sqs.js';

let sqs: LocalSqs;

/** Handlers written as plain functions; a throw becomes a rejection, as from an async Lambda. */
function batchHandler(body: (event: SQSEvent) => SQSBatchResponse | void): SqsBatchHandler {
  return (event) => Promise.resolve().then(() => body(event));
}
let queueCounter = 0;

beforeAll(async () => {
  sqs = await startSqs();
});
afterAll(async () => {
  await sqs.close();
});

async function freshQueues(maxReceiveCount: number): Promise<CreatedQueues> {
  queueCounter += 1;
  return sqs.createQueues({ name: `intake-${queueCounter}`, dlqName: `intake-${queueCounter}-dlq`, maxReceiveCount, visibilityTimeoutSeconds: 1 });
}

async function send(queueUrl: string, bodies: string[]): Promise<void> {
  await sqs.client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: bodies.map((body, index) => ({ Id: String(index), MessageBody: body })) }));
}

async function drainQueueBodies(queueUrl: string): Promise<string[]> {
  const { Messages = [] } = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
  return Messages.map((message) => message.Body ?? '').sort();
}

/** Runs a poller over the queue until it is drained, recording every batch it delivered. */
async function runUntilDrained(queues: CreatedQueues, handler: SqsBatchHandler, batchSize = 10): Promise<SQSRecord[][]> {
  const batches: SQSRecord[][] = [];
  const poller = new SqsPoller({
    client: sqs.client,
    queueUrl: queues.queueUrl,
    batchSize,
    idlePollIntervalMs: 20,
    handler: (event) => {
      batches.push(event.Records);
      return handler(event);
    },
  });
  await poller.start();
  try {
    await poller.drain({ timeoutMs: 20_000 });
  } finally {
    await poller.stop();
  }
  return batches;
}

describe('SqsPoller', () => {
  it('delivers a Lambda-shaped SQSEvent and deletes what succeeded', async () => {
    const queues = await freshQueues(5);
    await sqs.client.send(
      new SendMessageCommand({
        QueueUrl: queues.queueUrl,
        MessageBody: '{"requestId":"r-1"}',
        MessageAttributes: { source: { DataType: 'String', StringValue: 'hr' } },
      }),
    );
    const batches = await runUntilDrained(queues, batchHandler(() => undefined));
    expect(batches).toHaveLength(1);
    const record = batches[0]?.[0];
    expect(record).toMatchObject({
      body: '{"requestId":"r-1"}',
      eventSource: 'aws:sqs',
      eventSourceARN: queues.queueArn,
      awsRegion: 'us-east-1',
      attributes: { ApproximateReceiveCount: '1' },
      messageAttributes: { source: { dataType: 'String', stringValue: 'hr' } },
    });
    expect(record?.messageId).toMatch(/\S+/);
    expect(record?.receiptHandle).toMatch(/\S+/);
    expect(Number(record?.attributes.SentTimestamp)).toBeGreaterThan(0);
    expect(await drainQueueBodies(queues.queueUrl)).toEqual([]);
  });

  it('redelivers only the records named in batchItemFailures', async () => {
    const queues = await freshQueues(5);
    await send(queues.queueUrl, ['ok-1', 'fail-once', 'ok-2']);
    const failedBefore = new Set<string>();
    const batches = await runUntilDrained(queues, batchHandler((event) => {
      const failures = event.Records.filter((record) => record.body === 'fail-once' && !failedBefore.has(record.body));
      for (const record of failures) failedBefore.add(record.body);
      return { batchItemFailures: failures.map((record) => ({ itemIdentifier: record.messageId })) };
    }));
    expect(batches.map((batch) => batch.map((record) => record.body).sort())).toEqual([['fail-once', 'ok-1', 'ok-2'], ['fail-once']]);
    expect(batches[1]?.[0]?.attributes.ApproximateReceiveCount).toBe('2');
    expect(await drainQueueBodies(queues.dlqUrl)).toEqual([]);
  });

  it('redelivers a whole batch whose handler throws, until it succeeds', async () => {
    const queues = await freshQueues(5);
    await send(queues.queueUrl, ['a', 'b']);
    let invocations = 0;
    const batches = await runUntilDrained(queues, batchHandler(() => {
      invocations += 1;
      if (invocations <= 2) throw new Error(`downstream unavailable (${invocations})`);
    }));
    expect(batches.map((batch) => batch.map((record) => record.body).sort())).toEqual([['a', 'b'], ['a', 'b'], ['a', 'b']]);
    expect(batches[2]?.map((record) => record.attributes.ApproximateReceiveCount)).toEqual(['3', '3']);
    expect(await drainQueueBodies(queues.dlqUrl)).toEqual([]);
  });

  it('treats a response naming an unknown record as a failure of the whole batch, as Lambda does', async () => {
    const queues = await freshQueues(5);
    await send(queues.queueUrl, ['x', 'y']);
    let invocations = 0;
    const batches = await runUntilDrained(queues, batchHandler(() => {
      invocations += 1;
      return { batchItemFailures: invocations === 1 ? [{ itemIdentifier: 'not-in-this-batch' }] : [] };
    }));
    expect(batches.map((batch) => batch.length)).toEqual([2, 2]);
  });

  it('leaves a message that always fails to the redrive policy: DLQ after maxReceiveCount', async () => {
    const queues = await freshQueues(2);
    await send(queues.queueUrl, ['poison', 'fine']);
    const batches = await runUntilDrained(
      queues,
      batchHandler((event) => ({
        batchItemFailures: event.Records.filter((record) => record.body === 'poison').map((record) => ({ itemIdentifier: record.messageId })),
      })),
    );
    const poisonDeliveries = batches.flat().filter((record) => record.body === 'poison');
    expect(poisonDeliveries.map((record) => record.attributes.ApproximateReceiveCount)).toEqual(['1', '2']);
    expect(batches.flat().filter((record) => record.body === 'fine')).toHaveLength(1);
    expect(await drainQueueBodies(queues.dlqUrl)).toEqual(['poison']);
  });

  it('respects batchSize and, on stop(), lets an in-flight batch finish and be deleted', async () => {
    const queues = await freshQueues(5);
    await send(queues.queueUrl, ['1', '2', '3']);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered: () => void = () => undefined;
    const handlerEntered = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const seen: SQSEvent[] = [];
    const poller = new SqsPoller({
      client: sqs.client,
      queueUrl: queues.queueUrl,
      batchSize: 2,
      handler: async (event) => {
        seen.push(event);
        entered();
        await gate;
      },
    });
    await poller.start();
    await handlerEntered;
    const stopped = poller.stop();
    release();
    await stopped;
    expect(seen[0]?.Records).toHaveLength(2);
    expect(seen).toHaveLength(1);
    expect(poller.stats).toEqual({ invocations: 1, recordsSucceeded: 2, recordsFailed: 0 });
    // The two handled records were deleted; only the third is left for the next consumer.
    expect(await drainQueueBodies(queues.queueUrl)).toHaveLength(1);
  });

  it('with a capacity, never has more work under way than it allows (concurrent loops included) and still delivers everything once', async () => {
    const queues = await freshQueues(5);
    const bodies = Array.from({ length: 25 }, (_, i) => `job-${String(i).padStart(2, '0')}`);
    for (let start = 0; start < bodies.length; start += 10) await send(queues.queueUrl, bodies.slice(start, start + 10));
    // Each record starts a piece of work that outlives its batch, as a started execution outlives the start handler.
    const WINDOW = 3;
    let active = 0;
    let peak = 0;
    const delivered: string[] = [];
    const work: Promise<void>[] = [];
    const poller = new SqsPoller({
      client: sqs.client,
      queueUrl: queues.queueUrl,
      batchSize: 10,
      maxConcurrency: 4,
      idlePollIntervalMs: 5,
      capacity: () => WINDOW - active,
      handler: batchHandler((event) => {
        for (const record of event.Records) {
          delivered.push(record.body);
          active += 1;
          peak = Math.max(peak, active);
          work.push(new Promise<void>((resolve) => setTimeout(resolve, 20)).then(() => void (active -= 1)));
        }
      }),
    });
    await poller.start();
    try {
      await poller.drain({ timeoutMs: 20_000 });
    } finally {
      await poller.stop();
    }
    await Promise.all(work);
    expect(peak).toBe(WINDOW);
    expect(delivered.sort()).toEqual(bodies);
  });

  it('rejects invalid settings with the field named', () => {
    expect(() => new SqsPoller({ client: sqs.client, queueUrl: 'x', handler: batchHandler(() => undefined), batchSize: 0 })).toThrow(/batchSize/);
    expect(() => new SqsPoller({ client: sqs.client, queueUrl: 'x', handler: batchHandler(() => undefined), maxConcurrency: 1.5 })).toThrow(/maxConcurrency/);
  });
});

describe('LocalSqs.createQueues', () => {
  it('sets the redrive policy and visibility timeout like the stack, and rejects out-of-range settings', async () => {
    await expect(sqs.createQueues({ name: 'bad', dlqName: 'bad-dlq', maxReceiveCount: 0, visibilityTimeoutSeconds: 1 })).rejects.toThrow(/maxReceiveCount/);
    const queues = await freshQueues(3);
    const { Attributes } = await sqs.client.send(new GetQueueAttributesCommand({ QueueUrl: queues.queueUrl, AttributeNames: ['All'] }));
    expect(Attributes?.VisibilityTimeout).toBe('1');
    expect(JSON.parse(Attributes?.RedrivePolicy ?? '{}')).toEqual({ deadLetterTargetArn: queues.dlqArn, maxReceiveCount: 3 });
  });
});
