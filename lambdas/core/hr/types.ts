/**
 * Native HR intake, pure part: what every provider adapter does (authenticate the raw body with the provider's
 * own scheme, map its payload to a typed event) and how a mapped event becomes our offboarding request.
 * No I/O and no AWS here: the use case (`lambdas/usecases/hr-intake.ts`) does the lookups and the enqueue.
 */
import { createHash } from 'node:crypto';
import { isValidEmail, normalizeEmail } from '../email.js';
import { REQUEST_ID_MAX_LENGTH, TERMINATION_TYPE, parseRequest, type OffboardingRequest, type ParseResult } from '../request.js';
import { hmacMatchesAny, tokenMatchesAny, type WebhookResponse } from '../webhook.js';
import { interpretEffectiveDate, type EffectiveDatePolicy } from './effective-date.js';

export const HR_PROVIDERS = ['bamboohr', 'hibob', 'gusto', 'deel', 'personio', 'rippling', 'okta'] as const;
export type HrProvider = (typeof HR_PROVIDERS)[number];

export function isHrProvider(value: string): value is HrProvider {
  return (HR_PROVIDERS as readonly string[]).includes(value);
}

export interface HrHttpRequest {
  method: string;
  /** Header names lower-cased. */
  headers: Readonly<Record<string, string | undefined>>;
  body: Uint8Array;
}

/** Internal reasons, for logs and tests only: the HTTP answer is one 401 for all. */
export type HrAuthFailure = 'missing' | 'malformed' | 'stale' | 'mismatch';
export type HrAuthCheck = { ok: true } | { ok: false; reason: HrAuthFailure };

/** Who the event is about: the email when the provider sends it, else the provider's id to look it up by. */
export interface HrSubject {
  email?: string;
  employeeId?: string;
}

export type HrEvent =
  /** Authentic but not about a termination (or a rescind): acknowledged 2xx, reason logged. */
  | { kind: 'ignore'; reason: string }
  /** A set-up call (Okta challenge, Gusto verification token, HiBob ping): answered as given, nothing enqueued. */
  | { kind: 'handshake'; response: WebhookResponse; note: string }
  | HrPersonEvent;

export interface HrPersonEvent {
  kind: 'termination' | 'rescind';
  /** Idempotency key within the provider: its event id, else (employee, effective date, type). Never arrival time. */
  eventKey: string;
  /** The provider's event type, for the request's reason and logs. */
  eventType: string;
  subject: HrSubject;
  /** The effective date as the provider sent it; absent ⇒ effective now. */
  effective?: string;
  /** The employee's IANA zone when the provider sends one. */
  timeZone?: string;
  /**
   * The payload says something about the person changed but not whether it is a termination (BambooHR's
   * event-based `employee.updated`): the lookup must confirm the status before anything is enqueued.
   */
  confirmWithLookup?: boolean;
  /** The provider has no event id: the key ends with the termination date the lookup returns. */
  keyWithTerminationDate?: boolean;
  /**
   * The event fires on the effective day at a provider timestamp (HiBob at midnight site time, Personio on the
   * day): the effective date is that instant's calendar day in the employee's zone, ending at its midnight.
   */
  effectiveDayOf?: string;
}

/** What the provider's API returns about a person (the part we use). */
export interface HrPersonRecord {
  email?: string;
  /** True/false when the API states the employment status; undefined when it does not say. */
  terminated?: boolean;
  /** Termination date per the API, when it has one. */
  terminationDate?: string;
}

/** How to fetch a person's work email (thin events). Pure: builds the request, reads the answer. */
export interface HrLookupSpec {
  /** Vendor default; operators override it (and BambooHR needs its company domain in it). */
  defaultBaseUrl?: string;
  request(baseUrl: string, employeeId: string, token: string): { url: string; init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string } };
  read(json: unknown): HrPersonRecord;
}

export interface HrAdapter {
  provider: HrProvider;
  /** `form` for Rippling (application/x-www-form-urlencoded); JSON for the others. */
  bodyFormat: 'json' | 'form';
  /** Env / config name fragment: `OFFBOARDING_<PREFIX>_SECRET`. */
  envPrefix: string;
  /** Answers a GET (Okta's one-time verification); undefined ⇒ GET is 405. */
  challenge?(request: HrHttpRequest): WebhookResponse | undefined;
  /**
   * A set-up call the provider sends before it can sign anything (Gusto's verification token, HiBob's ping):
   * recognised from the raw text, answered 200, and nothing is enqueued, so answering it unauthenticated is safe.
   */
  setupCall?(text: string): HrEvent | undefined;
  authenticate(request: HrHttpRequest, secrets: readonly string[], nowSeconds: number): HrAuthCheck;
  /** Maps the parsed body (JSON value or form fields). Several events (Okta batches) are possible. */
  map(body: unknown): HrEvent[] | { error: string };
  lookup?: HrLookupSpec;
}

