/**
 * Our own HR webhook route: signed event → validated requests → intake queue. The webhook Lambda
 * (handlers/webhook.ts) and `offboard serve` (behind node:http) both call `processWebhook`.
 *
 * Order of checks: size (bounds all later work) → signature (nothing about the body is revealed to an
 * unsigned caller) → content type → JSON → schema → enqueue. Any unexpected error is a 503 "try again":
 * request ids are deterministic, so a retried delivery can never start a second execution.
 */
import { identityVerdict } from '../core/request.js';
import {
  MAX_WEBHOOK_BODY_BYTES,
  UNAUTHORIZED_DETAIL,
  WEBHOOK_SIGNATURE_HEADER,
  acceptedResponse,
  conflictingEventResponse,
  isJsonContentType,
  RESCIND_EVENT_TYPE,
  parseWebhookEvent,
  parseWebhookSecrets,
  problemResponse,
  requestsFromEvent,
  verifySignature,
  webhookRequestId,
  type WebhookEvent,
  type WebhookResponse,
} from '../core/webhook.js';
import { CancelError, rescindResponse, type CancelRecorder } from './cancel.js';
import { MessageTooLargeError, type Ledger, type RequestQueue, type SecretSource, type WorkflowLog } from './ports.js';

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
  /** Records a `termination.rescinded` event (cancel.ts); absent ⇒ rescinds are answered 503, never dropped. */
  cancel?: CancelRecorder;
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
  if (event.value.type === RESCIND_EVENT_TYPE) return rescind(event.value, deps);
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

/** A rescind on our own route: cancels the people's pending requests now; answered 200 with what it did. */
async function rescind(event: WebhookEvent, deps: WebhookDeps): Promise<WebhookResponse> {
  if (!deps.cancel) return problemResponse(503, 'rescinds cannot be recorded right now; retry later', { 'retry-after': '60' });
  const requestId = webhookRequestId(event.eventId);
  let result;
  try {
    result = await deps.cancel({ recordId: requestId, target: { emails: event.emails }, source: 'webhook', eventId: event.eventId, reason: event.reason ?? RESCIND_EVENT_TYPE });
  } catch (error) {
    if (error instanceof CancelError) return problemResponse(409, error.message, {}, { eventId: event.eventId });
    throw error;
  }
  return rescindResponse(result);
}

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
