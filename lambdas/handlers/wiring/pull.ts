/**
 * Production wiring of the scheduled pull (ports → AWS adapters), built once per container.
 *
 * Environment: PULL_REPORT_URL (https), PULL_REPORT_FORMAT (csv|json, optional: else from the content type),
 * PULL_SECRET_ID (optional: Secrets Manager secret with the report credentials), OFFBOARDING_HR_TIME_ZONE,
 * OFFBOARDING_HR_GRACE_MINUTES, INTAKE_QUEUE_URL. A wrong configuration is thrown, so the function's alarm fires.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SqsRequestQueue } from '../../adapters/queue.js';
import { secretsManagerSource } from '../../adapters/secrets.js';
import { REPORT_FORMATS, parsePullSecret, pullAuthorization, type ReportFormat } from '../../core/hr/pull.js';
import { log, tracer } from '../../observability.js';
import { HrConfigError, checkedBaseUrl, effectiveDatePolicyFromEnv, type Env } from '../../usecases/hr-intake.js';
import type { SecretSource } from '../../usecases/ports.js';
import type { PullReportOptions, ScheduledPullDeps } from '../../usecases/pull-report.js';

interface PullWiring {
  url: string;
  format?: ReportFormat;
  secretId?: string;
  deps: ScheduledPullDeps;
  secrets: SecretSource;
}

let wiring: PullWiring | undefined;

function fromEnv(env: Env): PullWiring {
  const url = checkedBaseUrl('PULL_REPORT_URL', env.PULL_REPORT_URL);
  if (!url) throw new HrConfigError('invalid Lambda environment: PULL_REPORT_URL: is required');
  const format = env.PULL_REPORT_FORMAT?.trim() || undefined;
  if (format !== undefined && !REPORT_FORMATS.includes(format as ReportFormat)) {
    throw new HrConfigError(`invalid Lambda environment: PULL_REPORT_FORMAT: must be one of ${REPORT_FORMATS.join(', ')}`);
  }
  const queueUrl = env.INTAKE_QUEUE_URL?.trim();
  if (!queueUrl) throw new HrConfigError('invalid Lambda environment: INTAKE_QUEUE_URL: is required');
  const secretId = env.PULL_SECRET_ID?.trim() || undefined;
  return {
    url,
    ...(format ? { format: format as ReportFormat } : {}),
    ...(secretId ? { secretId } : {}),
    secrets: secretsManagerSource(tracer.captureAWSv3Client(new SecretsManagerClient({}))),
    deps: {
      queue: new SqsRequestQueue({ queueUrl, client: tracer.captureAWSv3Client(new SQSClient({})) }),
      log,
      fetch: (input, init) => fetch(input, init),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      random: Math.random,
    },
  };
}

/** The pull's options and deps for one invocation. */
export async function getScheduledPull(): Promise<{ options: PullReportOptions; deps: ScheduledPullDeps }> {
  wiring ??= fromEnv(process.env);
  const { url, format, secretId, deps, secrets } = wiring;
  let authorization: Record<string, string> = {};
  if (secretId) {
    // Read per invocation through the cached source: a rotated password reaches a warm container within maxAge.
    const credentials = parsePullSecret(`secret ${secretId}`, await secrets.read(secretId));
    if ('error' in credentials) throw new HrConfigError(credentials.error);
    authorization = pullAuthorization(credentials);
  }
  return { options: { url, ...(format ? { format } : {}), authorization, policy: effectiveDatePolicyFromEnv(process.env) }, deps };
}
