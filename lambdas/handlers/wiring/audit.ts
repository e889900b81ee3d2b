/** Production wiring of the audit use case (ports → AWS adapters), built once per container. */
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import * as z from 'zod';
import { s3ObjectStore } from '../../adapters/object-store.js';
import { SqsRequestQueue } from '../../adapters/queue.js';
import type { AuditPolicy } from '../../core/audit.js';
import { describeZodError } from '../../core/request.js';
import { log, metrics, tracer } from '../../observability.js';
import { objectStoreReportSink, type AuditDeps, type AuditMetricsSink } from '../../usecases/audit.js';
import { getDefaultArizeDirectory } from './arize.js';
import { getDefaultWiring } from './workflow.js';

export const powertoolsAuditMetrics: AuditMetricsSink = {
  audited({ driftDetected, failuresRedriven }) {
    metrics.addMetric('DriftDetected', MetricUnit.Count, driftDetected);
    metrics.addMetric('FailuresRedriven', MetricUnit.Count, failuresRedriven);
  },
};

const AuditEnvSchema = z.object({
  INTAKE_QUEUE_URL: z.string({ message: 'is required' }).trim().min(1, 'is required'),
  AUDIT_REPORT_BUCKET: z.string({ message: 'is required' }).trim().min(3, 'is required'),
  AUDIT_REDRIVE_OLDER_THAN_MINUTES: z.coerce.number().int().min(1).max(525_600).default(60),
  AUDIT_DRIFT_LOOKBACK_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
});

export function loadAuditEnv(env: Readonly<Record<string, string | undefined>>): { queueUrl: string; bucket: string; policy: AuditPolicy } {
  const parsed = AuditEnvSchema.safeParse(env);
  if (!parsed.success) throw new Error(`invalid Lambda environment: ${describeZodError(parsed.error)}`);
  return {
    queueUrl: parsed.data.INTAKE_QUEUE_URL,
    bucket: parsed.data.AUDIT_REPORT_BUCKET,
    policy: { redriveOlderThanMinutes: parsed.data.AUDIT_REDRIVE_OLDER_THAN_MINUTES, driftLookbackDays: parsed.data.AUDIT_DRIFT_LOOKBACK_DAYS },
  };
}

let defaultWiring: { deps: AuditDeps; policy: AuditPolicy } | undefined;

export function getDefaultAuditWiring(): { deps: AuditDeps; policy: AuditPolicy } {
  if (defaultWiring) return defaultWiring;
  const { ledger } = getDefaultWiring();
  const audit = loadAuditEnv(process.env);
  defaultWiring = {
    policy: audit.policy,
    deps: {
      ledger,
      directory: getDefaultArizeDirectory(),
      queue: new SqsRequestQueue({ queueUrl: audit.queueUrl, client: tracer.captureAWSv3Client(new SQSClient({})) }),
      clock: () => new Date(),
      log,
      metrics: powertoolsAuditMetrics,
      reports: objectStoreReportSink(s3ObjectStore(tracer.captureAWSv3Client(new S3Client({})), audit.bucket)),
    },
  };
  return defaultWiring;
}
