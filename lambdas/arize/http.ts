/**
 * The HTTP transport under every client call: bounded concurrency (p-queue), a client-side token
 * bucket, per-attempt timeouts, retries with full-jitter backoff that honour Retry-After, an
 * overall deadline/AbortSignal, and zod validation of every response.
 *
 * Backoff waits happen outside the queue, so a request parked on a Retry-After does not hold one
 * of the concurrency slots. Retries are queued with a higher priority than fresh work so that a
 * large batch finishes what it started before its deadline.
 */
import PQueue from 'p-queue';
import type { z } from 'zod';
import type { ArizeLogger, ResolvedArizeConfig } from './config.js';
import {
  ArizeApiError,
  ArizeDeadlineError,
  ArizeError,
  ArizeNetworkError,
  ArizeOutcomeUnknownError,
  ArizeResponseError,
  ArizeTimeoutError,
} from './errors.js';
import { AdaptiveRateController, type RateControlSnapshot, type SendOutcome, type Ticket } from './adaptive-rate.js';
import { parseRetryAfterMs, retryDelayMs } from './retry.js';
import { SHARED_REPORT_EVERY_MS, type SharedRateBudget } from './shared-budget.js';
import { ProblemDetailsSchema } from './wire.js';

export interface CallOptions {
  signal?: AbortSignal;
  /** Epoch milliseconds after which no new attempt or wait starts. */
  deadline?: number;
}

export interface ClientStats {
  /** HTTP attempts sent (retries included). */
  requests: number;
  /** Attempts that were retries of a failed one. */
  retries: number;
  /** 429 responses received. */
  throttled: number;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RequestSpec<T> {
  method: HttpMethod;
  /** Path with ids already URL-encoded, e.g. `/v2/users/abc%3D`. */
  path: string;
  /** Template for messages and logs, e.g. `/v2/users/{user_id}`: no personal data. */
  route: string;
  query?: URLSearchParams;
  body?: unknown;
  /** Schemas by success status; `'empty'` accepts any 2xx and ignores the body. */
  expect: 'empty' | Readonly<Partial<Record<number, z.ZodType<T>>>>;
}

export interface TransportDeps {
  fetch: typeof fetch;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  random: () => number;
  logger: ArizeLogger | undefined;
  onRateChange?: (rate: number) => void;
  sharedBudget?: SharedRateBudget;
}

export class HttpTransport {
  readonly stats: ClientStats = { requests: 0, retries: 0, throttled: 0 };
  private readonly queue: PQueue;
  private rate: AdaptiveRateController;
  private sharedBudgetFailed = false;
  // A private field: invisible to JSON.stringify, util.inspect and enumeration.
  readonly #authorization: string;

  constructor(
    private readonly config: ResolvedArizeConfig,
    apiKey: string,
    private readonly deps: TransportDeps,
  ) {
    this.#authorization = `Bearer ${apiKey}`;
    // The rate controller uses the real clock, not the injected sleep: tests that record backoff
    // waits should not see pacing waits mixed in (they configure a high rate instead).
    // With a shared budget the pace is the budget's, for every worker at once: a local controller
    // that also paced would learn only this worker's share and keep it after the others finish. It
    // measures that share in each throttling episode for the budget instead (and honours holds),
    // unless the budget's store fails (see takeSharedToken).
    this.rate = this.localController(deps.sharedBudget === undefined ? 'adaptive' : 'measure-for-shared');
    this.queue = new PQueue({ concurrency: this.rate.concurrency });
  }

  private localController(role: 'adaptive' | 'measure-for-shared'): AdaptiveRateController {
    const shared = this.deps.sharedBudget;
    const measuring = role === 'measure-for-shared' && shared !== undefined;
    return new AdaptiveRateController({
      adaptive: this.config.rateControl === 'adaptive',
      maxRate: this.config.maxRequestsPerSecond,
      maxConcurrency: this.config.maxConcurrency,
      ...(this.deps.onRateChange === undefined ? {} : { onRateChange: this.deps.onRateChange }),
      ...(measuring
        ? {
            passive: true,
            // Overload (5xx, timeouts, latency) slows every worker down, as a 429 does.
            onBackoff: () => this.reportSharedThrottling(),
            onLimitMeasured: (share: number) => {
              shared.shareMeasured(share).catch((caught: unknown) => {
                this.deps.logger?.warn?.('could not report to the shared rate limit', { error: caught instanceof Error ? caught.name : 'unknown' });
              });
            },
          }
        : {}),
    });
  }

