/**
 * The HR webhook Lambda (API Gateway HTTP API, payload v2): signed event → validated requests → intake queue.
 * `processWebhook` is the use case; `offboard serve` runs the same function behind node:http.
 *
 * Order of checks: size (bounds all later work) → signature (nothing about the body is revealed to an
 * unsigned caller) → content type → JSON → schema → enqueue. Any unexpected error is a 503 "try again":
 * request ids are deterministic, so a retried delivery can never start a second execution.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { secretsManagerSource, type SecretSource } from '../adapters/secrets.js';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { DynamoLedger, createDocumentClient, type Ledger } from '../adapters/ledger.js';
import { MessageTooLargeError, SqsRequestQueue, type RequestQueue } from '../adapters/queue.js';
import { adapterForPath } from '../core/hr/registry.js';
import { identityVerdict } from '../core/request.js';
import {
  MAX_WEBHOOK_BODY_BYTES,
  UNAUTHORIZED_DETAIL,
  WEBHOOK_SIGNATURE_HEADER,
  acceptedResponse,
  conflictingEventResponse,
  isJsonContentType,
  parseWebhookEvent,
  parseWebhookSecrets,
  problemResponse,
  requestsFromEvent,
  verifySignature,
  webhookRequestId,
  type WebhookResponse,
} from '../core/webhook.js';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { WEBHOOK_FAILURES_METRIC } from '../core/metric-names.js';
import { log, metrics, tracer } from '../observability.js';
import { DEFAULT_HR_LOOKUP, effectiveDatePolicyFromEnv, ledgerRejections, loadHrSettingsFromAws, processHrWebhook, type HrIntakeDeps } from './hr-intake.js';
import type { WorkflowLog } from './runtime.js';
import { lambdaHandler } from './middleware.js';

export interface WebhookHttpRequest {
  /** Header names in any case. */
  headers: Readonly<Record<string, string | undefined>>;
  body: Uint8Array;
}

export interface WebhookDeps {
  /** Accepted secrets (current first). */
  secrets: () => Promise<readonly string[]>;
  queue: RequestQueue;
  /** What the ledger holds under a request id: a replayed eventId with other content is answered 409. */
  ledger: Pick<Ledger, 'getRequestState'>;
  clock: () => Date;
  log: WorkflowLog;
}

function header(headers: WebhookHttpRequest['headers'], name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name) return value;
  return undefined;
}

export async function processWebhook(request: WebhookHttpRequest, deps: WebhookDeps): Promise<WebhookResponse> {
  try {
    return await processChecked(request, deps);
  } catch (error) {
    // Permanent: retrying the same event can never fit it in the queue, so it must not look retryable.
    if (error instanceof MessageTooLargeError) {
      deps.log.warn('webhook event too large for the queue', { reason: error.message });
      return problemResponse(413, `the event cannot be queued: ${error.message}`);
    }
    deps.log.error('webhook failed; the sender should retry', { error: error instanceof Error ? error.name : 'unknown' });
    return problemResponse(503, 'the event could not be accepted right now; retry later', { 'retry-after': '30' });
  }
}

async function processChecked(request: WebhookHttpRequest, deps: WebhookDeps): Promise<WebhookResponse> {
  if (request.body.byteLength > MAX_WEBHOOK_BODY_BYTES) {
    deps.log.warn('webhook body too large', { bytes: request.body.byteLength });
    return problemResponse(413, `body must be at most ${MAX_WEBHOOK_BODY_BYTES} bytes`);
  }
  const check = verifySignature(
    header(request.headers, WEBHOOK_SIGNATURE_HEADER),
    request.body,
    await deps.secrets(),
    Math.floor(deps.clock().getTime() / 1000),
  );
  if (!check.ok) {
    deps.log.warn('webhook signature rejected', { reason: check.reason });
    return problemResponse(401, UNAUTHORIZED_DETAIL);
  }
  if (!isJsonContentType(header(request.headers, 'content-type'))) {
    return problemResponse(415, 'content-type must be application/json');
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(request.body));
  } catch {
    return problemResponse(400, 'body: not valid UTF-8 JSON');
  }
  const event = parseWebhookEvent(json);
  if (!event.ok) {
    deps.log.warn('webhook event rejected', { reason: event.reason });
    return problemResponse(400, event.reason);
  }
  const requests = requestsFromEvent(event.value);
  if (!requests.ok) return problemResponse(400, requests.reason);
  // The sender learns now; the start handler still refuses (REJECTED) a conflict this read could not see yet.
  const verdicts = await Promise.all(requests.value.map(async (r) => identityVerdict(await deps.ledger.getRequestState(r.requestId), r)));
  if (verdicts.includes('conflict')) {
    deps.log.warn('webhook event conflicts with an earlier one under the same eventId', { requestId: webhookRequestId(event.value.eventId) });
    return conflictingEventResponse(event.value.eventId);
  }
  await deps.queue.send(requests.value);
  const requestId = webhookRequestId(event.value.eventId);
  deps.log.info('webhook event accepted', {
    requestId,
    parts: requests.value.length,
    emails: event.value.emails.length,
  });
  return acceptedResponse(requestId, requests.value);
}

