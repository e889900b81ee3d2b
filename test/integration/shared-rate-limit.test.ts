/**
 * One rate limit across concurrent workers: N clients (as N Lambda invocations would) share a
 * token bucket kept in the ledger table on dynalite, against a sandbox limited to R req/s that
 * none of them is told about. Behaviour only (no timing): everything deleted, sharing throttles less than
 * the same workers each on their own under the same load, and the bucket item is where the grant says it is.
 * Throughput figures: `npm run bench:workers`.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHARED_RATE_LIMIT_PK, SHARED_RATE_LIMIT_SK } from '../../lambdas/adapters/ledger-table.js';
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

const LIMIT = 40;

describe.each([4, 16])('%i workers sharing one limit', (workers) => {
  it('delete everything with fewer 429s than the same workers on their own, and keep the bucket on its own ledger key', { timeout: 120_000 }, async () => {
    // The same directory and limit twice: once each worker on its own adaptive limiter, once sharing the bucket.
    // The 429 share moves with machine load; sharing must beat the independent run under the same load.
    const independent = await deleteAll(workers, undefined);
    expect(independent.run.deleted).toBe(160);
    const { tableName } = await bed.freshLedger();
    const shared = await deleteAll(workers, { tableName, doc: bed.doc });
    expect(shared.run.deleted).toBe(160);
    expect(shared.run.failed).toBe(0);
    expect(shared.allDeleted).toBe(true);
    // Without sharing, N workers each start at the client's initial rate and probe upward on their own,
    // overrunning the limit N times over; with it, the bucket starts at one client's rate in total.
    const share = (run: WorkersRun) => run.throttled / run.requests;
    expect(share(shared.run)).toBeLessThan(share(independent.run));
    expect(share(shared.run)).toBeLessThanOrEqual(0.25);
    const { Item } = await bed.doc.send(new GetCommand({ TableName: tableName, Key: { pk: SHARED_RATE_LIMIT_PK, sk: SHARED_RATE_LIMIT_SK } }));
    expect(Item).toMatchObject({ rate: expect.any(Number) as number, version: expect.any(Number) as number });
    expect(Item?.gsi1pk).toBeUndefined();
    expect(Item?.gsi2pk).toBeUndefined();
  });
});

async function deleteAll(workers: number, shared: { tableName: string; doc: LedgerTestBed['doc'] } | undefined) {
  const directory = generateDirectory(161, { seed: workers });
  const sandbox = await startSandbox({ seed: directory, rateLimit: LIMIT, latencyMs: 10 });
  try {
    const run = await runWorkers({ sandbox, workers, userIds: directory.slice(1).map((u) => u.id), ...(shared ? { shared } : {}) });
    return { run, allDeleted: sandbox.store.users().slice(1).every((u) => u.deleted) };
  } finally {
    await sandbox.close();
  }
}
