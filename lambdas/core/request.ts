/**
 * The offboarding request: the unit of work, validated at every boundary (webhook, queue, CLI, workflow).
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { emailProblem, normalizeEmail } from './email.js';

export const MAX_EMAILS_PER_REQUEST = 1000;
export const REQUEST_ID_MAX_LENGTH = 200;
/** Printable, no spaces or quotes: safe in a ledger key, a log line and (after sanitising) an execution name. */
const REQUEST_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@+=/-]*$/;

export const REQUEST_TYPES = ['employee.terminated'] as const;
/** The one request type today: every producer (webhook, HR adapters, pull, audit, CLI) writes this constant. */
export const TERMINATION_TYPE = REQUEST_TYPES[0];
export const REQUEST_SOURCES = ['webhook', 'audit', 'cli', 'redrive'] as const;
export type RequestSource = (typeof REQUEST_SOURCES)[number];

export const RequestIdSchema = z
  .string()
  .trim()
  .min(1, 'requestId must not be empty')
  .max(REQUEST_ID_MAX_LENGTH, `requestId must be at most ${REQUEST_ID_MAX_LENGTH} characters`)
  .regex(REQUEST_ID_PATTERN, 'requestId may contain only letters, digits and . _ : @ + = / - (starting with a letter or digit)');

/** A requested address: ASCII case folded, refused with the specific reason of core/email.ts (look-alikes included). */
export const EmailSchema = z
  .string()
  .transform(normalizeEmail)
  .superRefine((email, ctx) => {
    const problem = emailProblem(email);
    if (problem) ctx.addIssue({ code: 'custom', message: problem.reason });
  });

/** Emails: trimmed, ASCII case folded, de-duplicated (first occurrence wins, order kept). */
export const EmailListSchema = z
  .array(EmailSchema)
  .min(1, 'emails must contain at least one address')
  .transform((emails) => [...new Set(emails)])
  .pipe(z.array(z.string()).max(MAX_EMAILS_PER_REQUEST, `emails must contain at most ${MAX_EMAILS_PER_REQUEST} distinct addresses`));

export const OffboardingRequestSchema = z.strictObject({
  requestId: RequestIdSchema,
  type: z.enum(REQUEST_TYPES),
  emails: EmailListSchema,
  effectiveAt: z.iso.datetime({ offset: true, message: 'effectiveAt must be an ISO-8601 date-time with a time zone' }).optional(),
  /** The effective date as the HR system sent it (e.g. `2026-12-04`), when `effectiveAt` was interpreted from it. */
  effectiveAtOriginal: z.string().trim().min(1).max(64, 'effectiveAtOriginal must be at most 64 characters').optional(),
  source: z.enum(REQUEST_SOURCES).default('cli'),
  reason: z.string().trim().max(500, 'reason must be at most 500 characters').optional(),
  dryRun: z.boolean().default(false),
  /**
   * Set by `offboard approve`: the id of the HELD request an operator reviewed and released. It lifts the
   * blast-radius cap for this request only; protection rules, exact matching and dry runs still apply.
   */
  approvesHeldRequest: RequestIdSchema.optional(),
});
export type OffboardingRequest = z.output<typeof OffboardingRequestSchema>;
export type OffboardingRequestInput = z.input<typeof OffboardingRequestSchema>;

/**
 * A rehearsal must never take the id of the real request: the real one would then be acknowledged as a
 * duplicate of the dry run (same execution name) and nobody would be offboarded. Ids that already say
 * they are dry runs are kept.
 */
export function dryRunRequestId(requestId: string): string {
  return /(^|[._-])dry-run([._-]|$)/.test(requestId) ? requestId : `${requestId}.dry-run`;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: string };

/** One human-readable line naming every offending field, e.g. `emails.2: not a valid email address`. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.map(String).join('.');
      if (issue.code === 'unrecognized_keys') {
        const keys = issue.keys.map((k) => (path ? `${path}.${k}` : k)).join(', ');
        return `unknown field${issue.keys.length > 1 ? 's' : ''}: ${keys}`;
      }
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

export function parseRequest(input: unknown): ParseResult<OffboardingRequest> {
  const parsed = OffboardingRequestSchema.safeParse(input);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, reason: describeZodError(parsed.error) };
}

/** Parses a raw message body (JSON text). A body that is not JSON is reported as such, not thrown. */
export function parseRequestJson(body: string): ParseResult<OffboardingRequest> {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'body: not valid JSON' };
  }
  return parseRequest(json);
}

/**
 * The largest queue message a request may become: SQS takes 256 KiB per message and per batch; a margin is
 * kept for attributes and framing. Every sender (the webhook Lambda, the CLI, the local runtime) checks this one.
 */
export const MAX_REQUEST_MESSAGE_BYTES = 240 * 1024;

/** The size of a request as a queue message body. */
export function requestMessageBytes(request: OffboardingRequest): number {
  return new TextEncoder().encode(JSON.stringify(request)).byteLength;
}

/**
 * Larger inputs are split at intake into requests of at most `maxPerRequest` distinct emails, and into more
 * parts when a part would not fit in one queue message (1,000 long addresses exceed it): a valid input must
 * never be answered "try again" forever.
 * Part ids are derived deterministically (`<id>.p<i>of<n>`) so a re-submitted input maps onto the same
 * executions and is de-duplicated by the execution name.
 */
