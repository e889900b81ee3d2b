/**
 * Task `DeleteChunk` (one Map item): deletes users by id — never by re-resolving, since a deleted user
 * vanishes from the list endpoint — records every outcome, and returns the targets worth another attempt.
 */
import type { Context } from 'aws-lambda';
import { countOutcomes, type Outcome } from '../core/outcome.js';
import { classifyFailure, shouldRetry } from '../core/retry-policy.js';
import type { DeleteTarget } from '../core/planning.js';
import { DeleteChunkInputSchema, type ChunkResult } from '../core/workflow-state.js';
import { flushMetrics, logger, maskEmailsInText } from '../observability.js';
import { parseTaskInput } from './parse.js';
import { deadlineFrom, getDefaultDeps, type WorkflowDeps } from './runtime.js';

export async function deleteChunk(input: unknown, deps: WorkflowDeps, options: { deadline?: number } = {}): Promise<ChunkResult> {
  const chunk = parseTaskInput(DeleteChunkInputSchema, input, 'DeleteChunk');
  const directory = await deps.directory();
  const callOptions = options.deadline ? { deadline: options.deadline } : {};
  // The client bounds concurrency and rate itself; issuing all deletes at once lets it schedule them.
  const settled = await Promise.allSettled(chunk.targets.map((target) => directory.delete(target.userId, callOptions)));
  const recordedAt = deps.clock().toISOString();
  const retry: DeleteTarget[] = [];
  const outcomes = chunk.targets.map((target, index): Outcome => {
    const base = { requestId: chunk.requestId, email: target.email, userId: target.userId, attempt: chunk.attempt, recordedAt };
    const result = settled[index];
    if (!result || result.status === 'fulfilled') return { ...base, status: 'DELETED' };
    const failure = classifyFailure(result.reason);
    if (shouldRetry(deps.config.retry, chunk.attempt, failure.retryable)) retry.push(target);
    return {
      ...base,
      status: 'FAILED',
      errorClass: failure.errorClass,
      error: maskEmailsInText(failure.message),
      retryable: failure.retryable,
      ...(failure.httpStatus ? { httpStatus: failure.httpStatus } : {}),
    };
  });
  await deps.ledger.recordOutcomes(outcomes);
  const counts = countOutcomes(outcomes);
  deps.metrics.countOutcomes(counts);
  deps.log.info('chunk deleted', { requestId: chunk.requestId, attempt: chunk.attempt, deleted: counts.DELETED, failed: counts.FAILED, retry: retry.length });
  return { deleted: counts.DELETED, notFound: counts.NOT_FOUND, failed: counts.FAILED, retry };
}

export const handler = async (event: unknown, context?: Context): Promise<ChunkResult> => {
  if (context) logger.addContext(context);
  try {
    const deadline = deadlineFrom(context, Date.now());
    return await deleteChunk(event, getDefaultDeps(), deadline ? { deadline } : {});
  } finally {
    flushMetrics();
  }
};
