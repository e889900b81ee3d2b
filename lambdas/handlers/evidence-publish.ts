/**
 * The evidence Lambda (EventBridge Scheduler, daily): publishes the previous UTC day's chain digest and evidence
 * export to the Object Lock bucket (`digests/<day>.json`, `exports/<day>.json`). The content is built by
 * lambdas/core/evidence-publication.ts, the same core as `offboard evidence` and `offboard evidence verify`.
 * `{"day": "YYYY-MM-DD"}` as the event publishes that day instead (a missed run, by hand).
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as z from 'zod';
import { DynamoLedger, createDocumentClient } from '../adapters/ledger.js';
import { checkDay, dailyEvidence, previousUtcDay } from '../core/evidence-publication.js';
import { describeZodError } from '../core/request.js';
import { loadRuntimeConfig } from '../core/runtime-config.js';
import { log, tracer } from '../observability.js';
import { lambdaHandler } from './middleware.js';

export interface EvidencePublishDeps {
  ledger: DynamoLedger;
  bucket: string;
  s3: S3Client;
  slaHours: number;
  clock: () => Date;
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
export async function publishEvidence(deps: EvidencePublishDeps, event: unknown): Promise<EvidencePublishResult> {
  const day = dayToPublish(event, deps.clock());
  const published = await dailyEvidence(deps.ledger, day, deps.slaHours);
  for (const object of published.objects) {
    await deps.s3.send(new PutObjectCommand({ Bucket: deps.bucket, Key: object.key, Body: object.body, ContentType: 'application/json' }));
  }
  const locations = published.objects.map((o) => `s3://${deps.bucket}/${o.key}`);
  const { digest } = published;
  // Counts and hashes only: the export's emails stay in the bucket.
  log.info('evidence published', { day, locations, records: digest.count, headHash: digest.headHash, leavers: published.export.summary.leavers, exportDigest: published.export.digest });
  const first = digest.problems[0];
  if (first !== undefined) {
    throw new EvidenceChainBrokenError(`evidence chain of ${day} broken at record #${first.seq ?? '?'}: ${first.problem} (${digest.problems.length} problem(s); digest written to ${locations[0]})`);
  }
  return { day, locations, records: digest.count, leavers: published.export.summary.leavers, exportDigest: published.export.digest };
}

const EvidenceEnvSchema = z.object({ EVIDENCE_BUCKET: z.string({ message: 'is required' }).trim().min(3, 'is required') });

let defaultDeps: EvidencePublishDeps | undefined;

function getDefaultEvidenceDeps(): EvidencePublishDeps {
  if (defaultDeps) return defaultDeps;
  const config = loadRuntimeConfig(process.env);
  const env = EvidenceEnvSchema.safeParse(process.env);
  if (!env.success) throw new Error(`invalid Lambda environment: ${describeZodError(env.error)}`);
  defaultDeps = {
    ledger: new DynamoLedger({ tableName: config.ledgerTableName, client: createDocumentClient(tracer.captureAWSv3Client(new DynamoDBClient({}))) }),
    bucket: env.data.EVIDENCE_BUCKET,
    s3: tracer.captureAWSv3Client(new S3Client({})),
    slaHours: config.slaHours,
    clock: () => new Date(),
  };
  return defaultDeps;
}

export const handler = lambdaHandler(async (event: unknown): Promise<EvidencePublishResult> => publishEvidence(getDefaultEvidenceDeps(), event));
