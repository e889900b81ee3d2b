/**
 * Rejection records, one home for every producer: invalid queue messages (start), requests the workflow refuses
 * (Validate), look-alike addresses taken out of a valid request (start), HR events that cannot be completed
 * (native HR routes). `offboard run` predicts the same ids (local/cli/ops-start.ts) to wait for them.
 */
import { createHash } from 'node:crypto';
import { hasEmailSyntax, normalizeEmail, unsafeCharacterProblem } from './email.js';
import type { HrProvider } from './hr/types.js';
import type { Ledger } from './ledger.js';
import type { Outcome } from './outcome.js';
import { RequestIdSchema } from './request.js';

/**
 * Invalid input is recorded, never dropped. The ledger key is derived from the raw body, so a
 * redelivered poison message lands on the same record, and an invalid message can never overwrite
 * the records of a valid request that claims the same request id.
 */
export function rejectionIdFor(rawBody: string): string {
  return `rejected-${createHash('sha256').update(rawBody, 'utf8').digest('hex').slice(0, 24)}`;
}

function claimedRequestId(raw: unknown): string | undefined {
  const id = (raw as { requestId?: unknown } | null)?.requestId;
  return typeof id === 'string' ? id.slice(0, 200) : undefined;
}

/**
 * Addresses found in an invalid message, so their history shows the rejection. Look-alikes (U+212A…) are
 * included: their record must say REJECTED, never leave them with no trace.
 */
function extractableEmails(raw: unknown): string[] {
  const emails = (raw as { emails?: unknown } | null)?.emails;
  if (!Array.isArray(emails)) return [];
  const valid = emails.filter((e): e is string => typeof e === 'string' && hasEmailSyntax(e)).map(normalizeEmail);
  return [...new Set(valid)].slice(0, 1000);
}

export async function recordRejection(
  ledger: Ledger,
  rawBody: string,
  reason: string,
  at: Date,
  source = 'intake',
): Promise<{ rejectionId: string; emails: number }> {
  let raw: unknown;
  try {
    raw = JSON.parse(rawBody);
  } catch {
    raw = undefined;
  }
  const rejectionId = rejectionIdFor(rawBody);
  const recordedAt = at.toISOString();
  const claimed = claimedRequestId(raw);
  await ledger.createRequestState({
    requestId: rejectionId,
    status: 'REJECTED',
    at: recordedAt,
    reason,
    source,
    ...(claimed ? { detail: `claimed requestId: ${claimed}` } : {}),
  });
  const outcomes: Outcome[] = extractableEmails(raw).map((email) => ({
    requestId: rejectionId,
    email,
    status: 'REJECTED',
    reason,
    attempt: 0,
    recordedAt,
  }));
  // A queue delivers at least once: a redelivered message (or two deliveries handled at once) must not rewrite
  // the sealed record with a later time; the rejection id is the body's digest, so the first record stands.
  await ledger.recordOutcomes(outcomes, { mode: 'fallback' });
  return { rejectionId, emails: outcomes.length };
}

export interface RejectedEmail {
  /** Normalised (ASCII case folded) as the ledger keys it. */
  email: string;
  reason: string;
}

/**
 * An otherwise valid request naming a look-alike address (invisible, bidi-control or compatibility
 * characters, see core/email.ts): the look-alikes are taken out, to be recorded REJECTED with their
 * reason under the request's id, and the other leavers proceed — one bad address must not hold back
 * the rest, nor be matched, nor vanish. Undefined when there is nothing to take out or nothing would be
 * left (then the whole message is rejected, look-alikes included).
 */
export function withoutLookAlikeEmails(raw: unknown): { body: Record<string, unknown>; rejected: RejectedEmail[] } | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const emails = (raw as { emails?: unknown }).emails;
  if (!Array.isArray(emails)) return undefined;
  const kept: unknown[] = [];
  const rejected: RejectedEmail[] = [];
  emails.forEach((email, index) => {
    const problem = typeof email === 'string' && hasEmailSyntax(email) ? unsafeCharacterProblem(normalizeEmail(email)) : undefined;
    if (typeof email === 'string' && problem) rejected.push({ email: normalizeEmail(email), reason: `emails.${index}: ${problem.reason}` });
    else kept.push(email);
  });
  if (rejected.length === 0 || kept.length === 0) return undefined;
  return { body: { ...(raw as Record<string, unknown>), emails: kept }, rejected };
}

/** Look-alike addresses taken out of a valid request: REJECTED under its id, before it can start and be summarised. */
export async function recordRejectedEmails(ledger: Pick<Ledger, 'recordOutcomes'>, requestId: string, rejected: readonly RejectedEmail[], at: Date): Promise<void> {
  const recordedAt = at.toISOString();
  await ledger.recordOutcomes(
    rejected.map((r): Outcome => ({ requestId, email: r.email, status: 'REJECTED', reason: r.reason, attempt: 0, recordedAt })),
    // Redelivered: the first record stands (see recordRejection).
    { mode: 'fallback' },
  );
}

/**
 * An execution input the workflow refuses: recorded like an invalid message (source `workflow`), and the request it
 * claims to be, which the start Lambda left RECEIVED, closed REJECTED pointing at the rejection record.
 */
export async function recordWorkflowRejection(ledger: Ledger, input: unknown, reason: string, at: Date): Promise<string> {
  const { rejectionId } = await recordRejection(ledger, JSON.stringify(input ?? null), reason, at, 'workflow');
  const claimed = (input as { requestId?: unknown } | null)?.requestId;
  if (typeof claimed === 'string' && RequestIdSchema.safeParse(claimed).success) {
    await ledger.updateRequestState(claimed, { status: 'REJECTED', at: at.toISOString(), detail: `${reason} (see ${rejectionId})` });
  }
  return rejectionId;
}

export interface HrRejection {
  provider: HrProvider;
  requestId: string;
  reason: string;
  employeeId?: string;
  /** Known addresses (a rescind from Okta names one), so the person's history shows the record. */
  emails?: string[];
}

/**
 * An HR event that cannot be completed, recorded REJECTED through the same path as invalid queue messages. The
 * ledger key derives from (provider, request id, reason), so a redelivery of the same event lands on the same record.
 */
export async function recordHrRejection(ledger: Ledger, rejection: HrRejection, at: Date): Promise<string> {
  const raw = JSON.stringify({ requestId: rejection.requestId, provider: rejection.provider, employeeId: rejection.employeeId, emails: rejection.emails ?? [], reason: rejection.reason });
  const { rejectionId } = await recordRejection(ledger, raw, rejection.reason, at, `hr:${rejection.provider}`);
  return rejectionId;
}
