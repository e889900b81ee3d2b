/**
 * Task `ResolveEmails`: resolves each email to its Arize account (exact match), records NOT_FOUND,
 * PROTECTED and unresolvable emails, and returns the plan (decision + chunks of ids) — never the accounts.
 */
import { heldEmails, isConfirmedRelease } from '../core/approval.js';
import { countOutcomes, type Outcome } from '../core/outcome.js';
import { planOffboarding } from '../core/planning.js';
import type { OffboardingRequest } from '../core/request.js';
import type { AccountForProtection } from '../core/protection.js';
import { classifyFailure } from '../core/retry-policy.js';
import { ResolveInputSchema, type ResolveOutput } from '../core/workflow-state.js';
import { maskEmailsInText } from '../core/email.js';
import { TransientArizeError } from './errors.js';
import { parseTaskInput } from './parse.js';
import type { DeleteIntent, UserDirectory, WorkflowDeps } from './ports.js';
import { reportSlaMisses } from './sla.js';

/**
 * `approvesHeldRequest` is only a claim in the message: the cap is lifted when the ledger confirms that request
 * is HELD and every email asked for now was among its held ones, so no approval reaches beyond what was reviewed.
 */
async function isApprovedRelease(request: OffboardingRequest, deps: Pick<WorkflowDeps, 'ledger' | 'log'>): Promise<boolean> {
  const heldRequestId = request.approvesHeldRequest;
  if (heldRequestId === undefined) return false;
  const state = await deps.ledger.getRequestState(heldRequestId);
  const held = heldEmails(state, state?.status === 'HELD' ? await deps.ledger.outcomesOfRequest(heldRequestId) : []);
  const approved = isConfirmedRelease(request, held);
  if (!approved) {
    deps.log.warn('approval not confirmed by the ledger; the blast-radius cap applies', {
      requestId: request.requestId,
      approvesHeldRequest: heldRequestId,
      heldRequestStatus: state?.status ?? 'absent',
    });
  }
  return approved;
}

/**
 * A request picked up again after a crash may find a leaver gone whom it was itself deleting: the intent is in
 * the ledger, the outcome never landed. Reconciled by the stored id, never by email: gone (404) ⇒ DELETED at
 * the intent's attempt; still there under that id though its email no longer resolves ⇒ FAILED (a human looks).
 */
async function reconcileIntents(
  request: OffboardingRequest,
  resolved: ReadonlyMap<string, AccountForProtection | undefined>,
  deps: Pick<WorkflowDeps, 'ledger' | 'clock'>,
  directory: UserDirectory,
  deadline: number | undefined,
): Promise<{ deleted: Map<string, Outcome>; failures: Outcome[] }> {
  const deleted = new Map<string, Outcome>();
  const failures: Outcome[] = [];
  const missing = new Set([...resolved].filter(([, account]) => account === undefined).map(([email]) => email));
  if (missing.size === 0) return { deleted, failures };
  const latest = new Map<string, DeleteIntent>();
  for (const intent of await deps.ledger.deleteIntentsOfRequest(request.requestId)) {
    if (!missing.has(intent.email)) continue;
    const current = latest.get(intent.email);
    if (!current || intent.attempt >= current.attempt) latest.set(intent.email, intent);
  }
  const transient: string[] = [];
  await Promise.all(
    [...latest.values()].map(async (intent) => {
      const base = { requestId: request.requestId, email: intent.email, userId: intent.userId, attempt: intent.attempt };
      try {
        await directory.get(intent.userId, deadline ? { deadline } : {});
        failures.push({ ...base, attempt: 0, recordedAt: deps.clock().toISOString(), status: 'FAILED', errorClass: 'IntentUnreconciled', error: 'a delete was intended for this id, which still exists but no longer matches the email', retryable: false });
      } catch (error) {
        const failure = classifyFailure(error);
        // Both read-backs of a verified removal hold here: the email resolved to nobody and the id answers 404.
        if (failure.httpStatus === 404) deleted.set(intent.email, { ...base, recordedAt: deps.clock().toISOString(), status: 'DELETED', verifiedAt: deps.clock().toISOString() });
        else transient.push(failure.errorClass);
      }
    }),
  );
  if (transient.length > 0) {
    throw new TransientArizeError(`reconciling ${transient.length} delete intent(s) failed (${[...new Set(transient)].join(', ')})`);
  }
  return { deleted, failures };
}

