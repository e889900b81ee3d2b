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
import { EVIDENCE_CHAIN_PK_PREFIX, SHARED_RATE_LIMIT_PK } from '../../lambdas/adapters/ledger-table.js';
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
/**
 * Built-in modules the bundles take through `process.getBuiltinModule` instead of an ESM `import`. Importing a
 * built-in as ESM makes Node build a facade that reads every export, and on Node 24 `node:http`'s exports include
 * lazy getters (`WebSocket`, `MessageEvent`, …) that load undici: 65–90 ms of every cold start, for classes no
 * Lambda of ours uses (`node:process` adds ≈ 11 ms, `node:fs` ≈ 7 ms; measured with `npm run bench:bundles`).
 * Each alias is a one-line CommonJS module; esbuild's interop reads the properties the code imports, when it uses
 * them, and `require('http')` in a CommonJS dependency gets the same object. An alias also claims its subpaths, so
 * `fs/promises` has its own.
 */
export const BUILTINS_WITHOUT_ESM_FACADE = ['http', 'process', 'fs', 'fs/promises'] as const;

function builtinsWithoutEsmFacade(names: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    names.flatMap((name) => {
      const file = path.join(PROJECT_ROOT, 'lambdas', 'bundle-aliases', `node-${name.replace('/', '-')}.cjs`);
      return [
        [name, file],
        [`node:${name}`, file],
      ];
    }),
  );
}

/**
 * Packages replaced in the bundles by the part of them a Lambda can use (each module says why): the SDK's credential
 * chain by the runtime's environment credentials, `semver` by the one function the tracing libraries call, the SDK's
 * event-stream support (no call of ours streams events) by a stub that fails if one ever does.
 */
const BUNDLE_ALIASES: Record<string, string> = {
  '@aws-sdk/credential-provider-node': path.join(PROJECT_ROOT, 'lambdas', 'bundle-aliases', 'credential-provider.ts'),
  semver: path.join(PROJECT_ROOT, 'lambdas', 'bundle-aliases', 'semver.ts'),
  '@smithy/core/event-streams': path.join(PROJECT_ROOT, 'lambdas', 'bundle-aliases', 'event-streams.ts'),
  ...builtinsWithoutEsmFacade(BUILTINS_WITHOUT_ESM_FACADE),
};

const CREATE_REQUIRE_BANNER =
  "import { createRequire as __projectCreateRequire } from 'node:module'; const require = __projectCreateRequire(import.meta.url);";

/**
 * One ledger call family of lambdas/adapters/ledger.ts: `get` GetItem (request state), `query` Query (outcomes of a
 * request, the byEmail/byStatus indexes), `put` PutItem + BatchWriteItem (outcomes, new request states), `update`
 * UpdateItem (request state transitions). Nothing calls BatchGetItem, DeleteItem or Scan.
 */
export type LedgerOperation = 'get' | 'query' | 'put' | 'update';
/** Presets: `readState` = one request's state item (GetItem only, e.g. the webhook's conflicting-id check). */
export type LedgerAccess = 'readState' | 'read' | 'write' | 'readWrite' | readonly LedgerOperation[];

const LEDGER_OPERATION_ACTIONS: Record<LedgerOperation, readonly string[]> = {
  get: ['dynamodb:GetItem'],
  query: ['dynamodb:Query'],
  put: ['dynamodb:PutItem', 'dynamodb:BatchWriteItem'],
  update: ['dynamodb:UpdateItem'],
};
const LEDGER_ACCESS_OPERATIONS: Record<'readState' | 'read' | 'write' | 'readWrite', readonly LedgerOperation[]> = {
  readState: ['get'],
  read: ['get', 'query'],
  write: ['put', 'update'],
  readWrite: ['get', 'query', 'put', 'update'],
};

