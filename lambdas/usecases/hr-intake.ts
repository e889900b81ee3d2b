/**
 * Native HR intake (`/hr/<provider>`): the provider's own authenticity check on the raw body → its payload mapped
 * to typed events → thin events completed from the provider's API → validated requests on the intake queue.
 * The webhook Lambda and `offboard serve` both call `processHrWebhook`; the adapters are pure (core/hr).
 *
 * Failure policy (a leaver is never dropped silently):
 * - lookup failed for a reason that can pass (timeout, network, 429, 5xx): 503 with Retry-After, so the provider
 *   redelivers (all of them retry 5xx) and the deterministic request id absorbs the repeat;
 * - lookup failed for good (no credentials configured, 401/403/404, no work email on file, status unknown):
 *   recorded REJECTED in the ledger with the reason, answered 422 (the provider's delivery log shows it too);
 *   without a ledger to record in, answered 503 instead so the provider keeps it.
 * - a rescind (cancel / rehire, status back to active) cancels the person's pending requests (cancel.ts; the delete
 *   path re-checks right before deleting); one arriving after the deletion records REHIRED_AFTER_DELETION. A rescind
 *   whose person cannot be identified is recorded REJECTED (a human cancels by hand), never dropped.
 */
import { parseRetryAfterMs, retryDelayMs } from '../arize/retry.js';
import { DEFAULT_EFFECTIVE_DATE_POLICY, MAX_GRACE_MINUTES, isValidTimeZone, localDateOf, type EffectiveDatePolicy } from '../core/hr/effective-date.js';
import {
  hrRequestId,
  hrTerminationRequest,
  type HrAdapter,
  type HrHttpRequest,
  type HrPersonEvent,
  type HrPersonRecord,
  type HrProvider,
} from '../core/hr/types.js';
import { identityVerdict, type OffboardingRequest } from '../core/request.js';
import { isRetryableStatus } from '../core/retry-policy.js';
import { MAX_WEBHOOK_BODY_BYTES, WebhookSecretError, parseSecretList, parseWebhookSecrets, problemResponse, type WebhookResponse } from '../core/webhook.js';
import { CancelError, type CancelRecorder } from './cancel.js';
import { recordHrRejection, type HrRejection } from '../core/rejection.js';

export type { HrRejection };
import type { Ledger, RequestQueue, SecretSource, WorkflowLog } from './ports.js';

export interface HrProviderSettings {
  /** Accepted webhook secrets / tokens (several while rotating). */
  secrets: readonly string[];
  /** Credentials for the provider's API (thin events). */
  api?: { baseUrl?: string; token: string };
}

export interface HrLookupOptions {
  /** Per attempt. */
  timeoutMs: number;
  attempts: number;
  /** No attempt or wait starts after this much time: the provider is waiting for our answer. */
  budgetMs: number;
}

export const DEFAULT_HR_LOOKUP: HrLookupOptions = { timeoutMs: 3000, attempts: 3, budgetMs: 8000 };
/** A server asking for a longer pause than this is answered 503 at once: the provider retries later. */
const MAX_LOOKUP_RETRY_AFTER_MS = 2000;

export interface HrIntakeDeps {
  /** The provider's settings; undefined ⇒ the provider is not enabled (404). */
  settings: (provider: HrProvider) => Promise<HrProviderSettings | undefined>;
  queue: RequestQueue;
  clock: () => Date;
  log: WorkflowLog;
  policy: EffectiveDatePolicy;
  fetch: typeof fetch;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  lookup: HrLookupOptions;
  /** Where an earlier event's request is stored: the same id with other content is answered 409, as on /hr/events. */
  ledger?: Pick<Ledger, 'getRequestState'>;
  /** Records a permanent failure (REJECTED, with the reason) and returns its ledger id; absent ⇒ 503. */
  reject?: (record: HrRejection) => Promise<string>;
  /** Applies a rescind (cancel.ts): cancels the person's pending requests; absent ⇒ 503. */
  cancel?: CancelRecorder;
}


