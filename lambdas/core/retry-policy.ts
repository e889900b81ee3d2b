/**
 * Which delete failures the workflow retries, and how long it waits between attempts.
 * The Arize client already retries transient errors within one invocation; this is the slower,
 * second layer (Wait states between attempts), so permanent errors must never enter it.
 */
import { RETRY_MAX_BACKOFF_SECONDS, SETTINGS } from './settings.js';

/** Client errors that a retry cannot fix: bad input, auth, permission, missing, conflict. */
export const PERMANENT_HTTP_STATUSES: ReadonlySet<number> = new Set([400, 401, 403, 404, 409, 422]);

export interface RetryPolicy {
  /** Total delete attempts, including the first. */
  maxAttempts: number;
  /** Wait before the second attempt. */
  backoffSeconds: number;
  /** Growth factor of the wait for each further attempt. */
  backoffRate: number;
  /** Upper bound of a single wait. */
  maxBackoffSeconds?: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: SETTINGS.retryMaxAttempts.default,
  backoffSeconds: SETTINGS.retryBackoffSeconds.default,
  backoffRate: SETTINGS.retryBackoffRate.default,
  maxBackoffSeconds: RETRY_MAX_BACKOFF_SECONDS,
};

export function isRetryableStatus(status: number): boolean {
  if (PERMANENT_HTTP_STATUSES.has(status)) return false;
  if (status === 408 || status === 425 || status === 429) return true;
  if (status >= 500) return true;
  // Any other 4xx is a request we would send identically again.
  return !(status >= 400 && status < 500);
}

export interface FailureClass {
  errorClass: string;
  retryable: boolean;
  httpStatus?: number;
  message: string;
}

const RETRYABLE_ERROR_NAMES = new Set([
  'ArizeNetworkError',
  'ArizeTimeoutError',
  'ArizeDeadlineError',
  'ArizeResponseError',
  'TimeoutError',
  'AbortError',
]);
const PERMANENT_ERROR_NAMES = new Set(['ArizeConfigError', 'ArizeValidationError']);

/**
 * Classifies anything thrown by the Arize client. Duck-typed on `name`/`status`/`retryable`
 * so the policy stays pure and does not depend on the client's classes.
 */
export function classifyFailure(error: unknown): FailureClass {
  const record = (typeof error === 'object' && error !== null ? error : {}) as Record<string, unknown>;
  const name = typeof record.name === 'string' ? record.name : 'Error';
  const message = error instanceof Error ? error.message : typeof error === 'string' ? error : 'unknown error';
  const status = typeof record.status === 'number' ? record.status : undefined;
  if (status !== undefined) {
    return { errorClass: `HTTP_${status}`, retryable: isRetryableStatus(status), httpStatus: status, message };
  }
  if (PERMANENT_ERROR_NAMES.has(name)) return { errorClass: name, retryable: false, message };
  if (RETRYABLE_ERROR_NAMES.has(name)) return { errorClass: name, retryable: true, message };
  if (typeof record.retryable === 'boolean') return { errorClass: name, retryable: record.retryable, message };
  // Unknown failures are retried: the attempt limit bounds them and a human sees the FAILED record.
  return { errorClass: name, retryable: true, message };
}

/** Seconds to wait after `attempt` (1-based) failed, before attempt + 1. */
export function backoffSeconds(policy: RetryPolicy, attempt: number): number {
  const raw = policy.backoffSeconds * Math.pow(policy.backoffRate, Math.max(0, attempt - 1));
  const capped = Math.min(raw, policy.maxBackoffSeconds ?? Number.POSITIVE_INFINITY);
  return Math.max(0, Math.round(capped));
}

/** The whole schedule, e.g. [60, 120] for 3 attempts: documentation and tests read it. */
export function backoffSchedule(policy: RetryPolicy): number[] {
  return Array.from({ length: Math.max(0, policy.maxAttempts - 1) }, (_, index) => backoffSeconds(policy, index + 1));
}

export function shouldRetry(policy: RetryPolicy, attempt: number, retryable: boolean): boolean {
  return retryable && attempt < policy.maxAttempts;
}
