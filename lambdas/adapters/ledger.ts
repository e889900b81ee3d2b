/**
 * The ledger: every outcome of every request, in DynamoDB (key layout in ledger-table.ts).
 *
 * Idempotency and attempts:
 * - An attempt record's key is request + email + attempt, so writing the same attempt twice (a Lambda retry)
 *   leaves one record; the last write of that attempt wins (it is the same attempt, re-observed).
 *   History per email keeps every attempt.
 * - The current outcome of an email in a request is one item, written only if no later attempt is recorded
 *   (`attempt <= :attempt`): a later attempt supersedes an earlier one, a stale replay never overwrites a newer result.
 *   Only current outcomes are in the by-status index, so "FAILED by time" lists what is still failed, not every
 *   failed attempt that later succeeded.
 * No transactions (dynalite has none): the attempt record is written first, so a crash between the two writes
 * leaves history complete and the retried write completes the current outcome.
 */
import { DynamoDBClient, ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { normalizeEmail } from '../core/email.js';
import type { AccessInventory, ActivityResult } from '../core/access-inventory.js';
import { chainDay, genesisHash, linkRecords, verifyDay, type ChainRecord, type StoredChainHead } from '../core/evidence-chain.js';
import type { Outcome, OutcomeStatus, RequestStateStatus } from '../core/outcome.js';
import type { Cancellation } from '../core/cancellation.js';
import { EVIDENCE_CHAIN_PK_PREFIX, LEDGER_INDEX_BY_EMAIL, LEDGER_INDEX_BY_STATUS } from './ledger-table.js';

import type { DeleteIntent, Ledger, RecordOptions, RequestState, RequestStateCreation, RequestStateUpdate, ScheduledEmail, TimeRange } from '../core/ledger.js';

const MAX_ERROR_TEXT = 1000;
const BATCH_SIZE = 25;
const PUT_CONCURRENCY = 16;

export interface DynamoLedgerOptions {
  tableName: string;
  client?: DynamoDBDocumentClient;
  /** For UnprocessedItems backoff; injectable so tests need not sleep. */
  sleep?: (ms: number) => Promise<void>;
  maxBatchRetries?: number;
}

let sharedDocumentClient: DynamoDBDocumentClient | undefined;
/** One SDK client per container, reused across invocations. */
export function defaultDocumentClient(): DynamoDBDocumentClient {
  sharedDocumentClient ??= createDocumentClient(new DynamoDBClient({}));
  return sharedDocumentClient;
}

export function createDocumentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

const pad = (attempt: number) => String(attempt).padStart(4, '0');
const MAX_CHAIN_ROUNDS = 200;
const CHAIN_HEAD_SK = 'HEAD';
const chainKey = (day: string) => `${EVIDENCE_CHAIN_PK_PREFIX}${day}`;
const chainRecordKey = (seq: number) => `REC#${String(seq).padStart(10, '0')}`;
const INTENT_INDEX_KEY = 'INTENT#DELETING';
const requestKey = (requestId: string) => `REQ#${requestId}`;
const scheduleKey = (email: string) => `SCHED#${email}`;
const cancelKey = (email: string) => `CANCEL#${email}`;
const CANCEL_SK_PREFIX = 'CANCEL#';

function toCancellation(item: Record<string, unknown>): Cancellation {
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
  const requestId = text(item.cancelsRequest);
  const email = text(item.email);
  const eventId = text(item.eventId);
  const operator = text(item.operator);
  return {
    recordId: String(item.recordId),
    ...(requestId ? { requestId } : {}),
    ...(email ? { email } : {}),
    cancelledAt: String(item.cancelledAt),
    source: String(item.source),
    ...(eventId ? { eventId } : {}),
    ...(operator ? { operator } : {}),
    reason: typeof item.reason === 'string' ? item.reason : '',
  };
}

function outcomeAttributes(outcome: Outcome): Record<string, unknown> {
  const base: Record<string, unknown> = {
    requestId: outcome.requestId,
    email: outcome.email,
    status: outcome.status,
    userId: outcome.userId,
    attempt: outcome.attempt,
    recordedAt: outcome.recordedAt,
  };
  switch (outcome.status) {
    case 'FAILED':
      return {
        ...base,
        errorClass: outcome.errorClass,
        error: outcome.error?.slice(0, MAX_ERROR_TEXT),
        retryable: outcome.retryable,
        httpStatus: outcome.httpStatus,
      };
    case 'PROTECTED':
    case 'HELD':
    case 'REJECTED':
    case 'CANCELLED':
    case 'REHIRED_AFTER_DELETION':
      return { ...base, reason: outcome.reason.slice(0, MAX_ERROR_TEXT) };
    case 'DRY_RUN':
      return { ...base, reason: outcome.reason };
    case 'DELETED':
      // The read-back verification and the access inventory are the evidence of what was removed; the inventory is
      // bounded where it is built (boundAccess), so the item stays far below 400 KB.
      return { ...base, verifiedAt: outcome.verifiedAt, access: outcome.access, activityAfterTermination: outcome.activityAfterTermination };
    default:
      return base;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function toOutcome(item: Record<string, unknown>): Outcome {
  const base = {
    requestId: String(item.requestId),
    email: String(item.email),
    attempt: Number(item.attempt ?? 0),
    recordedAt: String(item.recordedAt),
    ...(typeof item.userId === 'string' ? { userId: item.userId } : {}),
  };
  const status = item.status as OutcomeStatus;
  const reason = typeof item.reason === 'string' ? item.reason : '';
  switch (status) {
    case 'FAILED':
      return {
        ...base,
        status,
        errorClass: typeof item.errorClass === 'string' ? item.errorClass : 'Unknown',
        retryable: item.retryable === true,
        ...(typeof item.error === 'string' ? { error: item.error } : {}),
        ...(typeof item.httpStatus === 'number' ? { httpStatus: item.httpStatus } : {}),
      };
    case 'PROTECTED':
    case 'HELD':
    case 'REJECTED':
    case 'CANCELLED':
    case 'REHIRED_AFTER_DELETION':
      return { ...base, status, reason };
    case 'DRY_RUN':
      return { ...base, status, ...(reason ? { reason } : {}) };
    case 'DELETED':
      return {
        ...base,
        status,
        ...(typeof item.verifiedAt === 'string' ? { verifiedAt: item.verifiedAt } : {}),
        // Written only by outcomeAttributes above from the typed outcome; read back as stored.
        ...(isRecord(item.access) ? { access: item.access as unknown as AccessInventory } : {}),
        ...(isRecord(item.activityAfterTermination) ? { activityAfterTermination: item.activityAfterTermination as unknown as ActivityResult } : {}),
      };
    case 'NOT_FOUND':
      return { ...base, status };
    default:
      // Never guess an outcome for an audit: a record we cannot read is an error.
      throw new Error(`ledger: unknown outcome status ${JSON.stringify(item.status)} in request ${base.requestId}`);
  }
}

function toDeleteIntent(item: Record<string, unknown>): DeleteIntent {
  return {
    requestId: String(item.requestId),
    email: String(item.email),
    userId: String(item.userId),
    attempt: Number(item.attempt ?? 0),
    recordedAt: String(item.recordedAt),
  };
}

function toRequestState(item: Record<string, unknown>): RequestState {
  const { pk: _pk, sk: _sk, gsi2pk: _g, gsi2sk: _s, kind: _k, ...rest } = item;
  return rest as unknown as RequestState;
}

export class DynamoLedger implements Ledger {
  private readonly tableName: string;
  private readonly client: DynamoDBDocumentClient;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly maxBatchRetries: number;

  constructor(options: DynamoLedgerOptions) {
    this.tableName = options.tableName;
    this.client = options.client ?? defaultDocumentClient();
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.maxBatchRetries = options.maxBatchRetries ?? 8;
  }

  async recordDeleteIntents(intents: readonly DeleteIntent[]): Promise<void> {
    const items = intents.map((intent) => ({
      pk: requestKey(intent.requestId),
      sk: `INT#${intent.email}#${pad(intent.attempt)}`,
      kind: 'INTENT',
      requestId: intent.requestId,
      email: intent.email,
      userId: intent.userId,
      attempt: intent.attempt,
      recordedAt: intent.recordedAt,
      gsi2pk: INTENT_INDEX_KEY,
      gsi2sk: `${intent.recordedAt}#${intent.requestId}#${intent.email}#${pad(intent.attempt)}`,
    }));
    await this.batchPut([...new Map(items.map((item) => [item.sk, item])).values()]);
  }

  async deleteIntentsOfRequest(requestId: string): Promise<DeleteIntent[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': requestKey(requestId), ':prefix': 'INT#' },
      ConsistentRead: true,
    });
    return items.map(toDeleteIntent);
  }

  async deleteIntents(range: TimeRange = {}): Promise<DeleteIntent[]> {
    const items = await this.queryIndex(LEDGER_INDEX_BY_STATUS, 'gsi2pk', 'gsi2sk', INTENT_INDEX_KEY, range);
    return items.map(toDeleteIntent);
  }

  /**
   * Request states read from the state items themselves (a Scan, consistent), not from the by-status index.
   * Local engines only (dynalite writes an item and its index entries separately, so a kill can leave them
   * disagreeing); the deployed functions never scan.
   */
  async scanRequestStates(statuses: readonly RequestStateStatus[]): Promise<RequestState[]> {
    const names: Record<string, string> = { '#kind': 'kind', '#status': 'status' };
    const values: Record<string, unknown> = { ':kind': 'REQUEST' };
    statuses.forEach((status, index) => (values[`:s${index}`] = status));
    const states: RequestState[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: `#kind = :kind AND #status IN (${statuses.map((_, index) => `:s${index}`).join(', ')})`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      states.push(...(page.Items ?? []).map(toRequestState));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return states.sort((a, b) => a.updatedAt.localeCompare(b.updatedAt));
  }

  async recordOutcomes(outcomes: readonly Outcome[], options: RecordOptions = {}): Promise<void> {
    if (outcomes.length === 0) return;
    const fallback = options.mode === 'fallback';
    const attemptItems = outcomes.map((outcome) => ({
      ...outcomeAttributes(outcome),
      pk: requestKey(outcome.requestId),
      sk: `ATT#${outcome.email}#${pad(outcome.attempt)}`,
      kind: 'ATTEMPT',
      gsi1pk: `EMAIL#${outcome.email}`,
      gsi1sk: `${outcome.recordedAt}#${outcome.requestId}#${pad(outcome.attempt)}`,
    }));
    // One BatchWrite may not hold two puts of the same key: the last outcome per key wins, as it would in sequence.
    const uniqueAttempts = [...new Map(attemptItems.map((item) => [`${item.pk}|${item.sk}`, item])).values()];
    // Only what was actually written is sealed in the evidence chain (a conditional write that lost seals nothing).
    const written: Record<string, unknown>[] = [];
    if (fallback) {
      await this.forEachLimited(uniqueAttempts, PUT_CONCURRENCY, async (item) => {
        if (await this.conditionalPut(item, 'attribute_not_exists(pk)')) written.push(item);
      });
    } else {
      await this.batchPut(uniqueAttempts);
      written.push(...uniqueAttempts);
    }
    await this.forEachLimited(outcomes, PUT_CONCURRENCY, async (outcome) => {
      const item = await this.putCurrentOutcome(outcome, fallback);
      if (item) written.push(item);
    });
    // After the items: a crash in between leaves items without a chain record, which `evidence verify` names and
    // the retried write (Lambda retry, resumed request) seals.
    await this.appendToChain(written);
  }

  private async conditionalPut(item: Record<string, unknown>, condition: string): Promise<boolean> {
    try {
      await this.client.send(new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: condition }));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Evidence chain (core/evidence-chain.ts): one chain per UTC day, records then head, both conditional.

  /**
   * Appends the items to their day's chain. No transactions: each record is put only if its seq is free, then the
   * head is moved only from the seq it was read at. A writer that finds records beyond the head (a concurrent
   * writer, or one that crashed between the two writes) checks that they link and moves the head forward first.
   */
  private async appendToChain(items: readonly Record<string, unknown>[]): Promise<void> {
    const byDay = new Map<string, { pk: string; sk: string; item: Record<string, unknown> }[]>();
    for (const item of items) {
      const day = chainDay(String(item.recordedAt));
      const list = byDay.get(day) ?? [];
      list.push({ pk: String(item.pk), sk: String(item.sk), item });
      byDay.set(day, list);
    }
    for (const [day, entries] of byDay) await this.appendToDay(day, entries);
  }

  private async appendToDay(day: string, entries: readonly { pk: string; sk: string; item: Record<string, unknown> }[]): Promise<void> {
    let pending = [...entries];
    let head: { seq: number; hash: string } = (await this.chainHead(day)) ?? { seq: 0, hash: genesisHash(day) };
    for (let round = 0; pending.length > 0; round += 1) {
      if (round > MAX_CHAIN_ROUNDS) throw new Error(`ledger: the evidence chain of ${day} stayed contended for ${MAX_CHAIN_ROUNDS} rounds`);
      if (round > 3) await this.sleep(Math.min(500, 5 * 2 ** Math.min(round, 7) * Math.random()));
      const records = linkRecords(day, head, pending);
      let stored = 0;
      let last: ChainRecord | undefined;
      for (const record of records) {
        const { items, ...rest } = record;
        if (!(await this.conditionalPut({ ...rest, sealed: items, pk: chainKey(day), sk: chainRecordKey(record.seq), kind: 'CHAIN_RECORD' }, 'attribute_not_exists(pk)'))) break;
        stored += items.length;
        last = record;
      }
      pending = pending.slice(stored);
      if (last !== undefined) {
        await this.advanceChainHead(day, head.seq, last);
        head = last;
      }
      if (pending.length === 0) break;
      // The next seq was taken: by a concurrent writer, or by one that crashed before moving the head. What lies
      // beyond the head must link before the head moves over it (roll forward), then this write goes on top.
      head = (await this.chainHead(day)) ?? { seq: 0, hash: genesisHash(day) };
      const tail = await this.chainRecords(day, head.seq);
      if (tail.length > 0) {
        const check = verifyDay(day, tail, undefined, head);
        if (check.problems.length > 0) {
          throw new Error(`ledger: the evidence chain of ${day} is broken beyond its head (${check.problems[0]?.problem}); run offboard evidence verify`);
        }
        const end = tail[tail.length - 1] as ChainRecord;
        await this.advanceChainHead(day, head.seq, end);
        head = end;
      }
    }
  }

  private async advanceChainHead(day: string, fromSeq: number, to: ChainRecord): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: chainKey(day), sk: CHAIN_HEAD_SK, kind: 'CHAIN_HEAD', day, seq: to.seq, hash: to.hash },
          // Moved only from where it was read: a writer that lost the race leaves the newer head alone.
          ...(fromSeq === 0
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : { ConditionExpression: '#seq = :from', ExpressionAttributeNames: { '#seq': 'seq' }, ExpressionAttributeValues: { ':from': fromSeq } }),
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /** The day's head (last acknowledged record), or undefined when nothing was chained that day. */
  async chainHead(day: string): Promise<StoredChainHead | undefined> {
    const result = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: chainKey(day), sk: CHAIN_HEAD_SK }, ConsistentRead: true }));
    const item = result.Item;
    return item ? { day, seq: Number(item.seq), hash: String(item.hash) } : undefined;
  }

  /** The day's chain records after `afterSeq`, ascending. */
  async chainRecords(day: string, afterSeq = 0): Promise<ChainRecord[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND sk > :after',
      ExpressionAttributeValues: { ':pk': chainKey(day), ':after': chainRecordKey(afterSeq) },
      ConsistentRead: true,
    });
    return items
      .filter((item) => item.kind === 'CHAIN_RECORD')
      .map((item) => ({
        day: String(item.day),
        seq: Number(item.seq),
        prevHash: String(item.prevHash),
        items: (Array.isArray(item.sealed) ? item.sealed : []).map((sealed: Record<string, unknown>) => ({ pk: String(sealed.pk), sk: String(sealed.sk), itemHash: String(sealed.itemHash) })),
        hash: String(item.hash),
      }));
  }

  /** Days with a chain head, ascending (operator commands only: a Scan). */
  async chainDays(): Promise<string[]> {
    const days: string[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new ScanCommand({ TableName: this.tableName, FilterExpression: 'kind = :kind', ExpressionAttributeValues: { ':kind': 'CHAIN_HEAD' }, ConsistentRead: true, ExclusiveStartKey: startKey }),
      );
      days.push(...(page.Items ?? []).map((item) => String(item.day)));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return days.sort();
  }

  /** One item as stored, for comparing it with its chain record. */
  async rawItem(pk: string, sk: string): Promise<Record<string, unknown> | undefined> {
    const result = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk, sk }, ConsistentRead: true }));
    return result.Item;
  }

  private async putCurrentOutcome(outcome: Outcome, fallback: boolean): Promise<Record<string, unknown> | undefined> {
    const condition = fallback
      ? 'attribute_not_exists(pk) OR (#attempt < :attempt AND #status = :failed)'
      : 'attribute_not_exists(pk) OR #attempt <= :attempt';
    const item = {
      ...outcomeAttributes(outcome),
      pk: requestKey(outcome.requestId),
      sk: `OUT#${outcome.email}`,
      kind: 'OUTCOME',
      gsi2pk: `STATUS#${outcome.status}`,
      gsi2sk: `${outcome.recordedAt}#${outcome.requestId}#${outcome.email}`,
    };
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: condition,
          ExpressionAttributeNames: fallback ? { '#attempt': 'attempt', '#status': 'status' } : { '#attempt': 'attempt' },
          ExpressionAttributeValues: fallback ? { ':attempt': outcome.attempt, ':failed': 'FAILED' } : { ':attempt': outcome.attempt },
        }),
      );
      return item;
    } catch (error) {
      // A later attempt is already the current outcome: this one stays in history only.
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  private async batchPut(items: Record<string, unknown>[]): Promise<void> {
    for (let index = 0; index < items.length; index += BATCH_SIZE) {
      let requests = items.slice(index, index + BATCH_SIZE).map((Item) => ({ PutRequest: { Item } }));
      for (let retry = 0; requests.length > 0; retry += 1) {
        if (retry > this.maxBatchRetries) {
          throw new Error(`ledger: ${requests.length} items still unprocessed after ${this.maxBatchRetries} retries`);
        }
        if (retry > 0) await this.sleep(Math.min(2000, 25 * 2 ** retry));
        const result = await this.client.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }));
        const unprocessed = result.UnprocessedItems?.[this.tableName] ?? [];
        requests = unprocessed.flatMap((request) => (request.PutRequest?.Item ? [{ PutRequest: { Item: request.PutRequest.Item } }] : []));
      }
    }
  }

  private async forEachLimited<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await run(item);
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  }

  async createRequestState(update: RequestStateCreation): Promise<'created' | 'exists'> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: requestKey(update.requestId),
            sk: 'STATE',
            kind: 'REQUEST',
            requestId: update.requestId,
            status: update.status,
            createdAt: update.at,
            updatedAt: update.at,
            emailCount: update.emailCount,
            source: update.source,
            reason: update.reason,
            executionName: update.executionName,
            counts: update.counts,
            detail: update.detail,
            request: update.request,
            digest: update.digest,
            receivedAt: update.receivedAt,
            gsi2pk: `REQSTATE#${update.status}`,
            gsi2sk: `${update.at}#${update.requestId}`,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return 'created';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'exists';
      throw error;
    }
  }

  async updateRequestState(requestId: string, update: RequestStateUpdate): Promise<void> {
    const names: Record<string, string> = { '#status': 'status', '#updatedAt': 'updatedAt', '#createdAt': 'createdAt' };
    const values: Record<string, unknown> = {
      ':status': update.status,
      ':at': update.at,
      ':gsi2pk': `REQSTATE#${update.status}`,
      ':gsi2sk': `${update.at}#${requestId}`,
      ':requestId': requestId,
      ':kind': 'REQUEST',
    };
    const sets = [
      '#status = :status',
      '#updatedAt = :at',
      '#createdAt = if_not_exists(#createdAt, :at)',
      'gsi2pk = :gsi2pk',
      'gsi2sk = :gsi2sk',
      'requestId = :requestId',
      'kind = :kind',
    ];
    for (const key of ['emailCount', 'source', 'reason', 'executionName', 'counts', 'detail'] as const) {
      const value = update[key];
      if (value === undefined) continue;
      names[`#${key}`] = key;
      values[`:${key}`] = typeof value === 'string' ? value.slice(0, MAX_ERROR_TEXT) : value;
      sets.push(`#${key} = :${key}`);
    }
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: requestKey(requestId), sk: 'STATE' },
        UpdateExpression: `SET ${sets.join(', ')}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  async getRequestState(requestId: string): Promise<RequestState | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: requestKey(requestId), sk: 'STATE' }, ConsistentRead: true }),
    );
    return result.Item ? toRequestState(result.Item) : undefined;
  }

  async outcomesOfRequest(requestId: string): Promise<Outcome[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': requestKey(requestId), ':prefix': 'OUT#' },
      ConsistentRead: true,
    });
    return items.map(toOutcome);
  }

  async historyOfEmail(email: string, range: TimeRange = {}): Promise<Outcome[]> {
    const items = await this.queryIndex(LEDGER_INDEX_BY_EMAIL, 'gsi1pk', 'gsi1sk', `EMAIL#${normalizeEmail(email)}`, range);
    return items.map(toOutcome);
  }

  async outcomesByStatus(status: OutcomeStatus, range: TimeRange = {}): Promise<Outcome[]> {
    const items = await this.queryIndex(LEDGER_INDEX_BY_STATUS, 'gsi2pk', 'gsi2sk', `STATUS#${status}`, range);
    return items.map(toOutcome);
  }

  async requestsByStatus(status: RequestStateStatus, range: TimeRange = {}): Promise<RequestState[]> {
    const items = await this.queryIndex(LEDGER_INDEX_BY_STATUS, 'gsi2pk', 'gsi2sk', `REQSTATE#${status}`, range);
    return items.map(toRequestState);
  }

  async recordScheduled(scheduled: readonly ScheduledEmail[]): Promise<void> {
    // Keyed by email (not under the request, not in the history index): history stays outcomes only.
    await this.batchPut(
      scheduled.map((entry) => ({
        pk: scheduleKey(entry.email),
        sk: entry.requestId,
        kind: 'SCHEDULE',
        requestId: entry.requestId,
        email: entry.email,
        effectiveAt: entry.effectiveAt,
        recordedAt: entry.recordedAt,
      })),
    );
  }

  async scheduledForEmail(email: string): Promise<ScheduledEmail[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': scheduleKey(email.trim().toLowerCase()) },
      ConsistentRead: true,
    });
    return items.map((item) => ({
      requestId: String(item.requestId),
      email: String(item.email),
      effectiveAt: String(item.effectiveAt),
      recordedAt: String(item.recordedAt),
    }));
  }

  async recordCancellation(cancellation: Cancellation): Promise<void> {
    const attributes = {
      kind: 'CANCEL',
      recordId: cancellation.recordId,
      cancelsRequest: cancellation.requestId,
      email: cancellation.email,
      cancelledAt: cancellation.cancelledAt,
      source: cancellation.source,
      eventId: cancellation.eventId,
      operator: cancellation.operator,
      reason: cancellation.reason.slice(0, MAX_ERROR_TEXT),
    };
    // Request-level under the request (one Query reads them with its other items); person-level under the email.
    const key = cancellation.requestId
      ? { pk: requestKey(cancellation.requestId), sk: `${CANCEL_SK_PREFIX}${cancellation.recordId}#${cancellation.email ?? '*'}` }
      : { pk: cancelKey(normalizeEmail(cancellation.email ?? '')), sk: cancellation.recordId };
    await this.conditionalPut({ ...attributes, ...key }, 'attribute_not_exists(pk)');
  }

  async cancellationsOf(requestId: string, emails: readonly string[]): Promise<Cancellation[]> {
    const byRequest = this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': requestKey(requestId), ':prefix': CANCEL_SK_PREFIX },
      ConsistentRead: true,
    });
    const byEmail: Record<string, unknown>[] = [];
    await this.forEachLimited([...new Set(emails.map(normalizeEmail))], PUT_CONCURRENCY, async (email) => {
      byEmail.push(
        ...(await this.queryAll({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': cancelKey(email) },
          ConsistentRead: true,
        })),
      );
    });
    return [...(await byRequest), ...byEmail].map(toCancellation);
  }

  private async queryIndex(
    index: string,
    pkName: string,
    skName: string,
    pkValue: string,
    range: TimeRange,
  ): Promise<Record<string, unknown>[]> {
    // Sort keys start with the ISO timestamp; '#' (0x23) sorts below every timestamp character, '~' above.
    const since = range.since ?? '';
    const until = range.until ?? '~';
    return this.queryAll(
      {
        TableName: this.tableName,
        IndexName: index,
        KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :since AND :until',
        ExpressionAttributeNames: { '#pk': pkName, '#sk': skName },
        ExpressionAttributeValues: { ':pk': pkValue, ':since': since || '0', ':until': until },
      },
      range.limit,
    );
  }

  private async queryAll(input: QueryCommandInput, limit?: number): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey }));
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey && (limit === undefined || items.length < limit));
    return limit === undefined ? items : items.slice(0, limit);
  }
}
