/** Outcomes recorded per email per request. The ledger stores exactly these. */
import type { AccessInventory, ActivityResult } from './access-inventory.js';

/**
 * CANCELLED: a rescind (HR or `offboard cancel`) reached the email before its deletion; nothing was deleted.
 * REHIRED_AFTER_DELETION: a rescind arrived after the email was deleted; a human re-invites (we never re-create).
 */
export const OUTCOME_STATUSES = ['DELETED', 'NOT_FOUND', 'FAILED', 'PROTECTED', 'HELD', 'DRY_RUN', 'REJECTED', 'CANCELLED', 'REHIRED_AFTER_DELETION'] as const;
export type OutcomeStatus = (typeof OUTCOME_STATUSES)[number];

/** Request-level lifecycle, kept in one state item per request. */
export const REQUEST_STATES = ['RECEIVED', 'RUNNING', 'HELD', 'COMPLETED', 'COMPLETED_WITH_FAILURES', 'FAILED', 'REJECTED', 'CANCELLED'] as const;
export type RequestStateStatus = (typeof REQUEST_STATES)[number];

/**
 * Whether an execution does nothing more on its own once its request is in this state (HELD waits for
 * `offboard approve`). Keyed by every state, so a new state does not compile until it is classified here.
 */
const REQUEST_STATE_IS_FINAL = {
  RECEIVED: false,
  RUNNING: false,
  HELD: true,
  COMPLETED: true,
  COMPLETED_WITH_FAILURES: true,
  FAILED: true,
  REJECTED: true,
  CANCELLED: true,
} as const satisfies Record<RequestStateStatus, boolean>;

/** The final request states: `drain`, `run --wait`, the CLI's progress and the crash suite's invariant (e). */
export const FINAL_REQUEST_STATES: ReadonlySet<RequestStateStatus> = new Set(REQUEST_STATES.filter((state) => REQUEST_STATE_IS_FINAL[state]));

interface OutcomeBase {
  requestId: string;
  email: string;
  /** Arize user id when the email was resolved. */
  userId?: string;
  /** Delete attempts made so far; 0 for outcomes decided before any delete. */
  attempt: number;
  recordedAt: string;
}

export type Outcome =
  | (OutcomeBase & { status: 'DELETED'; verifiedAt?: string; access?: AccessInventory; activityAfterTermination?: ActivityResult })
  | (OutcomeBase & { status: 'NOT_FOUND' })
  | (OutcomeBase & { status: 'FAILED'; errorClass: string; error?: string; retryable: boolean; httpStatus?: number })
  | (OutcomeBase & { status: 'PROTECTED'; reason: string })
  | (OutcomeBase & { status: 'HELD'; reason: string })
  | (OutcomeBase & { status: 'DRY_RUN'; reason?: string })
  | (OutcomeBase & { status: 'REJECTED'; reason: string })
  /** `reason` names who/what cancelled it (source, event id, operator) and why. */
  | (OutcomeBase & { status: 'CANCELLED'; reason: string })
  /** `reason` names the rescind and the request that deleted the account. */
  | (OutcomeBase & { status: 'REHIRED_AFTER_DELETION'; reason: string });

export type OutcomeCounts = Record<OutcomeStatus, number>;

export function emptyCounts(): OutcomeCounts {
  return { DELETED: 0, NOT_FOUND: 0, FAILED: 0, PROTECTED: 0, HELD: 0, DRY_RUN: 0, REJECTED: 0, CANCELLED: 0, REHIRED_AFTER_DELETION: 0 };
}

export function countOutcomes(outcomes: readonly Pick<Outcome, 'status'>[]): OutcomeCounts {
  const counts = emptyCounts();
  for (const outcome of outcomes) counts[outcome.status] += 1;
  return counts;
}

/**
 * The request's final state follows from its outcomes: anything held or failed needs a human. A request whose
 * every email was CANCELLED ends CANCELLED; cancelled emails beside others count as done (nothing to do for them).
 * A REHIRED_AFTER_DELETION record needs a human (re-invite), so it ends COMPLETED_WITH_FAILURES.
 */
export function finalRequestState(counts: OutcomeCounts): RequestStateStatus {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  if (counts.REJECTED > 0 && counts.REJECTED === total) return 'REJECTED';
  if (counts.CANCELLED > 0 && counts.CANCELLED === total) return 'CANCELLED';
  if (counts.HELD > 0) return 'HELD';
  // A REJECTED address inside a request that otherwise ran (a look-alike) also needs a human.
  if (counts.FAILED > 0 || counts.REJECTED > 0 || counts.REHIRED_AFTER_DELETION > 0) return 'COMPLETED_WITH_FAILURES';
  return 'COMPLETED';
}
