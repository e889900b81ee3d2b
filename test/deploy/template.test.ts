/**
 * The synthesised template itself (cdk.out), each issue-10 defect as a failing-then-passing pair: the policy or
 * setting without the fix is shown to fail the same check the template passes. The live run in pipeline.test.ts
 * makes the calls for real against these policies.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { MAX_EXECUTION_HISTORY_EVENTS, worstCaseHistoryEvents, type AslDefinition } from '../../lib/workflow/history.js';
import { MAX_EMAILS_PER_REQUEST } from '../../lambdas/core/request.js';
import { IamChecker, rolePolicies } from './iam.js';
import { CDK_OUT, functionsOf, loadTemplate, onlyResourceId, Resolver, resourceIds, stateMachineDefinition, str, type Json } from './template.js';

type AslValidator = (definition: unknown, options?: { checkPaths?: boolean; checkArn?: boolean }) => { isValid: boolean; errors: unknown[] };
const aslValidator = createRequire(import.meta.url)('asl-validator') as AslValidator;

const template = loadTemplate();
const resolver = new Resolver(template);
const fnRole = (prefix: string) => functionsOf(resolver).find((f) => f.logicalId.startsWith(prefix))!.roleId;
const tableArn = resolver.getAtt(onlyResourceId(template, 'AWS::DynamoDB::Table'), 'Arn');
const topicId = onlyResourceId(template, 'AWS::SNS::Topic');
const topicArn = resolver.ref(topicId);
const keyArn = resolver.resolveString(template.Resources[topicId]!.Properties!.KmsMasterKeyId);
const machine = stateMachineDefinition(resolver);

/** A role's policies with every statement granting one of `actions` removed: the template before the fix. */
function without(actions: string[]) {
  return (roleId: string) =>
    rolePolicies(resolver, roleId).map(({ name, policy }) => ({
      name,
      policy: {
        ...policy,
        Statement: policy.Statement.filter((s) => {
          const granted = ([] as Json[]).concat(s.Action ?? []).map(String);
          return !granted.some((a) => actions.includes(a));
        }),
      },
    }));
}

async function allowed(checker: IamChecker, caller: string, action: string, resource: string, context?: Record<string, string>): Promise<boolean> {
  return (await checker.check({ caller, action, resource, ...(context ? { context } : {}) })).allowed;
}

describe('defect 2: the Resolve function may read the ledger (isApprovedRelease)', () => {
  it.each(['dynamodb:GetItem', 'dynamodb:Query'])('%s on the ledger: denied without the grant, allowed by the template', async (action) => {
    const role = fnRole('WorkflowResolveFunction');
    expect(await allowed(new IamChecker(resolver, without([action])), role, action, tableArn)).toBe(false);
    expect(await allowed(new IamChecker(resolver), role, action, tableArn)).toBe(true);
  });
});

describe('defect 3: the HELD alert can be published to the encrypted topic, and UsersHeld is alarmed', () => {
  it.each(['kms:GenerateDataKey', 'kms:Decrypt'])('%s on the topic key for the state machine role: denied without the grant, allowed now', async (action) => {
    expect(await allowed(new IamChecker(resolver, without([action])), machine.roleId, action, keyArn)).toBe(false);
    expect(await allowed(new IamChecker(resolver), machine.roleId, action, keyArn)).toBe(true);
    expect(await allowed(new IamChecker(resolver), machine.roleId, 'sns:Publish', topicArn)).toBe(true);
  });

  it('alarms on the UsersHeld metric to the alert topic', () => {
    const alarms = resourceIds(template, 'AWS::CloudWatch::Alarm').map((id) => template.Resources[id]!.Properties!);
    const usersHeld = alarms.filter((a) => a.MetricName === 'UsersHeld');
    expect(usersHeld).toHaveLength(1);
    expect(resolver.resolve(usersHeld[0]!.AlarmActions)).toEqual([topicArn]);
  });
});

describe('defect 4: CloudWatch alarms may publish to the CMK-encrypted topic', () => {
  const alarmArn = `arn:aws:cloudwatch:us-east-1:000000000000:alarm:${resourceIds(template, 'AWS::CloudWatch::Alarm')[0]}`;
  const context = { 'aws:SourceArn': alarmArn, 'aws:SourceAccount': '000000000000' };

  it('sns:Publish by cloudwatch.amazonaws.com: denied by a topic policy holding only the TLS Deny, allowed by the template', async () => {
    const policyId = onlyResourceId(template, 'AWS::SNS::TopicPolicy');
    const policy = template.Resources[policyId]!.Properties!.PolicyDocument as { Statement: { Effect: string }[] };
    const tlsOnly = structuredClone(template);
    (tlsOnly.Resources[policyId]!.Properties!.PolicyDocument as { Statement: unknown[] }).Statement = policy.Statement.filter((s) => s.Effect === 'Deny');
    expect(await allowed(new IamChecker(new Resolver(tlsOnly)), 'cloudwatch.amazonaws.com', 'sns:Publish', topicArn, context)).toBe(false);
    expect(await allowed(new IamChecker(resolver), 'cloudwatch.amazonaws.com', 'sns:Publish', topicArn, context)).toBe(true);
  });

  it.each(['kms:GenerateDataKey', 'kms:Decrypt'])('%s on the topic key by cloudwatch.amazonaws.com is allowed by the key policy', async (action) => {
    expect(await allowed(new IamChecker(resolver), 'cloudwatch.amazonaws.com', action, keyArn, context)).toBe(true);
  });

  it('every alarm notifies the alert topic', () => {
    for (const id of resourceIds(template, 'AWS::CloudWatch::Alarm')) {
      expect(resolver.resolve(template.Resources[id]!.Properties!.AlarmActions), id).toEqual([topicArn]);
    }
  });
});

