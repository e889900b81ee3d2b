/**
 * The approval rule, one home for the CLI (`offboard approve`, `failures`) and the workflow (ResolveEmails):
 * releasing a HELD request is a new request `<id>.approved` for exactly the emails that were held, carrying
 * `approvesHeldRequest`; the workflow lifts the blast-radius cap only when the ledger confirms that request is
 * HELD and every email asked for was among its held ones, so no approval reaches beyond what was reviewed.
 * Pure: callers load the ledger items and pass them in.
 */
import type { Outcome, RequestStateStatus } from './outcome.js';
import { REQUEST_ID_MAX_LENGTH, TERMINATION_TYPE, parseRequest, type OffboardingRequest, type ParseResult } from './request.js';

const APPROVAL_SUFFIX = '.approved';

export function approvalRequestId(heldRequestId: string): string {
  return `${heldRequestId}${APPROVAL_SUFFIX}`;
}

/** The emails a request holds: its HELD outcomes, and none unless the request itself is still HELD. */
export function heldEmails(state: { status: RequestStateStatus } | undefined, outcomes: readonly Pick<Outcome, 'status' | 'email'>[]): Set<string> {
  if (state?.status !== 'HELD') return new Set();
  return new Set(outcomes.filter((outcome) => outcome.status === 'HELD').map((outcome) => outcome.email));
}

/** Whether `request` releases only what was held (and something was). */
export function isConfirmedRelease(request: Pick<OffboardingRequest, 'emails'>, held: ReadonlySet<string>): boolean {
  return held.size > 0 && request.emails.every((email) => held.has(email));
}

/**
 * The release request for a HELD one, or why there is none (not HELD, already approved, nothing held, an id too
 * long to carry the suffix). `state` is the held request's, `approval` the state of an earlier release if any.
 */
export function releaseRequest(
  heldRequestId: string,
  state: { status: RequestStateStatus },
  approval: { status: RequestStateStatus } | undefined,
  outcomes: readonly Pick<Outcome, 'status' | 'email'>[],
): ParseResult<OffboardingRequest> {
  if (state.status !== 'HELD') return { ok: false, reason: `request '${heldRequestId}' is ${state.status}, not HELD: nothing to approve` };
  const approvedId = approvalRequestId(heldRequestId);
  if (approvedId.length > REQUEST_ID_MAX_LENGTH) {
    return { ok: false, reason: `request id too long to approve (max ${REQUEST_ID_MAX_LENGTH - APPROVAL_SUFFIX.length} characters)` };
  }
  if (approval !== undefined) {
    return { ok: false, reason: `request '${heldRequestId}' was already approved as ${approvedId} (${approval.status}): see offboard status ${approvedId}` };
  }
  const held = [...heldEmails(state, outcomes)];
  if (held.length === 0) return { ok: false, reason: `request '${heldRequestId}' has no HELD emails` };
  const parsed = parseRequest({
    requestId: approvedId,
    type: TERMINATION_TYPE,
    emails: held,
    source: 'cli',
    reason: `operator approved HELD request ${heldRequestId}`.slice(0, 500),
    approvesHeldRequest: heldRequestId,
  });
  return parsed.ok ? parsed : { ok: false, reason: `cannot build the approval: ${parsed.reason}` };
}
