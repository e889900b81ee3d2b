/**
 * Task `DeleteChunk` (one Map item): deletes users by id — never by re-resolving, since a deleted user
 * vanishes from the list endpoint — records every outcome, and returns the targets worth another attempt.
 * Write-ahead: a per-target intent is stored before any DELETE of the chunk is sent (see DeleteIntent).
 */
import { checkCancelled, describeCancellation } from '../core/cancellation.js';
import { countOutcomes, type Outcome } from '../core/outcome.js';
import type { DeleteTarget } from '../core/planning.js';
import { inventoryBeforeDelete, inventoryDeadline, orphanedServiceKeysOf, settleRemoval, type RemovalSettings } from '../core/removal.js';
import { DeleteChunkInputSchema, type ChunkResult } from '../core/workflow-state.js';
import { parseTaskInput } from './parse.js';
import type { WorkflowDeps } from './ports.js';
import { reportSlaMisses } from './sla.js';

export async function deleteChunk(input: unknown, deps: WorkflowDeps, options: { deadline?: number } = {}): Promise<ChunkResult> {
  const parsed = parseTaskInput(DeleteChunkInputSchema, input, 'DeleteChunk');
  // A rescind that landed during the wait (or any time before now) wins: those targets are recorded CANCELLED, not deleted.
  const { proceed, cancelled } = await checkCancelled(deps.ledger, parsed.requestId, parsed.targets);
  await deps.ledger.recordOutcomes(cancelled.map(({ target, cancellation }) => ({ requestId: parsed.requestId, email: target.email, userId: target.userId, status: 'CANCELLED', reason: describeCancellation(cancellation), attempt: parsed.attempt, recordedAt: deps.clock().toISOString() })));
  const chunk = { ...parsed, targets: proceed };
  const directory = await deps.directory();
  const callOptions = options.deadline ? { deadline: options.deadline } : {};
  // An intent already stored for this id (an earlier attempt, or this one replayed after a crash or a Lambda
  // retry) means a DELETE may have gone through without its outcome being recorded: a 404 then is our deletion.
  const earlier = new Set(
    (await deps.ledger.deleteIntentsOfRequest(chunk.requestId)).map((intent) => `${intent.email}|${intent.userId}`),
  );
  // What each leaver could reach, read before any DELETE; a failure is recorded, never blocks (core/removal.ts).
  const inventoryBy = inventoryDeadline(options.deadline, Date.now());
  const access = await inventoryBeforeDelete(directory, chunk.targets, inventoryBy === undefined ? {} : { deadline: inventoryBy });
  // Write-ahead: every intent of the chunk is stored before any DELETE of it is sent.
  const intentAt = deps.clock().toISOString();
  await deps.ledger.recordDeleteIntents(
    chunk.targets.map((target) => ({ requestId: chunk.requestId, email: target.email, userId: target.userId, attempt: chunk.attempt, recordedAt: intentAt })),
  );
  const recorder = outcomeRecorder(deps);
  const retry: DeleteTarget[] = [];
  const settings: RemovalSettings = {
    requestId: chunk.requestId,
    attempt: chunk.attempt,
    retry: deps.config.retry,
    serviceKeys: deps.config.serviceKeys,
    clock: deps.clock,
    callOptions,
    hadEarlierIntent: (target) => earlier.has(`${target.email}|${target.userId}`),
  };
  // Each target is read back (verified) right after its DELETE settles; only then is its outcome known.
  const settle = async (target: DeleteTarget, deleted: { ok: true } | { ok: false; error: unknown }): Promise<Outcome> => {
    const settled = await settleRemoval(directory, target, deleted, access.get(target.userId), settings);
    if (settled.retry) retry.push(target);
    return recorder.record(settled.outcome);
  };
  // The client bounds concurrency and rate itself; issuing all deletes at once lets it schedule them.
  // Each outcome is recorded as it settles (not after the whole chunk), so a crash loses at most the
  // outcomes in flight, and those still have their intent.
  const outcomes = await Promise.all(
    chunk.targets.map((target) =>
      directory.delete(target.userId, callOptions).then(
        () => settle(target, { ok: true }),
        (error: unknown) => settle(target, { ok: false, error }),
      ),
    ),
  );
  await recorder.flushed();
  const counts = countOutcomes(outcomes);
  deps.metrics.countOutcomes(counts);
  const orphaned = orphanedServiceKeysOf(outcomes);
  if (orphaned.count > 0) {
    deps.metrics.countOrphanedServiceKeys?.(orphaned.count);
    deps.log.warn('SERVICE keys created by deleted leavers are still active', { requestId: chunk.requestId, policy: deps.config.serviceKeys, count: orphaned.count, keys: orphaned.keys });
  }
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
