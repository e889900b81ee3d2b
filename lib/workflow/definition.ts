/**
 * The offboarding state machine, written once here (JSONPath ASL) and executed both by AWS and,
 * from the synthesised template, by the local engine. Stays within aws-local-stepfunctions' subset:
 * Lambda Tasks, inline Map, Wait, Choice, Retry/Catch; plus one SNS Task the local engine overrides.
 *
 * State I/O (payloads hold ids, emails of pending users and counts; everything else is in the ledger):
 *   execution input          OffboardingRequest
 *   Validate        → $      { request, schedule: { shouldWait, waitUntil } }
 *   ResolveEmails   → $      { request: RequestRef, plan: PlanState }
 *   DeleteUsers     → $.deleteResults  ChunkResult[]   (one Map item = { requestId, attempt, targets })
 *   PlanRetry       → $      { request, plan }  (plan.decision RETRY|DONE, attempt, chunks, waitSeconds)
 *   Summarize       → $      { requestId, status, counts }
 */
import { Duration } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { WORKFLOW_ERROR_NAMES } from '../../lambdas/core/workflow-state.js';
import type { WorkflowFunctionId, WorkflowTaskName, WorkflowWaitStateName } from './tasks.js';
import { WORKFLOW_STATES } from './tasks.js';

/** Transient Lambda service errors: the invocation never ran our code, or was throttled. */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  // The invoke call timed out on the Step Functions side (AWS lists it with the errors above to retry).
  'Lambda.ClientExecutionTimeoutException',
];

export interface OffboardingDefinitionProps {
  functions: Record<WorkflowFunctionId, IFunction>;
  alertTopic: ITopic;
  deleteMapConcurrency: number;
}

const taskName = (name: WorkflowTaskName) => name;
const waitName = (name: WorkflowWaitStateName) => name;

function withLambdaRetry<T extends sfn.TaskStateBase>(task: T): T {
  task.addRetry({
    errors: LAMBDA_SERVICE_ERRORS,
    interval: Duration.seconds(2),
    maxAttempts: 6,
    backoffRate: 2,
    maxDelay: Duration.seconds(60),
    jitterStrategy: sfn.JitterType.FULL,
  });
  return task;
}

function invoke(
  scope: Construct,
  name: WorkflowTaskName,
  fn: IFunction,
  options: { payload?: sfn.TaskInput; resultPath?: string; comment: string },
): tasks.LambdaInvoke {
  return withLambdaRetry(
    new tasks.LambdaInvoke(scope, taskName(name), {
      lambdaFunction: fn,
      // No payload ⇒ the whole state input (a `Parameters: "$"` string would not be valid ASL).
      ...(options.payload ? { payload: options.payload } : {}),
      payloadResponseOnly: true,
      // Our own Retry below adds jitter and a cap; the default one has neither.
      retryOnServiceExceptions: false,
      ...(options.resultPath !== undefined ? { resultPath: options.resultPath } : {}),
      comment: options.comment,
    }),
  );
}