export function splitRequest(
  input: Omit<OffboardingRequestInput, 'emails'> & { emails: readonly string[] },
  maxPerRequest: number = MAX_EMAILS_PER_REQUEST,
): ParseResult<OffboardingRequest[]> {
  if (!Number.isInteger(maxPerRequest) || maxPerRequest < 1 || maxPerRequest > MAX_EMAILS_PER_REQUEST) {
    return { ok: false, reason: `maxPerRequest must be an integer in 1..${MAX_EMAILS_PER_REQUEST}` };
  }
  const distinct = [...new Set(input.emails.map(normalizeEmail))];
  // Parts of `maxPerRequest` first (what fits stays split as it always was); otherwise the smallest number of
  // parts, hence a deterministic one, for which every part fits.
  let perPart = maxPerRequest;
  for (;;) {
    const parts = splitInto(input, distinct, perPart);
    if (!parts.ok || parts.value.every((part) => requestMessageBytes(part) <= MAX_REQUEST_MESSAGE_BYTES)) return parts;
    if (perPart <= 1) return { ok: false, reason: `a single-email part is larger than ${MAX_REQUEST_MESSAGE_BYTES} bytes as a queue message` };
    const total = Math.ceil(distinct.length / perPart) + 1;
    perPart = Math.min(perPart - 1, Math.ceil(distinct.length / total));
  }
}

/**
 * One message's requests, the rule intake (the start handler), the CLI's input files and the local runtime's
 * expected ids share: the request itself when it is valid, else — above MAX_EMAILS_PER_REQUEST string emails —
 * its deterministic parts (splitRequest); otherwise the single request's problem.
 */
export function requestsFromInput(raw: unknown): ParseResult<OffboardingRequest[]> {
  const single = parseRequest(raw);
  if (single.ok) return { ok: true, value: [single.value] };
  const emails = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as { emails?: unknown }).emails : undefined;
  if (Array.isArray(emails) && emails.length > MAX_EMAILS_PER_REQUEST && emails.every((email) => typeof email === 'string')) {
    const split = splitRequest(raw as Parameters<typeof splitRequest>[0]);
    if (split.ok) return split;
  }
  return single;
}

function splitInto(
  input: Omit<OffboardingRequestInput, 'emails'> & { emails: readonly string[] },
  distinct: readonly string[],
  perPart: number,
): ParseResult<OffboardingRequest[]> {
  if (distinct.length <= perPart) {
    const single = parseRequest({ ...input, emails: distinct });
    return single.ok ? { ok: true, value: [single.value] } : single;
  }
  const total = Math.ceil(distinct.length / perPart);
  const parts: OffboardingRequest[] = [];
  for (let index = 0; index < total; index += 1) {
    const part = parseRequest({
      ...input,
      requestId: `${String(input.requestId).trim()}.p${index + 1}of${total}`,
      emails: distinct.slice(index * perPart, (index + 1) * perPart),
    });
    if (!part.ok) return { ok: false, reason: `part ${index + 1} of ${total}: ${part.reason}` };
    parts.push(part.value);
  }
  return { ok: true, value: parts };
}

/**
 * A request's identity is its id plus this digest of its content. Content = what decides who is deleted, when
 * and how: `type`, the set of `emails` (normalised and sorted: order, case and repeats do not change it), the
 * instant of `effectiveAt` (any zone notation of the same instant is the same), `dryRun` and
 * `approvesHeldRequest`. Not content: `source` and `reason` (metadata; an HR system re-sending an event with a
 * reworded reason sends the same request). Same id + same digest ⇒ a duplicate, acknowledged; same id + another
 * digest ⇒ refused everywhere ("conflicting request id"), never merged into the first request nor dropped.
 */
export const REQUEST_CONTENT_FIELDS = ['type', 'emails', 'effectiveAt', 'dryRun', 'approvesHeldRequest'] as const;

export function requestDigest(request: Pick<OffboardingRequest, (typeof REQUEST_CONTENT_FIELDS)[number]>): string {
  const emails = [...new Set(request.emails.map(normalizeEmail))].sort();
  const effectiveAt = request.effectiveAt === undefined ? null : new Date(request.effectiveAt).toISOString();
  const canonical = JSON.stringify(['v1', request.type, emails, effectiveAt, request.dryRun, request.approvesHeldRequest ?? null]);
  return `sha256:${createHash('sha256').update(canonical, 'utf8').digest('hex')}`;
}

export const CONFLICTING_REQUEST_ID = 'conflicting request id';

/** The reason recorded and answered when an id arrives again with other content. */
export function conflictingRequestReason(requestId: string): string {
  return `${CONFLICTING_REQUEST_ID}: '${requestId}' was already accepted with different content (${REQUEST_CONTENT_FIELDS.join(', ')}); send this request under a new id`;
}

export type IdentityVerdict = 'new' | 'duplicate' | 'conflict' | 'unknown';

/**
 * How a request relates to what the ledger holds under its id (the state item: its `digest`, or for items
 * written before digests, the stored `request`). `unknown`: an item with neither (older data, or a state not
 * created by intake) — the execution name still de-duplicates it as before.
 */
export function identityVerdict(stored: { digest?: unknown; request?: unknown } | undefined, request: OffboardingRequest): IdentityVerdict {
  if (stored === undefined) return 'new';
  let storedDigest = typeof stored.digest === 'string' ? stored.digest : undefined;
  if (storedDigest === undefined && stored.request !== undefined) {
    const parsed = parseRequest(stored.request);
    if (parsed.ok) storedDigest = requestDigest(parsed.value);
  }
  if (storedDigest === undefined) return 'unknown';
  return storedDigest === requestDigest(request) ? 'duplicate' : 'conflict';
}
