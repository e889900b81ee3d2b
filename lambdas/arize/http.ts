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
  ArizeResponseError,
  ArizeTimeoutError,
} from './errors.js';
import { TokenBucket, defaultSleep } from './rate-limit.js';
import { parseRetryAfterMs, retryDelayMs } from './retry.js';
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
}

export class HttpTransport {
  readonly stats: ClientStats = { requests: 0, retries: 0, throttled: 0 };
  private readonly queue: PQueue;
  private readonly bucket: TokenBucket;
  // A private field: invisible to JSON.stringify, util.inspect and enumeration.
  readonly #authorization: string;

  constructor(
    private readonly config: ResolvedArizeConfig,
    apiKey: string,
    private readonly deps: TransportDeps,
  ) {
    this.#authorization = `Bearer ${apiKey}`;
    this.queue = new PQueue({ concurrency: config.maxConcurrency });
    // The bucket uses real timers, not the injected sleep: tests that record backoff waits
    // should not see pacing waits mixed in (they configure a high rate instead).
    this.bucket = new TokenBucket(config.maxRequestsPerSecond, () => performance.now(), defaultSleep);
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
    try {
      await this.bucket.take(options.signal);
    } catch {
      throw new ArizeDeadlineError(`${spec.method} ${spec.route} was aborted by the caller`, 'aborted');
    }
    const late = this.outOfTime(spec, options);
    if (late) throw late;

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
      if (options.signal?.aborted) {
        throw new ArizeDeadlineError(`${spec.method} ${spec.route} was aborted by the caller while in flight`, 'aborted');
      }
      if (timeoutSignal.aborted) {
        if (cappedByDeadline) {
          throw new ArizeDeadlineError(`deadline reached while ${spec.method} ${spec.route} was in flight`, 'deadline');
        }
        throw new ArizeTimeoutError(spec.method, spec.route, timeoutMs);
      }
      throw new ArizeNetworkError(spec.method, spec.route, caught);
    }
    if (status === 429) this.stats.throttled++;
    return this.decode(spec, status, responseHeaders, text);
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
