/**
 * The ledger port: what the use cases and the core read and write (lambdas/adapters/ledger.ts implements it on
 * DynamoDB; tests and the local runtime use the same adapter on dynalite).
 */
import type { Outcome, OutcomeStatus, RequestStateStatus } from './outcome.js';
import type { OffboardingRequest } from './request.js';
import type { Cancellation, CancellationPort } from './cancellation.js';

/** What a request-state write sets, and so what a read returns besides the keys and timestamps. */
interface RequestStateFields {
  status: RequestStateStatus;
  emailCount?: number;
  source?: string;
  reason?: string;
  executionName?: string;
  counts?: Record<string, number>;
  detail?: string;
}

export interface RequestState extends RequestStateFields {
  requestId: string;
  createdAt: string;
  updatedAt: string;
  /**
   * The validated request as the start handler received it, so an interrupted request can be started again
   * (the local runtime's executions do not survive a restart). Absent on items written before it was stored.
   */
  request?: OffboardingRequest;
  /** requestDigest of `request`, written with it by the same conditional create (see core/request.ts). */
  digest?: string;
  /**
   * When intake accepted the request (the queue message's sent time), written by the first create only: a
   * rescind recorded after it applies to this request even if the start handler ran later (see core/cancellation.ts).
   */
  receivedAt?: string;
}

export interface RequestStateUpdate extends RequestStateFields {
  at: string;
}

/** Only the first write stores the request: a request id seen again never replaces what was started. */
export interface RequestStateCreation extends RequestStateUpdate {
  requestId: string;
  request?: OffboardingRequest;
  /** The request's content digest: the one creation that wins decides what this id means. */
  digest?: string;
  receivedAt?: string;
}

/**
 * An email of a request accepted with a future effective date, recorded when the workflow starts waiting
 * (Task Validate, so AWS and the local runtime write it by the same rule): until the request records an
 * outcome for the email, `offboard status <email>` shows it scheduled instead of "no record".
 */
export interface ScheduledEmail {
  requestId: string;
  email: string;
  effectiveAt: string;
  recordedAt: string;
}

export interface TimeRange {
  /** Inclusive ISO-8601 lower bound. */
  since?: string;
  /** Exclusive ISO-8601 upper bound. */
  until?: string;
  limit?: number;
}

export interface RecordOptions {
  /**
   * `normal`: a later or equal attempt supersedes the current outcome.
   * `fallback` (catch paths that do not know what already happened): only fills gaps — writes an email's
   * outcome when none exists or the current one is an older FAILED, and never replaces an attempt record.
   */
  mode?: 'normal' | 'fallback';
}

/**
 * Written (and acknowledged) before a DELETE is sent: "this request is deleting this user id, attempt N".
 * One item per request/email/attempt, never overwritten by the outcome, so the history of attempts keeps
 * every intent; a crash between the DELETE and its outcome leaves the intent, and whoever picks the
 * request up again reconciles it by id (`GET /v2/users/{id}` ⇒ 404 means the deletion happened).
 */
export interface DeleteIntent {
  requestId: string;
  email: string;
  userId: string;
  attempt: number;
  recordedAt: string;
}

export interface Ledger extends CancellationPort {
  /** Write-ahead intents of a chunk; resolves once every one is stored. */
  recordDeleteIntents(intents: readonly DeleteIntent[]): Promise<void>;
  /** Every intent of one request, per email and attempt (oldest attempt first per email). */
  deleteIntentsOfRequest(requestId: string): Promise<DeleteIntent[]>;
  /** Intents recorded in a time range, oldest first (the audit reconciles those without a settled outcome). */
  deleteIntents(range?: TimeRange): Promise<DeleteIntent[]>;
  recordOutcomes(outcomes: readonly Outcome[], options?: RecordOptions): Promise<void>;
  /** Creates the state item only if absent; `exists` for a request seen before. */
  createRequestState(update: RequestStateCreation): Promise<'created' | 'exists'>;
  updateRequestState(requestId: string, update: RequestStateUpdate): Promise<void>;
  getRequestState(requestId: string): Promise<RequestState | undefined>;
  /** Current outcome per email of one request. */
  outcomesOfRequest(requestId: string): Promise<Outcome[]>;
  /** Every attempt recorded for one email, oldest first, across requests. */
  historyOfEmail(email: string, range?: TimeRange): Promise<Outcome[]>;
  /** Current outcomes with this status, oldest first. */
  outcomesByStatus(status: OutcomeStatus, range?: TimeRange): Promise<Outcome[]>;
  /** Request states with this status (e.g. HELD requests awaiting approval), oldest first. */
  requestsByStatus(status: RequestStateStatus, range?: TimeRange): Promise<RequestState[]>;
  /** Idempotent per request and email: a resumed wait writes the same items again. */
  recordScheduled(scheduled: readonly ScheduledEmail[]): Promise<void>;
  /** Every schedule recorded for one email, across requests (whether or not still waiting). */
  scheduledForEmail(email: string): Promise<ScheduledEmail[]>;
  /**
   * Stores a cancellation (request-level when it names a request, person-level otherwise). The first write per
   * (scope, recordId) wins, so a redelivered rescind keeps its first time and cannot widen what it cancels.
   */
  recordCancellation(cancellation: Cancellation): Promise<void>;
}
