/**
 * The deploy-time settings (cdk.json context `offboarding`): a pure schema, no aws-cdk-lib, so the local runtime
 * and the CLI validate the same settings without loading the CDK. Numeric defaults and bounds shared with the
 * Lambda environment and the Arize client come from `lambdas/core/settings.ts`.
 */
import type { Node } from 'constructs';
import * as z from 'zod';
import { MAX_GRACE_MINUTES, isValidTimeZone } from '../lambdas/core/hr/effective-date.js';
import { REPORT_FORMATS } from '../lambdas/core/hr/pull.js';
import { HR_PROVIDERS } from '../lambdas/core/hr/types.js';
import { SERVICE_KEY_POLICIES } from '../lambdas/core/access-inventory.js';
import { SETTINGS, deployedDefault, type SettingName } from '../lambdas/core/settings.js';
import { DEFAULT_HOST, DEFAULT_SCHEME } from '../lambdas/arize/config.js';

/** The cdk.json context key holding all deploy-time settings of the offboarding stack. */
export const CONFIG_CONTEXT_KEY = 'offboarding';

/**
 * The retention periods CloudWatch Logs accepts (aws-cdk-lib's `RetentionDays`, 9999 = INFINITE), stated here so
 * this schema need not load the CDK; test/cdk/config.test.ts checks the list against `RetentionDays`.
 */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653, 9999,
] as const;
const retentionValues: readonly number[] = LOG_RETENTION_DAYS;

/** A numeric setting of the shared table, with the deployed default; `integer` forces whole numbers here. */
function numberSetting(name: SettingName, options: { integer?: boolean } = {}) {
  const { min, max, integer } = SETTINGS[name];
  const number = integer || options.integer === true ? z.number().int() : z.number();
  return number.min(min).max(max).default(deployedDefault(name));
}

const emailListSchema = z.array(z.string().trim().toLowerCase().email());
const nonEmptyStringList = z.array(z.string().trim().min(1));

const arizeSchema = z
  .object({
    host: z.string().trim().min(1).default(DEFAULT_HOST),
    scheme: z.enum(['https', 'http']).default(DEFAULT_SCHEME),
    port: z.number().int().min(1).max(65535).optional(),
    secretName: z.string().trim().min(1).max(512).default('arize-offboarding/arize-api-key'),
    // true ⇒ the secret already exists in the account and is only referenced, never created or replaced.
    importExistingSecret: z.boolean().default(false),
    maxConcurrency: numberSetting('arizeMaxConcurrency'),
    // Whole numbers: the Lambda environment carries it as an integer.
    maxRequestsPerSecond: numberSetting('arizeMaxRequestsPerSecond', { integer: true }),
    // The API key's own user (DESIGN.md Safety): always PROTECTED, whatever the request or the other rules say.
    // Default none; set it to the key owner's email in deployed stacks (the local sandbox passes its owner itself).
    apiKeyOwnerEmail: z.string().trim().toLowerCase().email().optional(),
  })
  .strict();

const intakeSchema = z
  .object({
    // With a batching window SQS allows up to 10,000; without one the hard limit is 10 (checked below).
    batchSize: z.number().int().min(1).max(10_000).default(10),
    maxBatchingWindowSeconds: z.number().int().min(0).max(300).default(5),
    // SQS event source mappings accept 2..1000.
    maxConcurrency: z.number().int().min(2).max(1000).default(5),
  })
  .strict()
  .refine((intake) => intake.batchSize <= 10 || intake.maxBatchingWindowSeconds > 0, {
    message: 'batchSize above 10 requires maxBatchingWindowSeconds > 0',
    path: ['batchSize'],
  });

const retrySchema = z
  .object({
    maxAttempts: numberSetting('retryMaxAttempts'),
    backoffSeconds: numberSetting('retryBackoffSeconds'),
    backoffRate: numberSetting('retryBackoffRate'),
  })
  .strict();

const webhookSchema = z
  .object({
    // API Gateway stage throttling for POST /hr/events: steady requests per second and burst, across all callers.
    // HR systems send a few events a day; the limit only bounds what a misbehaving or hostile caller can cost.
    throttlingRateLimit: z.number().min(1).max(10_000).default(10),
    throttlingBurstLimit: z.number().int().min(1).max(5_000).default(20),
    // Secrets Manager secret holding the HMAC secret(s): a string, or {"secrets": [current, previous…]} while rotating.
    secretName: z.string().trim().min(1).max(512).default('arize-offboarding/webhook-secret'),
  })
  .strict();

/** EventBridge Scheduler expressions accepted for the audit and the pull (cron(...) or rate(<n> <unit>)). */
const scheduleExpression = z
  .string()
  .trim()
  .regex(/^(cron\([^()]+\)|rate\(\d+ (minute|minutes|hour|hours|day|days)\))$/, 'must be cron(...) or rate(<n> <unit>)');

const auditSchema = z
  .object({
    // EventBridge Scheduler expression, e.g. cron(0 6 * * ? *) (daily 06:00) or rate(12 hours).
    schedule: scheduleExpression.default('cron(0 6 * * ? *)'),
    // IANA time zone the cron expression is read in.
    timeZone: z.string().trim().min(1).default('UTC'),
    // Retryable FAILED outcomes older than this are re-driven (the workflow's own retries are over by then).
    redriveOlderThanMinutes: z.number().int().min(1).max(525_600).default(60),
    // Only people DELETED within this window are checked for re-appearing in Arize (bounds the rehire risk).
    driftLookbackDays: z.number().int().min(1).max(3650).default(90),
    // Audit reports (they list emails) expire from the report bucket after this many days.
    reportRetentionDays: z.number().int().min(1).max(3650).default(365),
  })
  .strict();

