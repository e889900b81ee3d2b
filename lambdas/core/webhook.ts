/**
 * The HR webhook contract, pure: signature verification, the event schema, and the mapping of an event to
 * offboarding requests. No I/O here; the handler (AWS) and `offboard serve` (local) wrap it.
 *
 * Signature: header `X-Offboarding-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…]` where
 * v1 = hex(HMAC-SHA256(secret, `<t>.<raw body bytes>`)). Several v1 values and several configured secrets are
 * accepted so a secret can be rotated without downtime: the sender signs with old and new, the receiver
 * accepts either.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import {
  EmailSchema,
  REQUEST_ID_MAX_LENGTH,
  REQUEST_TYPES,
  describeZodError,
  splitRequest,
  type OffboardingRequest,
  type ParseResult,
} from './request.js';

export const WEBHOOK_SIGNATURE_HEADER = 'x-offboarding-signature';
export const SIGNATURE_TOLERANCE_SECONDS = 300;
export const MAX_WEBHOOK_BODY_BYTES = 256 * 1024;
/** HR event ids become request ids as `hr-<eventId>`; room is left for the split suffix `.p<i>of<n>`. */
export const WEBHOOK_REQUEST_ID_PREFIX = 'hr-';
export const EVENT_ID_MAX_LENGTH = 128;
/** Bounds the work an unauthenticated caller can cause before the signature is known to be good. */
const MAX_SIGNATURE_HEADER_LENGTH = 2048;
const MAX_SIGNATURES = 8;
const MIN_SECRET_LENGTH = 16;
const HMAC_BYTES = 32;

// ---- secrets ---------------------------------------------------------------------------------------

export class WebhookSecretError extends Error {
  override readonly name = 'WebhookSecretError';
}

/**
 * A secret value (Secrets Manager string or OFFBOARDING_WEBHOOK_SECRET) is either one raw secret, a JSON array
 * of secrets, or JSON `{"secrets": [...]}` (current first, then the ones being rotated out). Messages name the
 * source, never a value.
 */
export function parseWebhookSecrets(source: string, value: string | undefined): string[] {
  const text = value?.trim();
  if (!text) throw new WebhookSecretError(`${source} is empty: a webhook secret is required`);
  let secrets: unknown = [text];
  if (text.startsWith('[') || text.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new WebhookSecretError(`${source} looks like JSON but does not parse`);
    }
    secrets = Array.isArray(parsed) ? parsed : (parsed as { secrets?: unknown }).secrets;
  }
  if (!Array.isArray(secrets) || secrets.length === 0 || !secrets.every((s): s is string => typeof s === 'string')) {
    throw new WebhookSecretError(`${source} must be a secret string, a JSON array of strings or {"secrets": [...]}`);
  }
  const trimmed = secrets.map((s) => s.trim());
  if (trimmed.some((s) => s.length < MIN_SECRET_LENGTH)) {
    throw new WebhookSecretError(`${source}: every webhook secret must be at least ${MIN_SECRET_LENGTH} characters`);
  }
  return trimmed;
}

// ---- signature -------------------------------------------------------------------------------------

function hmac(secret: string, timestamp: string, body: Uint8Array): Buffer {
  return createHmac('sha256', secret).update(`${timestamp}.`, 'utf8').update(body).digest();
}

function bodyBytes(body: Uint8Array | string): Uint8Array {
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
}

/** The header value a sender puts on a request: one v1 per secret (several while rotating). */
export function signWebhook(secrets: string | readonly string[], body: Uint8Array | string, timestampSeconds: number): string {
  const t = String(Math.floor(timestampSeconds));
  const list = typeof secrets === 'string' ? [secrets] : secrets;
  return [`t=${t}`, ...list.map((secret) => `v1=${hmac(secret, t, bodyBytes(body)).toString('hex')}`)].join(',');
}

/** Internal reasons, for logs and tests only: the HTTP answer is the same 401 for all of them. */
export type SignatureFailure = 'missing' | 'malformed' | 'stale' | 'mismatch';
export type SignatureCheck = { ok: true } | { ok: false; reason: SignatureFailure };

interface ParsedSignature {
  timestamp: string;
  timestampSeconds: number;
  signatures: Buffer[];
}

function parseSignatureHeader(header: string): ParsedSignature | undefined {
  if (header.length > MAX_SIGNATURE_HEADER_LENGTH) return undefined;
  let timestamp: string | undefined;
  const signatures: Buffer[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') {
      if (timestamp !== undefined || !/^\d{1,12}$/.test(value)) return undefined;
      timestamp = value;
    } else if (key === 'v1') {
      if (!/^[0-9a-fA-F]{64}$/.test(value)) return undefined;
      signatures.push(Buffer.from(value, 'hex'));
    }
    // Other schemes (v0, future v2) are ignored, as a sender may send several.
  }
  if (timestamp === undefined || signatures.length === 0 || signatures.length > MAX_SIGNATURES) return undefined;
  return { timestamp, timestampSeconds: Number(timestamp), signatures };
}

