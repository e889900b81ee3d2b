import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { OffboardingConfig } from '../config.js';
import { buildOffboardingDefinition } from '../workflow/definition.js';
import { workflowArizeEnvironment, workflowPolicyEnvironment } from '../workflow/environment.js';
import { MAX_EXECUTION_HISTORY_EVENTS, aslOfDefinition, worstCaseHistoryEvents } from '../workflow/history.js';
import { WORKFLOW_FUNCTIONS, type WorkflowFunctionId } from '../workflow/tasks.js';
import { MAX_EMAILS_PER_REQUEST } from '../../lambdas/core/request.js';
import { PROJECT_ROOT, ProjectFunction, toRetentionDays, type LedgerOperation } from './project-function.js';

export interface OffboardingWorkflowProps {
  readonly ledger: ITable;
  readonly arizeSecret: ISecret;
  readonly alertTopic: ITopic;
  readonly config: OffboardingConfig;
  /**
   * Retention of every task function's and the state machine's log group.
   * @default config.logRetentionDays
   */
  readonly logRetentionDays?: number;
}

interface FunctionSpec {
  description: string;
  timeout: Duration;
  /** The ledger calls the handler makes (lambdas/adapters/ledger.ts); `none` still gets the table name. */
  ledger: readonly LedgerOperation[] | 'none';
  arize: boolean;
}

/**
 * Calls to Arize get minutes (a chunk of 100 deletes at 10 req/s with client retries, or a directory scan);
 * the bookkeeping functions seconds.
 */
const FUNCTION_SPECS: Record<WorkflowFunctionId, FunctionSpec> = {
  // Rejections create a state and outcomes (put); otherwise RUNNING/REJECTED transitions (update).
  ValidateFunction: { description: 'Validates the request and schedules it', timeout: Duration.seconds(30), ledger: ['put', 'update'], arize: false },
  // isApprovedRelease reads the HELD request's state (get) and outcomes (query): without them approval fails.
  ResolveFunction: { description: 'Resolves emails to Arize users and plans the deletes', timeout: Duration.minutes(5), ledger: ['get', 'query', 'put'], arize: true },
  // get + query: the cancellation check right before the DELETEs reads the request's state and its cancellations;
  // get also reads the request's effective time, to count deletions recorded after the removal SLA (SlaMissed).
  DeleteFunction: { description: 'Deletes one chunk of Arize users by id', timeout: Duration.minutes(5), ledger: ['get', 'query', 'put'], arize: true },
  RecordFunction: { description: 'Records HELD, DRY_RUN and catch-path outcomes', timeout: Duration.seconds(60), ledger: ['query', 'put', 'update'], arize: false },
  PlanRetryFunction: { description: 'Plans the next delete round and its backoff', timeout: Duration.seconds(30), ledger: 'none', arize: false },
  // get/put: a rescind that raced a DELETE is found (state + cancellations) and recorded REHIRED_AFTER_DELETION.
  SummarizeFunction: { description: 'Counts outcomes and stores the final request state', timeout: Duration.seconds(60), ledger: ['get', 'query', 'put', 'update'], arize: false },
};

/** The Step Functions workflow and its task Lambdas. The start function lives with the intake queue. */
export class OffboardingWorkflow extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly functions: ProjectFunction[];
  public readonly functionsById: Record<WorkflowFunctionId, ProjectFunction>;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: OffboardingWorkflowProps) {
    super(scope, id);
    const { config } = props;
    const logRetentionDays = props.logRetentionDays ?? config.logRetentionDays;

    // Shared with the local runtime, so both read the same variables (lib/workflow/environment.ts).
    const policyEnvironment = workflowPolicyEnvironment(config);
    const arizeEnvironment = workflowArizeEnvironment(config);

    const byId = {} as Record<WorkflowFunctionId, ProjectFunction>;
    for (const [functionId, entry] of Object.entries(WORKFLOW_FUNCTIONS) as [WorkflowFunctionId, string][]) {
      const spec = FUNCTION_SPECS[functionId];
      const fn = new ProjectFunction(this, functionId, {
        entry: path.join(PROJECT_ROOT, entry),
        description: spec.description,
        timeout: spec.timeout,
        logRetentionDays,
        environment: { ...policyEnvironment, ...(spec.arize ? arizeEnvironment : {}) },
      });
      // The shared runtime config requires the table name of every workflow function; one that never touches the
      // ledger gets the name and deliberately no grant.
      if (spec.ledger === 'none') fn.addEnvironment('LEDGER_TABLE_NAME', props.ledger.tableName);
      else fn.bindLedger(props.ledger, spec.ledger);
      if (spec.arize) {
        fn.bindSecret(props.arizeSecret);
        fn.bindSharedRateLimit(props.ledger);
      }
      byId[functionId] = fn;
    }
    this.functionsById = byId;
    this.functions = Object.values(byId);

    this.logGroup = new logs.LogGroup(this, 'StateMachineLogs', {
      retention: toRetentionDays(logRetentionDays),
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      comment: 'Arize offboarding: validate → wait → resolve → guard → delete in chunks with retries → summarize',
      definitionBody: sfn.DefinitionBody.fromChainable(
        buildOffboardingDefinition(this, {
          functions: byId,
          alertTopic: props.alertTopic,
          deleteMapConcurrency: config.deleteMapConcurrency,
        }),
      ),
      tracingEnabled: true,
      logs: {
        destination: this.logGroup,
        level: sfn.LogLevel.ALL,
        // State payloads hold emails (personal data): log every transition, but not its data.
        includeExecutionData: false,
      },
    });

    // The HELD alert: SNS needs these two calls on the topic's customer-managed key for this role, or the publish is
    // denied and the Catch swallows it.
    props.alertTopic.masterKey?.grant(this.stateMachine, 'kms:GenerateDataKey', 'kms:Decrypt');

    const stack = Stack.of(this);
    const cfnStateMachine = this.stateMachine.node.defaultChild as sfn.CfnStateMachine;
    this.node.addValidation({
      validate: () => {
        const events = worstCaseHistoryEvents(aslOfDefinition(stack.resolve(cfnStateMachine.definitionString)), {
          emails: MAX_EMAILS_PER_REQUEST,
          deleteChunkSize: config.deleteChunkSize,
          rounds: config.retry.maxAttempts,
        });
        return events < MAX_EXECUTION_HISTORY_EVENTS
          ? []
          : [
              `offboarding.deleteChunkSize ${config.deleteChunkSize} (with offboarding.retry.maxAttempts ${config.retry.maxAttempts}): a ` +
                `${MAX_EMAILS_PER_REQUEST}-email request can reach ${events} history events in the worst retry case, above Step Functions' ` +
                `${MAX_EXECUTION_HISTORY_EVENTS}; raise deleteChunkSize or lower retry.maxAttempts`,
            ];
      },
    });
    const stateMachineRole = Validations.of(this.stateMachine.role);
    stateMachineRole.acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray tracing (xray:PutTraceSegments, PutTelemetryRecords, GetSamplingRules/Targets) and CloudWatch Logs ' +
        'delivery (logs:CreateLogDelivery, GetLogDelivery, …) support no resource-level permissions; AWS documents Resource "*".',
    });
    for (const fn of this.functions) {
      const logicalId = stack.getLogicalId(fn.node.defaultChild as CfnFunction);
      stateMachineRole.acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>:*]`,
        reason:
          'LambdaInvoke grants the function ARN and its qualified forms (versions/aliases); the wildcard is confined to ' +
          'this one function of the workflow.',
      });
    }
  }
}
