/**
 * Runtime configuration of the Lambdas, read from environment variables once per container.
 * Pure: takes the env as a record, so tests and the local runtime pass their own.
 */
import * as z from 'zod';
import { describeZodError } from './request.js';
import type { PlanningPolicy } from './planning.js';
import type { RetryPolicy } from './retry-policy.js';
import { SERVICE_KEY_POLICIES, type ServiceKeyPolicy } from './access-inventory.js';
import { RETRY_MAX_BACKOFF_SECONDS, SETTINGS, type NumberSetting } from './settings.js';

export type Env = Readonly<Record<string, string | undefined>>;

export interface RuntimeConfig {
  ledgerTableName: string;
  stateMachineArn?: string;
  alertTopicArn?: string;
  arize: {
    apiKeySecretId?: string;
    /** Local runs only: the key itself, used when no secret id is set. */
    apiKey?: string;
    host?: string;
    scheme?: 'http' | 'https';
    port?: number;
    maxConcurrency?: number;
    maxRequestsPerSecond?: number;
    /** Share one adaptive rate limit across every concurrent function (a bucket item in the ledger table). */
    sharedRateLimit?: boolean;
  };
  planning: PlanningPolicy;
  retry: RetryPolicy;
  /** SERVICE keys a deleted leaver created: `report` (alert, default) or `revoke` (revoked and verified). */
  serviceKeys: ServiceKeyPolicy;
  /** Removal SLA in hours (cdk.json `offboarding.evidence.slaHours` → EVIDENCE_SLA_HOURS): SLA-miss metric and evidence rows. */
  slaHours: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const list = z
  .string()
  .optional()
  .transform((value) => (value ?? '').split(',').map((item) => item.trim()).filter(Boolean));
const optionalText = z
  .string()
  .optional()
  .transform((value) => (value && value.trim() ? value.trim() : undefined));
const bool = (fallback: boolean) =>
  z
    .string()
    .optional()
    .transform((value) => (value === undefined || value.trim() === '' ? String(fallback) : value.trim().toLowerCase()))
    .pipe(z.enum(['true', 'false'], { message: 'must be true or false' }))
    .transform((value) => value === 'true');
const int = ({ default: fallback, min, max }: NumberSetting) =>
  z
    .string()
    .optional()
    .transform((value) => (value === undefined || value.trim() === '' ? fallback : Number(value)))
    .pipe(z.number({ message: 'must be a number' }).int('must be an integer').min(min).max(max));
/** Unset ⇒ undefined: the client's own default applies (arize/config.ts, from the same SETTINGS row). */
const optionalSetting = ({ min, max }: NumberSetting) => optionalInt(min, max);
const optionalInt = (min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((value) => (value === undefined || value.trim() === '' ? undefined : Number(value)))
    .pipe(z.number({ message: 'must be a number' }).int('must be an integer').min(min).max(max).optional());
const num = ({ default: fallback, min, max }: NumberSetting) =>
  z
    .string()
    .optional()
    .transform((value) => (value === undefined || value.trim() === '' ? fallback : Number(value)))
    .pipe(z.number({ message: 'must be a number' }).min(min).max(max));

const EnvSchema = z.object({
  LEDGER_TABLE_NAME: z.string({ message: 'is required' }).trim().min(3, 'must be at least 3 characters'),
  STATE_MACHINE_ARN: optionalText,
  ALERT_TOPIC_ARN: optionalText,
  ARIZE_API_KEY_SECRET_ID: optionalText,
  ARIZE_API_KEY: optionalText,
  ARIZE_API_HOST: optionalText,
  ARIZE_API_SCHEME: z.enum(['http', 'https']).optional(),
  ARIZE_API_PORT: optionalInt(1, 65535),
  ARIZE_MAX_CONCURRENCY: optionalSetting(SETTINGS.arizeMaxConcurrency),
  // Whole requests per second here: lib/workflow/environment.ts writes the deployed value as an integer.
  ARIZE_MAX_REQUESTS_PER_SECOND: optionalSetting(SETTINGS.arizeMaxRequestsPerSecond),
  ARIZE_SHARED_RATE_LIMIT: bool(false),
  ARIZE_API_KEY_OWNER_EMAIL: optionalText,
  PROTECTED_EMAILS: list,
  PROTECTED_PATTERNS: list,
  PROTECTED_ROLES: list,
  MAX_DELETES_PER_REQUEST: int(SETTINGS.maxDeletesPerRequest),
  DELETE_CHUNK_SIZE: int(SETTINGS.deleteChunkSize),
  DRY_RUN: bool(false),
  RETRY_MAX_ATTEMPTS: int(SETTINGS.retryMaxAttempts),
  RETRY_BACKOFF_SECONDS: int(SETTINGS.retryBackoffSeconds),
  RETRY_BACKOFF_RATE: num(SETTINGS.retryBackoffRate),
  SERVICE_KEYS: z
    .string()
    .optional()
    .transform((value) => (value === undefined || value.trim() === '' ? 'report' : value.trim()))
    .pipe(z.enum(SERVICE_KEY_POLICIES, { message: `must be one of ${SERVICE_KEY_POLICIES.join(', ')}` })),
  EVIDENCE_SLA_HOURS: num(SETTINGS.evidenceSlaHours),
});

/** Throws ConfigError naming every offending variable. */
export function loadRuntimeConfig(env: Env): RuntimeConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(`invalid Lambda environment: ${describeZodError(parsed.error)}`);
  const e = parsed.data;
  return {
    ledgerTableName: e.LEDGER_TABLE_NAME,
    ...(e.STATE_MACHINE_ARN ? { stateMachineArn: e.STATE_MACHINE_ARN } : {}),
    ...(e.ALERT_TOPIC_ARN ? { alertTopicArn: e.ALERT_TOPIC_ARN } : {}),
    arize: {
      ...(e.ARIZE_API_KEY_SECRET_ID ? { apiKeySecretId: e.ARIZE_API_KEY_SECRET_ID } : {}),
      ...(e.ARIZE_API_KEY ? { apiKey: e.ARIZE_API_KEY } : {}),
      ...(e.ARIZE_API_HOST ? { host: e.ARIZE_API_HOST } : {}),
      ...(e.ARIZE_API_SCHEME ? { scheme: e.ARIZE_API_SCHEME } : {}),
      ...(e.ARIZE_API_PORT !== undefined ? { port: e.ARIZE_API_PORT } : {}),
      ...(e.ARIZE_MAX_CONCURRENCY !== undefined ? { maxConcurrency: e.ARIZE_MAX_CONCURRENCY } : {}),
      ...(e.ARIZE_MAX_REQUESTS_PER_SECOND !== undefined ? { maxRequestsPerSecond: e.ARIZE_MAX_REQUESTS_PER_SECOND } : {}),
      ...(e.ARIZE_SHARED_RATE_LIMIT ? { sharedRateLimit: true } : {}),
    },
    planning: {
      protectedEmails: e.PROTECTED_EMAILS,
      protectedPatterns: e.PROTECTED_PATTERNS,
      protectedRoles: e.PROTECTED_ROLES,
      ...(e.ARIZE_API_KEY_OWNER_EMAIL ? { apiKeyOwnerEmail: e.ARIZE_API_KEY_OWNER_EMAIL } : {}),
      maxDeletesPerRequest: e.MAX_DELETES_PER_REQUEST,
      chunkSize: e.DELETE_CHUNK_SIZE,
      forceDryRun: e.DRY_RUN,
    },
    retry: {
      maxAttempts: e.RETRY_MAX_ATTEMPTS,
      backoffSeconds: e.RETRY_BACKOFF_SECONDS,
      backoffRate: e.RETRY_BACKOFF_RATE,
      maxBackoffSeconds: RETRY_MAX_BACKOFF_SECONDS,
    },
    serviceKeys: e.SERVICE_KEYS,
    slaHours: e.EVIDENCE_SLA_HOURS,
  };
}

/** Where RuntimeConfig points the Arize client; shared so the Lambdas and the local runtime connect alike. */
export function arizeEndpointOptions(arize: RuntimeConfig['arize']): { host?: string; scheme?: 'http' | 'https'; port?: number } {
  return {
    ...(arize.host !== undefined ? { host: arize.host } : {}),
    ...(arize.scheme !== undefined ? { scheme: arize.scheme } : {}),
    ...(arize.port !== undefined ? { port: arize.port } : {}),
  };
}

/** The request limits RuntimeConfig sets on the Arize client (unset: the client's defaults). */
export function arizeLimitOptions(arize: RuntimeConfig['arize']): { maxConcurrency?: number; maxRequestsPerSecond?: number } {
  return {
    ...(arize.maxConcurrency !== undefined ? { maxConcurrency: arize.maxConcurrency } : {}),
    ...(arize.maxRequestsPerSecond !== undefined ? { maxRequestsPerSecond: arize.maxRequestsPerSecond } : {}),
  };
}
