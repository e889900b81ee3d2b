/**
 * Shared test records: the silent logger, offboarding request payloads, real-shaped SQS events and ledger outcomes, so each test
 * states only what it varies and a change to a record's shape is made once.
 */
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type { Outcome } from '../../lambdas/core/outcome.js';
import type { OffboardingRequest, OffboardingRequestInput } from '../../lambdas/core/request.js';
import { toSqsRecord } from '../../local/engines/sqs-poller.js';

/** The one logger for tests that do not look at log lines. */
export const silentLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** A request as a sender submits it (before validation); `source` is the CLI's unless `extra` says otherwise. */
export function requestInput(requestId: string, emails: string[], extra: Partial<OffboardingRequestInput> = {}): OffboardingRequestInput {
  return { requestId, type: 'employee.terminated', emails, source: 'cli', ...extra };
}

/** A request as validation leaves it (defaults filled in), e.g. the request stored on a ledger state item. */
export function validRequest(requestId: string, emails: string[], extra: Partial<OffboardingRequest> = {}): OffboardingRequest {
  return { requestId, type: 'employee.terminated', emails, source: 'cli', dryRun: false, ...extra };
}

const TEST_QUEUE_ARN = 'arn:aws:sqs:us-east-1:000000000000:offboarding-intake';

/** An SQS record shaped as Lambda delivers it (the local poller's mapping), with the message id as receipt handle. */
export function sqsRecord(body: string, messageId: string): SQSRecord {
  return toSqsRecord({ MessageId: messageId, ReceiptHandle: messageId, Body: body, Attributes: {} }, TEST_QUEUE_ARN);
}

/** One SQS batch; message ids default to m0, m1, … in body order. */
export function sqsEvent(bodies: readonly string[], messageIds: readonly string[] = bodies.map((_, index) => `m${index}`)): SQSEvent {
  return { Records: bodies.map((body, index) => sqsRecord(body, messageIds[index] ?? `m${index}`)) };
}

type OutcomeOf<S extends Outcome['status']> = Extract<Outcome, { status: S }>;
type OutcomeExtra<S extends Outcome['status']> = Partial<Omit<OutcomeOf<S>, 'requestId' | 'email' | 'status' | 'recordedAt'>>;

/** A DELETED ledger outcome (first attempt unless `extra` says otherwise). */
export function deletedOutcome(requestId: string, email: string, recordedAt: string, extra: OutcomeExtra<'DELETED'> = {}): Outcome {
  return { requestId, email, attempt: 1, recordedAt, status: 'DELETED', ...extra };
}

/** A retryable FAILED ledger outcome (first attempt, a 5xx from Arize) unless `extra` says otherwise. */
export function failedOutcome(requestId: string, email: string, recordedAt: string, extra: OutcomeExtra<'FAILED'> = {}): Outcome {
  return { requestId, email, attempt: 1, recordedAt, status: 'FAILED', errorClass: 'ServerError', retryable: true, ...extra };
}
