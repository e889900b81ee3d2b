/**
 * Client configuration, like the official SDK: explicit options first, then ARIZE_* environment
 * variables, then https://api.arize.com. Every problem names the option or variable at fault.
 * The API key is returned separately so the rest of the config can be logged or printed freely.
 *
 * The one home of "where is Arize": every entry point (CLI `users`, `run`/`submit`, `serve`, `audit`,
 * the local runtime and the Lambdas) resolves its endpoint here, so none can fall back to production
 * on its own. The SDK's variables are accepted with the SDK's precedence (SDK 8.42 config.py/regions.py);
 * where the SDK silently lets one win (ARIZE_REGION over ARIZE_API_HOST), we refuse the ambiguity: a
 * wrong host receives the key and, with --confirm, deletes.
 */
import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { ArizeConfigError } from './errors.js';
import type { SharedRateBudget } from './shared-budget.js';
import { ARIZE_FIXED_REQUESTS_PER_SECOND, SETTINGS } from '../core/settings.js';

export const DEFAULT_HOST = 'api.arize.com';
export const DEFAULT_SCHEME = 'https';
/**
 * Ceilings for the adaptive rate control (on by default), which starts at 10 req/s and finds
 * Arize's limit itself (see adaptive-rate.ts); `maxRequestsPerSecond`/`maxConcurrency` only cap it.
 */
export const DEFAULT_MAX_CONCURRENCY = SETTINGS.arizeMaxConcurrency.default;
export const DEFAULT_MAX_REQUESTS_PER_SECOND = SETTINGS.arizeMaxRequestsPerSecond.default;
/** The rate with `rateControl: 'fixed'` and no explicit rate (the client's old default). */
export const DEFAULT_FIXED_REQUESTS_PER_SECOND = ARIZE_FIXED_REQUESTS_PER_SECOND;
export const RATE_CONTROL_MODES = ['adaptive', 'fixed'] as const;
export type RateControlMode = (typeof RATE_CONTROL_MODES)[number];
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
  /** Ceiling on requests in flight (adaptive), or the fixed concurrency. */
  maxConcurrency?: number;
  /** Ceiling on the request rate (adaptive), or the fixed token bucket's rate and burst. */
  maxRequestsPerSecond?: number;
  /** 'adaptive' (default; env ARIZE_RATE_CONTROL) probes for the server's limit; 'fixed' never changes the rate. */
  rateControl?: RateControlMode;
  maxRetries?: number;
  requestTimeoutMs?: number;
  maxRetryAfterMs?: number;
  /** A rate limit shared with other workers (e.g. concurrent Lambdas); every request takes a token from it too. */
  sharedBudget?: SharedRateBudget;
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
  /** Where the endpoint came from and how to connect (TLS, proxy). */
  endpoint: ArizeEndpoint;
  maxConcurrency: number;
  maxRequestsPerSecond: number;
  rateControl: RateControlMode;
  maxRetries: number;
  requestTimeoutMs: number;
  maxRetryAfterMs: number;
}

const positiveInt = z.coerce.number().int().positive();
const nonNegativeInt = z.coerce.number().int().nonnegative();
const { arizeMaxConcurrency: concurrencyBounds, arizeMaxRequestsPerSecond: rateBounds } = SETTINGS;
const concurrencySetting = z.coerce.number().int().min(concurrencyBounds.min).max(concurrencyBounds.max);
// A fraction of a request per second is a fine ceiling (a slow trickle); only the table's maximum applies.
const rateSetting = z.coerce.number().positive().max(rateBounds.max);
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

/** The regions the SDK knows (regions.py); each has its own API host. */
export const ARIZE_REGIONS = ['us-east-1b', 'us-central-1a', 'eu-west-1a', 'ca-central-1a'] as const;