describe('defect 5: missing alert and key-owner emails are said out loud at synth', () => {
  it('cdk.out carries a warning for each (the cdk.json defaults set neither)', () => {
    // The stack's metadata (cdk.out/<stack>.metadata.json): construct path → entries.
    const metadata = JSON.parse(readFileSync(path.join(CDK_OUT, 'ArizeOffboarding.metadata.json'), 'utf8')) as Record<string, { type: string; data: unknown }[]>;
    const warnings = Object.values(metadata)
      .flat()
      .filter((entry) => entry.type === 'aws:cdk:warning')
      .map((entry) => String(entry.data));
    expect(warnings.some((w) => w.includes('offboarding.alertEmail is not set'))).toBe(true);
    expect(warnings.some((w) => w.includes('offboarding.arize.apiKeyOwnerEmail is not set'))).toBe(true);
  });
});

describe('defect 6: failures are visible, retries complete, grants narrow, limits respected', () => {
  it('alarms on webhook failures (the 503 path) and on API Gateway 5xx', () => {
    const metrics = resourceIds(template, 'AWS::CloudWatch::Alarm').map((id) => str(template.Resources[id]!.Properties!.MetricName));
    expect(metrics).toEqual(expect.arrayContaining(['WebhookFailures', '5xx']));
  });

  it('retries every Lambda task on Lambda.ClientExecutionTimeoutException', () => {
    const tasks: Record<string, Json>[] = [];
    const visit = (states: Record<string, Json>) => {
      for (const state of Object.values(states) as Record<string, Json>[]) {
        const nested = (state.ItemProcessor ?? state.Iterator) as { States?: Record<string, Json> } | undefined;
        if (nested?.States) visit(nested.States);
        if (state.Type === 'Task' && str(state.Resource).includes(':lambda:')) tasks.push(state);
      }
    };
    visit(machine.definition.States as Record<string, Json>);
    expect(tasks.length).toBeGreaterThanOrEqual(8);
    for (const task of tasks) {
      const errors = ((task.Retry ?? []) as { ErrorEquals: string[] }[]).flatMap((r) => r.ErrorEquals);
      expect(errors).toContain('Lambda.ClientExecutionTimeoutException');
    }
  });

  it('keeps a dead-lettered message at least a week longer than the queue could have kept it', () => {
    const queueProps = template.Resources[onlyResourceId(template, 'AWS::SQS::Queue', 'IntakeQueue')]!.Properties!;
    const dlqProps = template.Resources[onlyResourceId(template, 'AWS::SQS::Queue', 'IntakeDeadLetterQueue')]!.Properties!;
    const queue = Number(queueProps.MessageRetentionPeriod ?? 345_600);
    const dlq = Number(dlqProps.MessageRetentionPeriod ?? 345_600);
    expect(dlq - queue).toBeGreaterThanOrEqual(7 * 86_400);
  });

  it('grants no DescribeSecret, GetQueueUrl, BatchGetItem or ChangeMessageVisibility, and UpdateItem only where state is updated', () => {
    const actionsOf = (roleId: string) =>
      rolePolicies(resolver, roleId).flatMap(({ policy }) => policy.Statement.flatMap((s) => ([] as Json[]).concat(s.Action ?? []).map(String)));
    for (const fn of functionsOf(resolver)) {
      const actions = actionsOf(fn.roleId);
      expect(actions.filter((a) => ['secretsmanager:DescribeSecret', 'sqs:GetQueueUrl', 'dynamodb:BatchGetItem', 'sqs:ChangeMessageVisibility'].includes(a)), fn.logicalId).toEqual([]);
    }
    for (const prefix of ['IntakeStartFunction', 'WorkflowDeleteFunction', 'WorkflowResolveFunction']) {
      expect(actionsOf(fnRole(prefix)), prefix).not.toContain('dynamodb:UpdateItem');
    }
  });

  it('the worst retry case of a 1,000-email request stays below 25,000 history events; chunk size 1 would not', () => {
    const asl = machine.definition as unknown as AslDefinition;
    const env = functionsOf(resolver).find((f) => f.logicalId.startsWith('WorkflowResolveFunction'))!.environment;
    const scenario = { emails: MAX_EMAILS_PER_REQUEST, deleteChunkSize: Number(env.DELETE_CHUNK_SIZE), rounds: Number(env.RETRY_MAX_ATTEMPTS) };
    const deployed = worstCaseHistoryEvents(asl, scenario);
    const chunkOfOne = worstCaseHistoryEvents(asl, { ...scenario, deleteChunkSize: 1 });
    console.log(`worst-case history of a ${MAX_EMAILS_PER_REQUEST}-email request: ${deployed} events (deleteChunkSize ${scenario.deleteChunkSize}); ${chunkOfOne} with deleteChunkSize 1`);
    expect(deployed).toBeLessThan(MAX_EXECUTION_HISTORY_EVENTS);
    expect(chunkOfOne).toBeGreaterThan(MAX_EXECUTION_HISTORY_EVENTS);
  });
});

describe('the state machine definition', () => {
  it('is valid ASL (asl-validator, paths and ARNs checked)', () => {
    const result = aslValidator(machine.definition, { checkPaths: true, checkArn: true });
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });
});
