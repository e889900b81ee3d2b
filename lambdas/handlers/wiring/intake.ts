/**
 * Production wiring of the webhook Lambda's use cases (our route, the native HR routes), built once per
 * container. `offboard serve` and the local runtime wire the same use cases with their own adapters.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoLedger, createDocumentClient } from '../../adapters/ledger.js';
import { SqsRequestQueue } from '../../adapters/queue.js';
import { secretsManagerSource } from '../../adapters/secrets.js';
import { adapterForPath } from '../../core/hr/registry.js';
import { WEBHOOK_FAILURES_METRIC } from '../../core/metric-names.js';
import { log, metrics, powertoolsOutcomeMetrics, tracer } from '../../observability.js';
import { cancelRecorder } from '../../usecases/cancel.js';
import { DEFAULT_HR_LOOKUP, effectiveDatePolicyFromEnv, ledgerRejections, loadHrSettingsFromAws, type HrIntakeDeps } from '../../usecases/hr-intake.js';
import type { SecretSource } from '../../usecases/ports.js';
import { WebhookConfigError, loadWebhookSecrets, type WebhookDeps } from '../../usecases/webhook.js';

export function decodeApiGatewayBody(event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>): Buffer {
  if (event.body === undefined) return Buffer.alloc(0);
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
}

/** A 503 is answered, not thrown, so the function's Errors metric stays 0: this one is alarmed instead. */
export function countWebhookFailure(): void {
  metrics.addMetric(WEBHOOK_FAILURES_METRIC, MetricUnit.Count, 1);
}

let defaultDeps: WebhookDeps | undefined;
let awsSecrets: SecretSource | undefined;

/** One traced Secrets Manager source per container, shared by our route and the HR routes. */
function secretSource(): SecretSource {
  awsSecrets ??= secretsManagerSource(tracer.captureAWSv3Client(new SecretsManagerClient({})));
  return awsSecrets;
}

let defaultLedger: DynamoLedger | undefined;

export function getDefaultWebhookDeps(): WebhookDeps {
  if (defaultDeps) return defaultDeps;
  const queueUrl = process.env.INTAKE_QUEUE_URL?.trim();
  if (!queueUrl) throw new WebhookConfigError('invalid Lambda environment: INTAKE_QUEUE_URL: is required');
  const ledgerTableName = process.env.LEDGER_TABLE_NAME?.trim();
  if (!ledgerTableName) throw new WebhookConfigError('invalid Lambda environment: LEDGER_TABLE_NAME: is required');
  if (!process.env.WEBHOOK_SECRET_ID?.trim() && process.env.OFFBOARDING_WEBHOOK_SECRET === undefined) {
    throw new WebhookConfigError('invalid Lambda environment: WEBHOOK_SECRET_ID: is required');
  }
  // One traced client for every ledger call of the container (the HR routes' rejections included).
  const ledger = new DynamoLedger({ tableName: ledgerTableName, client: createDocumentClient(tracer.captureAWSv3Client(new DynamoDBClient({}))) });
  defaultLedger = ledger;
  defaultDeps = {
    secrets: () => loadWebhookSecrets(process.env, secretSource()),
    queue: new SqsRequestQueue({ queueUrl, client: tracer.captureAWSv3Client(new SQSClient({})) }),
    ledger,
    clock: () => new Date(),
    log,
    cancel: cancelRecorder({ ledger, clock: () => new Date(), log, metrics: powertoolsOutcomeMetrics }),
  };
  return defaultDeps;
}

let defaultHrDeps: HrIntakeDeps | undefined;

/** Native HR routes: provider settings from one secret per enabled provider (`HR_<P>_SECRET_ID`). */
export function getDefaultHrDeps(): HrIntakeDeps {
  if (defaultHrDeps) return defaultHrDeps;
  const base = getDefaultWebhookDeps();
  defaultHrDeps = {
    settings: (provider) => {
      const adapter = adapterForPath(`/hr/${provider}`);
      return adapter ? loadHrSettingsFromAws(adapter, process.env, secretSource()) : Promise.resolve(undefined);
    },
    queue: base.queue,
    clock: base.clock,
    log: base.log,
    policy: effectiveDatePolicyFromEnv(process.env),
    fetch: (input, init) => fetch(input, init),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    random: Math.random,
    lookup: DEFAULT_HR_LOOKUP,
    ledger: base.ledger,
    ...(defaultLedger ? { reject: ledgerRejections(defaultLedger, base.clock) } : {}),
    ...(base.cancel ? { cancel: base.cancel } : {}),
  };
  return defaultHrDeps;
}
