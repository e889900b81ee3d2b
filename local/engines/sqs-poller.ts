/**
 * An event-source mapping for a local SQS queue that behaves like Lambda's: it receives batches, calls the
 * handler with a real-shaped SQSEvent, deletes what succeeded and leaves the rest to reappear after the
 * visibility timeout — so the queue's redrive policy, not this poller, decides when a message goes to the DLQ.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord, SQSRecordAttributes } from 'aws-lambda';
import { LOCAL_AWS_REGION } from './dynamo.js';
import { getQueueArn } from './sqs.js';

export type SqsBatchHandler = (event: SQSEvent) => Promise<SQSBatchResponse | void>;
export type PollerErrorPhase = 'handler' | 'receive' | 'delete';

export interface SqsPollerOptions {
  client: SQSClient;
  queueUrl: string;
  handler: SqsBatchHandler;
  /** Records per invocation, like the event source's BatchSize (default 10). */
  batchSize?: number;
  /** Like MaximumBatchingWindowInSeconds: keep gathering until the batch is full or this has passed (default 0). */
  maxBatchingWindowMs?: number;
  /** Concurrent invocations, like ScalingConfig.MaximumConcurrency (default 1). */
  maxConcurrency?: number;
  /**
   * How many more records the handler may take now (e.g. a window of running executions minus those running).
   * Records received and not yet handled count against it, so concurrent loops never overshoot. While it is 0
   * nothing is received: the rest stay queued, not in this process’s memory (a crash re-queues them from the intake journal and the ledger, as any queued request).
   * Default: unbounded (batchSize per loop).
   */
  capacity?: () => number;
  /** Pause between receives while the queue is empty (default 50 ms). */
  idlePollIntervalMs?: number;
  /**
   * Called for handler failures (which the poller turns into redeliveries, as Lambda does) and for its own
   * SQS call failures. Default: handler failures are silent, SQS failures go to stderr.
   */
  onError?: (error: unknown, phase: PollerErrorPhase) => void;
}

export interface DrainOptions {
  /** Reject if the queue is not empty with nothing in flight by then (default 30 s). */
  timeoutMs?: number;
  /** Delay between checks (default 25 ms). */
  checkIntervalMs?: number;
}

export interface PollerStats {
  invocations: number;
  /** Records whose handler outcome was success and which were deleted. */
  recordsSucceeded: number;
  /** Records left on the queue for redelivery (reported failures, or all records of a throwing batch). */
  recordsFailed: number;
}

/** SQS caps ReceiveMessage and DeleteMessageBatch at 10 entries. */
const SQS_MAX_BATCH_ENTRIES = 10;
const MAX_LAMBDA_BATCH_SIZE = 10_000;

function defaultOnError(error: unknown, phase: PollerErrorPhase): void {
  if (phase === 'handler') return;
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  process.stderr.write(`sqs-poller: ${phase} failed: ${message}\n`);
}

function toRecordAttributes(message: Message): SQSRecordAttributes {
  const attributes = message.Attributes ?? {};
  const now = String(Date.now());
  return {
    ...attributes,
    ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
    SentTimestamp: attributes.SentTimestamp ?? now,
    SenderId: attributes.SenderId ?? 'local',
    ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? now,
  };
}

function toRecordMessageAttributes(message: Message): SQSMessageAttributes {
  const result: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    result[name] = {
      dataType: value.DataType ?? 'String',
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') } : {}),
      stringListValues: [],
      binaryListValues: [],
    };
  }
  return result;
}

export function toSqsRecord(message: Message, eventSourceARN: string, awsRegion: string = LOCAL_AWS_REGION): SQSRecord {
  if (message.MessageId === undefined || message.ReceiptHandle === undefined) {
    throw new Error('SQS returned a message without MessageId or ReceiptHandle');
  }
  return {
    messageId: message.MessageId,
    receiptHandle: message.ReceiptHandle,
    body: message.Body ?? '',
    attributes: toRecordAttributes(message),
    messageAttributes: toRecordMessageAttributes(message),
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes !== undefined ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN,
    awsRegion,
  };
}

