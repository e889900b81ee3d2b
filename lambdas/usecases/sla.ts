import { slaMissesOf, terminationTimeOf } from '../core/evidence.js';
import type { Outcome } from '../core/outcome.js';
import type { WorkflowDeps } from './ports.js';

/**
 * Counts the deletions just recorded that missed the removal SLA (metric `SlaMissed`, alarmed in
 * lib/constructs/monitoring.ts). The termination time is the request's effective time, else when it was
 * received; for an approval it is the HELD request's. One state read, only when something was deleted.
 * Never fails the task: the deletions are recorded already, and the evidence export judges the SLA anyway.
 */
export async function reportSlaMisses(deps: Pick<WorkflowDeps, 'ledger' | 'metrics' | 'config' | 'log'>, requestId: string, outcomes: readonly Outcome[]): Promise<number> {
  if (deps.metrics.countSlaMisses === undefined || !outcomes.some((o) => o.status === 'DELETED')) return 0;
  try {
    let state = await deps.ledger.getRequestState(requestId);
    const approved = state?.request?.approvesHeldRequest;
    if (approved !== undefined) state = (await deps.ledger.getRequestState(approved)) ?? state;
    const misses = state === undefined ? 0 : slaMissesOf(outcomes, terminationTimeOf(state), deps.config.slaHours);
    deps.metrics.countSlaMisses(misses);
    if (misses > 0) deps.log.warn('deletions recorded after the removal SLA', { requestId, misses, slaHours: deps.config.slaHours });
    return misses;
  } catch (error) {
    deps.log.warn('SLA check of recorded deletions failed', { requestId, error: error instanceof Error ? error.message : String(error) });
    return 0;
  }
}
