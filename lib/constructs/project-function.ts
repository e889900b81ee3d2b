import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type BundlingOptions, type NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { LEDGER_INDEX_BY_EMAIL, LEDGER_INDEX_BY_STATUS } from './ledger.js';

/** The repository root: handler entries and the lock file are resolved from it, never from the caller's working directory. */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const SERVICE_NAME = 'arize-offboarding';
export const METRICS_NAMESPACE = 'ArizeOffboarding';
export const DEFAULT_FUNCTION_TIMEOUT = Duration.seconds(30);
export const DEFAULT_LOG_RETENTION_DAYS = 90;

// nodejs24.x is the newest runtime this aws-cdk-lib knows; cdk-nag's AwsSolutions-L1 demands the newest.
export const PINNED_RUNTIME = Runtime.NODEJS_24_X;

// The bundle targets the oldest runtime we accept (22) so a caller pinning nodejs22.x still gets valid code.
const BUNDLE_TARGET = 'node22';

// esbuild's ESM output has no `require`; CommonJS dependencies that call it need one rebuilt from the module URL.
const CREATE_REQUIRE_BANNER =
  "import { createRequire as __projectCreateRequire } from 'node:module'; const require = __projectCreateRequire(import.meta.url);";

/** `readState`: one request's state item only (GetItem on the table), e.g. the webhook's conflicting-id check. */
export type LedgerAccess = 'readState' | 'read' | 'write' | 'readWrite';

/** What lambdas/adapters/ledger.ts calls: Get/Query to read, Put/Update/BatchWrite to write. */
export const LEDGER_READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'];
export const LEDGER_WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem'];

/** Every function gets its own explicit log group (retention, no shared group), so `logGroup`/`logRetention` are not caller props. */
export interface ProjectFunctionProps extends Omit<NodejsFunctionProps, 'logGroup' | 'logRetention'> {
  readonly entry: string;
  /**
   * Retention of the function's own log group; must be a CloudWatch Logs retention value.
   * @default 90
   */
  readonly logRetentionDays?: number;
}

/** Refuses a day count CloudWatch Logs would reject at deploy time, naming the allowed values. */
export function toRetentionDays(days: number): logs.RetentionDays {
  const allowed = Object.values(logs.RetentionDays).filter((v): v is number => typeof v === 'number');
  if (!allowed.includes(days)) {
    throw new Error(`logRetentionDays ${days} is not a CloudWatch Logs retention value; use one of ${allowed.join(', ')}`);
  }
  return days;
}

/**
 * A NodejsFunction with the project's pinned operational defaults. Caller props win, but `environment` and
 * `bundling` are merged key by key so overriding one variable or one esbuild flag never drops the others.
 */
