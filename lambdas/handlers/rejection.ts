import { createHash } from 'node:crypto';
import { isValidEmail, normalizeEmail } from '../core/email.js';
import type { Outcome } from '../core/outcome.js';
import type { Ledger } from '../adapters/ledger.js';

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

/** Valid-looking addresses found in an invalid message, so their history shows the rejection. */
function extractableEmails(raw: unknown): string[] {
  const emails = (raw as { emails?: unknown } | null)?.emails;
  if (!Array.isArray(emails)) return [];
  const valid = emails.filter((e): e is string => typeof e === 'string' && isValidEmail(e)).map(normalizeEmail);
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
  await ledger.recordOutcomes(outcomes);
  return { rejectionId, emails: outcomes.length };
}
