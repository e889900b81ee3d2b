import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * The ledger's key schema, shared by local engines and tests (the CDK Ledger construct declares the same).
 *
 * Item layout (all in one table):
 * - request state   pk=REQ#<requestId>  sk=STATE                      gsi2pk=REQSTATE#<status> gsi2sk=<updatedAt>#<requestId>
 * - current outcome pk=REQ#<requestId>  sk=OUT#<email>                gsi2pk=STATUS#<status>   gsi2sk=<recordedAt>#<requestId>#<email>
 * - attempt record  pk=REQ#<requestId>  sk=ATT#<email>#<attempt:4>    gsi1pk=EMAIL#<email>     gsi1sk=<recordedAt>#<requestId>#<attempt:4>
 * - delete intent   pk=REQ#<requestId>  sk=INT#<email>#<attempt:4>    gsi2pk=INTENT#DELETING       gsi2sk=<recordedAt>#<requestId>#<email>#<attempt:4>
 * - shared Arize rate limit (not ledger data; no index attributes)  pk=RATELIMIT#arize  sk=BUCKET  (shared-rate-limit.ts)
 * - evidence chain (no index attributes)  pk=CHAIN#<day>  sk=REC#<seq:10> (record) | HEAD (the day's head)  (core/evidence-chain.ts)
 */
/** Partition-key prefix of the evidence chain; writers' GetItem/Query grant on the chain is scoped to it. */
export const EVIDENCE_CHAIN_PK_PREFIX = 'CHAIN#';
export const LEDGER_INDEX_BY_EMAIL = 'byEmail';
/** The shared rate limit's partition key; the functions' GetItem/UpdateItem grant on it is scoped to this key. */
export const SHARED_RATE_LIMIT_PK = 'RATELIMIT#arize';
export const SHARED_RATE_LIMIT_SK = 'BUCKET';
export const LEDGER_INDEX_BY_STATUS = 'byStatus';

export function ledgerTableDefinition(tableName: string): CreateTableCommandInput {
  const s = 'S' as const;
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: s },
      { AttributeName: 'sk', AttributeType: s },
      { AttributeName: 'gsi1pk', AttributeType: s },
      { AttributeName: 'gsi1sk', AttributeType: s },
      { AttributeName: 'gsi2pk', AttributeType: s },
      { AttributeName: 'gsi2sk', AttributeType: s },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: LEDGER_INDEX_BY_EMAIL,
        KeySchema: [
          { AttributeName: 'gsi1pk', KeyType: 'HASH' },
          { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
      {
        IndexName: LEDGER_INDEX_BY_STATUS,
        KeySchema: [
          { AttributeName: 'gsi2pk', KeyType: 'HASH' },
          { AttributeName: 'gsi2sk', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  };
}
