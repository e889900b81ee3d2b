/** Metric names the alarms (lib/constructs/monitoring.ts) watch; pure, so the CDK app imports them without Powertools. */

/** Counted by the webhook Lambda for every 5xx it answers (intake queue or secret unavailable). */
export const WEBHOOK_FAILURES_METRIC = 'WebhookFailures';

/** Counted by DeleteChunk for every SERVICE key a deleted leaver created that is still ACTIVE (serviceKeys: report, or a failed revoke). */
export const ORPHANED_SERVICE_KEYS_METRIC = 'OrphanedServiceKeys';

/** Counted when a rescind arrives after the person was deleted (REHIRED_AFTER_DELETION): a human re-invites. */
export const USERS_REHIRED_AFTER_DELETION_METRIC = 'UsersRehiredAfterDeletion';
