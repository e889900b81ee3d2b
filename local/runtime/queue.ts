/**
 * Intake-queue operations shared by the in-process runtime and a remote connection: enqueue requests the
 * way the webhook and CLI do in AWS, and move dead letters back for another try.
 */
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { SqsRequestQueue } from '../../lambdas/adapters/queue.js';
import { splitRequest, type OffboardingRequestInput } from '../../lambdas/core/request.js';

const SQS_BATCH_MAX = 10;

export interface IntakeQueueRef {
  client: SQSClient;
  queueUrl: string;
  dlqUrl: string;
}

/**
 * Sends bodies to the intake queue through the Lambdas' queue adapter, so the size check, the batching within
 * SQS's entry and byte limits and the retry of refused entries are one rule in both places; an entry SQS still
 * refuses is an error naming how many (nothing silently lost).
 */
export async function sendBodies(client: SQSClient, queueUrl: string, bodies: readonly string[]): Promise<void> {
  await new SqsRequestQueue({ queueUrl, client }).sendMessages(bodies.map((body) => ({ body })));
}

/**
 * The request ids the start handler will create for this input (split into parts above 1,000 emails), so a
 * caller can wait for their final states. Invalid input has none: it becomes a REJECTED record instead.
 */
export function expectedRequestIds(request: OffboardingRequestInput): string[] {
  if (!Array.isArray(request.emails) || !request.emails.every((email) => typeof email === 'string')) return [];
  const split = splitRequest(request);
  return split.ok ? split.value.map((part) => part.requestId) : [];
}

export async function messagesInQueue(client: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes = {} } = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0)
  );
}

/**
 * Moves every visible DLQ message back to the intake queue: sent first, deleted after, so a crash in between
 * duplicates a message (harmless: requests are idempotent by id) instead of losing it.
 */
export async function redriveDeadLetters(queue: IntakeQueueRef): Promise<number> {
  let moved = 0;
  for (;;) {
    const { Messages = [] } = await queue.client.send(
      new ReceiveMessageCommand({ QueueUrl: queue.dlqUrl, MaxNumberOfMessages: SQS_BATCH_MAX, WaitTimeSeconds: 0, VisibilityTimeout: 30 }),
    );
    if (Messages.length === 0) return moved;
    await sendBodies(
      queue.client,
      queue.queueUrl,
      Messages.map((message) => message.Body ?? ''),
    );
    await queue.client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queue.dlqUrl,
        Entries: Messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle ?? '' })),
      }),
    );
    moved += Messages.length;
  }
}
