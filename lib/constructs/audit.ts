import * as path from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { OffboardingConfig } from '../config.js';
import { workflowArizeEnvironment } from '../workflow/environment.js';
import { scheduleFunction } from './function-schedule.js';
import { PROJECT_ROOT, ProjectFunction } from './project-function.js';

export const AUDIT_HANDLER_ENTRY = path.join(PROJECT_ROOT, 'lambdas', 'handlers', 'audit.ts');
export const AUDIT_REPORT_PREFIX = 'audits/';

export interface AuditProps {
  readonly config: OffboardingConfig;
  readonly ledger: ITable;
  readonly intakeQueue: IQueue;
  readonly arizeSecret: ISecret;
  readonly logRetentionDays: number;
  /**
   * Handler module of the audit function.
   * @default lambdas/handlers/audit.ts
   */
  readonly entry?: string;
}

/**
 * EventBridge Scheduler (cron from context) → audit function: re-drive old failures, offboard terminated people
 * who re-appeared in Arize, write a JSON + CSV report to a private, encrypted, TLS-only bucket.
 */
export class Audit extends Construct {
  public readonly function: ProjectFunction;
  public readonly reportBucket: s3.Bucket;
  public readonly schedule: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: AuditProps) {
    super(scope, id);
    const { audit } = props.config;

    this.reportBucket = new s3.Bucket(this, 'Reports', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: false,
      // Reports list emails (personal data): kept for the audit period, then expired.
      lifecycleRules: [{ id: 'expire-reports', enabled: true, expiration: Duration.days(audit.reportRetentionDays), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
      // Evidence for auditors: a stack delete must not take it along.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.reportBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Only the audit function writes here (PutObject under audits/, nothing else has access); access is recorded by ' +
        'CloudTrail. A server-access-log bucket would itself be an unlogged bucket holding request metadata.',
    });

    this.function = new ProjectFunction(this, 'AuditFunction', {
      entry: props.entry ?? AUDIT_HANDLER_ENTRY,
      description: 'Scheduled audit: re-drives old failures, offboards terminated people who re-appeared in Arize',
      // One directory scan (≈ users/100 list calls) plus ledger queries; generous for large directories.
      timeout: Duration.minutes(5),
      logRetentionDays: props.logRetentionDays,
      environment: {
        ...workflowArizeEnvironment(props.config),
        AUDIT_REDRIVE_OLDER_THAN_MINUTES: String(audit.redriveOlderThanMinutes),
        AUDIT_DRIFT_LOOKBACK_DAYS: String(audit.driftLookbackDays),
      },
    });
    this.function.bindLedger(props.ledger, ['get', 'query']);
    this.function.bindQueue(props.intakeQueue, 'send');
    this.function.bindBucket(this.reportBucket, 'write', AUDIT_REPORT_PREFIX);
    this.function.bindSecret(props.arizeSecret);
    this.function.bindSharedRateLimit(props.ledger);

    this.schedule = scheduleFunction(this, this.function, { expression: audit.schedule, timeZone: audit.timeZone, what: 'the arize-offboarding audit' });
  }
}
