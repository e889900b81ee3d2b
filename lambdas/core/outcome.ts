import type { AccessInventory, ActivityResult } from './access-inventory.js';

/** Outcomes recorded per email per request. The ledger stores exactly these. */
export const OUTCOME_STATUSES = ['DELETED', 'NOT_FOUND', 'FAILED', 'PROTECTED', 'HELD', 'DRY_RUN', 'REJECTED'] as const;
export type OutcomeStatus = (typeof OUTCOME_STATUSES)[number];

/** Request-level lifecycle, kept in one state item per request. */
export const REQUEST_STATES = ['RECEIVED', 'RUNNING', 'HELD', 'COMPLETED', 'COMPLETED_WITH_FAILURES', 'FAILED', 'REJECTED'] as const;
export type RequestStateStatus = (typeof REQUEST_STATES)[number];

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
  | (OutcomeBase & { status: 'REJECTED'; reason: string });

export type OutcomeCounts = Record<OutcomeStatus, number>;

export function emptyCounts(): OutcomeCounts {
  return { DELETED: 0, NOT_FOUND: 0, FAILED: 0, PROTECTED: 0, HELD: 0, DRY_RUN: 0, REJECTED: 0 };
}

export function countOutcomes(outcomes: readonly Pick<Outcome, 'status'>[]): OutcomeCounts {
  const counts = emptyCounts();
  for (const outcome of outcomes) counts[outcome.status] += 1;
  return counts;
}

/** The request's final state follows from its outcomes: anything held or failed needs a human. */
export function finalRequestState(counts: OutcomeCounts): RequestStateStatus {
  if (counts.REJECTED > 0 && counts.REJECTED === Object.values(counts).reduce((a, b) => a + b, 0)) return 'REJECTED';
  if (counts.HELD > 0) return 'HELD';
  // A REJECTED address inside a request that otherwise ran (a look-alike) also needs a human.
  if (counts.FAILED > 0 || counts.REJECTED > 0) return 'COMPLETED_WITH_FAILURES';
  return 'COMPLETED';
}
