/**
 * The composed ArizeOffboardingStack, configured from cdk.json exactly as `cdk synth` does. Bundling is skipped
 * here (project-function.test.ts bundles for real); cdk-nag runs on the whole app.
 */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { ArizeOffboardingStack } from '../../lib/arize-offboarding-stack.js';
import { ConfigError } from '../../lib/config.js';
import { LEDGER_READ_ACTIONS, LEDGER_WRITE_ACTIONS } from '../../lib/constructs/project-function.js';
import { actionsOf, cdkJsonContext, logicalIdOf, SKIP_BUNDLING, statementsForRole } from './helpers.js';

interface FunctionResource {
  Properties: {
    Role: { 'Fn::GetAtt': [string, string] };
    Runtime: string;
    Architectures: string[];
    TracingConfig: { Mode: string };
    LoggingConfig?: { LogGroup: { Ref: string } };
    Environment: { Variables: Record<string, unknown> };
  };
}

describe('ArizeOffboardingStack', () => {
  let app: App;
  let stack: ArizeOffboardingStack;
  let template: Template;
  let functions: Record<string, FunctionResource>;

  beforeAll(() => {
    app = new App({ context: { ...cdkJsonContext(), ...SKIP_BUNDLING } });
    stack = new ArizeOffboardingStack(app, 'ArizeOffboarding');
    template = Template.fromStack(stack);
    functions = template.findResources('AWS::Lambda::Function') as Record<string, FunctionResource>;
  });

  it('passes cdk-nag AwsSolutions with zero unacknowledged findings', () => {
    const report = new AwsSolutionsChecks().validateScope(app);
    expect(report.violations.map((v) => `${v.ruleName} @ ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
  });

  it('exports queue URL, DLQ URL, state machine ARN, table name and topic ARN', () => {
    template.hasOutput('QueueUrl', { Value: { Ref: logicalIdOf(stack.intake.queue) } });
    template.hasOutput('DeadLetterQueueUrl', { Value: { Ref: logicalIdOf(stack.intake.deadLetterQueue) } });
    template.hasOutput('StateMachineArn', { Value: { Ref: logicalIdOf(stack.workflow.stateMachine) } });
    template.hasOutput('LedgerTableName', { Value: { Ref: logicalIdOf(stack.ledger.table) } });
    template.hasOutput('AlertTopicArn', { Value: { Ref: logicalIdOf(stack.alerts.topic) } });
  });

  it('runs every function on the pinned runtime, ARM64, active tracing, with its own retained log group', () => {
    const logGroups = template.findResources('AWS::Logs::LogGroup') as Record<
      string,
      { Properties: { RetentionInDays?: number }; DeletionPolicy?: string }
    >;
    // start + workflow + webhook + audit + evidence
    expect(Object.keys(functions).length).toBe(4 + stack.workflow.functions.length);
    for (const [id, fn] of Object.entries(functions)) {
      expect(fn.Properties, id).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], TracingConfig: { Mode: 'Active' } });
      const logGroupId = fn.Properties.LoggingConfig?.LogGroup.Ref;
      expect(logGroupId, `${id} has an explicit log group`).toBeDefined();
      expect(logGroups[logGroupId!]).toMatchObject({ Properties: { RetentionInDays: 90 }, DeletionPolicy: 'Retain' });
    }
  });

  it('runs a Standard state machine with ALL logging to its own log group and X-Ray tracing', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: Match.anyValue(),
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: {
        Level: 'ALL',
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] } } }],
      },
    });
    const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0] as {
      Properties: { StateMachineType?: string };
    };
    expect(machine.Properties.StateMachineType ?? 'STANDARD').toBe('STANDARD');
  });

  it('grants the start function StartExecution on the workflow and ledger writes only', () => {
    const statements = statementsForRole(template, logicalIdOf(stack.intake.startFunction.role!));
    const start = statements.filter((s) => actionsOf([s]).some((a) => a.startsWith('states:')));
    expect(actionsOf(start)).toEqual(['states:StartExecution']);
    expect(start.map((s) => s.Resource)).toEqual([{ Ref: logicalIdOf(stack.workflow.stateMachine) }]);
    const ledgerActions = actionsOf(statements).filter((a) => a.startsWith('dynamodb:'));
    // Creates request states and REJECTED outcomes, reads an existing id's state: no UpdateItem; Query only on the
    // evidence chain's partitions (the rejections it records are sealed there, issue 14).
    expect(ledgerActions).toEqual(['dynamodb:BatchWriteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query']);
    const query = statements.filter((s) => actionsOf([s]).includes('dynamodb:Query'));
    expect(query.map((s) => (s as { Condition?: unknown }).Condition)).toEqual([{ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['CHAIN#*'] } }]);
    expect(actionsOf(statements).some((a) => a.startsWith('secretsmanager:'))).toBe(false);
  });

  it('keeps every workflow function least-privileged: no queue, no StartExecution, no delete/scan, secret only if bound', () => {
    const allowedLedger = new Set([...LEDGER_READ_ACTIONS, ...LEDGER_WRITE_ACTIONS]);
    for (const fn of stack.workflow.functions) {
      const fnResource = functions[logicalIdOf(fn)]!;
      const actions = actionsOf(statementsForRole(template, fnResource.Properties.Role['Fn::GetAtt'][0]));
      const label = fn.node.id;
      expect(actions.filter((a) => a.startsWith('sqs:') || a.startsWith('states:')), label).toEqual([]);
      expect(actions.filter((a) => a.startsWith('dynamodb:') && !allowedLedger.has(a)), label).toEqual([]);
      const readsSecret = actions.includes('secretsmanager:GetSecretValue');
      expect(readsSecret, `${label}: secret access iff ARIZE_API_KEY_SECRET_ID is set`).toBe(
        'ARIZE_API_KEY_SECRET_ID' in fnResource.Properties.Environment.Variables,
      );
      expect(actions.some((a) => a.includes('*') && !a.startsWith('xray:')), `${label} has no wildcard action`).toBe(false);
    }
  });

  it('alarms on every function, the DLQ, a stalled intake queue, failed executions and FAILED outcomes — all to the alert topic', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as {
      Properties: { MetricName: string; AlarmActions: unknown[]; Dimensions?: { Name: string; Value: unknown }[] };
    }[];
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([{ Ref: logicalIdOf(stack.alerts.topic) }]);
    const errorAlarmTargets = alarms
      .filter((a) => a.Properties.MetricName === 'Errors')
      .map((a) => a.Properties.Dimensions?.find((d) => d.Name === 'FunctionName')?.Value);
    expect(errorAlarmTargets).toEqual(expect.arrayContaining(Object.keys(functions).map((id) => ({ Ref: id }))));
    expect(errorAlarmTargets).toHaveLength(Object.keys(functions).length);
    const others = alarms.map((a) => a.Properties.MetricName).filter((m) => m !== 'Errors').sort();
    expect(others).toEqual(
      ['5xx', 'ApproximateAgeOfOldestMessage', 'ApproximateNumberOfMessagesVisible', 'ExecutionsAborted', 'ExecutionsFailed', 'ExecutionsTimedOut', 'UsersFailed', 'SlaMissed', 'UsersHeld', 'OrphanedServiceKeys', 'UsersRehiredAfterDeletion', 'WebhookFailures'].sort(),
    );
  });

  it('keeps data on stack delete and hard-codes no physical names', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: { PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true }, DeletionProtectionEnabled: true },
      DeletionPolicy: 'Retain',
    });
    const resources = template.toJSON() as { Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string }> };
    const physicalNameKeys = ['TableName', 'QueueName', 'TopicName', 'FunctionName', 'RoleName', 'StateMachineName', 'LogGroupName'];
    for (const [id, resource] of Object.entries(resources.Resources)) {
      for (const key of physicalNameKeys) {
        // A literal string is a hard-coded name; a Ref/GetAtt to a generated one is fine.
        expect(typeof resource.Properties?.[key], `${id}.${key}`).not.toBe('string');
      }
      if (['AWS::DynamoDB::Table', 'AWS::SecretsManager::Secret', 'AWS::Logs::LogGroup', 'AWS::KMS::Key'].includes(resource.Type)) {
        expect(resource.DeletionPolicy, `${id} (${resource.Type})`).toBe('Retain');
      }
    }
  });

  it('refuses to build from a bad cdk.json context value, naming the key', () => {
    const badApp = new App({ context: { ...SKIP_BUNDLING, offboarding: { retry: { maxAttempts: 0 } } } });
    expect(() => new ArizeOffboardingStack(badApp, 'Bad')).toThrow(ConfigError);
    expect(() => new ArizeOffboardingStack(new App({ context: { offboarding: { dryRun: 'yes' } } }), 'Bad')).toThrow(
      /offboarding\.dryRun/,
    );
  });
});
