/**
 * Task `DeleteChunk` (one Map item): deletes users by id — never by re-resolving, since a deleted user
 * vanishes from the list endpoint — records every outcome, and returns the targets worth another attempt.
 * Write-ahead: a per-target intent is stored before any DELETE of the chunk is sent (see DeleteIntent).
 */
import type { Context } from 'aws-lambda';
import { countOutcomes, type Outcome } from '../core/outcome.js';
import { classifyFailure, shouldRetry } from '../core/retry-policy.js';
import type { DeleteTarget } from '../core/planning.js';
import { DeleteChunkInputSchema, type ChunkResult } from '../core/workflow-state.js';
import { maskEmailsInText } from '../observability.js';
import { parseTaskInput } from './parse.js';
import { deadlineFrom, getDefaultDeps, reportSlaMisses, type WorkflowDeps } from './runtime.js';
import { lambdaHandler } from './middleware.js';

export async function deleteChunk(input: unknown, deps: WorkflowDeps, options: { deadline?: number } = {}): Promise<ChunkResult> {
  const chunk = parseTaskInput(DeleteChunkInputSchema, input, 'DeleteChunk');
  const directory = await deps.directory();
  const callOptions = options.deadline ? { deadline: options.deadline } : {};
  // An intent already stored for this id (an earlier attempt, or this one replayed after a crash or a Lambda
  // retry) means a DELETE may have gone through without its outcome being recorded: a 404 then is our deletion.
  const earlier = new Set(
    (await deps.ledger.deleteIntentsOfRequest(chunk.requestId)).map((intent) => `${intent.email}|${intent.userId}`),
  );
  // Write-ahead: every intent of the chunk is stored before any DELETE of it is sent.
  const intentAt = deps.clock().toISOString();
  await deps.ledger.recordDeleteIntents(
    chunk.targets.map((target) => ({ requestId: chunk.requestId, email: target.email, userId: target.userId, attempt: chunk.attempt, recordedAt: intentAt })),
  );
  const recorder = outcomeRecorder(deps);
  const retry: DeleteTarget[] = [];
  const toOutcome = (target: DeleteTarget, error: unknown, settled: boolean): Outcome => {
    const base = { requestId: chunk.requestId, email: target.email, userId: target.userId, attempt: chunk.attempt, recordedAt: deps.clock().toISOString() };
    if (settled) return { ...base, status: 'DELETED' };
    const failure = classifyFailure(error);
    if (failure.httpStatus === 404 && earlier.has(`${target.email}|${target.userId}`)) return { ...base, status: 'DELETED' };
    if (shouldRetry(deps.config.retry, chunk.attempt, failure.retryable)) retry.push(target);
    return {
      ...base,
      status: 'FAILED',
      errorClass: failure.errorClass,
      error: maskEmailsInText(failure.message),
      retryable: failure.retryable,
      ...(failure.httpStatus ? { httpStatus: failure.httpStatus } : {}),
    };
  };
  // The client bounds concurrency and rate itself; issuing all deletes at once lets it schedule them.
  // Each outcome is recorded as it settles (not after the whole chunk), so a crash loses at most the
  // outcomes in flight, and those still have their intent.
  const outcomes = await Promise.all(
    chunk.targets.map((target) =>
      directory.delete(target.userId, callOptions).then(
        () => recorder.record(toOutcome(target, undefined, true)),
        (error: unknown) => recorder.record(toOutcome(target, error, false)),
      ),
    ),
  );
  await recorder.flushed();
  const counts = countOutcomes(outcomes);
  deps.metrics.countOutcomes(counts);
  await reportSlaMisses(deps, chunk.requestId, outcomes);
  deps.log.info('chunk deleted', { requestId: chunk.requestId, attempt: chunk.attempt, deleted: counts.DELETED, failed: counts.FAILED, retry: retry.length });
  return { deleted: counts.DELETED, notFound: counts.NOT_FOUND, failed: counts.FAILED, retry };
}

/**
 * Records outcomes as they arrive, coalescing those that arrive while a write is under way into the next
 * write (one write per settled outcome when calls are slow, batches when many settle together).
 * `flushed()` resolves once everything recorded so far is stored, and rejects if any write failed.
 */
function outcomeRecorder(deps: Pick<WorkflowDeps, 'ledger'>) {
  let pending: Outcome[] = [];
  let writing: Promise<void> = Promise.resolve();
  let failure: Error | undefined;
  const flush = () => {
    writing = writing.then(async () => {
      if (pending.length === 0) return;
      const batch = pending;
      pending = [];
      try {
        await deps.ledger.recordOutcomes(batch);
      } catch (error) {
        failure ??= error instanceof Error ? error : new Error(String(error));
      }
    });
  };
  return {
    record(outcome: Outcome): Outcome {
      pending.push(outcome);
      flush();
      return outcome;
    },
    async flushed(): Promise<void> {
      flush();
      await writing;
      if (failure !== undefined) throw failure;
    },
  };
}

export const handler = lambdaHandler((event: unknown, context: Context): Promise<ChunkResult> => {
  const deadline = deadlineFrom(context, Date.now());
  return deleteChunk(event, getDefaultDeps(), deadline ? { deadline } : {});
});