  /** The rate controller's current state (rate, concurrency, estimated limit). */
  get rateControl(): RateControlSnapshot {
    return this.rate.snapshot();
  }

  get baseUrl(): string {
    return this.config.baseUrl;
  }

  async request<T>(spec: RequestSpec<T>, options: CallOptions = {}): Promise<T> {
    const counter = { attempts: 0 };
    let lastError: ArizeError | undefined;
    for (let retry = 0; ; retry++) {
      let error: ArizeError;
      try {
        return await this.queue.add(() => this.attempt(spec, options, counter), {
          priority: retry,
          signal: options.signal,
        });
      } catch (caught) {
        error = this.normalizeError(caught, spec, options);
      }
      error.attempts = counter.attempts;
      // Out of time: the most useful report is the last real failure, when there was one.
      if (error instanceof ArizeDeadlineError) throw withAttempts(lastError ?? error, counter.attempts);
      if (!error.retryable || retry >= this.config.maxRetries) throw error;
      lastError = error;

      const retryAfterMs = 'retryAfterMs' in error ? (error.retryAfterMs as number | undefined) : undefined;
      if (retryAfterMs !== undefined && retryAfterMs > this.config.maxRetryAfterMs) throw error;
      const delayMs = retryDelayMs(retry, this.deps.random, retryAfterMs);
      // Never start a wait that ends after the deadline: fail now with the (retryable) error.
      if (options.deadline !== undefined && Date.now() + delayMs >= options.deadline) throw error;
      if (options.signal?.aborted) throw error;

      this.deps.logger?.debug?.('arize request will be retried', {
        method: spec.method,
        route: spec.route,
        status: 'status' in error ? error.status : undefined,
        error: error.name,
        retry: retry + 1,
        delayMs,
      });
      try {
        await this.deps.sleep(delayMs, options.signal);
      } catch {
        throw error;
      }
      this.stats.retries++;
    }
  }

  private normalizeError(caught: unknown, spec: RequestSpec<unknown>, options: CallOptions): ArizeError {
    if (caught instanceof ArizeError) return caught;
    if (options.signal?.aborted) {
      return new ArizeDeadlineError(`${spec.method} ${spec.route} was aborted by the caller`, 'aborted');
    }
    const message = caught instanceof Error ? caught.message : String(caught);
    return new ArizeError(`${spec.method} ${spec.route} failed unexpectedly: ${message}`, { cause: caught });
  }

  private outOfTime(spec: RequestSpec<unknown>, options: CallOptions): ArizeDeadlineError | undefined {
    if (options.signal?.aborted) {
      return new ArizeDeadlineError(`${spec.method} ${spec.route} was aborted by the caller`, 'aborted');
    }
    if (options.deadline !== undefined && Date.now() >= options.deadline) {
      return new ArizeDeadlineError(`deadline reached before ${spec.method} ${spec.route} was attempted`, 'deadline');
    }
    return undefined;
  }

  private async attempt<T>(spec: RequestSpec<T>, options: CallOptions, counter: { attempts: number }): Promise<T> {
    const early = this.outOfTime(spec, options);
    if (early) throw early;
    await this.takeSharedToken(spec, options);
    let ticket: Ticket;
    try {
      ticket = await this.rate.acquire(options.signal);
    } catch {
      throw new ArizeDeadlineError(`${spec.method} ${spec.route} was aborted by the caller`, 'aborted');
    }
    const late = this.outOfTime(spec, options);
    if (late) {
      this.settle(ticket, { kind: 'cancelled' });
      throw late;
    }

    const remainingMs = options.deadline === undefined ? Number.POSITIVE_INFINITY : options.deadline - Date.now();
    const cappedByDeadline = remainingMs < this.config.requestTimeoutMs;
    const timeoutMs = Math.max(1, Math.min(this.config.requestTimeoutMs, remainingMs));
    const timeoutSignal = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeoutSignal]) : timeoutSignal;