// Scheduled pull for HR systems without webhooks (Workday RaaS, any CSV/JSON export); absent ⇒ not deployed.
const pullSchema = z
  .object({
    // The report URL; credentials never go here (secretName). Plain http is refused: credentials would cross in clear.
    url: z
      .string()
      .trim()
      .url('must be a URL')
      .refine((url) => url.startsWith('https://'), { message: 'must be an https URL' }),
    // Default: from the response's content type.
    format: z.enum(REPORT_FORMATS).optional(),
    schedule: scheduleExpression.default('rate(1 hour)'),
    // IANA time zone the cron expression is read in.
    timeZone: z.string().trim().refine(isValidTimeZone, { message: 'must be an IANA time zone, e.g. America/Los_Angeles' }).default('UTC'),
    // Existing Secrets Manager secret: {"token": "…"} or {"username": "…", "password": "…"}; absent ⇒ no credentials.
    secretName: z.string().trim().min(1).max(512).optional(),
  })
  .strict();

const evidenceSchema = z
  .object({
    // The removal control auditors test against: access removed within this many hours of the effective termination.
    slaHours: numberSetting('evidenceSlaHours'),
    // Object Lock (compliance mode) default retention of the daily digests and exports in S3: no one, root
    // included, can delete them before it ends. S3 accepts up to 100 years.
    retentionDays: z.number().int('must be a whole number of days').min(1, 'must be at least 1 day').max(36_500, 'must be at most 36500 days (S3 Object Lock)').default(400),
  })
  .strict();

const configSchema = z
  .object({
    protectedEmails: emailListSchema.default([]),
    protectedPatterns: nonEmptyStringList.default([]),
    // Admins are protected by default: removing an org admin automatically can lock the company out of Arize,
    // so that decision stays with a human. Set [] to offboard admins like everyone else.
    protectedRoles: z.array(z.string().trim().toUpperCase().min(1)).default(['ADMIN']),
    // 0 holds every request for operator approval.
    maxDeletesPerRequest: numberSetting('maxDeletesPerRequest'),
    // prefault: an absent group is parsed as {}, so its defaults are the ones stated on its keys.
    retry: retrySchema.prefault({}),
    dryRun: z.boolean().default(false),
    // SERVICE keys a deleted leaver created (the user delete is not documented to revoke them): `report` raises the
    // OrphanedServiceKeys alarm and names them in the ledger; `revoke` revokes them after the verified delete.
    serviceKeys: z.enum(SERVICE_KEY_POLICIES, { message: `must be one of ${SERVICE_KEY_POLICIES.join(', ')}` }).default('report'),
    arize: arizeSchema.prefault({}),
    intake: intakeSchema.prefault({}),
    deleteChunkSize: numberSetting('deleteChunkSize'),
    deleteMapConcurrency: z.number().int().min(1).max(40).default(4),
    alertEmail: z.string().trim().email().optional(),
    logRetentionDays: z
      .number()
      .int()
      .refine((days) => retentionValues.includes(days), {
        message: `must be a CloudWatch Logs retention value (${retentionValues.join(', ')})`,
      })
      .default(90),
    webhook: webhookSchema.prefault({}),
    // Native HR routes (/hr/<provider>), one Secrets Manager secret each; a provider not listed answers 404.
    hrProviders: z
      .array(z.enum(HR_PROVIDERS))
      .default([])
      .refine((list) => new Set(list).size === list.length, { message: 'must not repeat a provider' }),
    // A date-only HR effective date ends at midnight in this IANA zone (unless the event names the employee's).
    hrTimeZone: z.string().trim().refine(isValidTimeZone, { message: 'must be an IANA time zone, e.g. America/Los_Angeles' }).default('UTC'),
    hrGraceMinutes: z.number().int().min(0).max(MAX_GRACE_MINUTES).default(0),
    audit: auditSchema.prefault({}),
    evidence: evidenceSchema.prefault({}),
    pull: pullSchema.optional(),
  })
  .strict();

export type OffboardingConfig = z.output<typeof configSchema>;
export type OffboardingConfigInput = z.input<typeof configSchema>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Parses a raw context value (object from cdk.json, or a JSON string from `cdk -c offboarding=...`). */
export function parseConfig(raw: unknown): OffboardingConfig {
  let value: unknown = raw ?? {};
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value) as unknown;
    } catch (error) {
      throw new ConfigError(
        `context "${CONFIG_CONTEXT_KEY}" is a string but not valid JSON: ${(error as Error).message}`,
      );
    }
  }
  const result = configSchema.safeParse(value);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const path = [CONFIG_CONTEXT_KEY, ...issue.path.map(String)].join('.');
      return `${path}: ${issue.message}`;
    });
    throw new ConfigError(`invalid cdk context "${CONFIG_CONTEXT_KEY}":\n  ${problems.join('\n  ')}`);
  }
  return result.data;
}

/** Reads and validates the `offboarding` context visible from `node` (cdk.json, cdk.context.json or `-c`). */
export function loadConfig(node: Node): OffboardingConfig {
  return parseConfig(node.tryGetContext(CONFIG_CONTEXT_KEY));
}
