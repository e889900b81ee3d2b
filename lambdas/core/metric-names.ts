/** Metric names the alarms (lib/constructs/monitoring.ts) watch; pure, so the CDK app imports them without Powertools. */
import type { OutcomeStatus } from './outcome.js';

/** Counted by the webhook Lambda for every 5xx it answers (intake queue or secret unavailable). */
export const WEBHOOK_FAILURES_METRIC = 'WebhookFailures';

/** Counted by DeleteChunk for every SERVICE key a deleted leaver created that is still ACTIVE (serviceKeys: report, or a failed revoke). */
export const ORPHANED_SERVICE_KEYS_METRIC = 'OrphanedServiceKeys';

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
  CANCELLED: 'UsersCancelled',
  REHIRED_AFTER_DELETION: 'UsersRehiredAfterDeletion',
} as const satisfies Record<OutcomeStatus, string | null>;

/** Counted when a rescind arrives after the person was deleted (REHIRED_AFTER_DELETION): a human re-invites. */
export const USERS_REHIRED_AFTER_DELETION_METRIC = OUTCOME_METRIC_NAMES.REHIRED_AFTER_DELETION;

/**
 * Counted where a deletion is recorded (delete chunk, intent reconciliation) when it lands after the removal SLA
 * (`offboarding.evidence.slaHours` after the effective termination; lambdas/core/evidence.ts).
 */
export const SLA_MISSED_METRIC = 'SlaMissed';