    const url = new URL(`${this.config.baseUrl}${spec.path}`);
    if (spec.query) url.search = spec.query.toString();
    const headers: Record<string, string> = {
      authorization: this.#authorization,
      accept: 'application/json, application/problem+json',
    };
    let body: string | undefined;
    if (spec.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(spec.body);
    }

    counter.attempts++;
    this.stats.requests++;
    const sentAt = performance.now();
    let status: number;
    let responseHeaders: Headers;
    let text: string;
    try {
      // Redirects are not followed: a redirect would be a misconfigured base URL, and following
      // it could hand the bearer token to another host.
      const response = await this.deps.fetch(url, { method: spec.method, headers, body, signal, redirect: 'manual' });
      status = response.status;
      responseHeaders = response.headers;
      text = await response.text();
    } catch (caught) {
      const error = this.inFlightError(spec, options, caught, timeoutSignal.aborted, cappedByDeadline, timeoutMs);
      this.settle(ticket, error instanceof ArizeDeadlineError ? { kind: 'cancelled' } : { kind: 'overloaded' });
      throw unsafeToRepeat(spec.method) && !sentNothing(error) ? outcomeUnknown(spec, error) : error;
    }
    if (status === 429) {
      this.stats.throttled++;
      this.reportSharedThrottling();
    }
    this.settle(ticket, outcomeOf(status, responseHeaders, performance.now() - sentAt));
    try {
      return this.decode(spec, status, responseHeaders, text);
    } catch (caught) {
      // A 5xx may come from a server that applied the change and failed afterwards.
      if (unsafeToRepeat(spec.method) && caught instanceof ArizeError && statusOf(caught) !== undefined && (statusOf(caught) ?? 0) >= 500) {
        throw outcomeUnknown(spec, caught);
      }
      throw caught;
    }
  }

  /**
   * The shared budget is a second gate, before this client's own pacer. If its store fails, the
   * request goes on under the local controller alone (which still backs off on 429s): an
   * offboarding must not stop because the limiter's bookkeeping is unavailable.
   */
  private async takeSharedToken(spec: RequestSpec<unknown>, options: CallOptions): Promise<void> {
    const shared = this.deps.sharedBudget;
    if (!shared) return;
    try {
      await shared.acquire(options.signal);
    } catch (caught) {
      if (options.signal?.aborted) throw new ArizeDeadlineError(`${spec.method} ${spec.route} was aborted by the caller`, 'aborted');
      // Once per client: every later request would fail the same way.
      if (this.sharedBudgetFailed) return;
      // From now on this client paces itself (tickets of the measuring controller settle as no-ops).
      this.sharedBudgetFailed = true;
      this.rate = this.localController('adaptive');
      this.deps.logger?.warn?.('shared rate limit unavailable; using the local limit only', {
        error: caught instanceof Error ? caught.name : 'unknown',
      });
    }
  }

  private lastSharedReportAt = Number.NEGATIVE_INFINITY;

  private reportSharedThrottling(): void {
    const shared = this.deps.sharedBudget;
    shared?.dropLeases();
    const now = performance.now();
    // One report per second per worker: the store allows one cut per second for all of them.
    if (!shared || now - this.lastSharedReportAt < SHARED_REPORT_EVERY_MS) return;
    this.lastSharedReportAt = now;
    shared.throttled().catch((caught: unknown) => {
      this.deps.logger?.warn?.('could not lower the shared rate limit', { error: caught instanceof Error ? caught.name : 'unknown' });
    });
  }

  private settle(ticket: Ticket, outcome: SendOutcome): void {
    this.rate.settle(ticket, outcome);
    const concurrency = this.rate.concurrency;
    if (this.queue.concurrency !== concurrency) this.queue.concurrency = concurrency;
  }

  private inFlightError(
    spec: RequestSpec<unknown>,
    options: CallOptions,
    caught: unknown,
    timedOut: boolean,
    cappedByDeadline: boolean,
    timeoutMs: number,
  ): ArizeError {
    if (options.signal?.aborted) {
      return new ArizeDeadlineError(`${spec.method} ${spec.route} was aborted by the caller while in flight`, 'aborted');
    }
    if (timedOut) {
      if (cappedByDeadline) return new ArizeDeadlineError(`deadline reached while ${spec.method} ${spec.route} was in flight`, 'deadline');
      return new ArizeTimeoutError(spec.method, spec.route, timeoutMs);
    }
    return new ArizeNetworkError(spec.method, spec.route, caught);
  }

  private decode<T>(spec: RequestSpec<T>, status: number, headers: Headers, text: string): T {
    const where = { method: spec.method, route: spec.route };
    if (status >= 200 && status <= 299) {
      if (spec.expect === 'empty') return undefined as T;
      const schema = spec.expect[status];
      if (!schema) throw new ArizeResponseError({ ...where, status, reason: 'unexpected success status' });
      const json = parseJson(text);
      if (json === NOT_JSON) {
        throw new ArizeResponseError({ ...where, status, reason: `body is not JSON (${describeContentType(headers)})` });
      }
      const parsed = schema.safeParse(json);
      if (!parsed.success) {
        const issues = parsed.error.issues
          .slice(0, 3)
          .map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`)
          .join('; ');
        throw new ArizeResponseError({ ...where, status, reason: `body does not match the API schema (${issues})` });
      }
      return parsed.data;
    }
    const retryAfterMs = parseRetryAfterMs(headers.get('retry-after'), Date.now());
    const problem = ProblemDetailsSchema.safeParse(parseJson(text));
    if (problem.success) {
      throw new ArizeApiError({ ...where, status, problem: problem.data, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
    }
    // Not problem details: a proxy, load balancer or captive portal answered. Never treated as
    // an API verdict (an HTML 404 from a wrong base URL must not read as "user not found").
    throw new ArizeResponseError({
      ...where,
      status,
      reason: `error body is not problem details (${describeContentType(headers)})`,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }
}

/**
 * POST (create, resend invitation, reset password) and PATCH change state and are not known to
 * be idempotent: once sent, a lost answer does not mean a lost effect. GET and DELETE are safe.
 */
function unsafeToRepeat(method: HttpMethod): boolean {
  return method === 'POST' || method === 'PATCH';
}

/** Connection-phase failures: the request never reached the server, so repeating it is safe. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

function sentNothing(error: ArizeError): boolean {
  return error instanceof ArizeNetworkError && error.code !== undefined && NOT_SENT_CODES.has(error.code);
}

function outcomeUnknown(spec: RequestSpec<unknown>, cause: ArizeError): ArizeOutcomeUnknownError {
  return new ArizeOutcomeUnknownError(spec.method, spec.route, cause);
}

function statusOf(error: ArizeError): number | undefined {
  return error instanceof ArizeApiError || error instanceof ArizeResponseError ? error.status : undefined;
}

function outcomeOf(status: number, headers: Headers, latencyMs: number): SendOutcome {
  if (status === 429) {
    const retryAfterMs = parseRetryAfterMs(headers.get('retry-after'), Date.now());
    return retryAfterMs === undefined ? { kind: 'throttled' } : { kind: 'throttled', retryAfterMs };
  }
  if (status >= 500) return { kind: 'overloaded' };
  return { kind: 'accepted', latencyMs };
}

const NOT_JSON = Symbol('not-json');

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return NOT_JSON;
  }
}

function describeContentType(headers: Headers): string {
  const contentType = headers.get('content-type');
  return contentType ? `content-type ${contentType.split(';')[0]?.trim()}` : 'no content-type';
}

function withAttempts(error: ArizeError, attempts: number): ArizeError {
  error.attempts = attempts;
  return error;
}
