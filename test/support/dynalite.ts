/**
 * A real dynalite with the ledger table (the contract's key schema), for tests.
 * One server per test file; each test can take a fresh table name to stay independent.
 */
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ensureTable, startDynamo, type LocalDynamo } from '../../local/engines/dynamo.js';
import { ledgerTableDefinition } from '../../lambdas/adapters/ledger-table.js';
import { DynamoLedger } from '../../lambdas/adapters/ledger.js';

export interface LedgerTestBed {
  dynamo: LocalDynamo;
  doc: DynamoDBDocumentClient;
  /** Creates a new, empty ledger table and returns an adapter over it. */
  freshLedger(options?: { sleep?: (ms: number) => Promise<void> }): Promise<{ ledger: DynamoLedger; tableName: string }>;
  close(): Promise<void>;
}

let tableCounter = 0;

export async function startLedgerTestBed(): Promise<LedgerTestBed> {
  const dynamo = await startDynamo();
  return {
    dynamo,
    doc: dynamo.doc,
    async freshLedger(options = {}) {
      tableCounter += 1;
      const tableName = `ledger-test-${process.pid}-${tableCounter}`;
      await ensureTable(dynamo.client, ledgerTableDefinition(tableName));
      return { ledger: new DynamoLedger({ tableName, client: dynamo.doc, ...(options.sleep ? { sleep: options.sleep } : {}) }), tableName };
    },
    close: () => dynamo.close(),
  };
}