/** What lambdas/adapters/ledger.ts calls: Get/Query to read, Put/Update/BatchWrite to write. */
export const LEDGER_READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:Query'];
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
      // The map still maps every frame to file and line (NODE_OPTIONS=--enable-source-maps); the sources themselves
      // tripled its size, in every deployed zip, for nothing a stack trace needs.
      sourcesContent: false,
      format: OutputFormat.ESM,
      target: BUNDLE_TARGET,
      mainFields: ['module', 'main'],
      banner: CREATE_REQUIRE_BANNER,
      // Nothing external, the AWS SDK included: the runtime's preinstalled SDK is a different version from the one
      // tested, and it lacks transitive packages (aws-xray-sdk-core needs @smithy/service-error-classification), so a
      // bundle relying on it failed at init with MODULE_NOT_FOUND. The deploy suite loads every bundle in isolation.
      externalModules: [],
      // Local esbuild only: synth must work offline, without Docker.
      forceDockerBundling: false,
      ...caller,
      esbuildArgs: { '--alias': Object.entries(BUNDLE_ALIASES).map(([name, file]) => `${name}=${file}`), ...caller.esbuildArgs },
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
   * Sets LEDGER_TABLE_NAME and grants exactly the ledger calls the handler makes — no deletes, no scans, no wildcard
   * index ARN (queries name the two GSIs explicitly). `access` is a preset or the list of operations.
   */
  public bindLedger(table: ITable, access: LedgerAccess): void {
    this.addEnvironment('LEDGER_TABLE_NAME', table.tableName);
    const operations = new Set(typeof access === 'string' ? LEDGER_ACCESS_OPERATIONS[access] : access);
    const onTable = [...operations].filter((op) => op !== 'query').flatMap((op) => LEDGER_OPERATION_ACTIONS[op]);
    if (onTable.length > 0) iam.Grant.addToPrincipal({ grantee: this, actions: onTable, resourceArns: [table.tableArn] });
    if (operations.has('query')) {
      iam.Grant.addToPrincipal({
        grantee: this,
        actions: [...LEDGER_OPERATION_ACTIONS.query],
        resourceArns: [
          table.tableArn,
          ...[LEDGER_INDEX_BY_EMAIL, LEDGER_INDEX_BY_STATUS].map((index) => `${table.tableArn}/index/${index}`),
        ],
      });
    }
    // A function that records outcomes also appends them to the evidence chain (lambdas/adapters/ledger.ts): it
    // reads the day's head and the records beyond it; what it may not read already, it may read there only
    // (partition keys CHAIN#<day>).
    const chainReads = operations.has('put') ? (['get', 'query'] as const).filter((op) => !operations.has(op)).flatMap((op) => LEDGER_OPERATION_ACTIONS[op]) : [];
    if (chainReads.length > 0) {
      iam.Grant.addToPrincipal({
        grantee: this,
        actions: chainReads,
        resourceArns: [table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${EVIDENCE_CHAIN_PK_PREFIX}*`] } },
      });
    }
    // Readers only decrypt; anything that writes needs both.
    if (operations.has('put') || operations.has('update')) table.encryptionKey?.grantEncryptDecrypt(this);
    else table.encryptionKey?.grantDecrypt(this);
  }

  /**
   * Turns on the rate limit shared by every function calling Arize (lambdas/arize/shared-budget.ts): GetItem and
   * UpdateItem on its one item of the ledger table, scoped to that partition key by dynamodb:LeadingKeys.
   */
  public bindSharedRateLimit(table: ITable): void {
    this.addEnvironment('ARIZE_SHARED_RATE_LIMIT', 'true');
    iam.Grant.addToPrincipal({
      grantee: this,
      actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      resourceArns: [table.tableArn],
      conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [SHARED_RATE_LIMIT_PK] } },
    });
    table.encryptionKey?.grantEncryptDecrypt(this);
  }

  /**
   * Sets the env var (default ARIZE_API_KEY_SECRET_ID) to the secret's name, which resolves the same way for a
   * secret created here and one imported by name (an imported partial ARN would lack the random suffix).
   */
  public bindSecret(secret: ISecret, envName = 'ARIZE_API_KEY_SECRET_ID'): void {
    this.addEnvironment(envName, secret.secretName);
    // GetSecretValue only (grantRead adds DescribeSecret, which nothing calls). A secret imported by name has no
    // full ARN: Secrets Manager appends six random characters, matched like grantRead does.
    iam.Grant.addToPrincipal({
      grantee: this,
      actions: ['secretsmanager:GetSecretValue'],
      resourceArns: [secret.secretFullArn ?? `${secret.secretArn}-??????`],
    });
    secret.encryptionKey?.grantDecrypt(this);
  }

  public bindStateMachine(stateMachine: IStateMachine): void {
    this.addEnvironment('STATE_MACHINE_ARN', stateMachine.stateMachineArn);
    stateMachine.grantStartExecution(this);
  }

  /**
   * env INTAKE_QUEUE_URL; SendMessage (which also covers SendMessageBatch) and the KMS calls of a customer-managed
   * key on this queue only — not grantSendMessages' GetQueueUrl/GetQueueAttributes, which nothing calls.
   */
  public bindQueue(queue: IQueue, access: 'send'): void {
    this.addEnvironment('INTAKE_QUEUE_URL', queue.queueUrl);
    if (access === 'send') {
      iam.Grant.addToPrincipal({ grantee: this, actions: ['sqs:SendMessage'], resourceArns: [queue.queueArn] });
      queue.encryptionMasterKey?.grantEncryptDecrypt(this);
    }
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
