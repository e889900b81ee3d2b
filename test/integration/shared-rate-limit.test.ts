/**
 * One rate limit across concurrent workers: N clients (as N Lambda invocations would) share a
 * token bucket kept in the ledger table on dynalite, against a sandbox limited to R req/s that
 * none of them is told about. Behaviour only (no timing): everything deleted, the first run measures the limit,
 * the next throttles less than the same workers each on their own under the same load, and the bucket item is
 * where the grant says it is.
 * Throughput figures: `npm run bench:workers`.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHARED_RATE_LIMIT_PK, SHARED_RATE_LIMIT_SK } from '../../lambdas/adapters/ledger-table.js';
import { DynamoSharedRateStore } from '../../lambdas/adapters/shared-rate-limit.js';
import { ArizeUsersClient, DEFAULT_MAX_REQUESTS_PER_SECOND } from '../../lambdas/arize/index.js';
import { initialState, SharedRateBudget, type SharedRateStore } from '../../lambdas/arize/shared-budget.js';
import { generateDirectory, startSandbox } from '../../local/sandbox/server.js';
import { startLedgerTestBed, type LedgerTestBed } from '../support/dynalite.js';
import { runWorkers, type WorkersRun } from '../support/workers.js';

let bed: LedgerTestBed;

beforeAll(async () => {
  bed = await startLedgerTestBed();
});

afterAll(async () => {
  await bed.close();
});

const LIMIT = 100;
// Enough deletes that the first run meets the limit behind the sandbox's one-second burst.
const DELETES = 320;

describe.each([4, 16])('%i workers sharing one limit', (workers) => {
  it('delete everything, meet the limit on the first run and throttle less than the same workers on their own on the next', { timeout: 180_000 }, async () => {
    // The same limit three times: each worker on its own adaptive limiter; then sharing a fresh bucket, which
    // must discover the limit (a server's burst hides it, so this run pays one throttling storm); then sharing
    // the bucket as that run left it, as the next invocations in AWS would. The 429 share moves with machine
    // load; the next run must beat the independent one under the same load.
    const independent = await deleteAll(workers, undefined);
    expect(independent.run.deleted).toBe(DELETES);
    const { tableName } = await bed.freshLedger();
    const first = await deleteAll(workers, { tableName, doc: bed.doc });
    expect(first.run.deleted).toBe(DELETES);
    expect(first.run.failed).toBe(0);
    expect(first.allDeleted).toBe(true);
    // The first run met the limit: slow start ended. (Whether the workers' shares also measured it depends on
    // a few answers per round trip each — at 16 workers every share can be zero — so that is not asserted here.)
    const found = await new DynamoSharedRateStore({ tableName, client: bed.doc }).read();
    expect(first.run.throttled).toBeGreaterThan(0);
    expect(found?.state.slowStart).toBe(false);
    const next = await deleteAll(workers, { tableName, doc: bed.doc });
    expect(next.run.deleted).toBe(DELETES);
    expect(next.allDeleted).toBe(true);
    const share = (run: WorkersRun) => run.throttled / run.requests;
    // Seen (unloaded, 6 runs): independent 0.26–0.35, next 0–0.09; under CI's load next reached 0.25. One
    // episode's measurement is noisy (0.2–3.5× the limit), and a high one costs 429s until the next episode
    // measures again — so only the comparison under the same load is asserted; figures: bench:workers.
    expect(share(next.run)).toBeLessThan(share(independent.run));
    const { Item } = await bed.doc.send(new GetCommand({ TableName: tableName, Key: { pk: SHARED_RATE_LIMIT_PK, sk: SHARED_RATE_LIMIT_SK } }));
    expect(Item).toMatchObject({ rate: expect.any(Number) as number, version: expect.any(Number) as number });
    expect(Item?.gsi1pk).toBeUndefined();
    expect(Item?.gsi2pk).toBeUndefined();
  });
});

describe('the shared bucket item on dynalite', () => {
  it('sums the shares of one throttling episode atomically, starts a new sum after it, and never creates a bucket', async () => {
    const { tableName } = await bed.freshLedger();
    const store = new DynamoSharedRateStore({ tableName, client: bed.doc });
    const t = 1_000_000;
    // No bucket yet: the share is answered alone and no rate-less item appears.
    expect(await store.addShare(30, t, 300)).toBe(30);
    expect(await store.read()).toBeUndefined();
    expect(await store.create(initialState({ maxRate: 100 }, t))).toBe(true);
    // Eight workers reporting at once, the first of them starting the episode: none lost, none doubled.
    const sums = await Promise.all(Array.from({ length: 8 }, () => store.addShare(5, t, 300)));
    expect(Math.max(...sums)).toBe(40);
    expect(new Set(sums).size).toBe(8);
    expect(await store.addShare(10, t + 200, 300)).toBe(50);
    expect(await store.addShare(7, t + 600, 300)).toBe(7);
    const bucket = await store.read();
    expect(bucket?.state.rate).toBe(10);
  });
});

describe('a shared limit under overload', () => {
  it('5xx without any 429 lower the shared rate too: the workers\' own controllers only measure', async () => {
    const directory = generateDirectory(7, { seed: 5 });
    const sandbox = await startSandbox({ seed: directory, latencyMs: 5, errorRate: 1 });
    const { tableName } = await bed.freshLedger();
    const store = new DynamoSharedRateStore({ tableName, client: bed.doc });
    try {
      const client = new ArizeUsersClient({
        baseUrl: sandbox.url,
        apiKey: sandbox.apiKey,
        env: {},
        maxRetries: 1,
        sleep: () => Promise.resolve(),
        sharedBudget: new SharedRateBudget(store, { maxRate: DEFAULT_MAX_REQUESTS_PER_SECOND, initialRate: 40 }),
      });
      const results = await client.bulkDelete({ userIds: directory.slice(1).map((u) => u.id) });
      expect(results.every((r) => r.status === 'failed')).toBe(true);
      expect(sandbox.counters.status['429'] ?? 0).toBe(0);
      const bucket = await store.read();
      expect(bucket?.state.slowStart).toBe(false);
      expect(bucket?.state.rate).toBeLessThan(40);
    } finally {
      await sandbox.close();
    }
  });
});

describe('a shared limit whose store fails', () => {
  it('does not stop the offboarding: the client paces itself from then on and says so once', async () => {
    const directory = generateDirectory(41, { seed: 3 });
    const sandbox = await startSandbox({ seed: directory, latencyMs: 5 });
    const down = (): Promise<never> => Promise.reject(Object.assign(new Error('table unavailable'), { name: 'ResourceNotFoundException' }));
    const store: SharedRateStore = { read: down, create: down, take: down, updateRate: down, addShare: down };
    const warnings: Array<{ message: string; detail: unknown }> = [];
    try {
      const client = new ArizeUsersClient({
        baseUrl: sandbox.url,
        apiKey: sandbox.apiKey,
        env: {},
        sharedBudget: new SharedRateBudget(store, { maxRate: DEFAULT_MAX_REQUESTS_PER_SECOND }),
        logger: { warn: (message: string, detail?: unknown) => warnings.push({ message, detail }) },
      });
      // While the budget paces, the local controller only measures (at the ceiling); after the failure it adapts.
      expect(client.rateControl.rate).toBe(DEFAULT_MAX_REQUESTS_PER_SECOND);
      const results = await client.bulkDelete({ userIds: directory.slice(1).map((u) => u.id) });
      expect(results.filter((r) => r.status === 'deleted')).toHaveLength(40);
      expect(sandbox.store.users().slice(1).every((u) => u.deleted)).toBe(true);
      expect(warnings).toEqual([{ message: 'shared rate limit unavailable; using the local limit only', detail: { error: 'ResourceNotFoundException' } }]);
      expect(client.rateControl.rate).toBeLessThan(DEFAULT_MAX_REQUESTS_PER_SECOND);
    } finally {
      await sandbox.close();
    }
  });
});

async function deleteAll(workers: number, shared: { tableName: string; doc: LedgerTestBed['doc'] } | undefined) {
  const directory = generateDirectory(DELETES + 1, { seed: workers });
  const sandbox = await startSandbox({ seed: directory, rateLimit: LIMIT, latencyMs: 40 });
  try {
    const run = await runWorkers({ sandbox, workers, userIds: directory.slice(1).map((u) => u.id), ...(shared ? { shared } : {}) });
    return { run, allDeleted: sandbox.store.users().slice(1).every((u) => u.deleted) };
  } finally {
    await sandbox.close();
  }
}