export interface ArizeEndpoint {
  /** Origin (and optional path prefix) of the API. */
  baseUrl: string;
  /** The option or variable(s) that chose it, for the line every command prints. */
  source: string;
  /** Contents of ARIZE_SSL_CA_CERT (PEM), trusted instead of the default CAs. */
  caCert?: string;
  caCertPath?: string;
  /** ARIZE_REQUEST_VERIFY=false: TLS certificates are not checked (announced loudly). */
  verifyTls: boolean;
  /** ARIZE_PROXY_URL, else HTTPS_PROXY / HTTP_PROXY (unless NO_PROXY covers the host). */
  proxyUrl?: string;
  proxySource?: string;
}

const booleanSetting = z
  .string()
  .trim()
  .transform((s) => s.toLowerCase())
  .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no']))
  .transform((s) => s === 'true' || s === '1' || s === 'yes');
const portOrZero = z.coerce.number().int().min(0).max(65_535);

function envText(env: Record<string, string | undefined>, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function parseBaseUrlOption(baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new ArizeConfigError(`option baseUrl is not a valid URL (got ${JSON.stringify(baseUrl)})`, 'baseUrl');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ArizeConfigError('option baseUrl must use http or https', 'baseUrl');
  }
  if (url.username || url.password) {
    throw new ArizeConfigError('option baseUrl must not carry credentials; use apiKey', 'baseUrl');
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** NO_PROXY as curl reads it: `*`, or host suffixes separated by commas. */
function bypassesProxy(host: string, env: Record<string, string | undefined>): boolean {
  const list = envText(env, 'NO_PROXY') ?? envText(env, 'no_proxy');
  if (list === undefined) return false;
  return list.split(',').map((entry) => entry.trim().toLowerCase().replace(/^\*?\./, '').replace(/:\d+$/, '')).some((entry) => entry === '*' || host === entry || host.endsWith(`.${entry}`));
}

function resolveProxy(host: string, env: Record<string, string | undefined>): Pick<ArizeEndpoint, 'proxyUrl' | 'proxySource'> {
  const names = ['ARIZE_PROXY_URL', 'HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'];
  const name = names.find((n) => envText(env, n) !== undefined);
  if (name === undefined) return {};
  // The SDK's own variable always applies; the generic ones honour NO_PROXY like every other tool.
  if (name !== 'ARIZE_PROXY_URL' && bypassesProxy(host.toLowerCase(), env)) return {};
  const text = envText(env, name) ?? '';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ArizeConfigError(`${name} is not a valid proxy URL such as http://proxy.corp:8080`, name);
  }
  if (url.protocol !== 'http:') {
    throw new ArizeConfigError(`${name}: only http:// proxies are supported (got ${url.protocol}//…)`, name);
  }
  return { proxyUrl: url.href, proxySource: name };
}

/**
 * Where to reach Arize. Precedence as in the SDK: option baseUrl; else exactly one of ARIZE_REGION,
 * ARIZE_SINGLE_HOST/ARIZE_SINGLE_PORT, ARIZE_BASE_DOMAIN (two are a configuration error, and so is any of
 * them next to an explicit ARIZE_API_HOST / host option); else ARIZE_API_HOST; else api.arize.com.
 * ARIZE_API_SCHEME and ARIZE_API_PORT apply to the chosen host (port 0 = none, the scheme's default).
 */
export function resolveEndpoint(options: ArizeClientOptions, env: Record<string, string | undefined>): ArizeEndpoint {
  const tls = resolveTls(env);
  if (options.baseUrl !== undefined) {
    const baseUrl = parseBaseUrlOption(options.baseUrl);
    return { baseUrl, source: 'option baseUrl', ...tls, ...resolveProxy(new URL(baseUrl).hostname, env) };
  }
  const region = envText(env, 'ARIZE_REGION');
  const singleHost = envText(env, 'ARIZE_SINGLE_HOST');
  const singlePortText = envText(env, 'ARIZE_SINGLE_PORT');
  const baseDomain = envText(env, 'ARIZE_BASE_DOMAIN');
  const singlePort = singlePortText === undefined ? 0 : parseSetting(portOrZero, { value: singlePortText, source: 'ARIZE_SINGLE_PORT' }, 'must be an integer port between 0 and 65535');
  const overrides = [
    ...(region !== undefined ? ['ARIZE_REGION'] : []),
    ...(singleHost !== undefined || singlePort !== 0 ? ['ARIZE_SINGLE_HOST/ARIZE_SINGLE_PORT'] : []),
    ...(baseDomain !== undefined ? ['ARIZE_BASE_DOMAIN'] : []),
  ];
  if (overrides.length > 1) {
    throw new ArizeConfigError(`only one of ARIZE_REGION, ARIZE_SINGLE_HOST/ARIZE_SINGLE_PORT or ARIZE_BASE_DOMAIN may be set (got ${overrides.join(' and ')})`, overrides[1] ?? 'ARIZE_REGION');
  }
  const explicitHost = pick(options.host, 'host', env, 'ARIZE_API_HOST');
  const override = overrides[0];
  if (override !== undefined && explicitHost !== undefined && (override !== 'ARIZE_SINGLE_HOST/ARIZE_SINGLE_PORT' || singleHost !== undefined)) {
    throw new ArizeConfigError(`${explicitHost.source} and ${override} both choose the Arize host; set only one`, explicitHost.source.replace(/^option /, ''));
  }

  let host: string;
  let source: string;
  if (region !== undefined) {
    const known = (ARIZE_REGIONS as readonly string[]).includes(region.toLowerCase());
    if (!known) throw new ArizeConfigError(`ARIZE_REGION must be one of ${ARIZE_REGIONS.join(', ')} (got ${JSON.stringify(region)})`, 'ARIZE_REGION');
    host = `api.${region.toLowerCase()}.arize.com`;
    source = 'ARIZE_REGION';
  } else if (baseDomain !== undefined) {
    host = `api.${parseSetting(hostName, { value: baseDomain, source: 'ARIZE_BASE_DOMAIN' }, 'must be a domain name')}`;
    source = 'ARIZE_BASE_DOMAIN';
  } else if (singleHost !== undefined) {
    host = parseSetting(hostName, { value: singleHost, source: 'ARIZE_SINGLE_HOST' }, 'must be a host name');
    source = 'ARIZE_SINGLE_HOST';
  } else if (explicitHost !== undefined) {
    host = parseSetting(hostName, explicitHost, 'must be a host name');
    source = explicitHost.source;
  } else {
    host = DEFAULT_HOST;
    source = 'default';
  }
  const scheme = setting(schemeName, options.scheme, 'scheme', env, 'ARIZE_API_SCHEME', 'must be http or https', DEFAULT_SCHEME);
  let port = setting(portOrZero, options.port, 'port', env, 'ARIZE_API_PORT', 'must be an integer port between 0 and 65535 (0 = the scheme\'s default)', 0);
  // As in the SDK: ARIZE_SINGLE_PORT applies when no API port was chosen.
  if (port === 0 && singlePort !== 0) port = singlePort;
  const url = new URL(`${scheme}://${host}`);
  if (port !== 0) url.port = String(port);
  if (scheme === 'http' && (tls.caCert !== undefined || !tls.verifyTls)) {
    throw new ArizeConfigError(
      `${tls.caCert !== undefined ? 'ARIZE_SSL_CA_CERT' : 'ARIZE_REQUEST_VERIFY'} is set but the endpoint ${url.origin} is plain http (no TLS)`,
      tls.caCert !== undefined ? 'ARIZE_SSL_CA_CERT' : 'ARIZE_REQUEST_VERIFY',
    );
  }
  return { baseUrl: url.origin, source, ...tls, ...resolveProxy(host, env) };
}

function resolveTls(env: Record<string, string | undefined>): Pick<ArizeEndpoint, 'caCert' | 'caCertPath' | 'verifyTls'> {
  const verifyText = envText(env, 'ARIZE_REQUEST_VERIFY');
  const verifyTls = verifyText === undefined ? true : parseSetting(booleanSetting, { value: verifyText, source: 'ARIZE_REQUEST_VERIFY' }, 'must be true or false');
  const caCertPath = envText(env, 'ARIZE_SSL_CA_CERT');
  if (caCertPath === undefined) return { verifyTls };
  if (!verifyTls) throw new ArizeConfigError('ARIZE_SSL_CA_CERT and ARIZE_REQUEST_VERIFY=false contradict each other; set one', 'ARIZE_REQUEST_VERIFY');
  let caCert: string;
  try {
    caCert = readFileSync(caCertPath, 'utf8');
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : 'unreadable';
    throw new ArizeConfigError(`ARIZE_SSL_CA_CERT: cannot read ${JSON.stringify(caCertPath)} (${code})`, 'ARIZE_SSL_CA_CERT');
  }
  if (!caCert.includes('-----BEGIN CERTIFICATE-----')) {
    throw new ArizeConfigError(`ARIZE_SSL_CA_CERT: ${JSON.stringify(caCertPath)} holds no PEM certificate`, 'ARIZE_SSL_CA_CERT');
  }
  return { caCert, caCertPath, verifyTls };
}

export function resolveBaseUrl(options: ArizeClientOptions, env: Record<string, string | undefined>): string {
  return resolveEndpoint(options, env).baseUrl;
}

/** The line each command prints once on stderr: which Arize it will touch, and why. */
export function describeEndpoint(endpoint: ArizeEndpoint): string {
  const extras = [
    ...(endpoint.proxyUrl !== undefined ? [`via proxy ${new URL(endpoint.proxyUrl).host} (${endpoint.proxySource ?? 'proxy'})`] : []),
    ...(endpoint.caCertPath !== undefined ? [`trusting ${endpoint.caCertPath} (ARIZE_SSL_CA_CERT)`] : []),
    ...(!endpoint.verifyTls ? ['TLS CERTIFICATES NOT VERIFIED (ARIZE_REQUEST_VERIFY=false)'] : []),
  ];
  return `arize: ${endpoint.baseUrl} (from ${endpoint.source})${extras.length > 0 ? `, ${extras.join(', ')}` : ''}`;
}

const rateControlMode = z
  .string()
  .trim()
  .transform((s) => s.toLowerCase())
  .pipe(z.enum(RATE_CONTROL_MODES));

export function resolveConfig(options: ArizeClientOptions = {}, env: Record<string, string | undefined> = process.env): ResolvedArizeConfig {
  const rateControl = setting(
    rateControlMode,
    options.rateControl,
    'rateControl',
    env,
    'ARIZE_RATE_CONTROL',
    'must be adaptive or fixed',
    'adaptive',
  );
  const endpoint = resolveEndpoint(options, env);
  return {
    rateControl,
    baseUrl: endpoint.baseUrl,
    endpoint,
    maxConcurrency: setting(
      concurrencySetting,
      options.maxConcurrency,
      'maxConcurrency',
      env,
      'ARIZE_MAX_CONCURRENCY',
      `must be an integer between ${concurrencyBounds.min} and ${concurrencyBounds.max}`,
      DEFAULT_MAX_CONCURRENCY,
    ),
    maxRequestsPerSecond: setting(
      rateSetting,
      options.maxRequestsPerSecond,
      'maxRequestsPerSecond',
      env,
      'ARIZE_MAX_REQUESTS_PER_SECOND',
      `must be a positive number up to ${rateBounds.max}`,
      rateControl === 'adaptive' ? DEFAULT_MAX_REQUESTS_PER_SECOND : DEFAULT_FIXED_REQUESTS_PER_SECOND,
    ),
    maxRetries: setting(nonNegativeInt, options.maxRetries, 'maxRetries', {}, '', 'must be a non-negative integer', DEFAULT_MAX_RETRIES),
    requestTimeoutMs: setting(positiveInt, options.requestTimeoutMs, 'requestTimeoutMs', {}, '', 'must be a positive integer', DEFAULT_REQUEST_TIMEOUT_MS),
    maxRetryAfterMs: setting(nonNegativeInt, options.maxRetryAfterMs, 'maxRetryAfterMs', {}, '', 'must be a non-negative integer', DEFAULT_MAX_RETRY_AFTER_MS),
  };
}
