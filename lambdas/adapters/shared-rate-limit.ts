/**
 * The shared Arize rate limit's bucket as one item of the ledger table (key in ledger-table.ts):
 * a consistent GetItem to read it, and conditional UpdateItems to write it — the two calls the
 * functions are granted on that key only (lib/constructs/project-function.ts, bindSharedRateLimit).
 * A take is a single atomic UpdateItem (GCRA arithmetic in the update expression, the limit in
 * the condition), so workers never race on read-modify-write. The item carries none of the
 * ledger's index attributes, so no ledger query ever sees it.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import type { SharedBucketState, SharedRateFields, SharedRateStore, VersionedState } from '../arize/shared-budget.js';
import { SHARED_RATE_LIMIT_PK, SHARED_RATE_LIMIT_SK } from './ledger-table.js';

const KEY = { pk: SHARED_RATE_LIMIT_PK, sk: SHARED_RATE_LIMIT_SK };

export class DynamoSharedRateStore implements SharedRateStore {
  private readonly tableName: string;
  private readonly client: DynamoDBDocumentClient;

  constructor(options: { tableName: string; client: DynamoDBDocumentClient }) {
    this.tableName = options.tableName;
    this.client = options.client;
  }

  async read(): Promise<VersionedState | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: KEY, ConsistentRead: true }));
    if (!Item) return undefined;
    const number = (key: string): number => {
      const value: unknown = Item[key];
      return typeof value === 'number' ? value : 0;
    };
    return {
      version: number('version'),
      state: {
        tat: number('tat'),
        rate: number('rate'),
        slowStart: Item.slowStart === true,
        grownAt: number('grownAt'),
        decreasedAt: number('decreasedAt'),
        windowStart: number('windowStart'),
        windowGranted: number('windowGranted'),
        usedRate: number('usedRate'),
        measuredLimit: number('measuredLimit'),
        measuredAt: number('measuredAt'),
      },
    };
  }

  create(state: SharedBucketState): Promise<boolean> {
    return this.update({
      UpdateExpression:
        'SET #version = :version, tat = :tat, windowGranted = :windowGranted, #rate = :rate, slowStart = :slowStart, ' +
        'grownAt = :grownAt, decreasedAt = :decreasedAt, windowStart = :windowStart, usedRate = :usedRate, ' +
        'measuredLimit = :measuredLimit, measuredAt = :measuredAt',
      ConditionExpression: 'attribute_not_exists(pk)',
      ExpressionAttributeNames: { '#version': 'version', '#rate': 'rate' },
      ExpressionAttributeValues: { ':version': 0, ':tat': state.tat, ':windowGranted': state.windowGranted, ...rateValues(state) },
    });
  }

  async take(count: number, costMs: number, nowMs: number, burstMs: number): Promise<boolean> {
    const latest = nowMs + burstMs - costMs;
    // Busy bucket (tat in the future): advance it. Idle bucket: restart it from now.
    if (
      await this.update({
        UpdateExpression: 'SET tat = tat + :cost ADD windowGranted :count',
        ConditionExpression: 'tat >= :now AND tat <= :latest',
        ExpressionAttributeValues: { ':cost': costMs, ':count': count, ':now': nowMs, ':latest': latest },
      })
    ) {
      return true;
    }
    if (latest < nowMs) return false;
    return this.update({
      UpdateExpression: 'SET tat = :next ADD windowGranted :count',
      ConditionExpression: 'tat < :now',
      ExpressionAttributeValues: { ':next': nowMs + costMs, ':count': count, ':now': nowMs },
    });
  }

  updateRate(fields: SharedRateFields, version: number, expected: number, resetWindow: boolean): Promise<boolean> {
    return this.update({
      UpdateExpression:
        'SET #version = :version, #rate = :rate, slowStart = :slowStart, grownAt = :grownAt, decreasedAt = :decreasedAt, ' +
        'windowStart = :windowStart, usedRate = :usedRate, measuredLimit = :measuredLimit, measuredAt = :measuredAt' +
        (resetWindow ? ', windowGranted = :zero' : ''),
      ConditionExpression: '#version = :expected',
      ExpressionAttributeNames: { '#version': 'version', '#rate': 'rate' },
      ExpressionAttributeValues: { ':version': version, ':expected': expected, ...rateValues(fields), ...(resetWindow ? { ':zero': 0 } : {}) },
    });
  }

  async addShare(share: number, nowMs: number, gatherMs: number): Promise<number> {
    // A few rounds at most: each lost race means another worker just started or ended an episode.
    for (let attempt = 0; attempt < 3; attempt++) {
      // Same episode (begun less than gatherMs ago): add to its sum. Otherwise this share starts a new one.
      const added = await this.updateReturning({
        UpdateExpression: 'ADD shareSum :share',
        ConditionExpression: 'shareAt >= :since',
        ExpressionAttributeValues: { ':share': share, ':since': nowMs - gatherMs },
      });
      if (added !== undefined) return added;
      // Only on the bucket's own item: a share must never create an item without a rate.
      const started = await this.updateReturning({
        UpdateExpression: 'SET shareSum = :share, shareAt = :now',
        ConditionExpression: 'attribute_exists(#version) AND (attribute_not_exists(shareAt) OR shareAt < :since)',
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: { ':share': share, ':now': nowMs, ':since': nowMs - gatherMs },
      });
      if (started !== undefined) return started;
    }
    return share;
  }

  private async updateReturning(input: Omit<UpdateCommandInput, 'TableName' | 'Key' | 'ReturnValues'>): Promise<number | undefined> {
    try {
      const { Attributes } = await this.client.send(new UpdateCommand({ TableName: this.tableName, Key: KEY, ReturnValues: 'UPDATED_NEW', ...input }));
      const sum: unknown = Attributes?.shareSum;
      return typeof sum === 'number' ? sum : 0;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  private async update(input: Omit<UpdateCommandInput, 'TableName' | 'Key'>): Promise<boolean> {
    try {
      await this.client.send(new UpdateCommand({ TableName: this.tableName, Key: KEY, ...input }));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}

function rateValues(fields: SharedRateFields): Record<string, number | boolean> {
  return {
    ':rate': fields.rate,
    ':slowStart': fields.slowStart,
    ':grownAt': fields.grownAt,
    ':decreasedAt': fields.decreasedAt,
    ':windowStart': fields.windowStart,
    ':usedRate': fields.usedRate,
    ':measuredLimit': fields.measuredLimit,
    ':measuredAt': fields.measuredAt,
  };
}
