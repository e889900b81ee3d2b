/**
 * Evidence publication (the evidence Lambda, EventBridge Scheduler, daily): publishes the previous UTC day's chain digest and evidence
 * export to the Object Lock bucket (`digests/<day>.json`, `exports/<day>.json`). The content is built by
 * lambdas/core/evidence-publication.ts, the same core as `offboard evidence` and `offboard evidence verify`.
 * `{"day": "YYYY-MM-DD"}` as the event publishes that day instead (a missed run, by hand).
 */
import * as z from 'zod';
import { checkDay, dailyEvidence, previousUtcDay } from '../core/evidence-publication.js';
import { describeZodError } from '../core/request.js';
import type { ObjectStore, WorkflowLog } from './ports.js';

export interface EvidencePublicationDeps {
  ledger: Parameters<typeof dailyEvidence>[0];
  objects: ObjectStore;
  slaHours: number;
  clock: () => Date;
  log: Pick<WorkflowLog, 'info'>;
}

export interface EvidencePublishResult {
  day: string;
  locations: string[];
  records: number;
  leavers: number;
  exportDigest: string;
}

export class EvidenceChainBrokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvidenceChainBrokenError';
  }
}

const EventSchema = z.object({ day: z.string().optional() }).loose().optional();

/** The day to publish: the event's `day`, else the UTC day before the clock's. */
export function dayToPublish(event: unknown, now: Date): string {
  const parsed = EventSchema.safeParse(event ?? undefined);
  if (!parsed.success) throw new RangeError(`invalid event: ${describeZodError(parsed.error)}`);
  return parsed.data?.day === undefined ? previousUtcDay(now) : checkDay(parsed.data.day);
}

/**
 * Writes both objects, then fails the invocation if the day's chain did not recompute (the digest naming the
 * problem is written first, so the broken day is on record; the error raises the function's error alarm).
 */
export async function publishDailyEvidence(deps: EvidencePublicationDeps, event: unknown): Promise<EvidencePublishResult> {
  const day = dayToPublish(event, deps.clock());
  const published = await dailyEvidence(deps.ledger, day, deps.slaHours);
  const locations: string[] = [];
  for (const object of published.objects) {
    locations.push(await deps.objects.put({ key: object.key, body: object.body, contentType: 'application/json' }));
  }
  const { digest } = published;
  // Counts and hashes only: the export's emails stay in the bucket.
  deps.log.info('evidence published', { day, locations, records: digest.count, headHash: digest.headHash, leavers: published.export.summary.leavers, exportDigest: published.export.digest });
  const first = digest.problems[0];
  if (first !== undefined) {
    throw new EvidenceChainBrokenError(`evidence chain of ${day} broken at record #${first.seq ?? '?'}: ${first.problem} (${digest.problems.length} problem(s); digest written to ${locations[0]})`);
  }
  return { day, locations, records: digest.count, leavers: published.export.summary.leavers, exportDigest: published.export.digest };
}