export class ProjectFunction extends NodejsFunction {
  public readonly functionLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ProjectFunctionProps) {
    const { logRetentionDays, environment, bundling, ...callerProps } = props;

    const logGroup = new logs.LogGroup(scope, `${id}LogGroup`, {
      retention: toRetentionDays(logRetentionDays ?? DEFAULT_LOG_RETENTION_DAYS),
      // Logs are the audit trail of who was deleted and why; they must outlive a stack teardown. Retention
      // still bounds how long (masked) personal data is kept.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // Own role without AWSLambdaBasicExecutionRole: the managed policy may write to any log group, we only need ours.
    const role =
      props.role ??
      new iam.Role(scope, `${id}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `Execution role of the ${id} function`,
      });
    // A caller's role gets the grant too: the log group is always ours, and without it the function logs nothing.
    logGroup.grantWrite(role);

    super(scope, id, {
      runtime: PINNED_RUNTIME,
      architecture: Architecture.ARM_64,
      tracing: Tracing.ACTIVE,
      timeout: DEFAULT_FUNCTION_TIMEOUT,
      memorySize: 512,
      // Explicit, so synthesis does not depend on the caller's working directory (local engines, tests, a bundled CLI run elsewhere).
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      ...callerProps,
      role,
      logGroup,
      bundling: ProjectFunction.mergeBundling(bundling),
      environment: ProjectFunction.mergeEnvironment(environment),
    });
    this.functionLogGroup = logGroup;

    if (!props.role) {
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Active X-Ray tracing needs xray:PutTraceSegments/PutTelemetryRecords, which support no resource-level ' +
          'permissions (AWS documents Resource "*"); every data grant of this role is scoped to a resource.',
      });
    }
  }

  /** Pinned esbuild options with the caller's overriding key by key. */
  public static mergeBundling(caller: BundlingOptions = {}): BundlingOptions {
    return {
      minify: true,
      sourceMap: true,
      format: OutputFormat.ESM,
      target: BUNDLE_TARGET,
      mainFields: ['module', 'main'],
      banner: CREATE_REQUIRE_BANNER,
      // Local esbuild only: synth must work offline, without Docker.
      forceDockerBundling: false,
      ...caller,
    };
  }

  /** Default environment with the caller's variables overriding key by key. */
  public static mergeEnvironment(caller: Record<string, string> = {}): Record<string, string> {
    return {
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      ...caller,
    };
  }

  /**
   * Sets LEDGER_TABLE_NAME and grants exactly the calls the ledger adapter makes for that access — no deletes, no
   * scans, no wildcard index ARN (reads name the two GSIs explicitly).
   */
  public bindLedger(table: ITable, access: LedgerAccess): void {
    this.addEnvironment('LEDGER_TABLE_NAME', table.tableName);
    if (access === 'readState') {
      iam.Grant.addToPrincipal({ grantee: this, actions: ['dynamodb:GetItem'], resourceArns: [table.tableArn] });
    }
    if (access === 'read' || access === 'readWrite') {
      iam.Grant.addToPrincipal({
        grantee: this,
        actions: LEDGER_READ_ACTIONS,
        resourceArns: [
          table.tableArn,
          ...[LEDGER_INDEX_BY_EMAIL, LEDGER_INDEX_BY_STATUS].map((index) => `${table.tableArn}/index/${index}`),
        ],
      });
    }
    if (access === 'write' || access === 'readWrite') {
      iam.Grant.addToPrincipal({ grantee: this, actions: LEDGER_WRITE_ACTIONS, resourceArns: [table.tableArn] });
    }
    if (access === 'readState') table.encryptionKey?.grantDecrypt(this);
    else table.encryptionKey?.grantEncryptDecrypt(this);
  }

  /**
   * Sets the env var (default ARIZE_API_KEY_SECRET_ID) to the secret's name, which resolves the same way for a
   * secret created here and one imported by name (an imported partial ARN would lack the random suffix).
   */
  public bindSecret(secret: ISecret, envName = 'ARIZE_API_KEY_SECRET_ID'): void {
    this.addEnvironment(envName, secret.secretName);
    secret.grantRead(this);
  }

  public bindStateMachine(stateMachine: IStateMachine): void {
    this.addEnvironment('STATE_MACHINE_ARN', stateMachine.stateMachineArn);
    stateMachine.grantStartExecution(this);
  }

  /** env INTAKE_QUEUE_URL; SendMessage (and the KMS calls of a customer-managed key) on this queue only. */
  public bindQueue(queue: IQueue, access: 'send'): void {
    this.addEnvironment('INTAKE_QUEUE_URL', queue.queueUrl);
    if (access === 'send') queue.grantSendMessages(this);
  }

  /**
   * env AUDIT_REPORT_BUCKET (or `envName`); PutObject under `prefix` only — writers never read, list or delete.
   * The object wildcard is inherent to "write new objects under a prefix" and is acknowledged for cdk-nag.
   */
  public bindBucket(bucket: IBucket, access: 'write', prefix = 'audits/', envName = 'AUDIT_REPORT_BUCKET'): void {
    this.addEnvironment(envName, bucket.bucketName);
    if (access === 'write') {
      iam.Grant.addToPrincipal({ grantee: this, actions: ['s3:PutObject'], resourceArns: [bucket.arnForObjects(`${prefix}*`)] });
      bucket.encryptionKey?.grantEncrypt(this);
    }
    const cfnBucket = bucket.node.defaultChild;
    if (this.role && cfnBucket instanceof CfnElement) {
      Validations.of(this.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${Stack.of(bucket).getLogicalId(cfnBucket)}.Arn>/${prefix}*]`,
        reason: 'Report objects get new, dated keys on every run: PutObject is scoped to the report prefix of this one bucket.',
      });
    }
  }

  /** Publish on this topic only; with a customer-managed key, exactly the two KMS calls SNS makes for a publisher. */
  public bindTopic(topic: ITopic): void {
    this.addEnvironment('ALERT_TOPIC_ARN', topic.topicArn);
    iam.Grant.addToPrincipal({ grantee: this, actions: ['sns:Publish'], resourceArns: [topic.topicArn] });
    topic.masterKey?.grant(this, 'kms:GenerateDataKey', 'kms:Decrypt');
  }
}
