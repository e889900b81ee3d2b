/**
 * What one intake message becomes: the rule the start use case applies to every queue message, and the one the
 * local runtime and `offboard start` use to know which ledger keys a message will end up under. Kept here, once,
 * because a second copy that forgot the look-alike step waited for a rejection that never came.
 */
import { parseRequestJson, requestsFromInput, type OffboardingRequest } from './request.js';
import { rejectionIdFor, withoutLookAlikeEmails, type RejectedEmail } from './rejection.js';

export type MessageRequests = { ok: true; requests: OffboardingRequest[]; rejectedEmails: RejectedEmail[] } | { ok: false; reason: string };

/**
 * The request itself when valid; else, with its look-alike emails taken out (each recorded REJECTED by the
 * caller), the rest; else, above 1,000 emails, its deterministic parts (splitRequest); otherwise the problem.
 */
export function requestsFromMessage(body: string): MessageRequests {
  const single = parseRequestJson(body);
  if (single.ok) return { ok: true, requests: [single.value], rejectedEmails: [] };
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    return single;
  }
  const lookAlikes = withoutLookAlikeEmails(raw);
  if (lookAlikes) {
    const rest = requestsFromMessage(JSON.stringify(lookAlikes.body));
    if (rest.ok) return { ...rest, rejectedEmails: [...lookAlikes.rejected, ...rest.rejectedEmails] };
  }
  const split = requestsFromInput(raw);
  return split.ok ? { ok: true, requests: split.value, rejectedEmails: [] } : single;
}

/** The ledger keys a message ends up under: its request ids (split parts included), or its rejection id. */
export function ledgerKeysOfMessage(body: string): { valid: boolean; ledgerIds: string[] } {
  const parsed = requestsFromMessage(body);
  return parsed.ok
    ? { valid: true, ledgerIds: parsed.requests.map((request) => request.requestId) }
    : { valid: false, ledgerIds: [rejectionIdFor(body)] };
}
