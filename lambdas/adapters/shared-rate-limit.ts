/**
 * The shared Arize rate limit's bucket as one item of the ledger table (key below), read with a
 * consistent GetItem and written with a conditional UpdateItem on its version — the two calls the
 * functions are granted on that key only (lib/constructs/project-function.ts, bindSharedRateLimit).
 * The item carries none of the ledger's index attributes, so no ledger query ever sees it.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SharedBucketState, SharedRateStore, VersionedState } from '../arize/shared-budget.js';
import { SHARED_RATE_LIMIT_PK, SHARED_RATE_LIMIT_SK } from './ledger-table.js';


export class DynamoSharedRateStore implements SharedRateStore {
  private readonly tableName: string;
  private readonly client: DynamoDBDocumentClient;

  constructor(options: { tableName: string; client: DynamoDBDocumentClient }) {
    this.tableName = options.tableName;
    this.client = options.client;
  }

  async read(): Promise<VersionedState | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: SHARED_RATE_LIMIT_PK, sk: SHARED_RATE_LIMIT_SK }, ConsistentRead: true }),
    );
    if (!Item) return undefined;
    const number = (key: string): number => (typeof Item[key] === 'number' ? (Item[key] as number) : 0);
    return {
      version: number('version'),
      state: {
        tokens: number('tokens'),
        refilledAt: number('refilledAt'),
        rate: number('rate'),
        slowStart: Item.slowStart === true,
        grownAt: number('grownAt'),
        decreasedAt: number('decreasedAt'),
        windowStart: number('windowStart'),
        windowGranted: number('windowGranted'),
        usedRate: number('usedRate'),
      },
    };
  }

  async write(state: SharedBucketState, version: number, expected: number | undefined): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: SHARED_RATE_LIMIT_PK, sk: SHARED_RATE_LIMIT_SK },
          UpdateExpression:
            'SET #version = :version, tokens = :tokens, refilledAt = :refilledAt, #rate = :rate, slowStart = :slowStart, grownAt = :grownAt, decreasedAt = :decreasedAt, ' +
            'windowStart = :windowStart, windowGranted = :windowGranted, usedRate = :usedRate',
          ConditionExpression: expected === undefined ? 'attribute_not_exists(pk)' : '#version = :expected',
          ExpressionAttributeNames: { '#version': 'version', '#rate': 'rate' },
          ExpressionAttributeValues: {
            ':version': version,
            ':tokens': state.tokens,
            ':refilledAt': state.refilledAt,
            ':rate': state.rate,
            ':slowStart': state.slowStart,
            ':grownAt': state.grownAt,
            ':decreasedAt': state.decreasedAt,
            ':windowStart': state.windowStart,
            ':windowGranted': state.windowGranted,
            ':usedRate': state.usedRate,
            ...(expected === undefined ? {} : { ':expected': expected }),
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