export class LookupFailure extends Error {
  override readonly name = 'LookupFailure';
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

function json(status: number, body: unknown): WebhookResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

function decodeBody(adapter: HrAdapter, text: string): unknown {
  if (adapter.bodyFormat === 'form') return Object.fromEntries(new URLSearchParams(text));
  return JSON.parse(text);
}

export async function processHrWebhook(adapter: HrAdapter, request: HrHttpRequest, deps: HrIntakeDeps): Promise<WebhookResponse> {
  try {
    return await processChecked(adapter, request, deps);
  } catch (error) {
    deps.log.error('hr webhook failed; the sender should retry', { provider: adapter.provider, error: error instanceof Error ? error.name : 'unknown' });
    return problemResponse(503, 'the event could not be accepted right now; retry later', { 'retry-after': '30' });
  }
}

async function processChecked(adapter: HrAdapter, request: HrHttpRequest, deps: HrIntakeDeps): Promise<WebhookResponse> {
  const provider = adapter.provider;
  const settings = await deps.settings(provider);
  // A provider nobody configured does not exist, as far as callers can tell.
  if (!settings) return problemResponse(404, 'no route');
  const method = request.method.toUpperCase();
  if (method === 'GET' && adapter.challenge) {
    const answer = adapter.challenge(request);
    if (answer) deps.log.info('hr verification challenge answered', { provider });
    return answer ?? problemResponse(400, 'missing or invalid verification challenge header');
  }
  if (method !== 'POST') return problemResponse(405, 'use POST', { allow: adapter.challenge ? 'GET, POST' : 'POST' });
  if (request.body.byteLength > MAX_WEBHOOK_BODY_BYTES) return problemResponse(413, `body must be at most ${MAX_WEBHOOK_BODY_BYTES} bytes`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(request.body);
  } catch {
    return problemResponse(400, 'body: not valid UTF-8');
  }
  const setup = adapter.setupCall?.(text);
  if (setup?.kind === 'handshake') {
    deps.log.info('hr setup call answered', { provider, note: setup.note });
    return setup.response;
  }
  const auth = adapter.authenticate(request, settings.secrets, Math.floor(deps.clock().getTime() / 1000));
  if (!auth.ok) {
    deps.log.warn('hr webhook authentication rejected', { provider, reason: auth.reason });
    return problemResponse(401, `missing or invalid ${provider} signature or token`);
  }
  let body: unknown;
  try {
    body = decodeBody(adapter, text);
  } catch {
    return problemResponse(400, 'body: not valid JSON');
  }
  const mapped = adapter.map(body);
  if ('error' in mapped) {
    deps.log.warn('hr event rejected', { provider, reason: mapped.error });
    return problemResponse(400, mapped.error);
  }

  const requests: OffboardingRequest[] = [];
  const ignored: string[] = [];
  const rescinds: { requestId: string; status: 'recorded' | 'duplicate'; cancelledRequests: string[]; rehiredAfterDeletion: number }[] = [];
  const rejected: { requestId: string; recordedAs: string; reason: string }[] = [];
  for (const event of mapped) {
    if (event.kind === 'handshake') return event.response;
    if (event.kind === 'ignore') {
      deps.log.info('hr event ignored', { provider, reason: event.reason });
      ignored.push(event.reason);
      continue;
    }
    if (event.kind === 'rescind') {
      const requestId = hrRequestId(provider, event.eventKey);
      const person = await rescindEmail(adapter, event, settings, deps);
      if (person.kind === 'retry') {
        deps.log.warn('hr lookup failed; asking the provider to retry', { provider, reason: person.reason });
        return problemResponse(503, `could not read the employee from ${provider} right now; retry later`, { 'retry-after': '60' });
      }
      if (!deps.cancel || !deps.reject) {
        return problemResponse(503, 'the rescind cannot be recorded right now; retry later', { 'retry-after': '300' });
      }
      if (person.kind === 'reject') {
        // Without an email nobody's request can be found: recorded REJECTED for a human, never dropped.
        const reason = `${provider} ${event.eventType}: ${person.reason}; cancel the person's pending request by hand (offboard cancel)`;
        deps.log.warn('hr rescind cannot be applied', { provider, requestId, reason });
        const recordedAs = await deps.reject({ provider, requestId, reason, ...(event.subject.employeeId ? { employeeId: event.subject.employeeId } : {}) });
        rejected.push({ requestId, recordedAs, reason });
        continue;
      }
      try {
        const result = await deps.cancel({ recordId: requestId, target: { emails: [person.email] }, source: provider, eventId: event.eventKey, reason: `${provider} ${event.eventType}` });
        rescinds.push({ requestId, status: result.duplicate ? 'duplicate' : 'recorded', cancelledRequests: result.cancelledRequests, rehiredAfterDeletion: result.rehiredAfterDeletion.length });
      } catch (error) {
        if (error instanceof CancelError) return problemResponse(409, error.message);
        throw error;
      }
      continue;
    }
    const outcome = await termination(adapter, event, settings, deps);
    if (outcome.kind === 'request') requests.push(outcome.request);
    else if (outcome.kind === 'ignore') ignored.push(outcome.reason);
    else if (outcome.kind === 'retry') {
      deps.log.warn('hr lookup failed; asking the provider to retry', { provider, reason: outcome.reason });
      return problemResponse(503, `could not read the employee from ${provider} right now; retry later`, { 'retry-after': '60' });
    } else {
      const requestId = hrRequestId(provider, event.eventKey);
      deps.log.warn('hr event cannot be completed', { provider, requestId, reason: outcome.reason });
      if (!deps.reject) return problemResponse(503, `the event cannot be completed (${outcome.reason}); retry later`, { 'retry-after': '300' });
      const recordedAs = await deps.reject({ provider, requestId, reason: outcome.reason, ...(event.subject.employeeId ? { employeeId: event.subject.employeeId } : {}) });
      rejected.push({ requestId, recordedAs, reason: outcome.reason });
    }
  }
  if (requests.length > 0 && deps.ledger) {
    const ledger = deps.ledger;
    const verdicts = await Promise.all(requests.map(async (r) => ({ id: r.requestId, verdict: identityVerdict(await ledger.getRequestState(r.requestId), r) })));
    const conflicts = verdicts.filter((v) => v.verdict === 'conflict').map((v) => v.id);
    if (conflicts.length > 0) {
      deps.log.warn('hr event conflicts with an earlier one under the same key', { provider, requestIds: conflicts });
      return problemResponse(409, `request id ${conflicts.join(', ')} already holds a different request; nothing was enqueued`);
    }
  }
  if (requests.length > 0) await deps.queue.send(requests);
  if (requests.length > 0 || rescinds.length > 0) {
    deps.log.info('hr event accepted', { provider, requestIds: requests.map((r) => r.requestId), ignored: ignored.length, rescinds: rescinds.length });
  }
  if (rejected.length > 0 && requests.length === 0) {
    return problemResponse(422, `recorded as rejected: ${rejected.map((r) => `${r.requestId} → ${r.recordedAs} (${r.reason})`).join('; ')}`);
  }
  return json(requests.length > 0 ? 202 : 200, {
    provider,
    requestIds: requests.map((r) => r.requestId),
    ...(ignored.length ? { ignored } : {}),
    ...(rescinds.length ? { rescinds } : {}),
    ...(rejected.length ? { rejected } : {}),
  });
}

type TerminationOutcome =
  | { kind: 'request'; request: OffboardingRequest }
  | { kind: 'ignore'; reason: string }
  | { kind: 'retry'; reason: string }
  | { kind: 'reject'; reason: string };

async function termination(adapter: HrAdapter, event: HrPersonEvent, settings: HrProviderSettings, deps: HrIntakeDeps): Promise<TerminationOutcome> {
  const provider = adapter.provider;
  let record: HrPersonRecord | undefined;
  const needsLookup = !event.subject.email || event.confirmWithLookup === true || event.keyWithTerminationDate === true;
  if (needsLookup) {
    const employeeId = event.subject.employeeId;
    if (!adapter.lookup || !employeeId) return { kind: 'reject', reason: `${provider} sent no email and no employee id to look one up by` };
    if (!settings.api) return { kind: 'reject', reason: `${provider} sent only an employee id and no ${provider} API credentials are configured to read the email` };
    try {
      record = await lookupPerson(adapter, employeeId, settings.api, deps);
    } catch (error) {
      if (error instanceof LookupFailure) return error.retryable ? { kind: 'retry', reason: error.message } : { kind: 'reject', reason: error.message };
      throw error;
    }
    if (event.confirmWithLookup && record.terminated === false) return { kind: 'ignore', reason: `${provider} reports employee ${employeeId} as active: not a termination` };
    if (event.confirmWithLookup && record.terminated === undefined) return { kind: 'reject', reason: `${provider} did not state whether employee ${employeeId} is terminated` };
  }
  const email = event.subject.email ?? record?.email;
  if (!email) return { kind: 'reject', reason: `${provider} has no work email on file for employee ${event.subject.employeeId ?? '(unknown)'}` };
  const keyed: HrPersonEvent = event.keyWithTerminationDate ? { ...event, eventKey: `${event.eventKey}:${record?.terminationDate ?? 'undated'}` } : event;
  const dayOf = event.effectiveDayOf ? localDateOf(Date.parse(event.effectiveDayOf), event.timeZone ?? deps.policy.timeZone) : undefined;
  const effective = event.effective ?? dayOf ?? record?.terminationDate;
  const request = hrTerminationRequest(provider, keyed, email, deps.policy, effective);
  return request.ok ? { kind: 'request', request: request.value } : { kind: 'reject', reason: request.reason };
}

/** The rescinded person's email: sent in the event, or read from the provider's API like a termination's. */
async function rescindEmail(
  adapter: HrAdapter,
  event: HrPersonEvent,
  settings: HrProviderSettings,
  deps: HrIntakeDeps,
): Promise<{ kind: 'email'; email: string } | { kind: 'retry'; reason: string } | { kind: 'reject'; reason: string }> {
  if (event.subject.email) return { kind: 'email', email: event.subject.email };
  const employeeId = event.subject.employeeId;
  if (!adapter.lookup || !employeeId) return { kind: 'reject', reason: 'no email and no employee id to look one up by' };
  if (!settings.api) return { kind: 'reject', reason: `only an employee id was sent and no ${adapter.provider} API credentials are configured to read the email` };
  try {
    const record = await lookupPerson(adapter, employeeId, settings.api, deps);
    return record.email ? { kind: 'email', email: record.email } : { kind: 'reject', reason: `no work email on file for employee ${employeeId}` };
  } catch (error) {
    if (error instanceof LookupFailure) return error.retryable ? { kind: 'retry', reason: error.message } : { kind: 'reject', reason: error.message };
    throw error;
  }
}

/** Timeouts per attempt, bounded retries with full-jitter backoff (Retry-After honoured), an overall budget. */
async function lookupPerson(adapter: HrAdapter, employeeId: string, api: NonNullable<HrProviderSettings['api']>, deps: HrIntakeDeps): Promise<HrPersonRecord> {
  const spec = adapter.lookup!;
  const baseUrl = api.baseUrl ?? spec.defaultBaseUrl;
  if (!baseUrl) throw new LookupFailure(`no ${adapter.provider} API URL configured`, false);
  const { url, init } = spec.request(baseUrl, employeeId, api.token);
  const response = await fetchWithRetries(url, init, deps, `${adapter.provider} API`, `employee ${employeeId} not found in ${adapter.provider}`);
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    throw new LookupFailure(`${adapter.provider} API answered ${response.status} with a body that is not JSON`, true);
  }
  return spec.read(body);
}

