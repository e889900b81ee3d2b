/** Metric names the alarms (lib/constructs/monitoring.ts) watch; pure, so the CDK app imports them without Powertools. */
import type { OutcomeStatus } from './outcome.js';

/** Counted by the webhook Lambda for every 5xx it answers (intake queue or secret unavailable). */
export const WEBHOOK_FAILURES_METRIC = 'WebhookFailures';

/**
 * The CloudWatch metric each outcome is counted under (null: not published — a dry run or a rejection changes
 * nothing in Arize and has its own report). Keyed by every status, so a new one must be given a metric or null.
 */
export const OUTCOME_METRIC_NAMES = {
  DELETED: 'UsersDeleted',
  NOT_FOUND: 'UsersNotFound',
  FAILED: 'UsersFailed',
  PROTECTED: 'UsersProtected',
  HELD: 'UsersHeld',
  DRY_RUN: null,
  REJECTED: null,
} as const satisfies Record<OutcomeStatus, string | null>;