export function verifySignature(
  header: string | undefined,
  body: Uint8Array | string,
  secrets: readonly string[],
  nowSeconds: number,
  toleranceSeconds: number = SIGNATURE_TOLERANCE_SECONDS,
): SignatureCheck {
  if (header === undefined || header.trim() === '') return { ok: false, reason: 'missing' };
  const parsed = parseSignatureHeader(header);
  if (!parsed) return { ok: false, reason: 'malformed' };
  if (Math.abs(nowSeconds - parsed.timestampSeconds) > toleranceSeconds) return { ok: false, reason: 'stale' };
  const bytes = bodyBytes(body);
  let matched = false;
  // Every pair is compared (no early exit) so timing does not tell which secret or which v1 matched.
  for (const secret of secrets) {
    const expected = hmac(secret, parsed.timestamp, bytes);
    for (const candidate of parsed.signatures) {
      if (candidate.length === HMAC_BYTES && timingSafeEqual(expected, candidate)) matched = true;
    }
  }
  return matched ? { ok: true } : { ok: false, reason: 'mismatch' };
}

// ---- provider schemes (native HR intake) --------------------------------------------------------------

export type DigestEncoding = 'hex' | 'base64';

/**
 * True when `candidate` (as sent by a provider, hex or base64) equals HMAC(secret, message) under any of the
 * secrets. Every secret is compared (no early exit) and in constant time, as for our own header above.
 */
export function hmacMatchesAny(
  algorithm: 'sha256' | 'sha512',
  encoding: DigestEncoding,
  secrets: readonly string[],
  message: readonly (Uint8Array | string)[],
  candidate: string | undefined,
): boolean {
  if (candidate === undefined) return false;
  const trimmed = candidate.trim();
  if (trimmed === '' || trimmed.length > MAX_SIGNATURE_HEADER_LENGTH) return false;
  const pattern = encoding === 'hex' ? /^[0-9a-fA-F]+$/ : /^[A-Za-z0-9+/]+={0,2}$/;
  if (!pattern.test(trimmed)) return false;
  const given = Buffer.from(trimmed, encoding);
  let matched = false;
  for (const secret of secrets) {
    const mac = createHmac(algorithm, secret);
    for (const part of message) mac.update(typeof part === 'string' ? Buffer.from(part, 'utf8') : part);
    const expected = mac.digest();
    if (expected.length === given.length && timingSafeEqual(expected, given)) matched = true;
  }
  return matched;
}

/**
 * A static shared token (Okta's Authorization value, Personio's token, Rippling's bearer): equal to a secret,
 * with or without a `Bearer ` prefix. Both sides are hashed first so the comparison is constant-time whatever
 * the lengths.
 */
export function tokenMatchesAny(secrets: readonly string[], header: string | undefined): boolean {
  if (header === undefined || header.length > MAX_SIGNATURE_HEADER_LENGTH) return false;
  const value = header.trim();
  if (value === '') return false;
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  const given = digest(value);
  let matched = false;
  for (const secret of secrets) {
    for (const form of [secret, `Bearer ${secret}`]) if (timingSafeEqual(digest(form), given)) matched = true;
  }
  return matched;
}

/** A provider secret variable: the forms `parseWebhookSecrets` takes, or several values separated by commas. */
export function parseSecretList(source: string, value: string | undefined): string[] {
  const text = value?.trim() ?? '';
  if (text.startsWith('[') || text.startsWith('{') || !text.includes(',')) return parseWebhookSecrets(source, text);
  return parseWebhookSecrets(source, JSON.stringify(text.split(',').map((s) => s.trim()).filter(Boolean)));
}

// ---- content type ------------------------------------------------------------------------------------

/** `application/json` or `application/<x>+json`, with an optional charset that must be UTF-8. */
export function isJsonContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const [mediaType = '', ...params] = contentType.split(';').map((p) => p.trim().toLowerCase());
  if (mediaType !== 'application/json' && !/^application\/[a-z0-9.+-]+\+json$/.test(mediaType)) return false;
  return params.every((param) => {
    const [name, value = ''] = param.split('=').map((s) => s.trim());
    return name !== 'charset' || ['utf-8', 'utf8', '"utf-8"'].includes(value);
  });
}

// ---- event schema ------------------------------------------------------------------------------------

const EventIdSchema = z
  .string()
  .trim()
  .min(1, 'eventId must not be empty')
  .max(EVENT_ID_MAX_LENGTH, `eventId must be at most ${EVENT_ID_MAX_LENGTH} characters`)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:@+=/-]*$/, 'eventId may contain only letters, digits and . _ : @ + = / - (starting with a letter or digit)');