export function buildOffboardingDefinition(scope: Construct, props: OffboardingDefinitionProps): sfn.IChainable {
  const f = props.functions;
  const catchAll = { errors: ['States.ALL'], resultPath: '$.error' };

  const failed = new sfn.Fail(scope, WORKFLOW_STATES.failed, {
    error: 'OffboardingFailed',
    cause: 'A task failed after its retries; the outcomes are recorded FAILED in the ledger',
  });
  const rejected = new sfn.Fail(scope, WORKFLOW_STATES.rejected, {
    error: WORKFLOW_ERROR_NAMES.invalidRequest,
    cause: 'The execution input is not a valid offboarding request; recorded REJECTED in the ledger',
  });
  const done = new sfn.Succeed(scope, WORKFLOW_STATES.succeeded);

  const recordFailure = invoke(scope, 'RecordFailure', f.RecordFunction, {
    payload: sfn.TaskInput.fromObject({
      action: 'FAILURE',
      state: sfn.JsonPath.entirePayload,
      error: sfn.JsonPath.objectAt('$.error'),
    }),
    resultPath: sfn.JsonPath.DISCARD,
    comment: 'Catch path: records FAILED for every email still without an outcome, marks the request FAILED',
  }).next(failed);

  const validate = invoke(scope, 'Validate', f.ValidateFunction, {
    comment: 'Re-validates the request, marks it RUNNING, decides whether to wait for effectiveAt',
  });
  validate.addCatch(rejected, { errors: [WORKFLOW_ERROR_NAMES.invalidRequest], resultPath: '$.error' });
  validate.addCatch(recordFailure, catchAll);

  const resolve = invoke(scope, 'ResolveEmails', f.ResolveFunction, {
    payload: sfn.TaskInput.fromObject({ request: sfn.JsonPath.objectAt('$.request') }),
    comment: 'Resolves emails to ids (exact match), records NOT_FOUND / PROTECTED, plans chunks and the guard',
  });
  resolve.addRetry({
    errors: [WORKFLOW_ERROR_NAMES.transientArize],
    interval: Duration.seconds(10),
    maxAttempts: 3,
    backoffRate: 3,
    maxDelay: Duration.seconds(300),
    jitterStrategy: sfn.JitterType.FULL,
  });
  resolve.addCatch(recordFailure, catchAll);

  const waitUntilEffective = new sfn.Wait(scope, waitName('WaitUntilEffective'), {
    time: sfn.WaitTime.timestampPath('$.schedule.waitUntil'),
  });
  const effectiveChoice = new sfn.Choice(scope, WORKFLOW_STATES.effectiveChoice)
    .when(sfn.Condition.booleanEquals('$.schedule.shouldWait', true), waitUntilEffective.next(resolve))
    .otherwise(resolve);

  const summarize = invoke(scope, 'Summarize', f.SummarizeFunction, {
    payload: sfn.TaskInput.fromObject({ requestId: sfn.JsonPath.stringAt('$.request.requestId') }),
    comment: 'Counts outcomes from the ledger and stores the final request state',
  });
  summarize.addCatch(recordFailure, catchAll);
  summarize.next(done);

  const alertHeld = new tasks.SnsPublish(scope, taskName('AlertHeld'), {
    topic: props.alertTopic,
    message: sfn.TaskInput.fromJsonPathAt('$.alert.message'),
    subject: 'Arize offboarding request HELD',
    resultPath: sfn.JsonPath.DISCARD,
    comment: 'Alerts a human: ids and counts only, no personal data',
  });
  alertHeld.addRetry({ errors: ['States.ALL'], interval: Duration.seconds(5), maxAttempts: 3, backoffRate: 2, jitterStrategy: sfn.JitterType.FULL });
  // HELD is already recorded (and alarmed through the UsersHeld metric): a lost notification must not fail the request.
  alertHeld.addCatch(summarize, { errors: ['States.ALL'], resultPath: '$.alertError' });

  const recordHeld = invoke(scope, 'RecordHeld', f.RecordFunction, {
    payload: sfn.TaskInput.fromObject({
      action: 'HELD',
      request: sfn.JsonPath.objectAt('$.request'),
      plan: sfn.JsonPath.objectAt('$.plan'),
    }),
    resultPath: '$.alert',
    comment: 'Blast-radius guard: records HELD for every target, marks the request HELD',
  });
  recordHeld.addCatch(recordFailure, catchAll);

  const recordDryRun = invoke(scope, 'RecordDryRun', f.RecordFunction, {
    payload: sfn.TaskInput.fromObject({
      action: 'DRY_RUN',
      request: sfn.JsonPath.objectAt('$.request'),
      plan: sfn.JsonPath.objectAt('$.plan'),
    }),
    resultPath: sfn.JsonPath.DISCARD,
    comment: 'Dry run: records DRY_RUN for every target, deletes nothing',
  });
  recordDryRun.addCatch(recordFailure, catchAll);

  const deleteChunk = invoke(scope, 'DeleteChunk', f.DeleteFunction, {
    comment: 'Deletes one chunk of users by id and records each outcome',
  });
  const recordChunkFailure = invoke(scope, 'RecordChunkFailure', f.RecordFunction, {
    payload: sfn.TaskInput.fromObject({
      action: 'CHUNK_FAILURE',
      requestId: sfn.JsonPath.stringAt('$.requestId'),
      attempt: sfn.JsonPath.numberAt('$.attempt'),
      targets: sfn.JsonPath.listAt('$.targets'),
      error: sfn.JsonPath.objectAt('$.error'),
    }),
    comment: 'The chunk task failed as a whole: records FAILED where nothing was recorded, offers the chunk for retry',
  });
  deleteChunk.addCatch(recordChunkFailure, catchAll);

  const deleteUsers = new sfn.Map(scope, WORKFLOW_STATES.deleteMap, {
    itemsPath: '$.plan.chunks',
    itemSelector: {
      requestId: sfn.JsonPath.stringAt('$.request.requestId'),
      attempt: sfn.JsonPath.numberAt('$.plan.attempt'),
      targets: sfn.JsonPath.listAt('$$.Map.Item.Value.targets'),
    },
    maxConcurrency: props.deleteMapConcurrency,
    resultPath: '$.deleteResults',
    comment: 'One item per chunk of ids (ChunkResult per item)',
  });
  deleteUsers.itemProcessor(deleteChunk);
  deleteUsers.addCatch(recordFailure, catchAll);

  const planRetry = invoke(scope, 'PlanRetry', f.PlanRetryFunction, {
    payload: sfn.TaskInput.fromObject({
      request: sfn.JsonPath.objectAt('$.request'),
      plan: sfn.JsonPath.objectAt('$.plan'),
      deleteResults: sfn.JsonPath.listAt('$.deleteResults'),
    }),
    comment: 'Gathers retryable failures into the next round and computes the growing backoff',
  });
  planRetry.addCatch(recordFailure, catchAll);

  const backoffWait = new sfn.Wait(scope, waitName('BackoffWait'), {
    time: sfn.WaitTime.secondsPath('$.plan.waitSeconds'),
  });
  const retriesLeft = new sfn.Choice(scope, WORKFLOW_STATES.retryChoice)
    .when(sfn.Condition.stringEquals('$.plan.decision', 'RETRY'), backoffWait.next(deleteUsers))
    .otherwise(summarize);

  deleteUsers.next(planRetry).next(retriesLeft);
  recordHeld.next(alertHeld).next(summarize);
  recordDryRun.next(summarize);

  const route = new sfn.Choice(scope, WORKFLOW_STATES.route)
    .when(sfn.Condition.stringEquals('$.plan.decision', 'DELETE'), deleteUsers)
    .when(sfn.Condition.stringEquals('$.plan.decision', 'HELD'), recordHeld)
    .when(sfn.Condition.stringEquals('$.plan.decision', 'DRY_RUN'), recordDryRun)
    .otherwise(summarize);

  resolve.next(route);
  return validate.next(effectiveChoice);
}