export async function resolveEmails(input: unknown, deps: WorkflowDeps, options: { deadline?: number } = {}): Promise<ResolveOutput> {
  const { request } = parseTaskInput(ResolveInputSchema, input, 'ResolveEmails');
  const directory = await deps.directory();
  const resolutions = await directory.resolveEmailMatches(request.emails, options.deadline ? { deadline: options.deadline } : {});
  const recordedAt = deps.clock().toISOString();
  const base = { requestId: request.requestId, attempt: 0, recordedAt };

  const transient: string[] = [];
  const failures: Outcome[] = [];
  const resolved = new Map<string, AccountForProtection | undefined>();
  for (const email of request.emails) {
    const resolution = resolutions.get(email);
    if (!resolution || resolution.status === 'not_found') {
      resolved.set(email, undefined);
    } else if (resolution.status === 'failed') {
      const failure = classifyFailure(resolution.error);
      if (failure.retryable) transient.push(failure.errorClass);
      else failures.push({ ...base, email, status: 'FAILED', errorClass: failure.errorClass, error: maskEmailsInText(failure.message), retryable: false, ...(failure.httpStatus ? { httpStatus: failure.httpStatus } : {}) });
    } else if (resolution.users.length > 1) {
      // Two accounts share the address: deleting either would be a guess.
      failures.push({ ...base, email, status: 'FAILED', errorClass: 'AmbiguousEmail', error: `${resolution.users.length} accounts match this email exactly`, retryable: false });
    } else {
      resolved.set(email, resolution.users[0]);
    }
  }
  if (transient.length > 0) {
    // Nothing recorded yet: the Task Retry re-runs resolution as a whole.
    throw new TransientArizeError(`resolving ${transient.length} of ${request.emails.length} emails failed transiently (${[...new Set(transient)].join(', ')})`);
  }

  const reconciled = await reconcileIntents(request, resolved, deps, directory, options.deadline);
  failures.push(...reconciled.failures);
  const failedEmails = new Set(failures.map((f) => f.email));
  const plan = planOffboarding(
    request.emails.filter((email) => !failedEmails.has(email) && !reconciled.deleted.has(email)),
    resolved,
    deps.config.planning,
    { dryRun: request.dryRun, blastRadiusApproved: await isApprovedRelease(request, deps) },
  );
  const outcomes: Outcome[] = [
    ...failures,
    ...reconciled.deleted.values(),
    ...plan.notFound.map((email): Outcome => ({ ...base, email, status: 'NOT_FOUND' })),
    ...plan.protectedAccounts.map((p): Outcome => ({ ...base, email: p.email, userId: p.userId, status: 'PROTECTED', reason: p.reason })),
  ];
  await deps.ledger.recordOutcomes(outcomes);
  deps.metrics.countOutcomes(countOutcomes(outcomes));
  await reportSlaMisses(deps, request.requestId, outcomes);
  deps.log.info('emails resolved', {
    requestId: request.requestId,
    decision: plan.decision,
    requested: request.emails.length,
    targets: plan.targets.length,
    notFound: plan.notFound.length,
    protected: plan.protectedAccounts.length,
    failed: failures.length,
  });
  const planState = {
    decision: plan.decision,
    attempt: 1,
    chunks: plan.chunks.map((targets) => ({ targets })),
    counts: {
      requested: request.emails.length,
      targets: plan.targets.length,
      notFound: plan.notFound.length,
      protected: plan.protectedAccounts.length,
    },
    waitSeconds: 0,
    ...(plan.heldReason ? { heldReason: plan.heldReason } : {}),
  };
  return {
    request: { requestId: request.requestId, source: request.source, dryRun: request.dryRun, emailCount: request.emails.length },
    plan: planState,
  };
}