export type FetchRetryDeps = Pick<HrIntakeDeps, 'fetch' | 'sleep' | 'random' | 'lookup'>;

/**
 * One GET/POST to an HR system with a timeout per attempt and bounded retries of transient answers (network,
 * timeout, 408/429/5xx) with full-jitter backoff; Retry-After is honoured up to a limit. Resolves with a 2xx
 * response; throws LookupFailure(retryable) otherwise. Shared by the webhook lookups and `offboard pull`.
 */
export async function fetchWithRetries(
  url: string,
  init: RequestInit,
  deps: FetchRetryDeps,
  what: string,
  notFound = `${what} answered 404`,
): Promise<Response> {
  const deadline = Date.now() + deps.lookup.budgetMs;
  let last = 'no attempt';
  for (let attempt = 0; attempt < deps.lookup.attempts; attempt += 1) {
    let retryAfterMs: number | undefined;
    try {
      const response = await deps.fetch(url, { ...init, signal: AbortSignal.timeout(Math.max(1, Math.min(deps.lookup.timeoutMs, deadline - Date.now()))) });
      if (response.ok) return response;
      await response.body?.cancel();
      last = `${what} answered ${response.status}`;
      if (response.status === 404) throw new LookupFailure(notFound, false);
      if (response.status === 401 || response.status === 403) throw new LookupFailure(`${what} refused the configured credentials (${response.status})`, false);
      if (!isRetryableStatus(response.status)) throw new LookupFailure(last, false);
      retryAfterMs = parseRetryAfterMs(response.headers.get('retry-after'), Date.now());
      if (retryAfterMs !== undefined && retryAfterMs > MAX_LOOKUP_RETRY_AFTER_MS) throw new LookupFailure(`${last} and asked to wait`, true);
    } catch (error) {
      if (error instanceof LookupFailure && (!error.retryable || attempt + 1 >= deps.lookup.attempts)) throw error;
      if (!(error instanceof LookupFailure)) last = `${what} unreachable (${error instanceof Error ? error.name : 'error'})`;
    }
    if (attempt + 1 >= deps.lookup.attempts) break;
    const delay = retryDelayMs(attempt, deps.random, retryAfterMs);
    if (Date.now() + delay >= deadline) break;
    await deps.sleep(delay);
  }
  throw new LookupFailure(last, true);
}

