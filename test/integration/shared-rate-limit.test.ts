/**
 * One rate limit across concurrent workers: N clients (as N Lambda invocations would) share a
 * token bucket kept in the ledger table on dynalite, against a sandbox limited to R req/s that
 * none of them is told about. Behaviour only (no timing): everything deleted, the 429 share stays
 * bounded however many workers run, and the bucket item is where the grant says it is.
 * Throughput figures: `npm run bench:workers`.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHARED_RATE_LIMIT_PK, SHARED_RATE_LIMIT_SK } from '../../lambdas/adapters/ledger-table.js';
import { generateDirectory, startSandbox } from '../../local/sandbox/server.js';
import { startLedgerTestBed, type LedgerTestBed } from '../support/dynalite.js';
import { runWorkers } from '../support/workers.js';

let bed: LedgerTestBed;

beforeAll(async () => {
  bed = await startLedgerTestBed();
});

afterAll(async () => {
  await bed.close();
});

const LIMIT = 40;

describe.each([4, 16])('%i workers sharing one limit', (workers) => {
  it('delete everything with the 429 share bounded, and keep the bucket on its own ledger key', { timeout: 90_000 }, async () => {
    const directory = generateDirectory(161, { seed: workers });
    const sandbox = await startSandbox({ seed: directory, rateLimit: LIMIT, latencyMs: 10 });
    try {
      const { tableName } = await bed.freshLedger();
      const ids = directory.slice(1).map((u) => u.id);
      const run = await runWorkers({ sandbox, workers, userIds: ids, shared: { tableName, doc: bed.doc } });
      expect(run.deleted).toBe(160);
      expect(run.failed).toBe(0);
      expect(sandbox.store.users().slice(1).every((u) => u.deleted)).toBe(true);
      // Without sharing, 16 workers each probing on their own overrun the limit 16 times over;
      // with it, the bucket starts at 10 req/s in total and only probes upward together.
      expect(run.throttled / run.requests).toBeLessThanOrEqual(0.15);
      const { Item } = await bed.doc.send(new GetCommand({ TableName: tableName, Key: { pk: SHARED_RATE_LIMIT_PK, sk: SHARED_RATE_LIMIT_SK } }));
      expect(Item).toMatchObject({ rate: expect.any(Number) as number, version: expect.any(Number) as number });
      expect(Item?.gsi1pk).toBeUndefined();
      expect(Item?.gsi2pk).toBeUndefined();
    } finally {
      await sandbox.close();
    }
  });
});