// ---- AWS wiring --------------------------------------------------------------------------------------

export class WebhookConfigError extends Error {
  override readonly name = 'WebhookConfigError';
}

/**
 * WEBHOOK_SECRET_ID in AWS (read through `secrets`, which caches it for SECRET_MAX_AGE_SECONDS, so a rotation is
 * picked up without a cold start); OFFBOARDING_WEBHOOK_SECRET for local runs. Neither ⇒ refuse.
 */
export async function loadWebhookSecrets(env: Readonly<Record<string, string | undefined>>, secrets?: SecretSource): Promise<string[]> {
  const secretId = env.WEBHOOK_SECRET_ID?.trim();
  if (secretId) {
    if (!secrets) throw new WebhookConfigError('WEBHOOK_SECRET_ID is set but no secret source was wired');
    return parseWebhookSecrets(`secret ${secretId}`, await secrets.read(secretId));
  }
  if (env.OFFBOARDING_WEBHOOK_SECRET !== undefined) return parseWebhookSecrets('OFFBOARDING_WEBHOOK_SECRET', env.OFFBOARDING_WEBHOOK_SECRET);
  throw new WebhookConfigError('no webhook secret: set WEBHOOK_SECRET_ID (AWS) or OFFBOARDING_WEBHOOK_SECRET (local)');
}

export function decodeApiGatewayBody(event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>): Buffer {
  if (event.body === undefined) return Buffer.alloc(0);
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
}

let defaultDeps: WebhookDeps | undefined;
let awsSecrets: SecretSource | undefined;

/** One traced Secrets Manager source per container, shared by our route and the HR routes. */
function secretSource(): SecretSource {
  awsSecrets ??= secretsManagerSource(tracer.captureAWSv3Client(new SecretsManagerClient({})));
  return awsSecrets;
}

function getDefaultWebhookDeps(): WebhookDeps {
  if (defaultDeps) return defaultDeps;
  const queueUrl = process.env.INTAKE_QUEUE_URL?.trim();
  if (!queueUrl) throw new WebhookConfigError('invalid Lambda environment: INTAKE_QUEUE_URL: is required');
  const ledgerTableName = process.env.LEDGER_TABLE_NAME?.trim();
  if (!ledgerTableName) throw new WebhookConfigError('invalid Lambda environment: LEDGER_TABLE_NAME: is required');
  if (!process.env.WEBHOOK_SECRET_ID?.trim() && process.env.OFFBOARDING_WEBHOOK_SECRET === undefined) {
    throw new WebhookConfigError('invalid Lambda environment: WEBHOOK_SECRET_ID: is required');
  }
  defaultDeps = {
    secrets: () => loadWebhookSecrets(process.env, secretSource()),
    queue: new SqsRequestQueue({ queueUrl, client: tracer.captureAWSv3Client(new SQSClient({})) }),
    ledger: new DynamoLedger({ tableName: ledgerTableName }),
    clock: () => new Date(),
    log,
  };
  return defaultDeps;
}

let defaultHrDeps: HrIntakeDeps | undefined;

/** Native HR routes: provider settings from one secret per enabled provider (`HR_<P>_SECRET_ID`). */
function getDefaultHrDeps(): HrIntakeDeps {
  if (defaultHrDeps) return defaultHrDeps;
  const base = getDefaultWebhookDeps();
  const tableName = process.env.LEDGER_TABLE_NAME?.trim();
  const ledger = tableName ? new DynamoLedger({ tableName, client: createDocumentClient(tracer.captureAWSv3Client(new DynamoDBClient({}))) }) : undefined;
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
    ...(ledger ? { reject: ledgerRejections(ledger, base.clock) } : {}),
  };
  return defaultHrDeps;
}

export const handler = lambdaHandler(async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
  const path = event.rawPath ?? event.requestContext?.http?.path ?? '';
  const adapter = adapterForPath(path);
  if (adapter) {
    const hr = await processHrWebhook(
      adapter,
      { method: event.requestContext?.http?.method ?? 'POST', headers: event.headers ?? {}, body: decodeApiGatewayBody(event) },
      getDefaultHrDeps(),
    );
    return { statusCode: hr.status, headers: hr.headers, body: hr.body };
  }
  // A missing configuration is thrown, not answered: the invocation errors and the function's alarms fire.
  const deps = getDefaultWebhookDeps();
  const response = await processWebhook({ headers: event.headers ?? {}, body: decodeApiGatewayBody(event) }, deps);
  // The 503 is answered, not thrown, so the function's Errors metric stays 0: this one is alarmed instead.
  if (response.status >= 500) metrics.addMetric(WEBHOOK_FAILURES_METRIC, MetricUnit.Count, 1);
  return { statusCode: response.status, headers: response.headers, body: response.body };
});