/** REJECTED records in the ledger (core/rejection.ts): a redelivery of the same event lands on the same record. */
export function ledgerRejections(ledger: Ledger, clock: () => Date): NonNullable<HrIntakeDeps['reject']> {
  return (rejection) => recordHrRejection(ledger, rejection, clock());
}

// ---- configuration -------------------------------------------------------------------------------------------

export type Env = Readonly<Record<string, string | undefined>>;

export class HrConfigError extends Error {
  override readonly name = 'HrConfigError';
}

/** `OFFBOARDING_HR_TIME_ZONE` (IANA, default UTC) and `OFFBOARDING_HR_GRACE_MINUTES` (0..10080, default 0). */
export function effectiveDatePolicyFromEnv(env: Env): EffectiveDatePolicy {
  const timeZone = env.OFFBOARDING_HR_TIME_ZONE?.trim() || DEFAULT_EFFECTIVE_DATE_POLICY.timeZone;
  if (!isValidTimeZone(timeZone)) throw new HrConfigError(`OFFBOARDING_HR_TIME_ZONE: '${timeZone}' is not a valid IANA time zone`);
  const graceText = env.OFFBOARDING_HR_GRACE_MINUTES?.trim();
  const graceMinutes = graceText ? Number(graceText) : DEFAULT_EFFECTIVE_DATE_POLICY.graceMinutes;
  if (!Number.isInteger(graceMinutes) || graceMinutes < 0 || graceMinutes > MAX_GRACE_MINUTES) {
    throw new HrConfigError(`OFFBOARDING_HR_GRACE_MINUTES: must be an integer in 0..${MAX_GRACE_MINUTES}`);
  }
  return { timeZone, graceMinutes };
}