// ---- helpers shared by the adapters -----------------------------------------------------------------------

export function header(request: HrHttpRequest, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(request.headers)) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A string or number field as a trimmed string (providers send ids as either). */
export function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

export function path(value: unknown, ...keys: string[]): unknown {
  let current = value;
  for (const key of keys) {
    if (!isRecord(current)) return undefined;
    current = current[key];
  }
  return current;
}

/** `2026-12-04T…` → `2026-12-04`; a plain date stays; anything else undefined. */
export function datePart(value: string | undefined): string | undefined {
  const match = value ? /^(\d{4}-\d{2}-\d{2})/.exec(value) : null;
  return match?.[1];
}

/** The email as our matching rule sees it, or undefined when it is not a usable address. */
export function usableEmail(value: unknown): string | undefined {
  return typeof value === 'string' && isValidEmail(value) ? normalizeEmail(value) : undefined;
}

const ID_SAFE = /^[A-Za-z0-9][A-Za-z0-9._:@+=/-]*$/;

/**
 * `<provider>:<key>`: deterministic, so a redelivery (Rippling repeats, Gusto retries 16 times) maps onto the same
 * request and is de-duplicated downstream. A key with characters a request id cannot hold, or too long, is hashed.
 */
export function hrRequestId(provider: HrProvider, eventKey: string): string {
  const plain = `${provider}:${eventKey}`;
  // Room is left for the split suffix and the dry-run suffix.
  if (ID_SAFE.test(eventKey) && plain.length <= REQUEST_ID_MAX_LENGTH - 24) return plain;
  return `${provider}:h-${createHash('sha256').update(eventKey, 'utf8').digest('hex').slice(0, 40)}`;
}

/** A termination with its email known → the validated request (effective date interpreted per policy). */
export function hrTerminationRequest(
  provider: HrProvider,
  event: HrPersonEvent,
  email: string,
  policy: EffectiveDatePolicy,
  effectiveOverride?: string,
): ParseResult<OffboardingRequest> {
  const effective = effectiveOverride ?? event.effective;
  let interpreted: { effectiveAt: string; original: string } | undefined;
  if (effective !== undefined) {
    const result = interpretEffectiveDate(effective, policy, event.timeZone);
    if (!result.ok) return { ok: false, reason: `effective date: ${result.reason}` };
    interpreted = result.value;
  }
  return parseRequest({
    requestId: hrRequestId(provider, event.eventKey),
    type: TERMINATION_TYPE,
    emails: [email],
    source: 'webhook',
    reason: `${provider} ${event.eventType}`.slice(0, 500),
    ...(interpreted ? { effectiveAt: interpreted.effectiveAt, effectiveAtOriginal: interpreted.original } : {}),
  });
}

// ---- building blocks the adapters share --------------------------------------------------------------------

/** Static-token schemes (Okta, Personio, Rippling): the header must carry one of the secrets. */
export function tokenAuthentication(headerName: string): HrAdapter['authenticate'] {
  return (request, secrets) => {
    const token = header(request, headerName);
    if (!token) return { ok: false, reason: 'missing' };
    return tokenMatchesAny(secrets, token) ? { ok: true } : { ok: false, reason: 'mismatch' };
  };
}

/** Body-HMAC schemes without a timestamp (HiBob, Gusto, Deel): `prefix` is signed before the raw body. */
export function hmacAuthentication(headerName: string, algorithm: 'sha256' | 'sha512', encoding: 'hex' | 'base64', prefix?: string): HrAdapter['authenticate'] {
  return (request, secrets) => {
    const signature = header(request, headerName);
    if (!signature) return { ok: false, reason: 'missing' };
    const message = prefix === undefined ? [request.body] : [prefix, request.body];
    return hmacMatchesAny(algorithm, encoding, secrets, message, signature) ? { ok: true } : { ok: false, reason: 'mismatch' };
  };
}

/** `GET <base><path(id)>` with a bearer token: the lookup of most providers. */
export function bearerGet(pathFor: (encodedId: string) => string): HrLookupSpec['request'] {
  return (baseUrl, employeeId, token) => ({
    url: `${baseUrl.replace(/\/+$/, '')}${pathFor(encodeURIComponent(employeeId))}`,
    init: { method: 'GET', headers: { accept: 'application/json', authorization: `Bearer ${token}` } },
  });
}

/** The answer to a set-up call: 200 with a small JSON body, nothing else happens. */
export function setupAnswer(note: string): HrEvent {
  return { kind: 'handshake', note, response: { status: 200, headers: { 'content-type': 'application/json' }, body: '{"status":"ok"}' } };
}
