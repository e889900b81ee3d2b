/**
 * Typed errors of the Arize users client.
 *
 * Messages name the HTTP method and the route template (`/v2/users/{id}` style paths carry only
 * opaque ids), never query strings: a list call's `email` filter is personal data and must not
 * travel into logs through an error message. The API key never appears anywhere here.
 */
import { maskEmailsInText } from '../core/email.js';
import type { ProblemDetails } from './wire.js';

export class ArizeError extends Error {
  /** True when the same call may succeed later (429, 5xx, network, timeout, deadline). */
  readonly retryable: boolean;
  /** HTTP attempts made for the call that failed (0 when nothing was sent). */
  attempts = 0;

  constructor(message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retryable = options.retryable ?? false;
  }
}

/** HTTP statuses worth another attempt: throttling and server-side failures. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599);
}

/** The API answered with an error status and RFC 9457 problem details. */
export class ArizeApiError extends ArizeError {
  readonly status: number;
  readonly problem: ProblemDetails | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(init: {
    status: number;
    problem?: ProblemDetails;
    retryAfterMs?: number;
    method: string;
    route: string;
  }) {
    const title = init.problem?.title ?? `HTTP ${init.status}`;
    // Server details sometimes quote the address ("ann@x.com is already active"): mask it.
    const detail = init.problem?.detail ? `: ${maskEmailsIn(init.problem.detail)}` : '';
    super(`${init.method} ${init.route} failed with ${init.status} ${title}${detail}`, {
      retryable: isRetryableStatus(init.status),
    });
    this.status = init.status;
    this.problem = init.problem;
    this.retryAfterMs = init.retryAfterMs;
  }
}

/**
 * The response could not be understood: HTML or garbage from a proxy, invalid JSON, or a body
 * that does not match the documented wire shape. Retryable only when the status itself is.
 */
export class ArizeResponseError extends ArizeError {
  readonly status: number;
  readonly retryAfterMs: number | undefined;

  constructor(init: { status: number; reason: string; method: string; route: string; retryAfterMs?: number }) {
    super(`${init.method} ${init.route} returned an unexpected response (HTTP ${init.status}): ${init.reason}`, {
      retryable: isRetryableStatus(init.status),
    });
    this.status = init.status;
    this.retryAfterMs = init.retryAfterMs;
  }
}

/** The request never got an HTTP response (refused, reset, DNS...). */
export class ArizeNetworkError extends ArizeError {
  /** The socket error code (ECONNREFUSED, ECONNRESET, UND_ERR_SOCKET...), when known. */
  readonly code: string | undefined;

  constructor(method: string, route: string, cause: unknown) {
    const code = networkErrorCode(cause);
    super(`${method} ${route} failed: network error${code ? ` (${code})` : ''}`, { retryable: true, cause });
    this.code = code;
  }
}

/**
 * A request that changes state (POST/PATCH) was sent, and its answer was lost (connection reset,
 * timeout) or was a 5xx: Arize may or may not have applied it. Never retried automatically —
 * repeating a create, a password reset or an invitation could do it twice, and a repeated create
 * answers "already exists" without the temporary password. Not retryable by the workflow either:
 * a person must check the current state first. `cause` holds the underlying failure.
 */
export class ArizeOutcomeUnknownError extends ArizeError {
  readonly method: string;
  readonly route: string;

  constructor(method: string, route: string, cause: ArizeError) {
    super(
      `${method} ${route}: outcome unknown — the request was sent but ${describeLoss(cause)}, so Arize may or may not have applied it; it was not repeated automatically. Check the current state before trying again`,
      { retryable: false, cause },
    );
    this.method = method;
    this.route = route;
  }
}

function describeLoss(cause: ArizeError): string {
  if (cause instanceof ArizeTimeoutError) return 'no answer came before the timeout';
  if (cause instanceof ArizeDeadlineError) return 'the caller stopped waiting for the answer';
  if (cause instanceof ArizeApiError || cause instanceof ArizeResponseError) return `the server answered ${cause.status}`;
  return 'the connection failed before the answer arrived';
}

/** One HTTP attempt exceeded the per-request timeout. */
export class ArizeTimeoutError extends ArizeError {
  constructor(method: string, route: string, timeoutMs: number) {
    super(`${method} ${route} timed out after ${timeoutMs} ms`, { retryable: true });
  }
}

/** Bad configuration (missing key, malformed host, port...); names the variable or option. */
export class ArizeConfigError extends ArizeError {
  constructor(
    message: string,
    readonly variable: string,
  ) {
    super(message);
  }
}

/** Bad input rejected before any API call; names the field. */
export class ArizeValidationError extends ArizeError {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

/**
 * The caller's deadline passed or its AbortSignal fired. Retryable: the work was not done and
 * may be tried again with a fresh budget.
 */
export class ArizeDeadlineError extends ArizeError {
  constructor(
    message: string,
    readonly reason: 'deadline' | 'aborted',
  ) {
    super(message, { retryable: true });
  }
}

function networkErrorCode(cause: unknown): string | undefined {
  // undici wraps the socket error: TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } }).
  let current: unknown = cause;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Replaces every email-looking token with its masked form (the rule lives in core/email.ts). */
export const maskEmailsIn = maskEmailsInText;
