/**
 * The daily evidence publication (AWS: the scheduled evidence function writes it to the Object Lock bucket): the
 * previous UTC day's chain digest — the one `offboard evidence verify` prints for that day — and the evidence
 * export of the events received that day, built by the same core as `offboard evidence`.
 *
 * Idempotent over an unchanged ledger: the export is taken "as of" the end of the day (its `generatedAt` and the
 * SLA clock), and names only that day's chain head, so a re-run for the same day writes the same bytes. With
 * Object Lock a re-run adds a new object version; the earlier one stays, locked.
 */
import { verifyChainDay, type ChainProblem, type EvidenceChainReader } from './evidence-chain.js';
import { buildEvidence, type EvidenceLedgerReader } from './evidence.js';
import { renderEvidenceJson, toEvidenceExport, type EvidenceExport } from './evidence-export.js';

const DAY_MS = 86_400_000;

export interface DailyDigest {
  kind: 'arize-offboarding.evidence-digest';
  version: 1;
  day: string;
  /** Chain records of the day, as recomputed (not as the head claims). */
  count: number;
  headHash: string;
  /** Records beyond the head: a crash between writes, rolled forward by the next write. */
  unacknowledged: number;
  /** Empty when the day's chain recomputes; otherwise the first broken record first. */
  problems: ChainProblem[];
}

export interface DailyEvidence {
  day: string;
  digest: DailyDigest;
  export: EvidenceExport;
  objects: { key: string; body: string }[];
}

/** The UTC day before `now`, `YYYY-MM-DD`. */
export function previousUtcDay(now: Date): string {
  return new Date(now.getTime() - DAY_MS).toISOString().slice(0, 10);
}

/** Refuses anything but a real calendar day, `YYYY-MM-DD`. */
export function checkDay(day: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || new Date(`${day}T00:00:00Z`).toISOString().slice(0, 10) !== day) {
    throw new RangeError(`day: expected a calendar date YYYY-MM-DD, got ${JSON.stringify(day)}`);
  }
  return day;
}

export const evidenceObjectKeys = (day: string) => ({ digest: `digests/${day}.json`, export: `exports/${day}.json` });

export async function dailyEvidence(
  reader: EvidenceLedgerReader & Pick<EvidenceChainReader, 'chainHead' | 'chainRecords'>,
  day: string,
  slaHours: number,
): Promise<DailyEvidence> {
  checkDay(day);
  const from = new Date(`${day}T00:00:00.000Z`);
  const to = new Date(from.getTime() + DAY_MS);
  const { result } = await verifyChainDay(reader, day);
  const digest: DailyDigest = { kind: 'arize-offboarding.evidence-digest', version: 1, ...result.digest, unacknowledged: result.unacknowledged, problems: result.problems };
  const report = await buildEvidence(reader, { from: from.toISOString(), to: to.toISOString(), slaHours }, to);
  // The stored head, as `offboard evidence` names it (the recomputed one is in the digest beside it).
  const head = await reader.chainHead(day);
  const doc = toEvidenceExport(report, head === undefined ? [] : [{ day, count: head.seq, headHash: head.hash }]);
  const keys = evidenceObjectKeys(day);
  return {
    day,
    digest,
    export: doc,
    objects: [
      { key: keys.digest, body: `${JSON.stringify(digest, null, 2)}\n` },
      { key: keys.export, body: renderEvidenceJson(doc) },
    ],
  };
}
