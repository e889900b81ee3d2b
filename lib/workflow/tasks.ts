/**
 * The contract between the state machine definition and whoever executes it.
 *
 * The local engine overrides every Task state by name with the real handler running in-process,
 * so the names below are stable API: renaming a state here breaks local execution and the
 * integration tests. `functionId` is the CDK construct id of the Lambda inside OffboardingWorkflow.
 */

export interface LambdaTaskBinding {
  kind: 'lambda';
  /** CDK construct id of the function (unique inside the OffboardingWorkflow construct). */
  functionId: WorkflowFunctionId;
  /** Handler module, relative to the repository root. */
  handlerModule: string;
  /** Export name inside that module. */
  exportName: 'handler';
}

export interface SnsTaskBinding {
  kind: 'sns';
  /** The message is built in the state machine; locally, publishing can be captured or ignored. */
  topic: 'alert';
}

export const WORKFLOW_FUNCTIONS = {
  ValidateFunction: 'lambdas/handlers/validate.ts',
  ResolveFunction: 'lambdas/handlers/resolve.ts',
  DeleteFunction: 'lambdas/handlers/delete.ts',
  RecordFunction: 'lambdas/handlers/record.ts',
  PlanRetryFunction: 'lambdas/handlers/plan-retry.ts',
  SummarizeFunction: 'lambdas/handlers/summarize.ts',
} as const;
export type WorkflowFunctionId = keyof typeof WORKFLOW_FUNCTIONS;

function lambdaTask(functionId: WorkflowFunctionId): LambdaTaskBinding {
  return { kind: 'lambda', functionId, handlerModule: WORKFLOW_FUNCTIONS[functionId], exportName: 'handler' };
}

/** Task state name → what runs it. Several states share one function (record.ts takes an `action`). */
export const WORKFLOW_TASKS = {
  Validate: lambdaTask('ValidateFunction'),
  ResolveEmails: lambdaTask('ResolveFunction'),
  RecordHeld: lambdaTask('RecordFunction'),
  AlertHeld: { kind: 'sns', topic: 'alert' } satisfies SnsTaskBinding,
  RecordDryRun: lambdaTask('RecordFunction'),
  DeleteChunk: lambdaTask('DeleteFunction'),
  RecordChunkFailure: lambdaTask('RecordFunction'),
  PlanRetry: lambdaTask('PlanRetryFunction'),
  Summarize: lambdaTask('SummarizeFunction'),
  RecordFailure: lambdaTask('RecordFunction'),
} as const satisfies Record<string, LambdaTaskBinding | SnsTaskBinding>;
export type WorkflowTaskName = keyof typeof WORKFLOW_TASKS;

/**
 * Wait states, so local runs can shorten or zero them (aws-local-stepfunctions `waitTimeOverrides`).
 * WaitUntilEffective uses TimestampPath `$.schedule.waitUntil`; BackoffWait uses SecondsPath `$.plan.waitSeconds`.
 */
export const WORKFLOW_WAIT_STATES = ['WaitUntilEffective', 'BackoffWait'] as const;
export type WorkflowWaitStateName = (typeof WORKFLOW_WAIT_STATES)[number];

/** Other state names tests may look for in the event log. */
export const WORKFLOW_STATES = {
  effectiveChoice: 'EffectiveAtInFuture',
  route: 'RouteByPlan',
  deleteMap: 'DeleteUsers',
  retryChoice: 'RetriesLeft',
  succeeded: 'Done',
  rejected: 'Rejected',
  failed: 'Failed',
} as const;
