/**
 * Rescinds and cancellations, pure part: what a cancellation is, which (request, email) pairs it stops, and the
 * check the delete path makes right before it sends a DELETE. No I/O and no AWS here: the ledger implements the
 * port; `lambdas/usecases/cancel.ts` records cancellations (HR rescinds, `offboard cancel`).
 *
 * Two scopes:
 * - request-level (`requestId` set; `email` set to cancel one address of it): `offboard cancel <requestId>`;
 * - person-level (`email` only): an HR rescind or `offboard cancel <email>`. It stops every request for that
 *   email that intake received at or before the rescind — including one still in the queue or waiting for its
 *   effective date — but not a termination received after it (HR terminating the person again is a new request).
 */
import { normalizeEmail } from './email.js';

export interface Cancellation {
  /** The record the cancellation is filed under (the rescind's own ledger id, or the CLI's `cancel-…` id). */
  recordId: string;
  requestId?: string;
  email?: string;
  cancelledAt: string;
  /** What cancelled it: a provider (`gusto`), `webhook` (our schema) or `cli`. */
  source: string;
  /** The HR system's event id, when a rescind came from one. */
  eventId?: string;
  /** Who, when a person cancelled it (`offboard cancel --operator`, else the OS user). */
  operator?: string;
  reason: string;
}

/** What the check reads: the ledger implements it. */
export interface CancellationPort {
  /** Request-level cancellations of this request and person-level ones of these emails. */
  cancellationsOf(requestId: string, emails: readonly string[]): Promise<Cancellation[]>;
  getRequestState(requestId: string): Promise<{ createdAt: string; receivedAt?: string } | undefined>;
}

/**
 * The cancellation that stops deleting `email` in `requestId`, if any. `receivedAt` undefined (no state item
 * read) ⇒ every person-level rescind of the email applies: when in doubt, do not delete.
 */
export function cancellationFor(
  cancellations: readonly Cancellation[],
  requestId: string,
  email: string,
  receivedAt: string | undefined,
): Cancellation | undefined {
  const wanted = normalizeEmail(email);
  const received = receivedAt === undefined ? undefined : Date.parse(receivedAt);
  return cancellations.find((c) => {
    if (c.requestId !== undefined) return c.requestId === requestId && (c.email === undefined || normalizeEmail(c.email) === wanted);
    if (c.email === undefined || normalizeEmail(c.email) !== wanted) return false;
    return received === undefined || Number.isNaN(received) || Date.parse(c.cancelledAt) >= received;
  });
}

/** One line for the CANCELLED outcome and the logs: who/what and why (no email: the outcome already names it). */
export function describeCancellation(c: Cancellation): string {
  const by = [c.source, c.eventId ? `event ${c.eventId}` : undefined, c.operator ? `operator ${c.operator}` : undefined].filter(Boolean).join(', ');
  return `cancelled by ${by} at ${c.cancelledAt} (${c.recordId}): ${c.reason}`.slice(0, 1000);
}

export interface CancelCheck<T> {
  proceed: T[];
  cancelled: { target: T; cancellation: Cancellation }[];
}

/**
 * The last check before a DELETE: splits the targets into those still to delete and those a cancellation
 * reached first. A rescind recorded while the workflow waited for the effective date is seen here.
 */
export async function checkCancelled<T extends { email: string }>(port: CancellationPort, requestId: string, targets: readonly T[]): Promise<CancelCheck<T>> {
  const [cancellations, state] = await Promise.all([
    port.cancellationsOf(
      requestId,
      targets.map((t) => t.email),
    ),
    port.getRequestState(requestId),
  ]);
  const result: CancelCheck<T> = { proceed: [], cancelled: [] };
  const receivedAt = state ? (state.receivedAt ?? state.createdAt) : undefined;
  for (const target of targets) {
    const cancellation = cancellations.length === 0 ? undefined : cancellationFor(cancellations, requestId, target.email, receivedAt);
    if (cancellation) result.cancelled.push({ target, cancellation });
    else result.proceed.push(target);
  }
  return result;
}
