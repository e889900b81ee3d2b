import * as path from 'node:path';
import { CfnElement, Duration, RemovalPolicy, Stack, TimeZone, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import { PROJECT_ROOT, ProjectFunction } from './project-function.js';

export const EVIDENCE_HANDLER_ENTRY = path.join(PROJECT_ROOT, 'lambdas', 'handlers', 'evidence-publish.ts');
/** Key prefixes of lambdas/core/evidence-publication.ts (`digests/<day>.json`, `exports/<day>.json`). */
export const EVIDENCE_PREFIXES = ['digests/', 'exports/'] as const;

export interface EvidenceProps {
  readonly ledger: ITable;
  /** Object Lock default retention (compliance mode): no one, root included, can delete or overwrite a version before it ends. */
  readonly retentionDays: number;
  /** Removal SLA in hours for the export's verdicts (offboarding.evidence.slaHours). */
  readonly slaHours: number;
  readonly logRetentionDays: number;
  /**
   * When the previous UTC day is published (EventBridge Scheduler expression, read in UTC).
   * @default cron(30 1 * * ? *) — 01:30 UTC, after the day's chain has closed
   */
  readonly schedule?: string;
  /**
   * Handler module of the evidence function.
   * @default lambdas/handlers/evidence-publish.ts
   */
  readonly entry?: string;
}

/**
 * Tamper-evident evidence in AWS: a daily scheduled function writes the previous UTC day's chain digest and evidence
 * export to a bucket with Object Lock in compliance mode (write once, kept for `retentionDays`, never removed with
 * the stack).
 */
export class Evidence extends Construct {
  public readonly bucket: s3.Bucket;
  public readonly function: ProjectFunction;
  public readonly schedule: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: EvidenceProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Object Lock requires versioning: a re-run for a day adds a version, the locked earlier one stays.
      versioned: true,
      objectLockEnabled: true,
      objectLockDefaultRetention: s3.ObjectLockRetention.compliance(Duration.days(props.retentionDays)),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Only the evidence function writes here (PutObject under digests/ and exports/); access is recorded by CloudTrail, ' +
        'and Object Lock makes every version immutable for the retention period, which is what auditors rely on.',
    });

    this.function = new ProjectFunction(this, 'EvidenceFunction', {
      entry: props.entry ?? EVIDENCE_HANDLER_ENTRY,
      description: "Publishes the previous UTC day's evidence chain digest and evidence export to the Object Lock bucket",
      // A day's events and their outcomes (a few ledger queries per leaver): generous for a large offboarding day.
      timeout: Duration.minutes(5),
      logRetentionDays: props.logRetentionDays,
      environment: { EVIDENCE_SLA_HOURS: String(props.slaHours) },
    });
    this.function.bindLedger(props.ledger, 'read');
    for (const prefix of EVIDENCE_PREFIXES) this.function.bindBucket(this.bucket, 'write', prefix, 'EVIDENCE_BUCKET');

    const schedulerRole = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com'),
      description: 'Lets EventBridge Scheduler invoke the evidence function',
    });
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: 'Publishes the previous UTC day of arize-offboarding evidence',
      schedule: scheduler.ScheduleExpression.expression(props.schedule ?? 'cron(30 1 * * ? *)', TimeZone.ETC_UTC),
      target: new LambdaInvoke(this.function, { role: schedulerRole, retryAttempts: 2, maxEventAge: Duration.hours(1) }),
    });
    Validations.of(schedulerRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.function.node.defaultChild as CfnElement)}.Arn>:*]`,
      reason:
        'aws-scheduler-targets grants lambda:InvokeFunction on the evidence function and its versions/aliases (<arn>:*); ' +
        'the role can invoke this one function only.',
    });
  }
}
