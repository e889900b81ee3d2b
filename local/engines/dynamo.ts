/**
 * Local DynamoDB: dynalite on 127.0.0.1 with an ephemeral port. In memory by default; persisted in a
 * LevelDB directory when `path` is given (one process at a time: LevelDB holds a lock on the folder).
 */
import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  type CreateTableCommandInput,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Credentials and region the local engines accept; nothing checks them, the SDK only needs some. */
export const LOCAL_AWS_REGION = 'us-east-1';
export const LOCAL_AWS_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

/**
 * The HTTP settings of every client of a local engine. The SDK's default agent keeps 50 sockets per host and
 * prints a "socket usage at capacity" warning to stderr once twice that many requests queue behind them —
 * which a long local run's bursts of ledger writes reach. The engines are on loopback, in this process or next
 * to it: a larger pool costs only file descriptors, and the local runtime bounds the executions (hence the
 * bursts) anyway. Kept keep-alive, as the SDK's default is.
 */
export const LOCAL_ENGINE_MAX_SOCKETS = 256;
export const LOCAL_ENGINE_REQUEST_HANDLER = { httpAgent: { keepAlive: true, maxSockets: LOCAL_ENGINE_MAX_SOCKETS } } as const;

interface DynaliteOptions {
  path?: string;
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
}
type DynaliteFactory = (options: DynaliteOptions) => Server;

// dynalite is CommonJS without types; loading it through require keeps the ESM graph free of it until used.
const requireCjs = createRequire(import.meta.url);

export interface StartDynamoOptions {
  /** LevelDB directory to persist tables in; created if missing. Omit for an in-memory store. */
  path?: string;
}

export interface LocalDynamo {
  /** `http://127.0.0.1:<port>` — pass as `endpoint` to any DynamoDB client. */
  endpoint: string;
  client: DynamoDBClient;
  /** Document client with `removeUndefinedValues`, as the ledger adapter would configure it. */
  doc: DynamoDBDocumentClient;
  /** Stops the server and flushes the store; the clients are destroyed. */
  close(): Promise<void>;
}

export function createLocalDynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: LOCAL_AWS_REGION, credentials: LOCAL_AWS_CREDENTIALS, requestHandler: LOCAL_ENGINE_REQUEST_HANDLER });
}

interface LevelIteratorPrototype {
  close(): Promise<void>;
  return?: () => Promise<void>;
}

/**
 * dynalite reads through Node streams that release their LevelDB iterator with `iterator.return()` when they end or
 * are cut short (a Query's Limit); abstract-level's iterators only have `close()`. So every Query and Scan left a
 * native iterator open until the store closed, each pinning LevelDB memory: a 10,000-email `run` held ≈14,000 of
 * them and its resident memory grew ≈40 MB per 1,000 emails outside the JS heap. (Patching only the entry iterators
 * left the value iterators open: ≈2,800 still open 45 s into a 3,000-email run.) `return` = `close` lets the
 * streams release them. Resolved through dynalite's own dependencies so it is the copy dynalite uses.
 */
export function releaseLevelIteratorsOnReturn(): void {
  const fromLevel = createRequire(createRequire(requireCjs.resolve('dynalite')).resolve('level'));
  const fromClassicLevel = createRequire(fromLevel.resolve('classic-level'));
  type IteratorClass = { prototype: LevelIteratorPrototype };
  const iterators = fromClassicLevel('abstract-level') as Record<'AbstractIterator' | 'AbstractKeyIterator' | 'AbstractValueIterator', IteratorClass>;
  // All three: dynalite streams keys() and values() too, and those are key/value iterators wrapping an entry iterator
  // (classic-level has no native ones), not subclasses of AbstractIterator.
  for (const iteratorClass of [iterators.AbstractIterator, iterators.AbstractKeyIterator, iterators.AbstractValueIterator]) {
    iteratorClass.prototype.return ??= function (this: LevelIteratorPrototype) {
      return this.close();
    };
  }
}

export async function startDynamo(options: StartDynamoOptions = {}): Promise<LocalDynamo> {
  if (options.path !== undefined) await mkdir(options.path, { recursive: true });
  releaseLevelIteratorsOnReturn();
  const dynalite = requireCjs('dynalite') as DynaliteFactory;
  // Table lifecycle delays only slow tests and `npm start`; the real service's are not worth imitating.
  const server = dynalite({
    ...(options.path !== undefined ? { path: options.path } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = createLocalDynamoClient(endpoint);
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve, reject) => {
      doc.destroy();
      client.destroy();
      // dynalite's close waits for the HTTP server, then closes LevelDB so a restart can reopen the folder.
      server.close((error?: Error) => (error ? reject(error) : resolve()));
      server.closeAllConnections();
    });
    return closing;
  };
  return { endpoint, client, doc, close };
}

const TABLE_ACTIVE_TIMEOUT_MS = 30_000;

/**
 * Creates the table unless it exists, then waits until it and its indexes are ACTIVE.
 * An existing table is accepted as is: the key design is the caller's contract, checked by its own tests.
 */
export async function ensureTable(client: DynamoDBClient, definition: CreateTableCommandInput): Promise<TableDescription> {
  const tableName = definition.TableName;
  if (tableName === undefined || tableName.length < 3) {
    throw new Error(`ensureTable: TableName must be at least 3 characters, got ${JSON.stringify(tableName)}`);
  }
  try {
    await client.send(new CreateTableCommand(definition));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  const deadline = Date.now() + TABLE_ACTIVE_TIMEOUT_MS;
  for (;;) {
    try {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
      const indexesActive = (Table?.GlobalSecondaryIndexes ?? []).every((index) => index.IndexStatus === 'ACTIVE');
      if (Table && Table.TableStatus === 'ACTIVE' && indexesActive) return Table;
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
    if (Date.now() > deadline) throw new Error(`ensureTable: table ${tableName} not ACTIVE after ${TABLE_ACTIVE_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
