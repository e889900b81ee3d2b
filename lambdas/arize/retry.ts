/**
 * Retry timing: exponential backoff with full jitter, and the server's Retry-After.
 *
 * p-retry was considered, but it cannot wait out a server-dictated Retry-After nor refuse to
 * start a wait that would outlive the caller's deadline, which are the two rules that matter here.
 */

export const BACKOFF_BASE_MS = 200;
export const BACKOFF_CAP_MS = 20_000;

/**
 * Full jitter (uniform in [0, min(cap, base·2^attempt))): spreads clients that failed together so
 * they do not retry together. `attempt` is 0 for the first retry.
 */
export function fullJitterBackoffMs(
  attempt: number,
  random: () => number,
  baseMs = BACKOFF_BASE_MS,
  capMs = BACKOFF_CAP_MS,
): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.floor(clampUnit(random()) * ceiling);
}

/**
 * Delay before the next attempt. With a Retry-After the server's wait is a floor and the jitter
 * comes on top: every throttled request hears the same "1 second", and retrying all of them at the
 * same instant would just be throttled again.
 */
export function retryDelayMs(attempt: number, random: () => number, retryAfterMs?: number): number {
  const jitter = fullJitterBackoffMs(attempt, random);
  return retryAfterMs === undefined ? jitter : retryAfterMs + jitter;
}

/**
 * Parses a Retry-After header (RFC 9110): delay-seconds or an HTTP date. Returns milliseconds
 * from `nowMs`, never negative; undefined when absent or unreadable.
 */
export function parseRetryAfterMs(header: string | null | undefined, nowMs: number): number | undefined {
  if (header === null || header === undefined) return undefined;
  const value = header.trim();
  if (value === '') return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // Only a date-looking value: Date.parse would otherwise accept things like "1.5" or "-3".
  if (!/[a-z]/i.test(value)) return undefined;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

function clampUnit(n: number): number {
  if (!Number.isFinite(n) || n < 0) return 0;
  return n >= 1 ? 0.999_999 : n;
}
