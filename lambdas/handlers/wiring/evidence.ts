/** Production wiring of evidence publication (ports → AWS adapters), built once per container. */
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as z from 'zod';
import { DynamoLedger, createDocumentClient } from '../../adapters/ledger.js';
import { s3ObjectStore } from '../../adapters/object-store.js';
import { describeZodError } from '../../core/request.js';
import { loadRuntimeConfig } from '../../core/runtime-config.js';
import { log, tracer } from '../../observability.js';
import { publishDailyEvidence, type EvidencePublishResult } from '../../usecases/evidence-publish.js';

export interface EvidencePublishDeps {
  ledger: DynamoLedger;
  bucket: string;
  s3: S3Client;
  slaHours: number;
  clock: () => Date;
}

/** The use case on S3: both objects to `bucket` (the Object Lock bucket in AWS). */
export function publishEvidence(deps: EvidencePublishDeps, event: unknown): Promise<EvidencePublishResult> {
  return publishDailyEvidence({ ledger: deps.ledger, objects: s3ObjectStore(deps.s3, deps.bucket), slaHours: deps.slaHours, clock: deps.clock, log }, event);
}

const EvidenceEnvSchema = z.object({ EVIDENCE_BUCKET: z.string({ message: 'is required' }).trim().min(3, 'is required') });

let defaultDeps: EvidencePublishDeps | undefined;

export function getDefaultEvidenceDeps(): EvidencePublishDeps {
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
