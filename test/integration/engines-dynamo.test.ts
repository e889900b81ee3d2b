import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListTablesCommand, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryLevel } from 'memory-level';
import { ensureTable, releaseLevelIteratorsOnReturn, startDynamo } from '../../local/engines/dynamo.js';

// Shaped like the ledger contract (pk/sk + two GSIs) so the engine is exercised with indexes.
const tableDefinition: CreateTableCommandInput = {
  TableName: 'engine-test-ledger',
  BillingMode: 'PAY_PER_REQUEST',
  AttributeDefinitions: [
    { AttributeName: 'pk', AttributeType: 'S' },
    { AttributeName: 'sk', AttributeType: 'S' },
    { AttributeName: 'gsi1pk', AttributeType: 'S' },
    { AttributeName: 'gsi1sk', AttributeType: 'S' },
  ],
  KeySchema: [
    { AttributeName: 'pk', KeyType: 'HASH' },
    { AttributeName: 'sk', KeyType: 'RANGE' },
  ],
  GlobalSecondaryIndexes: [
    {
      IndexName: 'byEmail',
      KeySchema: [
        { AttributeName: 'gsi1pk', KeyType: 'HASH' },
        { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    },
  ],
};

const dataDirs: string[] = [];
afterAll(() => {
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

describe('startDynamo', () => {
  it("gives LevelDB iterators the return() dynalite's streams call, so a finished Query releases its iterator", async () => {
    releaseLevelIteratorsOnReturn();
    const db = new MemoryLevel<string, string>();
    await db.put('a', '1');
    // Entries, keys and values: dynalite streams all three (keys() and values() wrap an entry iterator).
    const iterators: { return?: () => Promise<void>; next(): Promise<unknown> }[] = [db.iterator(), db.keys(), db.values()];
    for (const iterator of iterators) {
      expect(typeof iterator.return).toBe('function');
      await iterator.return?.();
      await expect(iterator.next()).rejects.toMatchObject({ code: 'LEVEL_ITERATOR_NOT_OPEN' });
    }
    await db.close();
  });

  it('persists tables and items under `path` across a restart, and ensureTable is idempotent', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'engines-dynamo-'));
    dataDirs.push(dataDir);
    const first = await startDynamo({ path: dataDir });
    expect(first.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const created = await ensureTable(first.client, tableDefinition);
    expect(created.TableStatus).toBe('ACTIVE');
    expect(created.GlobalSecondaryIndexes?.[0]?.IndexStatus).toBe('ACTIVE');
    await first.doc.send(new PutCommand({ TableName: 'engine-test-ledger', Item: { pk: 'REQ#1', sk: 'EMAIL#a', status: 'DELETED', note: undefined } }));
    await first.close();

    const second = await startDynamo({ path: dataDir });
    try {
      const again = await ensureTable(second.client, tableDefinition);
      expect(again.TableStatus).toBe('ACTIVE');
      const { Item } = await second.doc.send(new GetCommand({ TableName: 'engine-test-ledger', Key: { pk: 'REQ#1', sk: 'EMAIL#a' } }));
      expect(Item).toEqual({ pk: 'REQ#1', sk: 'EMAIL#a', status: 'DELETED' });
    } finally {
      await second.close();
    }
  });

  it('is in memory without `path`: a restart starts empty', async () => {
    const first = await startDynamo();
    await ensureTable(first.client, tableDefinition);
    expect((await first.client.send(new ListTablesCommand({}))).TableNames).toEqual(['engine-test-ledger']);
    await first.close();
    const second = await startDynamo();
    try {
      expect((await second.client.send(new ListTablesCommand({}))).TableNames).toEqual([]);
    } finally {
      await second.close();
    }
  });

  it('ensureTable names the problem when the table name is invalid', async () => {
    const dynamo = await startDynamo();
    try {
      await expect(ensureTable(dynamo.client, { ...tableDefinition, TableName: 'ab' })).rejects.toThrow(/TableName must be at least 3 characters/);
    } finally {
      await dynamo.close();
    }
  });
});
