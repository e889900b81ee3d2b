/** Metric names the alarms (lib/constructs/monitoring.ts) watch; pure, so the CDK app imports them without Powertools. */

/** Counted by the webhook Lambda for every 5xx it answers (intake queue or secret unavailable). */
export const WEBHOOK_FAILURES_METRIC = 'WebhookFailures';
/**
 * Counted where a deletion is recorded (delete chunk, intent reconciliation) when it lands after the removal SLA
 * (`offboarding.evidence.slaHours` after the effective termination; lambdas/core/evidence.ts).
 */
export const SLA_MISSED_METRIC = 'SlaMissed';
