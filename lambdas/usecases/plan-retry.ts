/**
 * Task `PlanRetry`: after a DeleteUsers round, gathers the retryable failures of every chunk into the
 * next round's chunks and computes the growing wait before it. Pure: no I/O.
 */
import { chunk } from '../core/planning.js';
import { backoffSeconds } from '../core/retry-policy.js';
import { PlanRetryInputSchema, type PlanState, type RequestRef } from '../core/workflow-state.js';
import { parseTaskInput } from './parse.js';
import type { WorkflowDeps } from './ports.js';

export interface PlanRetryOutput {
  request: RequestRef;
  plan: PlanState;
}

export function planRetry(input: unknown, deps: Pick<WorkflowDeps, 'config'>): PlanRetryOutput {
  const { request, plan, deleteResults } = parseTaskInput(PlanRetryInputSchema, input, 'PlanRetry');
  const seen = new Set<string>();
  const retry = deleteResults
    .flatMap((result) => result.retry)
    .filter((target) => (seen.has(target.userId) ? false : (seen.add(target.userId), true)));
  const policy = deps.config.retry;
  if (retry.length === 0 || plan.attempt >= policy.maxAttempts) {
    return { request, plan: { ...plan, decision: 'DONE', chunks: [], waitSeconds: 0 } };
  }
  return {
    request,
    plan: {
      ...plan,
      decision: 'RETRY',
      attempt: plan.attempt + 1,
      chunks: chunk(retry, deps.config.planning.chunkSize).map((targets) => ({ targets })),
      waitSeconds: backoffSeconds(policy, plan.attempt),
    },
  };
}
