/** Task `Summarize`: counts the request's outcomes from the ledger and stores the final request state. */
import { checkCancelled, describeCancellation } from '../core/cancellation.js';
import { countOutcomes, finalRequestState, type Outcome } from '../core/outcome.js';
import { markRehiredAfterDeletion } from './cancel.js';
import { SummarizeInputSchema, type SummaryOutput } from '../core/workflow-state.js';
import { parseTaskInput } from './parse.js';
import type { WorkflowDeps } from './ports.js';

export async function summarize(input: unknown, deps: Pick<WorkflowDeps, 'ledger' | 'clock' | 'log'> & Partial<Pick<WorkflowDeps, 'metrics'>>): Promise<SummaryOutput> {
  const { requestId } = parseTaskInput(SummarizeInputSchema, input, 'Summarize');
  let outcomes = await deps.ledger.outcomesOfRequest(requestId);
  // A rescind recorded while a DELETE was already in flight (after the delete path's check) is caught here.
  if (await flagDeletedDespiteCancellation(deps, requestId, outcomes)) outcomes = await deps.ledger.outcomesOfRequest(requestId);
  const counts = countOutcomes(outcomes);
  const status = finalRequestState(counts);
  await deps.ledger.updateRequestState(requestId, { status, at: deps.clock().toISOString(), counts });
  deps.log.info('request summarised', { requestId, status, ...counts });
  return { requestId, status, counts };
}

async function flagDeletedDespiteCancellation(deps: Parameters<typeof summarize>[1], requestId: string, outcomes: readonly Outcome[]): Promise<boolean> {
  const deleted = outcomes.filter((o) => o.status === 'DELETED');
  if (deleted.length === 0) return false;
  const { cancelled } = await checkCancelled(deps.ledger, requestId, deleted);
  const now = deps.clock().toISOString();
  for (const { target, cancellation } of cancelled) {
    await markRehiredAfterDeletion(deps.ledger, [target], describeCancellation(cancellation), now);
  }
  if (cancelled.length > 0) {
    deps.metrics?.countOutcomes({ REHIRED_AFTER_DELETION: cancelled.length });
    deps.log.error('a rescind raced a deletion: REHIRED_AFTER_DELETION recorded; a human must re-invite', { requestId, emails: cancelled.length });
  }
  return cancelled.length > 0;
}
