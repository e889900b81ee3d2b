/**
 * N concurrent workers (each its own Arize client, like N Lambda invocations) deleting disjoint
 * slices of a directory, sharing — or not — one rate limit through the ledger table on dynalite.
 * Used by the shared-rate-limit test (behaviour) and `npm run bench:workers` (figures).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoSharedRateStore } from '../../lambdas/adapters/shared-rate-limit.js';
import { ArizeUsersClient, DEFAULT_MAX_REQUESTS_PER_SECOND } from '../../lambdas/arize/index.js';
import { SharedRateBudget } from '../../lambdas/arize/shared-budget.js';
import type { Sandbox } from '../../local/sandbox/server.js';

export interface WorkersRun {
  workers: number;
  wallMs: number;
  /** Requests the sandbox received (all workers, retries included). */
  requests: number;
  throttled: number;
  deleted: number;
  failed: number;
}

export async function runWorkers(input: {
  sandbox: Sandbox;
  workers: number;
  userIds: string[];
  /** The ledger table holding the shared bucket; undefined: each worker on its own. */
  shared?: { tableName: string; doc: DynamoDBDocumentClient };
}): Promise<WorkersRun> {
  const { sandbox, workers, userIds, shared } = input;
  const slices = Array.from({ length: workers }, (_, w) => userIds.filter((_, i) => i % workers === w));
  const before = { total: sandbox.counters.total, throttled: sandbox.counters.status['429'] ?? 0 };
  const started = performance.now();
  const results = await Promise.all(
    slices.map(async (ids) => {
      const client = new ArizeUsersClient({
        baseUrl: sandbox.url,
        apiKey: sandbox.apiKey,
        env: {},
        ...(shared === undefined
          ? {}
          : {
              sharedBudget: new SharedRateBudget(new DynamoSharedRateStore({ tableName: shared.tableName, client: shared.doc }), {
                maxRate: DEFAULT_MAX_REQUESTS_PER_SECOND,
              }),
            }),
      });
      return client.bulkDelete({ userIds: ids });
    }),
  );
  const wallMs = performance.now() - started;
  const flat = results.flat();
  return {
    workers,
    wallMs,
    requests: sandbox.counters.total - before.total,
    throttled: (sandbox.counters.status['429'] ?? 0) - before.throttled,
    deleted: flat.filter((r) => r.status === 'deleted').length,
    failed: flat.filter((r) => r.status !== 'deleted').length,
  };
}
