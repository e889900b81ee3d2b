/**
 * The webhook and audit constructs inside the composed stack (bundling skipped; cdk-nag runs in stack.test.ts).
 */
import { SHARED_RATE_LIMIT_PK } from '../../lambdas/adapters/ledger-table.js';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ArizeOffboardingStack } from '../../lib/arize-offboarding-stack.js';
import { ConfigError, parseConfig } from '../../lib/config.js';
import { LEDGER_READ_ACTIONS } from '../../lib/constructs/project-function.js';
import { actionsOf, buildStack, logicalIdOf, statementsForRole, statementsWithAction } from './helpers.js';

interface FunctionResource {
  Properties: { Role: { 'Fn::GetAtt': [string, string] }; Environment: { Variables: Record<string, unknown> }; Timeout?: number };
}

const build = buildStack;

describe('webhook and audit config keys', () => {
  it('defaults: 10 rps / burst 20, daily 06:00 UTC audit, 60 min re-drive threshold, 90 day drift window', () => {
    const config = parseConfig(undefined);
    expect(config.webhook).toEqual({ throttlingRateLimit: 10, throttlingBurstLimit: 20, secretName: 'arize-offboarding/webhook-secret' });
    expect(config.audit).toEqual({ schedule: 'cron(0 6 * * ? *)', timeZone: 'UTC', redriveOlderThanMinutes: 60, driftLookbackDays: 90, reportRetentionDays: 365 });
  });

  it('rejects a malformed schedule and a zero threshold, naming the key', () => {
    expect(() => parseConfig({ audit: { schedule: 'daily' } })).toThrow(/offboarding\.audit\.schedule: must be cron\(\.\.\.\) or rate/);
    expect(() => parseConfig({ audit: { redriveOlderThanMinutes: 0 } })).toThrow(ConfigError);
    expect(() => parseConfig({ webhook: { throttlingBurstLimit: 0 } })).toThrow(/offboarding\.webhook\.throttlingBurstLimit/);
    expect(() => parseConfig({ webhook: { rateLimit: 5 } })).toThrow(/rateLimit/);
    expect(parseConfig({ audit: { schedule: 'rate(12 hours)' } }).audit.schedule).toBe('rate(12 hours)');
  });
});

describe('Webhook construct', () => {
  let stack: ArizeOffboardingStack;
  let template: Template;
  let fn: FunctionResource;

  beforeAll(() => {
    ({ stack, template } = build({ webhook: { throttlingRateLimit: 7, throttlingBurstLimit: 13 } }));
    fn = template.findResources('AWS::Lambda::Function')[logicalIdOf(stack.webhook.function)] as FunctionResource;
  });

  it('routes POST /hr/events to the webhook function with payload v2', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /hr/events' });
    template.resourceCountIs('AWS::ApiGatewayV2::Route', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', { IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
  });

  it('throttles the $default stage from config and writes JSON access logs (no body) to a retained log group', () => {
    const stages = Object.values(template.findResources('AWS::ApiGatewayV2::Stage')) as {
      Properties: { StageName: string; AutoDeploy: boolean; DefaultRouteSettings: unknown; AccessLogSettings: { DestinationArn: unknown; Format: string } };
    }[];
    expect(stages).toHaveLength(1);
    const stage = stages[0]!.Properties;
    expect(stage).toMatchObject({ StageName: '$default', AutoDeploy: true, DefaultRouteSettings: { ThrottlingRateLimit: 7, ThrottlingBurstLimit: 13 } });
    expect(stage.AccessLogSettings.DestinationArn).toEqual({ 'Fn::GetAtt': [logicalIdOf(stack.webhook.accessLogGroup), 'Arn'] });
    const format = JSON.parse(stage.AccessLogSettings.Format) as Record<string, string>;
    expect(format).toMatchObject({ requestId: '$context.requestId', status: '$context.status' });
    expect(Object.values(format).join(' ')).not.toMatch(/body|querystring/i);
    template.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Retain', Properties: { RetentionInDays: 90 } });
  });

  it('generates a retained secret and reads it by WEBHOOK_SECRET_ID; sends to the intake queue; reads and writes the ledger, never scans or deletes', () => {
    template.hasResource('AWS::SecretsManager::Secret', {
      DeletionPolicy: 'Retain',
      Properties: { Name: 'arize-offboarding/webhook-secret', GenerateSecretString: Match.objectLike({ PasswordLength: 64 }) },
    });
    expect(fn.Properties.Environment.Variables).toMatchObject({ INTAKE_QUEUE_URL: { Ref: logicalIdOf(stack.intake.queue) } });
    expect(JSON.stringify(fn.Properties.Environment.Variables.WEBHOOK_SECRET_ID)).toContain(logicalIdOf(stack.webhook.secret));
    const statements = statementsForRole(template, fn.Properties.Role['Fn::GetAtt'][0]);
    const actions = actionsOf(statements);
    expect(actions).toEqual(expect.arrayContaining(['sqs:SendMessage', 'secretsmanager:GetSecretValue']));
    expect(actions.filter((a) => a.startsWith('states:') || a.startsWith('s3:'))).toEqual([]);
    // The conflicting-eventId check reads a state item; a `termination.rescinded` event cancels pending requests
    // (queries the person's schedule and history, writes cancellations and outcomes). No scan, no delete.
    expect([...new Set(actions.filter((a) => a.startsWith('dynamodb:')))].sort()).toEqual(
      ['dynamodb:BatchWriteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'].sort(),
    );
    expect(statementsWithAction(statements, 'dynamodb:GetItem')[0]?.Resource).toEqual({ 'Fn::GetAtt': [logicalIdOf(stack.ledger.table), 'Arn'] });
    expect(fn.Properties.Environment.Variables).toMatchObject({ LEDGER_TABLE_NAME: { Ref: logicalIdOf(stack.ledger.table) } });
    expect(statementsWithAction(statements, 'sqs:SendMessage')[0]?.Resource).toEqual({ 'Fn::GetAtt': [logicalIdOf(stack.intake.queue), 'Arn'] });
    expect(statementsWithAction(statements, 'secretsmanager:GetSecretValue')[0]?.Resource).toEqual({ Ref: logicalIdOf(stack.webhook.secret) });
  });

  it('outputs the webhook URL', () => {
    const outputs = template.findOutputs('WebhookUrl');
    expect(JSON.stringify(outputs.WebhookUrl?.Value)).toContain('/hr/events');
    expect(JSON.stringify(outputs.WebhookUrl?.Value)).toContain(logicalIdOf(stack.webhook.api));
  });
});

