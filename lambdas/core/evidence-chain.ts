/**
 * The tamper-evident evidence chain (pure part; the DynamoDB side is in adapters/ledger.ts, which appends where
 * outcomes are recorded, so the Lambdas and the local runtime share it).
 *
 * One chain per UTC day of the outcomes' `recordedAt`. Every outcome item the ledger writes (attempt record and
 * current outcome) is sealed by a chain record `{day, seq, prevHash, items: [{pk, sk, itemHash}]}` (one record per
 * write) whose `hash` is the SHA-256 of its canonical JSON; `prevHash` is the previous record's hash (a day-specific genesis hash for seq 1). A head
 * item per day holds the last acknowledged `seq` and `hash`: the daily digest is `{day, count, headHash}`.
 *
 * Verification recomputes every record's hash and link, checks the head, and compares each ledger item with the
 * latest chain record of its key: an item edited in place (UpdateItem), a record edited or removed, a head
 * moved, all show as the first broken record. Records beyond the head are a crash between the record and the head
 * write (they still link): reported, and rolled forward by the next append.
 */
import { sha256Canonical } from './canonical-json.js';
import type { ChainHead } from './evidence-export.js';

/** A ledger item sealed by a chain record. */
export interface SealedItem {
  pk: string;
  sk: string;
  itemHash: string;
}

export interface ChainRecord {
  day: string;
  seq: number;
  prevHash: string;
  /** The ledger items of one write (one record per write keeps the chain's writes few: they are serialised). */
  items: SealedItem[];
  hash: string;
}

/** Items per chain record: a record stays far below DynamoDB's 400 KB item limit. */
export const MAX_ITEMS_PER_RECORD = 500;

export interface StoredChainHead {
  day: string;
  seq: number;
  hash: string;
}

export function genesisHash(day: string): string {
  return sha256Canonical({ chain: 'arize-offboarding.evidence', v: 1, day });
}

/** The hash of a ledger item as stored (attribute order and absent members do not matter). */
export function itemHash(item: Readonly<Record<string, unknown>>): string {
  return sha256Canonical(item);
}

export function recordHash(record: Omit<ChainRecord, 'hash'>): string {
  return sha256Canonical({ v: 1, day: record.day, seq: record.seq, prevHash: record.prevHash, items: record.items.map(({ pk, sk, itemHash }) => ({ pk, sk, itemHash })) });
}

/** UTC day of an ISO time, the chain an item belongs to. */
export function chainDay(recordedAt: string): string {
  const time = Date.parse(recordedAt);
  if (Number.isNaN(time)) throw new RangeError(`recordedAt: not a date (${JSON.stringify(recordedAt)})`);
  return new Date(time).toISOString().slice(0, 10);
}

/** The records that extend a chain whose last record is `after` (seq 0 = empty, with the genesis hash). */
export function linkRecords(day: string, after: { seq: number; hash: string }, items: readonly { pk: string; sk: string; item: Readonly<Record<string, unknown>> }[]): ChainRecord[] {
  const records: ChainRecord[] = [];
  let previous = after;
  for (let index = 0; index < items.length; index += MAX_ITEMS_PER_RECORD) {
    const sealed = items.slice(index, index + MAX_ITEMS_PER_RECORD).map((entry) => ({ pk: entry.pk, sk: entry.sk, itemHash: itemHash(entry.item) }));
    const base = { day, seq: previous.seq + 1, prevHash: previous.hash, items: sealed };
    const record = { ...base, hash: recordHash(base) };
    records.push(record);
    previous = record;
  }
  return records;
}

export interface ChainProblem {
  day: string;
  seq?: number;
  /** The ledger item concerned, `pk / sk`. */
  item?: string;
  problem: string;
}

export interface DayVerification {
  digest: ChainHead;
  problems: ChainProblem[];
  /** Records beyond the head that link correctly: a crash between the record and the head write. */
  unacknowledged: number;
}

/**
 * Recomputes one day's chain from its records (ascending seq) and checks its head. `start`: verify only the records
 * after this one (an append checking what lies beyond the head before it moves the head).
 */
export function verifyDay(day: string, records: readonly ChainRecord[], head: StoredChainHead | undefined, start?: { seq: number; hash: string }): DayVerification {
  const problems: ChainProblem[] = [];
  let previous = start ? { seq: start.seq, hash: start.hash } : { seq: 0, hash: genesisHash(day) };
  let valid = previous.seq;
  for (const record of records) {
    if (record.seq !== previous.seq + 1) {
      problems.push({ day, seq: previous.seq + 1, problem: `record ${previous.seq + 1} is missing (next stored is ${record.seq})` });
      break;
    }
    if (record.prevHash !== previous.hash) {
      problems.push({ day, seq: record.seq, problem: `record ${record.seq} does not link to record ${previous.seq} (prevHash differs): a record was edited, inserted or removed` });
      break;
    }
    if (recordHash(record) !== record.hash) {
      problems.push({ day, seq: record.seq, problem: `record ${record.seq} was edited: its hash does not match its content` });
      break;
    }
    previous = { seq: record.seq, hash: record.hash };
    valid += 1;
  }
  let unacknowledged = 0;
  if (problems.length === 0) {
    if (head === undefined) {
      if (records.length > 0) unacknowledged = records.length;
    } else if (head.seq > valid) {
      problems.push({ day, seq: valid + 1, problem: `the head claims ${head.seq} records but only ${valid} are stored: records ${valid + 1}..${head.seq} are missing` });
    } else {
      const atHead = records.find((r) => r.seq === head.seq);
      const expected = head.seq === 0 ? genesisHash(day) : atHead?.hash;
      if (expected !== head.hash) problems.push({ day, seq: head.seq, problem: `the head's hash does not match record ${head.seq}: the head was edited` });
      unacknowledged = valid - head.seq;
    }
  }
  return { digest: { day, count: valid, headHash: previous.hash }, problems, unacknowledged };
}