/**
 * Lambda's rule for partial batch responses: a response naming an identifier that is empty or not in the
 * batch is malformed, and the whole batch counts as failed.
 */
export function failedMessageIds(records: readonly SQSRecord[], response: SQSBatchResponse | void): Set<string> {
  const batchIds = new Set(records.map((record) => record.messageId));
  if (response === undefined || response === null) return new Set();
  const failures = (response as Partial<SQSBatchResponse>).batchItemFailures;
  if (failures === undefined || failures === null) return new Set();
  if (!Array.isArray(failures)) return batchIds;
  const failed = new Set<string>();
  for (const failure of failures as unknown[]) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || !batchIds.has(id)) return batchIds;
    failed.add(id);
  }
  return failed;
}

export class SqsPoller {
  private readonly client: SQSClient;
  private readonly queueUrl: string;
  private readonly handler: SqsBatchHandler;
  private readonly batchSize: number;
  private readonly maxBatchingWindowMs: number;
  private readonly maxConcurrency: number;
  private readonly idlePollIntervalMs: number;
  private readonly capacity: (() => number) | undefined;
  /** Records received (or being received) and not yet handled: counted against `capacity`. */
  private reserved = 0;
  private readonly onError: (error: unknown, phase: PollerErrorPhase) => void;
  private running = false;
  private loops: Promise<void>[] = [];
  private inFlightBatches = 0;
  private eventSourceArn: string | undefined;
  private stopSignal = new AbortController();
  readonly stats: PollerStats = { invocations: 0, recordsSucceeded: 0, recordsFailed: 0 };

