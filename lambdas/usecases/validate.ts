/** Task `Validate`: re-validates the execution input, marks the request RUNNING and decides whether to wait. */
import { parseRequest } from '../core/request.js';
import type { ValidatedState } from '../core/workflow-state.js';
import { InvalidRequestError } from './errors.js';
import { recordWorkflowRejection } from '../core/rejection.js';
import type { WorkflowDeps } from './ports.js';

/** A Standard execution lives at most a year; a later effective date could never be honoured. */
export const MAX_EFFECTIVE_DELAY_DAYS = 360;

export async function validateRequest(input: unknown, deps: Pick<WorkflowDeps, 'ledger' | 'clock' | 'log'>): Promise<ValidatedState> {
  const now = deps.clock();
  let parsed = parseRequest(input);
  if (parsed.ok && parsed.value.effectiveAt) {
    const delayDays = (Date.parse(parsed.value.effectiveAt) - now.getTime()) / 86_400_000;
    if (delayDays > MAX_EFFECTIVE_DELAY_DAYS) {
      parsed = { ok: false, reason: `effectiveAt: more than ${MAX_EFFECTIVE_DELAY_DAYS} days ahead; submit it closer to the date` };
    }
  }
  if (!parsed.ok) {
    const rejectionId = await recordWorkflowRejection(deps.ledger, input, parsed.reason, now);
    deps.log.warn('request rejected by the workflow', { rejectionId, reason: parsed.reason });
    throw new InvalidRequestError(parsed.reason);
  }
  const request = parsed.value;
  await deps.ledger.updateRequestState(request.requestId, {
    status: 'RUNNING',
    at: now.toISOString(),
    emailCount: request.emails.length,
    source: request.source,
    ...(request.reason ? { reason: request.reason } : {}),
  });
  const effective = request.effectiveAt ? new Date(request.effectiveAt) : undefined;
  const shouldWait = effective !== undefined && effective.getTime() > now.getTime();
  if (shouldWait && effective) {
    // A person waiting for their effective date is on the record from now on, not only once deleted.
    const effectiveAt = effective.toISOString();
    await deps.ledger.recordScheduled(request.emails.map((email) => ({ requestId: request.requestId, email, effectiveAt, recordedAt: now.toISOString() })));
  }
  return {
    request,
    // The Wait state's TimestampPath needs a UTC timestamp; when not waiting it is simply "now".
    schedule: { shouldWait, waitUntil: (shouldWait && effective ? effective : now).toISOString() },
  };
}