/**
 * Event types on our own route: a termination becomes a request; `termination.rescinded` cancels the named
 * people's pending requests (lambdas/usecases/cancel.ts) and is never enqueued.
 */
export const RESCIND_EVENT_TYPE = 'termination.rescinded';
export const WEBHOOK_EVENT_TYPES = [...REQUEST_TYPES, RESCIND_EVENT_TYPE] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

const EffectiveAtSchema = z.iso
  .datetime({ offset: true, message: 'effectiveAt must be an ISO-8601 date-time with a time zone' })
  .optional();

const BulkEventSchema = z.strictObject({
  eventId: EventIdSchema,
  type: z.enum(WEBHOOK_EVENT_TYPES),
  emails: z.array(EmailSchema).min(1, 'emails must contain at least one address'),
  effectiveAt: EffectiveAtSchema,
  reason: z.string().trim().max(500, 'reason must be at most 500 characters').optional(),
});

const SingleEventSchema = z.strictObject({
  eventId: EventIdSchema,
  type: z.enum(WEBHOOK_EVENT_TYPES),
  employee: z.strictObject({
    email: EmailSchema,
    id: z.string().trim().min(1).max(200).optional(),
  }),
  effectiveAt: EffectiveAtSchema,
});

export interface WebhookEvent {
  eventId: string;
  type: WebhookEventType;
  emails: string[];
  effectiveAt?: string;
  reason?: string;
}

/** The two accepted shapes are told apart by `employee`, so errors name the fields of the shape meant. */
export function parseWebhookEvent(json: unknown): ParseResult<WebhookEvent> {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    return { ok: false, reason: 'body: must be a JSON object' };
  }
  if ('employee' in json) {
    const single = SingleEventSchema.safeParse(json);
    if (!single.success) return { ok: false, reason: describeZodError(single.error) };
    const { eventId, type, employee, effectiveAt } = single.data;
    return { ok: true, value: { eventId, type, emails: [employee.email], ...(effectiveAt ? { effectiveAt } : {}) } };
  }
  const bulk = BulkEventSchema.safeParse(json);
  if (!bulk.success) return { ok: false, reason: describeZodError(bulk.error) };
  const { eventId, type, emails, effectiveAt, reason } = bulk.data;
  return {
    ok: true,
    value: { eventId, type, emails: [...new Set(emails)], ...(effectiveAt ? { effectiveAt } : {}), ...(reason ? { reason } : {}) },
  };
}

/** Deterministic: the same eventId always yields the same request ids, so a replay is de-duplicated downstream. */
export function webhookRequestId(eventId: string): string {
  return `${WEBHOOK_REQUEST_ID_PREFIX}${eventId}`;
}

export function requestsFromEvent(event: WebhookEvent): ParseResult<OffboardingRequest[]> {
  const requestId = webhookRequestId(event.eventId);
  if (requestId.length > REQUEST_ID_MAX_LENGTH) return { ok: false, reason: 'eventId: too long' };
  if (event.type === RESCIND_EVENT_TYPE) return { ok: false, reason: `type: ${RESCIND_EVENT_TYPE} cancels requests, it is not one` };
  return splitRequest({
    requestId,
    type: event.type,
    emails: event.emails,
    source: 'webhook',
    ...(event.effectiveAt ? { effectiveAt: event.effectiveAt } : {}),
    ...(event.reason ? { reason: event.reason } : {}),
  });
}

// ---- HTTP answers -----------------------------------------------------------------------------------

export interface WebhookResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  503: 'Service Unavailable',
};

export function problemResponse(
  status: number,
  detail: string,
  headers: Record<string, string> = {},
  extensions: Record<string, string> = {},
): WebhookResponse {
  return {
    status,
    headers: { 'content-type': 'application/problem+json', ...headers },
    body: JSON.stringify({ type: 'about:blank', title: TITLES[status] ?? `HTTP ${status}`, status, detail, ...extensions }),
  };
}

/** The same eventId with other content: refused, naming the event (see requestDigest for what content is). */
export function conflictingEventResponse(eventId: string): WebhookResponse {
  return problemResponse(
    409,
    `eventId '${eventId}' was already received with different content (type, emails, effectiveAt); nothing was enqueued: send this event under a new eventId`,
    {},
    { eventId },
  );
}

/** `requestId` is the event's id (`hr-<eventId>`); an event over 1,000 emails became several `requestIds`. */
export function acceptedResponse(requestId: string, requests: readonly OffboardingRequest[]): WebhookResponse {
  const emails = requests.reduce((sum, r) => sum + r.emails.length, 0);
  return {
    status: 202,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ requestId, emails, requestIds: requests.map((r) => r.requestId) }),
  };
}

/** One answer for every signature problem: which part was wrong is not told to the caller. */
export const UNAUTHORIZED_DETAIL = 'missing or invalid X-Offboarding-Signature';
