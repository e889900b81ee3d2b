/**
 * The evidence construct inside the composed stack (bundling skipped; cdk-nag runs in stack.test.ts): the Object Lock
 * bucket, the daily schedule and the function's grants.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ArizeOffboardingStack } from '../../lib/arize-offboarding-stack.js';
import { ConfigError, parseConfig } from '../../lib/config.js';
import { LEDGER_INDEX_BY_EMAIL, LEDGER_INDEX_BY_STATUS } from '../../lib/constructs/ledger.js';
import { actionsOf, buildStack, logicalIdOf, statementsForRole, statementsWithAction } from './helpers.js';

interface FunctionResource {
  Properties: { Role: { 'Fn::GetAtt': [string, string] }; Environment: { Variables: Record<string, unknown> } };
}

const build = buildStack;

describe('offboarding.evidence.retentionDays', () => {
  it('defaults to 400 days', () => {
    expect(parseConfig(undefined).evidence.retentionDays).toBe(400);
  });

  it.each([0, 1.5, 36_501, '400'])('rejects %s naming the key', (value) => {
    expect(() => parseConfig({ evidence: { retentionDays: value } })).toThrow(ConfigError);
    expect(() => parseConfig({ evidence: { retentionDays: value } })).toThrow(/offboarding\.evidence\.retentionDays/);
  });
});

describe('Evidence construct', () => {
  let stack: ArizeOffboardingStack;
  let template: Template;
  let fn: FunctionResource;
  let bucketId: string;

  beforeAll(() => {
    ({ stack, template } = build({ evidence: { slaHours: 8, retentionDays: 731 } }));
    fn = template.findResources('AWS::Lambda::Function')[logicalIdOf(stack.evidence.function)] as FunctionResource;
    bucketId = logicalIdOf(stack.evidence.bucket);
  });

  it('locks every object in compliance mode for the configured days, versioned, private, encrypted, retained', () => {
    const bucket = template.findResources('AWS::S3::Bucket')[bucketId] as { DeletionPolicy: string; UpdateReplacePolicy: string; Properties: Record<string, unknown> };
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.UpdateReplacePolicy).toBe('Retain');
    expect(bucket.Properties).toMatchObject({
      ObjectLockEnabled: true,
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 731 } } },
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    });
    // Evidence never expires by lifecycle: the lock decides how long it stays.
    expect(bucket.Properties.LifecycleConfiguration).toBeUndefined();
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('runs daily in UTC with retries, and tells the function its bucket, ledger and SLA', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(30 1 * * ? *)',
      ScheduleExpressionTimezone: 'Etc/UTC',
      Target: Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalIdOf(stack.evidence.function), 'Arn'] }, RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 2 }) }),
    });
    expect(fn.Properties.Environment.Variables).toMatchObject({
      EVIDENCE_BUCKET: { Ref: bucketId },
      EVIDENCE_SLA_HOURS: '8',
      LEDGER_TABLE_NAME: { Ref: logicalIdOf(stack.ledger.table) },
    });
    expect(Object.keys(fn.Properties.Environment.Variables).filter((k) => k.startsWith('ARIZE_'))).toEqual([]);
  });

  it('grants ledger Get/Query and PutObject under digests/ and exports/ of that bucket — nothing else', () => {
    const statements = statementsForRole(template, fn.Properties.Role['Fn::GetAtt'][0]);
    const actions = actionsOf(statements);
    expect(actions.filter((a) => !a.startsWith('xray:') && !a.startsWith('logs:')).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:Query', 's3:PutObject']);
    const tableArn = { 'Fn::GetAtt': [logicalIdOf(stack.ledger.table), 'Arn'] };
    expect(statementsWithAction(statements, 'dynamodb:GetItem').map((s) => s.Resource)).toEqual([tableArn]);
    expect(statementsWithAction(statements, 'dynamodb:Query')[0]?.Resource).toEqual([
      tableArn,
      ...[LEDGER_INDEX_BY_EMAIL, LEDGER_INDEX_BY_STATUS].map((index) => ({ 'Fn::Join': ['', [tableArn, `/index/${index}`]] })),
    ]);
    expect(statementsWithAction(statements, 's3:PutObject').flatMap((s) => s.Resource)).toEqual(
      ['digests/*', 'exports/*'].map((prefix) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, `/${prefix}`]] })),
    );
  });
});
