/**
 * Cancelling pending work: an HR rescind (`termination.rescinded`, Gusto `termination_cancelled`/`rehired`, a
 * status back to active…) and `offboard cancel <requestId|email>` all come here, in AWS (webhook Lambda) and
 * locally (serve, CLI). One rule set:
 * - a cancellation item is stored first (core/cancellation.ts): the delete path checks it right before every
 *   DELETE, so a rescind landing during the effective-date wait, or while the request is still queued, wins;
 * - requests found pending for the person (scheduled, running, held) get CANCELLED for that email now, and end
 *   CANCELLED when every email of theirs is;
 * - an email this ledger already DELETED is recorded REHIRED_AFTER_DELETION under the cancellation's own record
 *   and alerted (metric UsersRehiredAfterDeletion → alarm): a human re-invites; accounts are never re-created.
 * The cancellation's own record (state item under `recordId`) is written last, so a redelivered rescind finds it
 * and is acknowledged as a duplicate without counting its alert twice.
 */
import { randomBytes } from 'node:crypto';
import { describeCancellation, type Cancellation } from '../core/cancellation.js';
import { normalizeEmail } from '../core/email.js';
import { countOutcomes, finalRequestState, type Outcome, type RequestStateStatus } from '../core/outcome.js';
import type { WebhookResponse } from '../core/webhook.js';
import type { Ledger, OutcomeMetricsSink, WorkflowLog } from './ports.js';

/** Request states whose work is not over: a cancellation still changes what happens. */
const CANCELLABLE_STATES: ReadonlySet<RequestStateStatus> = new Set(['RECEIVED', 'RUNNING', 'HELD']);

/** Marks a state item as a cancellation's own record (a request id reused by a rescind is refused, not merged). */
const CANCELLATION_DETAIL_PREFIX = 'cancellation ';

export interface CancelInput {
  /** The ledger id this cancellation is filed under; deterministic per HR event, so a redelivery lands on it. */
  recordId: string;
  target: { requestId: string } | { emails: readonly string[] };
  source: string;
  eventId?: string;
  operator?: string;
  reason: string;
}

export interface CancelResult {
  recordId: string;
  /** Already recorded (a redelivered rescind): nothing was done again. */
  duplicate: boolean;
  /** Requests whose deletion of the person(s) was stopped (CANCELLED recorded now). */
  cancelledRequests: string[];
  /** Emails deleted before the cancellation arrived: recorded REHIRED_AFTER_DELETION; a human re-invites them. */
  rehiredAfterDeletion: { email: string; deletedBy: string }[];
}

export class CancelError extends Error {
  override readonly name = 'CancelError';
}

export interface CancelDeps {
  ledger: Ledger;
  clock: () => Date;
  log: WorkflowLog;
  metrics?: OutcomeMetricsSink;
}

/** Records a cancellation; what the webhook, the HR routes and `offboard cancel` call. */
export type CancelRecorder = (input: CancelInput) => Promise<CancelResult>;

export function cancelRecorder(deps: CancelDeps): CancelRecorder {
  return (input) => applyCancellation(input, deps);
}

/** An id for a cancellation typed by an operator (not redelivered, so unique rather than derived). */
export function cliCancelRecordId(now: Date): string {
  return `cancel-${now.toISOString().replace(/[-:.]/g, '')}-${randomBytes(4).toString('hex')}`;
}

