/**
 * Tasks `RecordHeld`, `RecordDryRun`, `RecordChunkFailure`, `RecordFailure`: outcomes decided by the
 * state machine rather than by an Arize call. The catch paths write in `fallback` mode: they fill in
 * emails without an outcome and never overwrite what a task already recorded.
 */
import * as z from 'zod';
import { isValidEmail, maskEmailsInText, normalizeEmail } from '../core/email.js';
import { countOutcomes, type Outcome } from '../core/outcome.js';
import { OffboardingRequestSchema } from '../core/request.js';
import { shouldRetry } from '../core/retry-policy.js';
import { RecordInputSchema, type ChunkResult, type StepError } from '../core/workflow-state.js';
import { parseTaskInput } from './parse.js';
import type { LedgerTaskDeps } from './ports.js';

export type RecordOutput =
  | { requestId: string; held: number; message: string }
  | { requestId: string; dryRun: number }
  | ChunkResult
  | { requestId: string; failed: number; error: string };

const MAX_CAUSE = 500;

function describeStepError(error: StepError | undefined): { errorClass: string; message: string } {
  const errorClass = error?.Error ?? 'States.TaskFailed';
  let message = error?.Cause ?? '';
  try {
    // Lambda errors arrive as a JSON Cause {errorType, errorMessage, trace}; keep only the message.
    const cause = JSON.parse(message) as { errorMessage?: unknown };
    if (typeof cause.errorMessage === 'string') message = cause.errorMessage;
  } catch {
    // A plain-text cause is used as it is.
  }
  return { errorClass, message: maskEmailsInText(message).slice(0, MAX_CAUSE) };
}

const LenientRequestSchema = z.object({ requestId: z.string().min(1), emails: z.array(z.unknown()).optional(), dryRun: z.unknown().optional() });
const LenientPlanSchema = z.object({
  decision: z.string().optional(),
  attempt: z.number().int().min(0).optional(),
  chunks: z.array(z.object({ targets: z.array(z.object({ userId: z.string(), email: z.string() })) })).optional(),
});

/**
 * The failing state's input may be the raw execution input, the validated state (full request) or the
 * post-resolution state (request reference + plan, whose chunks hold the only emails without an outcome).
 */
function requestFromFailedState(
  state: unknown,
): { requestId: string; emails: string[]; targets: Map<string, string>; attempt: number; notToRedrive?: string } | undefined {
  const record = (state ?? {}) as { request?: unknown; plan?: unknown };
  const plan = LenientPlanSchema.safeParse(record.plan);
  const attempt = plan.success ? (plan.data.attempt ?? 0) : 0;
  const targets = new Map<string, string>();
  if (plan.success) for (const c of plan.data.chunks ?? []) for (const t of c.targets) targets.set(normalizeEmail(t.email), t.userId);
  // The re-drive turns a retryable FAILED into a real deletion under the cap, and cannot tell a rehearsal (no
  // DRY_RUN record yet) or a held plan from the ledger: such failures are left to a human instead.
  const decision = plan.success ? plan.data.decision : undefined;
  const heldOrRehearsal = (dryRun: boolean): string | undefined =>
    dryRun || decision === 'DRY_RUN' ? 'dry run' : decision === 'HELD' ? 'held for approval' : undefined;
  const strict = OffboardingRequestSchema.safeParse(record.request ?? state);
  if (strict.success) {
    const notToRedrive = heldOrRehearsal(strict.data.dryRun);
    return { requestId: strict.data.requestId, emails: [...new Set([...strict.data.emails, ...targets.keys()])], targets, attempt, ...(notToRedrive ? { notToRedrive } : {}) };
  }
  const lenient = LenientRequestSchema.safeParse(record.request ?? state);
  if (!lenient.success) return undefined;
  const listed = (lenient.data.emails ?? []).filter((e): e is string => typeof e === 'string' && isValidEmail(e)).map(normalizeEmail);
  const notToRedrive = heldOrRehearsal(lenient.data.dryRun === true);
  return { requestId: lenient.data.requestId, emails: [...new Set([...listed, ...targets.keys()])], targets, attempt, ...(notToRedrive ? { notToRedrive } : {}) };
}