describe('Audit construct', () => {
  let stack: ArizeOffboardingStack;
  let template: Template;
  let fn: FunctionResource;

  beforeAll(() => {
    ({ stack, template } = build({ audit: { schedule: 'cron(30 2 * * ? *)', timeZone: 'Europe/Berlin', redriveOlderThanMinutes: 120, driftLookbackDays: 30, reportRetentionDays: 400 } }));
    fn = template.findResources('AWS::Lambda::Function')[logicalIdOf(stack.audit.function)] as FunctionResource;
  });

  it('schedules the audit function with the configured cron and time zone', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(30 2 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalIdOf(stack.audit.function), 'Arn'] }, RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 2 }) }),
    });
    expect(fn.Properties.Environment.Variables).toMatchObject({
      AUDIT_REDRIVE_OLDER_THAN_MINUTES: '120',
      AUDIT_DRIFT_LOOKBACK_DAYS: '30',
      AUDIT_REPORT_BUCKET: { Ref: logicalIdOf(stack.audit.reportBucket) },
      INTAKE_QUEUE_URL: { Ref: logicalIdOf(stack.intake.queue) },
      LEDGER_TABLE_NAME: { Ref: logicalIdOf(stack.ledger.table) },
      ARIZE_API_HOST: 'api.arize.com',
    });
  });

  it('keeps reports in an encrypted, TLS-only, private, retained bucket that expires them', () => {
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: {
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        LifecycleConfiguration: { Rules: [Match.objectLike({ Status: 'Enabled', ExpirationInDays: 400 })] },
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalIdOf(stack.audit.reportBucket) },
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });

  it('grants ledger reads, queue sends, report writes and the Arize secret — nothing else', () => {
    const all = statementsForRole(template, fn.Properties.Role['Fn::GetAtt'][0]);
    // Issue 12: the audit calls Arize, so it shares the rate limit — UpdateItem on that one key only.
    const sharedLimit = all.filter((s) => JSON.stringify(s.Condition ?? {}).includes(SHARED_RATE_LIMIT_PK));
    expect(sharedLimit.map((s) => s.Action)).toEqual([['dynamodb:GetItem', 'dynamodb:UpdateItem']]);
    const statements = all.filter((s) => !sharedLimit.includes(s));
    const actions = actionsOf(statements);
    expect(actions).toEqual(expect.arrayContaining([...LEDGER_READ_ACTIONS, 'sqs:SendMessage', 's3:PutObject', 'secretsmanager:GetSecretValue']));
    expect(actions.filter((a) => /^dynamodb:(Put|Update|Delete|BatchWrite|Scan)/.test(a))).toEqual([]);
    expect(actions.filter((a) => a.startsWith('s3:') && a !== 's3:PutObject')).toEqual([]);
    expect(actions.filter((a) => a.startsWith('states:'))).toEqual([]);
    expect(statementsWithAction(statements, 's3:PutObject')[0]?.Resource).toEqual({
      'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalIdOf(stack.audit.reportBucket), 'Arn'] }, '/audits/*']],
    });
  });
});