  constructor(options: SqsPollerOptions) {
    this.client = options.client;
    this.queueUrl = options.queueUrl;
    this.handler = options.handler;
    this.batchSize = options.batchSize ?? SQS_MAX_BATCH_ENTRIES;
    this.maxBatchingWindowMs = options.maxBatchingWindowMs ?? 0;
    this.maxConcurrency = options.maxConcurrency ?? 1;
    this.idlePollIntervalMs = options.idlePollIntervalMs ?? 50;
    this.capacity = options.capacity;
    this.onError = options.onError ?? defaultOnError;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1 || this.batchSize > MAX_LAMBDA_BATCH_SIZE) {
      throw new Error(`SqsPoller: batchSize must be an integer in 1..${MAX_LAMBDA_BATCH_SIZE}, got ${String(this.batchSize)}`);
    }
    if (!Number.isInteger(this.maxConcurrency) || this.maxConcurrency < 1) {
      throw new Error(`SqsPoller: maxConcurrency must be a positive integer, got ${String(this.maxConcurrency)}`);
    }
    if (!(this.maxBatchingWindowMs >= 0)) throw new Error('SqsPoller: maxBatchingWindowMs must be >= 0');
  }

  get isRunning(): boolean {
    return this.running;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.eventSourceArn ??= await getQueueArn(this.client, this.queueUrl);
    this.running = true;
    this.stopSignal = new AbortController();
    this.loops = Array.from({ length: this.maxConcurrency }, () => this.pollLoop());
  }

  /** Stops receiving; batches already handed to the handler finish and are settled (deleted or left). */
  async stop(): Promise<void> {
    this.running = false;
    this.stopSignal.abort();
    await Promise.all(this.loops);
    this.loops = [];
  }

  /**
   * Resolves once the queue holds no message (visible, in flight or delayed) and no batch is being handled:
   * retries that are waiting out a visibility timeout keep it pending, so a drained queue means every message
   * was either processed or moved to the DLQ.
   */
  async drain(options: DrainOptions = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const checkIntervalMs = options.checkIntervalMs ?? 25;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const remaining = await this.messagesInQueue();
      if (remaining === 0 && this.inFlightBatches === 0) return;
      if (Date.now() >= deadline) {
        throw new Error(
          `SqsPoller.drain: still ${remaining} message(s) in the queue and ${this.inFlightBatches} batch(es) in flight after ${timeoutMs} ms`,
        );
      }
      await sleep(checkIntervalMs);
    }
  }

  private async messagesInQueue(): Promise<number> {
    const { Attributes = {} } = await this.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: this.queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
      }),
    );
    return (
      Number(Attributes.ApproximateNumberOfMessages ?? 0) +
      Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
      Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0)
    );
  }

  private async pollLoop(): Promise<void> {
    while (this.running) {
      // Reserved synchronously, before any await, so the loops share the capacity instead of each taking it all.
      const allowed = this.capacity === undefined ? this.batchSize : Math.min(this.batchSize, Math.floor(this.capacity()) - this.reserved);
      if (allowed < 1) {
        await this.pause(this.idlePollIntervalMs);
        continue;
      }
      this.reserved += allowed;
      try {
        let batch: Message[] = [];
        try {
          batch = await this.gatherBatch(allowed);
        } catch (error) {
          if (!this.running) break;
          this.onError(error, 'receive');
          await this.pause(this.idlePollIntervalMs * 4);
          continue;
        }
        if (batch.length === 0) {
          await this.pause(this.idlePollIntervalMs);
          continue;
        }
        this.inFlightBatches += 1;
        try {
          await this.invoke(batch);
        } finally {
          this.inFlightBatches -= 1;
        }
      } finally {
        this.reserved -= allowed;
      }
    }
  }

  private async pause(ms: number): Promise<void> {
    try {
      await sleep(ms, undefined, { signal: this.stopSignal.signal });
    } catch {
      // Aborted by stop(): the loop condition ends the loop.
    }
  }

  /**
   * local-aws-sqs's long poll only returns early when MaxNumberOfMessages is reached, so the poller
   * short-polls and paces itself; the batching window is applied here, as the event source does.
   */
  private async gatherBatch(size: number): Promise<Message[]> {
    const batch: Message[] = [];
    const windowEnds = Date.now() + this.maxBatchingWindowMs;
    for (;;) {
      const wanted = Math.min(SQS_MAX_BATCH_ENTRIES, size - batch.length);
      const { Messages = [] } = await this.client.send(
        new ReceiveMessageCommand({
          QueueUrl: this.queueUrl,
          MaxNumberOfMessages: wanted,
          WaitTimeSeconds: 0,
          // local-aws-sqs reads the older AttributeNames field; real SQS accepts both.
          AttributeNames: ['All'],
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      );
      batch.push(...Messages);
      const full = batch.length >= size;
      const windowOver = Date.now() >= windowEnds;
      if (full || windowOver || !this.running) return batch;
      if (batch.length === 0) return batch;
      if (Messages.length === 0) await this.pause(Math.min(this.idlePollIntervalMs, Math.max(0, windowEnds - Date.now())));
    }
  }

  private async invoke(messages: Message[]): Promise<void> {
    const eventSourceArn = this.eventSourceArn ?? '';
    const records = messages.map((message) => toSqsRecord(message, eventSourceArn));
    this.stats.invocations += 1;
    let failed: Set<string>;
    try {
      // The handler gets its own copy, as it would across the Lambda boundary.
      const event = JSON.parse(JSON.stringify({ Records: records })) as SQSEvent;
      const response = await this.handler(event);
      failed = failedMessageIds(records, response);
    } catch (error) {
      this.onError(error, 'handler');
      failed = new Set(records.map((record) => record.messageId));
    }
    const succeeded = records.filter((record) => !failed.has(record.messageId));
    this.stats.recordsFailed += records.length - succeeded.length;
    this.stats.recordsSucceeded += succeeded.length;
    await this.deleteRecords(succeeded);
  }

  private async deleteRecords(records: SQSRecord[]): Promise<void> {
    for (let start = 0; start < records.length; start += SQS_MAX_BATCH_ENTRIES) {
      const chunk = records.slice(start, start + SQS_MAX_BATCH_ENTRIES);
      try {
        const { Failed = [] } = await this.client.send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.queueUrl,
            Entries: chunk.map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle })),
          }),
        );
        // A failed delete only means a duplicate delivery later; handlers are idempotent by contract.
        for (const failure of Failed) this.onError(new Error(`DeleteMessageBatch entry failed: ${failure.Code ?? 'unknown'}`), 'delete');
      } catch (error) {
        this.onError(error, 'delete');
      }
    }
  }
}
