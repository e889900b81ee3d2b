/** Local SQS queues for tests, and reading what a use case enqueued on them, for assertions. */
import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { OffboardingRequest } from '../../lambdas/core/request.js';
import type { CreatedQueues, LocalSqs } from '../../local/engines/sqs.js';

let queueCounter = 0;

/** A new intake queue and DLQ (SQS allows one purge a minute, so each test takes its own). */
export function freshQueues(sqs: LocalSqs, prefix: string): Promise<CreatedQueues> {
  queueCounter += 1;
  return sqs.createQueues({ name: `${prefix}-${queueCounter}`, dlqName: `${prefix}-dlq-${queueCounter}`, maxReceiveCount: 5, visibilityTimeoutSeconds: 30 });
}

/** Every message body on the queue; received messages stay invisible long enough that none is read twice. */
export async function receiveAllBodies(client: SQSClient, queueUrl: string): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const { Messages } = await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 300 }));
    if (!Messages || Messages.length === 0) return bodies;
    bodies.push(...Messages.map((m) => m.Body ?? ''));
  }
}

/** Every request on the queue. */
export async function receiveAllRequests(client: SQSClient, queueUrl: string): Promise<OffboardingRequest[]> {
  return (await receiveAllBodies(client, queueUrl)).map((body) => JSON.parse(body) as OffboardingRequest);
}