export async function applyCancellation(input: CancelInput, deps: CancelDeps): Promise<CancelResult> {
  const { ledger } = deps;
  const existing = await ledger.getRequestState(input.recordId);
  if (existing && !existing.detail?.startsWith(CANCELLATION_DETAIL_PREFIX)) {
    throw new CancelError(`record id '${input.recordId}' already holds a request, not a cancellation: send the rescind under a new event id`);
  }
  if (existing) return { recordId: input.recordId, duplicate: true, cancelledRequests: [], rehiredAfterDeletion: [] };
  const now = deps.clock().toISOString();
  const base = {
    recordId: input.recordId,
    cancelledAt: now,
    source: input.source,
    ...(input.eventId ? { eventId: input.eventId } : {}),
    ...(input.operator ? { operator: input.operator } : {}),
    reason: input.reason,
  };

  // Which (request, email) pairs this cancellation is about, and the cancellation items to store first.
  const pairs: { requestId: string; email: string }[] = [];
  const items: Cancellation[] = [];
  if ('requestId' in input.target) {
    const requestId = input.target.requestId;
    const state = await ledger.getRequestState(requestId);
    if (!state) throw new CancelError(`no request '${requestId}' in the ledger`);
    const emails = state.request?.emails ?? (await ledger.outcomesOfRequest(requestId)).map((o) => o.email);
    items.push({ ...base, requestId });
    for (const email of emails) pairs.push({ requestId, email });
  } else {
    for (const email of new Set(input.target.emails.map(normalizeEmail))) {
      items.push({ ...base, email });
      const scheduled = (await ledger.scheduledForEmail(email)).map((s) => s.requestId);
      const history = await ledger.historyOfEmail(email);
      for (const requestId of new Set([...scheduled, ...history.map((o) => o.requestId)])) pairs.push({ requestId, email });
    }
  }
  for (const item of items) await ledger.recordCancellation(item);

  const reason = describeCancellation({ ...base, ...(items[0] ?? {}) });
  const cancelled = new Set<string>();
  const rehired: Outcome[] = [];
  const byRequest = new Map<string, string[]>();
  for (const pair of pairs) byRequest.set(pair.requestId, [...(byRequest.get(pair.requestId) ?? []), pair.email]);
  for (const [requestId, emails] of byRequest) {
    if (requestId === input.recordId) continue;
    const state = await ledger.getRequestState(requestId);
    const current = new Map((await ledger.outcomesOfRequest(requestId)).map((o) => [o.email, o]));
    const pending = state !== undefined && CANCELLABLE_STATES.has(state.status);
    const toCancel: Outcome[] = [];
    const deleted: Outcome[] = [];
    for (const email of emails) {
      const outcome = current.get(email);
      if (outcome?.status === 'DELETED') {
        deleted.push(outcome);
      } else if (pending && (outcome === undefined || outcome.status === 'HELD')) {
        // Attempt 0: a delete attempt already recorded (≥ 1) is never overwritten; the delete path's own check
        // records CANCELLED for a target whose retry is still to come.
        toCancel.push({ requestId, email, status: 'CANCELLED', reason, attempt: 0, recordedAt: now });
      }
    }
    rehired.push(...(await markRehiredAfterDeletion(ledger, deleted, reason, now)));
    if (toCancel.length === 0) continue;
    await ledger.recordOutcomes(toCancel);
    cancelled.add(requestId);
    const after = await ledger.outcomesOfRequest(requestId);
    const requestEmails = state?.request?.emails ?? emails;
    if (requestEmails.every((email) => after.find((o) => o.email === normalizeEmail(email))?.status === 'CANCELLED')) {
      await ledger.updateRequestState(requestId, { status: 'CANCELLED', at: now, detail: reason, counts: countOutcomes(after) });
    }
  }

  const rehiredOutcomes = rehired;
  const counts = countOutcomes(rehiredOutcomes);
  deps.metrics?.countOutcomes(counts);
  const cancelledRequests = [...cancelled];
  await ledger.createRequestState({
    requestId: input.recordId,
    status: finalRequestState(counts),
    at: now,
    source: input.source,
    reason: input.reason.slice(0, 500),
    emailCount: pairs.length === 0 && 'emails' in input.target ? input.target.emails.length : new Set(pairs.map((p) => p.email)).size,
    counts,
    detail: `${CANCELLATION_DETAIL_PREFIX}(${describeCancellation({ ...base })}); cancelled requests: ${cancelledRequests.join(', ') || 'none pending'}; rehired after deletion: ${rehiredOutcomes.map((o) => o.requestId).join(', ') || 'none'}`,
  });
  if (rehiredOutcomes.length > 0) {
    deps.log.error('rescind arrived after the deletion: REHIRED_AFTER_DELETION recorded; a human must re-invite', { recordId: input.recordId, emails: rehiredOutcomes.length });
  }
  deps.log.info('cancellation recorded', { recordId: input.recordId, source: input.source, cancelledRequests, rehiredAfterDeletion: rehiredOutcomes.length });
  return { recordId: input.recordId, duplicate: false, cancelledRequests, rehiredAfterDeletion: rehiredOutcomes.map((o) => ({ email: o.email, deletedBy: o.requestId })) };
}

/**
 * DELETED outcomes a rescind came too late for: REHIRED_AFTER_DELETION becomes their current outcome (one attempt
 * later, so history keeps the DELETED record) and their request ends COMPLETED_WITH_FAILURES. Superseding DELETED
 * matters beyond the report: the drift audit re-deletes people whose current outcome is DELETED and who own an
 * account again — exactly what the human's re-invitation creates.
 */
export async function markRehiredAfterDeletion(ledger: Pick<Ledger, 'recordOutcomes' | 'outcomesOfRequest' | 'updateRequestState'>, deleted: readonly Outcome[], reason: string, now: string): Promise<Outcome[]> {
  const marked: Outcome[] = deleted.map((d) => ({
    requestId: d.requestId,
    email: d.email,
    ...(d.userId ? { userId: d.userId } : {}),
    status: 'REHIRED_AFTER_DELETION',
    reason: `${reason}; the account was already deleted by this request: re-invite the person in Arize by hand`.slice(0, 1000),
    attempt: d.attempt + 1,
    recordedAt: now,
  }));
  if (marked.length === 0) return marked;
  await ledger.recordOutcomes(marked);
  for (const requestId of new Set(marked.map((o) => o.requestId))) {
    const counts = countOutcomes(await ledger.outcomesOfRequest(requestId));
    await ledger.updateRequestState(requestId, { status: finalRequestState(counts), at: now, counts, detail: 'a rescind arrived after the deletion: REHIRED_AFTER_DELETION' });
  }
  return marked;
}

/** The HTTP answer to a rescind (our route and the HR routes): what it cancelled, and what a human must do. */
export function rescindResponse(result: CancelResult, extra: Record<string, unknown> = {}): WebhookResponse {
  return {
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      ...extra,
      requestId: result.recordId,
      rescind: result.duplicate ? 'duplicate' : 'recorded',
      cancelledRequests: result.cancelledRequests,
      // Counts only: the answer goes back to the HR system's delivery log.
      rehiredAfterDeletion: result.rehiredAfterDeletion.length,
    }),
  };
}
