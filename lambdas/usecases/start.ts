/**
 * The start use case (SQS intake Lambda): SQS batch → validated requests → one execution each (name = sanitised request id).
 * One bad record never fails the others: invalid input is recorded REJECTED and acknowledged; only a
 * failure worth retrying (throttling, 5xx, ledger unavailable) returns that record as a batch item failure.
 */
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { executionNameFor } from '../core/execution-name.js';
import {
  conflictingRequestReason,
  identityVerdict,
  requestDigest,
  type OffboardingRequest,
} from '../core/request.js';
import { requestsFromMessage } from '../core/intake.js';
import { recordRejectedEmails, recordRejection, type RejectedEmail } from '../core/rejection.js';
import type { ExecutionStarter, Ledger, WorkflowLog } from './ports.js';

export interface StartDeps {
  ledger: Ledger;
  starter: ExecutionStarter;
  clock: () => Date;
  log: WorkflowLog;
}

export type RecordResult =
  | { messageId: string; status: 'started' | 'duplicate'; requestIds: string[] }
  | { messageId: string; status: 'rejected'; reason: string; rejectionId: string }
  | { messageId: string; status: 'retry'; error: string };

/** SFN errors that mean "this input can never start": recorded as rejected instead of retried forever. */
const UNSTARTABLE_ERRORS = new Set(['InvalidExecutionInput', 'InvalidName']);
const RECORD_CONCURRENCY = 8;

async function rejectLookAlikes(request: OffboardingRequest, rejected: readonly RejectedEmail[], at: Date, deps: StartDeps): Promise<void> {
  if (rejected.length === 0) return;
  await recordRejectedEmails(deps.ledger, request.requestId, rejected, at);
  deps.log.warn('look-alike emails rejected; the rest of the request proceeds', { requestId: request.requestId, rejected: rejected.length });
}

/** The queue's sent time: a rescind recorded after it applies even when this handler runs later (core/cancellation.ts). */
function receivedAt(record: SQSRecord): { receivedAt?: string } {
  const sent = Number(record.attributes?.SentTimestamp);
  return Number.isFinite(sent) && sent > 0 ? { receivedAt: new Date(sent).toISOString() } : {};
}

async function startOne(record: SQSRecord, deps: StartDeps): Promise<RecordResult> {
  const messageId = record.messageId;
  const now = deps.clock();
  const parsed = requestsFromMessage(record.body ?? '');
  if (!parsed.ok) {
    const { rejectionId } = await recordRejection(deps.ledger, record.body ?? '', parsed.reason, now);
    deps.log.warn('message rejected', { messageId, rejectionId, reason: parsed.reason });
    return { messageId, status: 'rejected', reason: parsed.reason, rejectionId };
  }
  let allDuplicates = true;
  let conflict: { reason: string; rejectionId: string } | undefined;
  for (const request of parsed.requests) {
    const executionName = executionNameFor(request.requestId);
    // `exists` does not skip the start: the execution name is what dedupes (ExecutionAlreadyExists ⇒ duplicate),
    // and a request whose state exists but whose execution never started or was lost must still run.
    const created = await deps.ledger.createRequestState({
      requestId: request.requestId,
      status: 'RECEIVED',
      at: now.toISOString(),
      emailCount: request.emails.length,
      source: request.source,
      executionName,
      ...(request.reason ? { reason: request.reason } : {}),
      request,
      digest: requestDigest(request),
      ...receivedAt(record),
    });
    // The conditional create decided which content the id stands for; other content under it is refused, so it
    // is never merged into that request (nor acknowledged as its duplicate and dropped).
    const lookAlikes = request === parsed.requests[0] ? parsed.rejectedEmails : [];
    if (created === 'exists' && identityVerdict(await deps.ledger.getRequestState(request.requestId), request) === 'conflict') {
      const reason = conflictingRequestReason(request.requestId);
      // Look-alikes of the refused message are refused with it (REJECTED), never written into the other request.
      const body = JSON.stringify(lookAlikes.length > 0 ? { ...request, emails: [...request.emails, ...lookAlikes.map((r) => r.email)] } : request);
      const { rejectionId } = await recordRejection(deps.ledger, body, reason, now);
      deps.log.warn('message rejected', { messageId, requestId: request.requestId, rejectionId, reason });
      conflict ??= { reason, rejectionId };
      continue;
    }
    await rejectLookAlikes(request, lookAlikes, now, deps);
    try {
      const started = await deps.starter.start(executionName, request);
      if (started.status === 'started') allDuplicates = false;
      deps.log.info(started.status === 'started' ? 'execution started' : 'duplicate request acknowledged', {
        messageId,
        requestId: request.requestId,
        executionName,
        emails: request.emails.length,
      });
    } catch (error) {
      const name = (error as { name?: unknown }).name;
      if (typeof name === 'string' && UNSTARTABLE_ERRORS.has(name)) {
        const reason = `execution could not start: ${name}`;
        const { rejectionId } = await recordRejection(deps.ledger, record.body ?? '', reason, now);
        deps.log.warn('message rejected', { messageId, requestId: request.requestId, rejectionId, reason });
        return { messageId, status: 'rejected', reason, rejectionId };
      }
      throw error;
    }
  }
  if (conflict) return { messageId, status: 'rejected', ...conflict };
  return { messageId, status: allDuplicates ? 'duplicate' : 'started', requestIds: parsed.requests.map((r) => r.requestId) };
}

export async function startRequests(event: SQSEvent, deps: StartDeps): Promise<{ response: SQSBatchResponse; results: RecordResult[] }> {
  const records = event.Records ?? [];
  const results: RecordResult[] = new Array<RecordResult>(records.length);
  let next = 0;
  const worker = async () => {
    while (next < records.length) {
      const index = next++;
      const record = records[index] as SQSRecord;
      try {
        results[index] = await startOne(record, deps);
      } catch (error) {
        const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        deps.log.error('record will be retried', { messageId: record.messageId, error: message });
        results[index] = { messageId: record.messageId, status: 'retry', error: message };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(RECORD_CONCURRENCY, records.length) }, worker));
  return {
    response: { batchItemFailures: results.filter((r) => r.status === 'retry').map((r) => ({ itemIdentifier: r.messageId })) },
    results,
  };
}