export function checkedBaseUrl(source: string, value: string | undefined): string | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new HrConfigError(`${source}: not a URL`);
  }
  // Plain HTTP only to this machine (a local fake of the provider); credentials never cross a network in clear.
  const loopback = url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) throw new HrConfigError(`${source}: must be an https URL`);
  return text;
}

/**
 * Local settings: `OFFBOARDING_<P>_SECRET` (enables the route; comma-separated while rotating),
 * `OFFBOARDING_<P>_API_TOKEN` and `OFFBOARDING_<P>_API_URL` for thin events. Messages name variables, never values.
 */
export function hrSettingsFromEnv(adapter: HrAdapter, env: Env): HrProviderSettings | undefined {
  const name = `OFFBOARDING_${adapter.envPrefix}_SECRET`;
  if (env[name] === undefined || env[name]?.trim() === '') return undefined;
  const secrets = parseSecretList(name, env[name]);
  const token = env[`OFFBOARDING_${adapter.envPrefix}_API_TOKEN`]?.trim();
  const baseUrl = checkedBaseUrl(`OFFBOARDING_${adapter.envPrefix}_API_URL`, env[`OFFBOARDING_${adapter.envPrefix}_API_URL`]);
  return { secrets, ...(token ? { api: { token, ...(baseUrl ? { baseUrl } : {}) } } : {}) };
}

/**
 * AWS settings: `HR_<P>_SECRET_ID` names one Secrets Manager secret per enabled provider, holding either the
 * webhook secret itself or JSON `{"secrets": [current, previous], "apiToken": "…", "apiUrl": "https://…"}`.
 */
export function hrSettingsFromSecret(source: string, value: string | undefined): HrProviderSettings {
  const text = value?.trim() ?? '';
  let parsed: unknown;
  if (text.startsWith('{')) {
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new WebhookSecretError(`${source} looks like JSON but does not parse`);
    }
  }
  const record = (parsed ?? {}) as { apiToken?: unknown; apiUrl?: unknown };
  const secrets = parseWebhookSecrets(source, text);
  const token = typeof record.apiToken === 'string' && record.apiToken.trim() ? record.apiToken.trim() : undefined;
  const baseUrl = checkedBaseUrl(`${source}: apiUrl`, typeof record.apiUrl === 'string' ? record.apiUrl : undefined);
  return { secrets, ...(token ? { api: { token, ...(baseUrl ? { baseUrl } : {}) } } : {}) };
}

/** A provider's settings: from its secret (`HR_<P>_SECRET_ID`, cached by `secrets` for SECRET_MAX_AGE_SECONDS), else local variables. */
export async function loadHrSettingsFromAws(adapter: HrAdapter, env: Env, secrets: SecretSource): Promise<HrProviderSettings | undefined> {
  const secretId = env[`HR_${adapter.envPrefix}_SECRET_ID`]?.trim();
  // Without a secret id the provider's local variables apply (as OFFBOARDING_WEBHOOK_SECRET does for our route).
  if (!secretId) return hrSettingsFromEnv(adapter, env);
  return hrSettingsFromSecret(`secret ${secretId}`, await secrets.read(secretId));
}
