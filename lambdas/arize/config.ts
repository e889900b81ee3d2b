/**
 * Client configuration, like the official SDK: explicit options first, then ARIZE_* environment
 * variables, then https://api.arize.com. Every problem names the option or variable at fault.
 * The API key is returned separately so the rest of the config can be logged or printed freely.
 */
import * as z from 'zod';
import { ArizeConfigError } from './errors.js';

export const DEFAULT_HOST = 'api.arize.com';
export const DEFAULT_SCHEME = 'https';
export const DEFAULT_MAX_CONCURRENCY = 8;
export const DEFAULT_MAX_REQUESTS_PER_SECOND = 10;
export const DEFAULT_MAX_RETRIES = 5;
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/** A Retry-After longer than this fails the call (retryable) instead of parking it for minutes. */
export const DEFAULT_MAX_RETRY_AFTER_MS = 60_000;

export interface ArizeLogger {
  debug?(message: string, attributes?: Record<string, unknown>): void;
  info?(message: string, attributes?: Record<string, unknown>): void;
  warn?(message: string, attributes?: Record<string, unknown>): void;
}

export interface ArizeClientOptions {
  apiKey?: string;
  host?: string;
  scheme?: 'http' | 'https';
  port?: number;
  /** Alternative to host/scheme/port, e.g. a sandbox URL; may carry a path prefix. */
  baseUrl?: string;
  maxConcurrency?: number;
  /** Client-side token bucket: sustained rate and burst size. */
  maxRequestsPerSecond?: number;
  maxRetries?: number;
  requestTimeoutMs?: number;
  maxRetryAfterMs?: number;
  fetch?: typeof fetch;
  /** Waits between retries (injectable so tests can record them instead of sleeping). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Source of jitter in [0, 1). */
  random?: () => number;
  logger?: ArizeLogger;
  /** Environment to read ARIZE_* from; defaults to process.env. */
  env?: Record<string, string | undefined>;
}

export interface ResolvedArizeConfig {
  baseUrl: string;
  maxConcurrency: number;
  maxRequestsPerSecond: number;
  maxRetries: number;
  requestTimeoutMs: number;
  maxRetryAfterMs: number;
}

const positiveInt = z.coerce.number().int().positive();
const nonNegativeInt = z.coerce.number().int().nonnegative();
const positiveNumber = z.coerce.number().positive();
const portNumber = z.coerce.number().int().min(1).max(65_535);
const hostName = z
  .string()
  .trim()
  .min(1)
  .regex(/^[^\s/:?#@]+$/, 'must be a bare host name (put the scheme and port in their own settings)');
const schemeName = z
  .string()
  .trim()
  .transform((s) => s.toLowerCase())
  .pipe(z.enum(['http', 'https']));

interface Setting {
  value: unknown;
  /** The option or environment variable the value came from, for error messages. */
  source: string;
}

function pick(
  optionValue: unknown,
  optionName: string,
  env: Record<string, string | undefined>,
  envName: string,
): Setting | undefined {
  if (optionValue !== undefined) return { value: optionValue, source: `option ${optionName}` };
  const fromEnv = env[envName];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return { value: fromEnv, source: envName };
  return undefined;
}

function parseSetting<T>(schema: z.ZodType<T>, setting: Setting, expectation: string): T {
  const parsed = schema.safeParse(setting.value);
  if (!parsed.success) {
    // Echo back non-secret values only; they help an operator spot a typo.
    const shown = typeof setting.value === 'string' || typeof setting.value === 'number' ? ` (got ${JSON.stringify(setting.value)})` : '';
    throw new ArizeConfigError(`${setting.source} ${expectation}${shown}`, setting.source.replace(/^option /, ''));
  }
  return parsed.data;
}

function setting<T>(
  schema: z.ZodType<T>,
  optionValue: unknown,
  optionName: string,
  env: Record<string, string | undefined>,
  envName: string,
  expectation: string,
  fallback: T,
): T {
  const found = pick(optionValue, optionName, env, envName);
  return found ? parseSetting(schema, found, expectation) : fallback;
}

export function resolveApiKey(options: ArizeClientOptions, env: Record<string, string | undefined>): string {
  const found = pick(options.apiKey, 'apiKey', env, 'ARIZE_API_KEY');
  const key = typeof found?.value === 'string' ? found.value.trim() : '';
  if (!key) {
    throw new ArizeConfigError(
      'No Arize API key: set ARIZE_API_KEY or pass the apiKey option',
      found?.source.replace(/^option /, '') ?? 'ARIZE_API_KEY',
    );
  }
  return key;
}

export function resolveBaseUrl(options: ArizeClientOptions, env: Record<string, string | undefined>): string {
  if (options.baseUrl !== undefined) {
    let url: URL;
    try {
      url = new URL(options.baseUrl);
    } catch {
      throw new ArizeConfigError(`option baseUrl is not a valid URL (got ${JSON.stringify(options.baseUrl)})`, 'baseUrl');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ArizeConfigError('option baseUrl must use http or https', 'baseUrl');
    }
    if (url.username || url.password) {
      throw new ArizeConfigError('option baseUrl must not carry credentials; use apiKey', 'baseUrl');
    }
    return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  }
  const host = setting(hostName, options.host, 'host', env, 'ARIZE_API_HOST', 'must be a host name', DEFAULT_HOST);
  const scheme = setting(schemeName, options.scheme, 'scheme', env, 'ARIZE_API_SCHEME', 'must be http or https', DEFAULT_SCHEME);
  const port = setting(
    portNumber.optional(),
    options.port,
    'port',
    env,
    'ARIZE_API_PORT',
    'must be an integer port between 1 and 65535',
    undefined,
  );
  const url = new URL(`${scheme}://${host}`);
  if (port !== undefined) url.port = String(port);
  return url.origin;
}

export function resolveConfig(options: ArizeClientOptions = {}, env: Record<string, string | undefined> = process.env): ResolvedArizeConfig {
  return {
    baseUrl: resolveBaseUrl(options, env),
    maxConcurrency: setting(
      positiveInt,
      options.maxConcurrency,
      'maxConcurrency',
      env,
      'ARIZE_MAX_CONCURRENCY',
      'must be a positive integer',
      DEFAULT_MAX_CONCURRENCY,
    ),
    maxRequestsPerSecond: setting(
      positiveNumber,
      options.maxRequestsPerSecond,
      'maxRequestsPerSecond',
      env,
      'ARIZE_MAX_REQUESTS_PER_SECOND',
      'must be a positive number',
      DEFAULT_MAX_REQUESTS_PER_SECOND,
    ),
    maxRetries: setting(nonNegativeInt, options.maxRetries, 'maxRetries', {}, '', 'must be a non-negative integer', DEFAULT_MAX_RETRIES),
    requestTimeoutMs: setting(positiveInt, options.requestTimeoutMs, 'requestTimeoutMs', {}, '', 'must be a positive integer', DEFAULT_REQUEST_TIMEOUT_MS),
    maxRetryAfterMs: setting(nonNegativeInt, options.maxRetryAfterMs, 'maxRetryAfterMs', {}, '', 'must be a non-negative integer', DEFAULT_MAX_RETRY_AFTER_MS),
  };
}