export async function recordAction(input: unknown, deps: LedgerTaskDeps): Promise<RecordOutput> {
  const action = parseTaskInput(RecordInputSchema, input, 'Record');
  const now = deps.clock();
  const recordedAt = now.toISOString();
  switch (action.action) {
    case 'HELD': {
      const { request, plan } = action;
      const reason = plan.heldReason ?? 'blast radius exceeded';
      const outcomes = plan.chunks.flatMap((c) => c.targets).map((t): Outcome => ({
        requestId: request.requestId, email: t.email, userId: t.userId, status: 'HELD', reason, attempt: 0, recordedAt,
      }));
      await deps.ledger.recordOutcomes(outcomes);
      await deps.ledger.updateRequestState(request.requestId, { status: 'HELD', at: recordedAt, detail: reason });
      deps.metrics.countOutcomes(countOutcomes(outcomes));
      deps.log.warn('request held by the blast-radius guard', { requestId: request.requestId, held: outcomes.length });
      return {
        requestId: request.requestId,
        held: outcomes.length,
        // The alert goes to a topic with human subscribers: ids and counts only, no personal data.
        message: `Arize offboarding request ${request.requestId} is HELD: ${reason}. Nothing was deleted. Review it in the ledger and approve with: offboard approve ${request.requestId}`,
      };
    }
    case 'DRY_RUN': {
      const { request, plan } = action;
      const reason = plan.heldReason ? `dry run; would be held: ${plan.heldReason}` : 'dry run';
      const outcomes = plan.chunks.flatMap((c) => c.targets).map((t): Outcome => ({
        requestId: request.requestId, email: t.email, userId: t.userId, status: 'DRY_RUN', reason, attempt: 0, recordedAt,
      }));
      await deps.ledger.recordOutcomes(outcomes);
      return { requestId: request.requestId, dryRun: outcomes.length };
    }
    case 'CHUNK_FAILURE': {
      const { errorClass, message } = describeStepError(action.error);
      // Deletes by id are idempotent, so a crashed chunk is safe to try again.
      const retry = shouldRetry(deps.config.retry, action.attempt, true) ? action.targets : [];
      const outcomes = action.targets.map((t): Outcome => ({
        requestId: action.requestId, email: t.email, userId: t.userId, status: 'FAILED', errorClass, error: message, retryable: true, attempt: action.attempt, recordedAt,
      }));
      await deps.ledger.recordOutcomes(outcomes, { mode: 'fallback' });
      deps.metrics.countOutcomes({ FAILED: outcomes.length });
      deps.log.error('delete chunk failed as a whole', { requestId: action.requestId, attempt: action.attempt, errorClass, targets: outcomes.length });
      return { deleted: 0, notFound: 0, failed: outcomes.length, retry };
    }
    case 'FAILURE': {
      const { errorClass, message } = describeStepError(action.error);
      const request = requestFromFailedState(action.state);
      if (!request) {
        deps.log.error('workflow failed on an input without a usable request', { errorClass });
        return { requestId: 'unknown', failed: 0, error: errorClass };
      }
      const before = new Set((await deps.ledger.outcomesOfRequest(request.requestId)).map((o) => o.email));
      const error = request.notToRedrive ? `${request.notToRedrive}, not re-driven: ${message}` : message;
      const outcomes = request.emails.map((email): Outcome => ({
        requestId: request.requestId, email, ...(request.targets.has(email) ? { userId: request.targets.get(email) } : {}), status: 'FAILED', errorClass, error, retryable: request.notToRedrive === undefined, attempt: request.attempt, recordedAt,
      }));
      await deps.ledger.recordOutcomes(outcomes, { mode: 'fallback' });
      const current = countOutcomes(await deps.ledger.outcomesOfRequest(request.requestId));
      await deps.ledger.updateRequestState(request.requestId, { status: 'FAILED', at: recordedAt, detail: `${errorClass}: ${message}`, counts: current });
      deps.metrics.countOutcomes({ FAILED: request.emails.filter((email) => !before.has(email)).length });
      deps.log.error('workflow failed; outcomes recorded', { requestId: request.requestId, errorClass, ...current });
      return { requestId: request.requestId, failed: current.FAILED, error: errorClass };
    }
  }
}
