/**
 * The workflow functions' environment, derived from the stack configuration. Pure (no CDK imports) so the
 * local runtime builds the very same variables the Lambdas get in AWS and reads them with the same
 * `loadRuntimeConfig`: one mapping, no drift between local and deployed behaviour.
 */
import type { OffboardingConfig } from '../config.js';

/** Safety and retry policy: every workflow function gets it. */
export function workflowPolicyEnvironment(config: OffboardingConfig): Record<string, string> {
  return {
    PROTECTED_EMAILS: config.protectedEmails.join(','),
    PROTECTED_PATTERNS: config.protectedPatterns.join(','),
    PROTECTED_ROLES: config.protectedRoles.join(','),
    ...(config.arize.apiKeyOwnerEmail !== undefined ? { ARIZE_API_KEY_OWNER_EMAIL: config.arize.apiKeyOwnerEmail } : {}),
    MAX_DELETES_PER_REQUEST: String(config.maxDeletesPerRequest),
    DELETE_CHUNK_SIZE: String(config.deleteChunkSize),
    DRY_RUN: String(config.dryRun),
    RETRY_MAX_ATTEMPTS: String(config.retry.maxAttempts),
    RETRY_BACKOFF_SECONDS: String(config.retry.backoffSeconds),
    RETRY_BACKOFF_RATE: String(config.retry.backoffRate),
    SERVICE_KEYS: config.serviceKeys,
    EVIDENCE_SLA_HOURS: String(config.evidence.slaHours),
  };
}

/** Where and how fast to call Arize: only the functions that call it get these. */
export function workflowArizeEnvironment(config: OffboardingConfig): Record<string, string> {
  return {
    ARIZE_API_HOST: config.arize.host,
    ARIZE_API_SCHEME: config.arize.scheme,
    ...(config.arize.port !== undefined ? { ARIZE_API_PORT: String(config.arize.port) } : {}),
    ARIZE_MAX_CONCURRENCY: String(config.arize.maxConcurrency),
    ARIZE_MAX_REQUESTS_PER_SECOND: String(Math.max(1, Math.floor(config.arize.maxRequestsPerSecond))),
  };
}