/**
 * Compares the ledger's items with the latest chain record of each key (records in chain order, oldest first).
 * `current` returns the item as stored now, or undefined when it is gone.
 */
export async function verifyItems(
  records: readonly ChainRecord[],
  current: (pk: string, sk: string) => Promise<Readonly<Record<string, unknown>> | undefined>,
): Promise<ChainProblem[]> {
  const latest = new Map<string, { record: ChainRecord; sealed: SealedItem }>();
  for (const record of records) for (const sealed of record.items) latest.set(`${sealed.pk}\u0000${sealed.sk}`, { record, sealed });
  const problems: ChainProblem[] = [];
  for (const { record, sealed } of latest.values()) {
    const item = await current(sealed.pk, sealed.sk);
    const where = { day: record.day, seq: record.seq, item: `${sealed.pk} / ${sealed.sk}` };
    if (item === undefined) problems.push({ ...where, problem: 'the ledger item sealed by this record was deleted' });
    else if (itemHash(item) !== sealed.itemHash) problems.push({ ...where, problem: `the ledger item was edited after it was recorded (it no longer matches chain record ${record.seq})` });
  }
  return problems.sort((a, b) => a.day.localeCompare(b.day) || (a.seq ?? 0) - (b.seq ?? 0));
}

/** What verification reads (the DynamoDB ledger provides it). */
export interface EvidenceChainReader {
  chainDays(): Promise<string[]>;
  chainHead(day: string): Promise<StoredChainHead | undefined>;
  chainRecords(day: string, afterSeq?: number): Promise<ChainRecord[]>;
  rawItem(pk: string, sk: string): Promise<Record<string, unknown> | undefined>;
}

export interface ChainVerification {
  /** The daily digests as recomputed. */
  days: (DayVerification & { day: string })[];
  /** Every problem found, the first broken record first. */
  problems: ChainProblem[];
}

/**
 * One day's chain recomputed from the ledger (its records and head; no Scan): the digest `evidence verify` prints
 * for that day and the scheduled publication writes to S3. A day without a chain has the empty digest (count 0,
 * the genesis hash).
 */
export async function verifyChainDay(reader: Pick<EvidenceChainReader, 'chainHead' | 'chainRecords'>, day: string): Promise<{ records: ChainRecord[]; result: DayVerification }> {
  const [records, head] = await Promise.all([reader.chainRecords(day), reader.chainHead(day)]);
  return { records, result: verifyDay(day, records, head) };
}

/** Days whose chain lies in [fromDay, toDay] (inclusive, `YYYY-MM-DD`), recomputed and compared with the ledger. */
export async function verifyEvidenceChain(reader: EvidenceChainReader, range: { fromDay?: string; toDay?: string } = {}): Promise<ChainVerification> {
  const days = (await reader.chainDays()).filter((day) => (range.fromDay === undefined || day >= range.fromDay) && (range.toDay === undefined || day <= range.toDay));
  const results: ChainVerification['days'] = [];
  const sealed: ChainRecord[] = [];
  const problems: ChainProblem[] = [];
  for (const day of days) {
    const { records, result } = await verifyChainDay(reader, day);
    results.push({ ...result, day });
    problems.push(...result.problems);
    sealed.push(...records.filter((r) => r.seq <= result.digest.count));
  }
  problems.push(...(await verifyItems(sealed, (pk, sk) => reader.rawItem(pk, sk))));
  problems.sort((a, b) => a.day.localeCompare(b.day) || (a.seq ?? 0) - (b.seq ?? 0));
  return { days: results, problems };
}

/** The daily digests of the days in a period, for an export to name what it was read against. */
export async function chainHeadsBetween(reader: Pick<EvidenceChainReader, 'chainDays' | 'chainHead'>, fromDay: string, toDay: string): Promise<ChainHead[]> {
  const days = (await reader.chainDays()).filter((day) => day >= fromDay && day <= toDay);
  const heads = await Promise.all(days.map((day) => reader.chainHead(day)));
  return heads.flatMap((head) => (head === undefined ? [] : [{ day: head.day, count: head.seq, headHash: head.hash }]));
}
