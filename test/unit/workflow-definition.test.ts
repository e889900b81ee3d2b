import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config.js';
import { OffboardingWorkflow } from '../../lib/constructs/offboarding-workflow.js';
import { LAMBDA_SERVICE_ERRORS } from '../../lib/workflow/definition.js';
import { WORKFLOW_TASKS, WORKFLOW_WAIT_STATES } from '../../lib/workflow/tasks.js';

type State = Record<string, unknown> & { Type: string };
let template: Template;
let states: Record<string, State>;

/** Flattens the top-level states and the Map's item processor into one name → state map. */
function allStates(definition: { States: Record<string, State> }): Record<string, State> {
  const result: Record<string, State> = {};
  for (const [name, state] of Object.entries(definition.States)) {
    result[name] = state;
    const processor = (state.ItemProcessor ?? state.Iterator) as { States: Record<string, State> } | undefined;
    if (processor) Object.assign(result, allStates(processor));
  }
  return result;
}

beforeAll(() => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'WorkflowTest');
  const config = parseConfig({ deleteMapConcurrency: 3, protectedRoles: ['ADMIN'], maxDeletesPerRequest: 25 });
  new OffboardingWorkflow(stack, 'Workflow', {
    ledger: new dynamodb.Table(stack, 'Ledger', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } }),
    arizeSecret: new secretsmanager.Secret(stack, 'Secret'),
    alertTopic: new sns.Topic(stack, 'Topic'),
    config,
  });
  template = Template.fromStack(stack);
  const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0] as {
    Properties: { DefinitionString: { 'Fn::Join': [string, unknown[]] } };
  };
  // Tokens (function and topic ARNs) become placeholders; the structure is what we assert on.
  const json = machine.Properties.DefinitionString['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : 'TOKEN')).join('');
  states = allStates(JSON.parse(json) as { States: Record<string, State> });
});

describe('offboarding state machine definition', () => {
  it('has exactly the Task and Wait states the local engine maps', () => {
    const tasks = Object.entries(states).filter(([, s]) => s.Type === 'Task').map(([name]) => name).sort();
    expect(tasks).toEqual(Object.keys(WORKFLOW_TASKS).sort());
    const waits = Object.entries(states).filter(([, s]) => s.Type === 'Wait').map(([name]) => name).sort();
    expect(waits).toEqual([...WORKFLOW_WAIT_STATES].sort());
    expect(states.WaitUntilEffective).toMatchObject({ TimestampPath: '$.schedule.waitUntil' });
    expect(states.BackoffWait).toMatchObject({ SecondsPath: '$.plan.waitSeconds' });
  });

  it('stays inside the local engine subset: JSONPath, inline Map, no task tokens', () => {
    const text = JSON.stringify(states);
    expect(text).not.toMatch(/JSONata|waitForTaskToken|DISTRIBUTED|QueryLanguage/);
    expect(states.DeleteUsers).toMatchObject({ Type: 'Map', MaxConcurrency: 3, ItemsPath: '$.plan.chunks', ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' } } });
    for (const state of Object.values(states)) expect(typeof state.Parameters === 'string').toBe(false);
  });

  it('retries Lambda service errors with backoff and jitter on every Lambda task', () => {
    for (const [name, binding] of Object.entries(WORKFLOW_TASKS)) {
      if (binding.kind !== 'lambda') continue;
      const retry = (states[name]?.Retry ?? []) as Record<string, unknown>[];
      expect(retry, name).toContainEqual(
        expect.objectContaining({ ErrorEquals: LAMBDA_SERVICE_ERRORS, BackoffRate: 2, JitterStrategy: 'FULL', MaxDelaySeconds: 60 }),
      );
    }
  });

  it('every task that can lose outcomes has a Catch leading to a recording state', () => {
    const catchTarget = (name: string, error = 'States.ALL') =>
      ((states[name]?.Catch ?? []) as { ErrorEquals: string[]; Next: string }[]).find((c) => c.ErrorEquals.includes(error))?.Next;
    for (const name of ['Validate', 'ResolveEmails', 'RecordHeld', 'RecordDryRun', 'DeleteUsers', 'PlanRetry', 'Summarize']) {
      expect(catchTarget(name), name).toBe('RecordFailure');
    }
    expect(catchTarget('DeleteChunk')).toBe('RecordChunkFailure');
    expect(catchTarget('Validate', 'InvalidRequestError')).toBe('Rejected');
    expect(states.RecordFailure?.Next).toBe('Failed');
    expect(states.ResolveEmails?.Retry).toContainEqual(expect.objectContaining({ ErrorEquals: ['TransientArizeError'] }));
  });

  it('creates the task functions with least-privilege ledger access and the Arize secret only where Arize is called', () => {
    template.resourceCountIs('AWS::Lambda::Function', 6);
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: false }),
    });
    const functions = Object.values(template.findResources('AWS::Lambda::Function')) as { Properties: { Environment: { Variables: Record<string, unknown> } } }[];
    const withSecret = functions.filter((f) => 'ARIZE_API_KEY_SECRET_ID' in f.Properties.Environment.Variables);
    expect(withSecret).toHaveLength(2);
    for (const f of functions) {
      expect(f.Properties.Environment.Variables).toMatchObject({ MAX_DELETES_PER_REQUEST: '25', PROTECTED_ROLES: 'ADMIN' });
      expect(f.Properties.Environment.Variables.LEDGER_TABLE_NAME).toBeDefined();
    }
  });
});
