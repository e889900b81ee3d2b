/**
 * Enqueues offboarding requests on the intake queue (SQS), as the webhook, the audit and the CLI do.
 *
 * All or nothing, as far as SQS allows: SQS has no multi-message transaction, so "nothing half-done" rests on
 * deterministic request ids. Entries that fail are retried; if any still fail the call throws, the caller
 * answers "try again" (503) and the retry re-sends every part — the parts that did arrive the first time are
 * then duplicates that the start handler acknowledges without a second execution.
 */
import { SQSClient, SendMessageBatchCommand, type BatchResultErrorEntry, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { MAX_REQUEST_MESSAGE_BYTES, type OffboardingRequest } from '../core/request.js';

import { MessageTooLargeError, type RequestQueue } from '../usecases/ports.js';

export { MessageTooLargeError, type RequestQueue };

/** One queue message: its body, and the request id it carries when the sender knows it (for error reports). */
export interface QueueMessage {
  body: string;
  requestId?: string;
}

export class QueueSendError extends Error {
  override readonly name = 'QueueSendError';
  constructor(
    message: string,
    /** Request ids not known to be enqueued. */
    readonly failedRequestIds: string[],
  ) {
    super(message);
  }
}

/** SendMessageBatch limits: 10 entries and 256 KiB in total; a margin is kept for attributes and framing. */
const MAX_BATCH_ENTRIES = 10;
const MAX_BATCH_BYTES = MAX_REQUEST_MESSAGE_BYTES;

/**
 * The size rule every sender applies (the Lambdas' and the local runtime's, both through this adapter): a body
 * over the limit is a permanent condition, named as such, never a retryable failure.
 */
export function checkMessageSizes(bodies: readonly QueueMessage[]): void {
  const oversized = bodies.find((entry) => Buffer.byteLength(entry.body) > MAX_BATCH_BYTES);
  if (oversized) {
    throw new MessageTooLargeError(
      `${oversized.requestId ? `request ${oversized.requestId}` : 'a message'} is ${Buffer.byteLength(oversized.body)} bytes; one queue message holds at most ${MAX_BATCH_BYTES}`,
    );
  }
}

export interface SqsRequestQueueOptions {
  queueUrl: string;
  client?: SQSClient;
  /** Rounds of re-sending failed entries before giving up. Default 3. */
  maxAttempts?: number;
}

let sharedSqsClient: SQSClient | undefined;
export function defaultSqsClient(): SQSClient {
  sharedSqsClient ??= new SQSClient({});
  return sharedSqsClient;
}

export class SqsRequestQueue implements RequestQueue {
  private readonly queueUrl: string;
  private readonly client: SQSClient;
  private readonly maxAttempts: number;

  constructor(options: SqsRequestQueueOptions) {
    this.queueUrl = options.queueUrl;
    this.client = options.client ?? defaultSqsClient();
    this.maxAttempts = options.maxAttempts ?? 3;
  }

  async send(requests: readonly OffboardingRequest[]): Promise<void> {
    await this.sendMessages(requests.map((request) => ({ body: JSON.stringify(request), requestId: request.requestId })));
  }

  /**
   * Sends message bodies as they are — for senders that hold a body rather than a validated request (the local
   * runtime's raw submissions, dead letters moved back) — under the same size, batching and retry rules.
   */
  async sendMessages(messages: readonly QueueMessage[]): Promise<void> {
    checkMessageSizes(messages);
    const entries = messages.map((message, index) => ({ Id: `m${index}`, MessageBody: message.body, requestId: message.requestId }));
    for (const batch of messageBatches(entries)) await this.sendBatch(batch);
  }

  /**
   * Only the entries SQS names as failed are sent again, so an entry that arrived is never sent twice by this
   * loop. A call that throws leaves unknown which entries arrived; those are sent again, and the duplicates are
   * absorbed by the start handler's idempotency on the request id.
   */
  private async sendBatch(batch: (SendMessageBatchRequestEntry & { requestId?: string })[]): Promise<void> {
    let pending = batch;
    let codes: string[] = [];
    for (let attempt = 1; pending.length > 0; attempt += 1) {
      if (attempt > this.maxAttempts) {
        throw new QueueSendError(
          `${pending.length} message(s) could not be enqueued (SQS refused them: ${[...new Set(codes)].join(', ')})`,
          knownIds(pending),
        );
      }
      let failed: BatchResultErrorEntry[];
      try {
        const result = await this.client.send(
          new SendMessageBatchCommand({
            QueueUrl: this.queueUrl,
            Entries: pending.map(({ Id, MessageBody }) => ({ Id, MessageBody })),
          }),
        );
        failed = result.Failed ?? [];
      } catch (error) {
        if (attempt >= this.maxAttempts) {
          const reason = error instanceof Error ? error.name : 'unknown error';
          throw new QueueSendError(`enqueueing failed (${reason})`, knownIds(pending));
        }
        continue;
      }
      const failedIds = new Set(failed.map((failure) => failure.Id ?? ''));
      codes = failed.map((failure) => failure.Code ?? 'unknown');
      pending = pending.filter((entry) => failedIds.has(entry.Id ?? ''));
    }
  }
}

function knownIds(entries: readonly { requestId?: string }[]): string[] {
  return entries.flatMap((entry) => (entry.requestId === undefined ? [] : [entry.requestId]));
}

/** Groups entries into SendMessageBatch calls within both limits (entries and bytes). */
export function* messageBatches<T extends { MessageBody?: string }>(entries: readonly T[]): Generator<T[]> {
  let current: T[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = Buffer.byteLength(entry.MessageBody ?? '');
    if (current.length === MAX_BATCH_ENTRIES || (current.length > 0 && bytes + size > MAX_BATCH_BYTES)) {
      yield current;
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) yield current;
}
