/**
 * The deployed stack end to end, from cdk.out only: the bundled handlers in Node 24 workers with the template's
 * environment, the template's state machine on aws-local-stepfunctions, dynalite, local SQS, the Arize sandbox over
 * HTTP — and every AWS call checked against the caller's role in the template (denied calls fail like in AWS).
 */
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoLedger } from '../../lambdas/adapters/ledger.js';
import { executionNameFor } from '../../lambdas/core/execution-name.js';
import { rejectionIdFor } from '../../lambdas/core/rejection.js';
import { signWebhook } from '../../lambdas/core/webhook.js';
import { createLocalSqsClient } from '../../local/engines/sqs.js';
import { generateDirectory } from '../../local/sandbox/seed.js';
import type { ExecutionResult } from '../../local/engines/stepfunctions.js';
import { worstCaseHistoryEvents, MAX_EXECUTION_HISTORY_EVENTS, type AslDefinition } from '../../lib/workflow/history.js';
import { DeployedStack } from './stack.js';
import { stateMachineDefinition } from './template.js';

const API_KEY = 'deploy-suite-key';
const LEAVERS = 1000;
// The first seed user owns the API key; 1,000 leavers follow, then people who stay.
const directory = generateDirectory(LEAVERS + 21, { domain: 'deploy.example', seed: 7 });
const leavers = directory.slice(1, LEAVERS + 1).map((u) => u.email.toLowerCase());

let stack: DeployedStack;
let ledger: DynamoLedger;

async function execution(requestId: string): Promise<ExecutionResult> {
  const name = executionNameFor(requestId);
  const arn = stack.executions.find((a) => a.endsWith(`:${name}`));
  if (!arn) throw new Error(`no execution started for ${requestId} (started: ${stack.executions.join(', ')})`);
  return stack.stateMachine.waitForExecution(arn);
}

async function queueDepth(queueUrl: string): Promise<number> {
  const client = createLocalSqsClient(queueUrl.split('/000000000000/')[0]!);
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  client.destroy();
  return Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

async function sendToIntake(body: string): Promise<void> {
  // What `offboard submit/approve` does: a message on the intake queue (sent by an operator, outside the stack).
  const client = createLocalSqsClient(stack.queueUrl.split('/000000000000/')[0]!);
  await client.send(new SendMessageCommand({ QueueUrl: stack.queueUrl, MessageBody: body }));
  client.destroy();
  await stack.drainIntake();
}

function webhookEvent(body: string, secret: string, signature?: string) {
  const t = Math.floor(Date.now() / 1000);
  return {
    version: '2.0',
    routeKey: 'POST /hr/events',
    rawPath: '/hr/events',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', 'x-offboarding-signature': signature ?? signWebhook(secret, Buffer.from(body), t) },
    requestContext: { http: { method: 'POST', path: '/hr/events' }, requestId: 'r', stage: '$default' },
    body,
    isBase64Encoded: false,
  };
}

function webhookSecret(): string {
  const arn = [...stack.secrets.keys()].find((a) => a.includes('webhook'))!;
  return stack.secrets.get(arn)!;
}

async function invokeWebhook(event: ReturnType<typeof webhookEvent>): Promise<{ statusCode: number; body: string }> {
  // API Gateway invokes the function under its Lambda permission (a resource policy on the function).
  const fn = stack.fn('WebhookWebhookFunction');
  const apiId = Object.keys(stack.resolver.template.Resources).find((id) => stack.resolver.template.Resources[id]!.Type === 'AWS::ApiGatewayV2::Api')!;
  await stack.enforce({
    caller: 'apigateway.amazonaws.com',
    action: 'lambda:InvokeFunction',
    resource: stack.resolver.getAtt(fn.logicalId, 'Arn'),
    context: { 'aws:SourceArn': `arn:aws:execute-api:us-east-1:000000000000:${apiId}/$default/POST/hr/events` },
  });
  return (await stack.worker('WebhookWebhookFunction').invoke(event)) as { statusCode: number; body: string };
}

beforeAll(async () => {
  stack = await DeployedStack.start({ seed: directory, apiKey: API_KEY });
  ledger = new DynamoLedger({ tableName: stack.tableName, client: stack.dynamoDoc });
  await stack.startIntake();
});

afterAll(async () => {
  await stack?.close();
});

describe('the deployed stack, from cdk.out', () => {
  it('webhook → queue → start → workflow → ledger: a signed HR event deletes the leaver in the sandbox', async () => {
    const email = leavers[0]!;
    const body = JSON.stringify({ eventId: 'evt-deploy-1', type: 'employee.terminated', employee: { email } });
    const response = await invokeWebhook(webhookEvent(body, webhookSecret()));
    expect(response.statusCode).toBe(202);
    await stack.drainIntake();
    const requestId = 'hr-evt-deploy-1';
    const result = await execution(requestId);
    expect(result.status, result.cause).toBe('SUCCEEDED');
    const outcomes = await ledger.outcomesOfRequest(requestId);
    expect(outcomes.map((o) => [o.email, o.status])).toEqual([[email, 'DELETED']]);
    expect((await ledger.getRequestState(requestId))?.status).toBe('COMPLETED');
    expect(stack.sandbox.store.users().find((u) => u.email.toLowerCase() === email)?.deleted).toBe(true);
  });

  it('holds 1,000 emails above the blast-radius cap, alerts through the encrypted topic and emits UsersHeld', async () => {
    const requestId = 'bulk-1000';
    await sendToIntake(JSON.stringify({ requestId, type: 'employee.terminated', emails: leavers.slice(1).concat('extra.person@deploy.example') }));
    const result = await execution(requestId);
    expect(result.status, result.cause).toBe('SUCCEEDED');
    expect((await ledger.getRequestState(requestId))?.status).toBe('HELD');
    // The alert went out: the state machine role may publish and use the topic key (defect 3).
    expect(stack.published.map((p) => p.subject)).toContain('Arize offboarding request HELD');
    expect(result.events.some((e) => e.type === 'StateEntered' && (e as { state?: { name?: string } }).state?.name === 'Summarize')).toBe(true);
    const held = (await ledger.outcomesOfRequest(requestId)).filter((o) => o.status === 'HELD');
    expect(held.length).toBeGreaterThan(900);
    expect(stack.metrics('WorkflowRecordFunction').UsersHeld).toBe(held.length);
    expect(stack.sandbox.store.users().filter((u) => u.deleted)).toHaveLength(1);
  });

  it('an approval of the held emails deletes them all (Resolve reads the ledger: defect 2), within payload and history limits', async () => {
    // What `offboard approve` sends: the held emails, naming the HELD request.
    const emails = (await ledger.outcomesOfRequest('bulk-1000')).filter((o) => o.status === 'HELD').map((o) => o.email);
    await sendToIntake(JSON.stringify({ requestId: 'bulk-1000-approved', type: 'employee.terminated', emails, approvesHeldRequest: 'bulk-1000' }));
    const result = await execution('bulk-1000-approved');
    expect(result.status, result.cause).toBe('SUCCEEDED');
    const outcomes = await ledger.outcomesOfRequest('bulk-1000-approved');
    expect(outcomes.filter((o) => o.status === 'FAILED')).toEqual([]);
    const deletedOutcomes = outcomes.filter((o) => o.status === 'DELETED');
    expect(deletedOutcomes).toHaveLength(emails.length);
    expect((await ledger.getRequestState('bulk-1000-approved'))?.status).toBe('COMPLETED');
    const deleted = new Set(stack.sandbox.store.users().filter((u) => u.deleted).map((u) => u.email.toLowerCase()));
    for (const o of deletedOutcomes) expect(deleted.has(o.email)).toBe(true);
    // History: the happy run is far below the limit; the worst retry case is computed from the same ASL.
    const asl = stateMachineDefinition(stack.resolver).definition as unknown as AslDefinition;
    const policy = stack.fn('WorkflowResolveFunction').environment;
    const worst = worstCaseHistoryEvents(asl, { emails: LEAVERS, deleteChunkSize: Number(policy.DELETE_CHUNK_SIZE), rounds: Number(policy.RETRY_MAX_ATTEMPTS) });
    console.log(`1,000-email request: worst-case history ${worst} events (limit ${MAX_EXECUTION_HISTORY_EVENTS})`);
    expect(worst).toBeLessThan(MAX_EXECUTION_HISTORY_EVENTS);
  });

  it('malformed messages are rejected on the ledger and never retried; bad webhook calls get 4xx, an outage 503 with a metric', async () => {
    const notJson = '{not json';
    const badEmails = JSON.stringify({ requestId: 'bad-emails', type: 'employee.terminated', emails: ['not-an-email'] });
    await sendToIntake(notJson);
    await sendToIntake(badEmails);
    for (const body of [notJson, badEmails]) {
      expect((await ledger.getRequestState(rejectionIdFor(body)))?.status).toBe('REJECTED');
    }
    expect(stack.executions.some((a) => a.includes(executionNameFor('bad-emails')))).toBe(false);
    // Deleted from the queue (not redelivered into the DLQ).
    expect(await queueDepth(stack.queueUrl)).toBe(0);
    expect(await queueDepth(stack.dlqUrl)).toBe(0);

    const body = JSON.stringify({ eventId: 'evt-bad', type: 'employee.terminated', employee: { email: leavers[5] } });
    expect((await invokeWebhook(webhookEvent(body, 'wrong-secret'))).statusCode).toBe(401);
    const missing = JSON.stringify({ eventId: 'evt-missing', type: 'employee.terminated' });
    expect((await invokeWebhook(webhookEvent(missing, webhookSecret()))).statusCode).toBe(400);
  });

  it('the scheduled audit runs under the scheduler role and writes its report under audits/', async () => {
    const audit = stack.fn('AuditAuditFunction');
    const schedulerRole = Object.keys(stack.resolver.template.Resources).find((id) => id.startsWith('AuditSchedulerRole') && stack.resolver.template.Resources[id]!.Type === 'AWS::IAM::Role')!;
    await stack.enforce({ caller: schedulerRole, action: 'lambda:InvokeFunction', resource: stack.resolver.getAtt(audit.logicalId, 'Arn') });
    await stack.worker('AuditAuditFunction').invoke({});
    const keys = [...stack.objects.keys()];
    expect(keys.length).toBeGreaterThanOrEqual(1);
    expect(keys.every((k) => /^arn:aws:s3:::audit\w+\/audits\//i.test(k))).toBe(true);
  });

  it("the scheduled evidence function publishes a day's digest and export under digests/ and exports/ of its bucket", async () => {
    const evidence = stack.fn('EvidenceEvidenceFunction');
    const schedulerRole = Object.keys(stack.resolver.template.Resources).find((id) => id.startsWith('EvidenceSchedulerRole') && stack.resolver.template.Resources[id]!.Type === 'AWS::IAM::Role')!;
    await stack.enforce({ caller: schedulerRole, action: 'lambda:InvokeFunction', resource: stack.resolver.getAtt(evidence.logicalId, 'Arn') });
    // Today's chain holds this suite's outcomes (the schedule publishes yesterday's, empty here).
    const day = new Date().toISOString().slice(0, 10);
    await stack.worker('EvidenceEvidenceFunction').invoke({ day });
    const keys = [...stack.objects.keys()].filter((k) => /^arn:aws:s3:::evidence/i.test(k));
    expect(keys.map((k) => k.replace(/^arn:aws:s3:::[^/]+\//, '')).sort()).toEqual([`digests/${day}.json`, `exports/${day}.json`]);
    const digest = JSON.parse(stack.objects.get(keys.find((k) => k.includes('/digests/'))!)!.toString('utf8')) as { count: number; problems: unknown[] };
    expect(digest.problems).toEqual([]);
    expect(digest.count).toBeGreaterThan(0);
  });

  it('the webhook answers 503 and counts WebhookFailures when Secrets Manager is down (fresh container)', async () => {
    const { LambdaWorker } = await import('./bundles.js');
    const fn = stack.fn('WebhookWebhookFunction');
    const existing = stack.worker('WebhookWebhookFunction');
    const fresh = new LambdaWorker({ fn, extraEnv: existing.options.extraEnv });
    stack.secretsUnavailable = true;
    try {
      const body = JSON.stringify({ eventId: 'evt-outage', type: 'employee.terminated', employee: { email: leavers[6] } });
      const response = (await fresh.invoke(webhookEvent(body, webhookSecret()))) as { statusCode: number };
      expect(response.statusCode).toBe(503);
      const emf = fresh.logs.filter((l) => l.includes('"WebhookFailures"'));
      expect(emf).toHaveLength(1);
    } finally {
      stack.secretsUnavailable = false;
      await fresh.close();
    }
  });

  it('made no AWS call the template does not allow, and no log line holds a leaver address', () => {
    const denied = stack.iam.denied().map((d) => `${d.caller} ${d.action} ${d.resource} → ${d.result}`);
    expect(denied).toEqual([]);
    const distinct = [...new Set(stack.iam.decisions.map((d) => `${d.caller.replace(/[A-F0-9]{8}$/, '')} ${d.action}`))].sort();
    console.log(`AWS calls checked against the template (${stack.iam.decisions.length} calls):\n  ${distinct.join('\n  ')}`);
    // The calls the defects were about really happened and were allowed.
    expect(distinct).toEqual(expect.arrayContaining([
      expect.stringMatching(/^WorkflowResolveFunctionRole dynamodb:GetItem$/),
      expect.stringMatching(/^WorkflowResolveFunctionRole dynamodb:Query$/),
      expect.stringMatching(/^WorkflowStateMachineRole kms:GenerateDataKey$/),
      expect.stringMatching(/^WorkflowStateMachineRole sns:Publish$/),
    ]));
    const leaked = stack.allLogs().filter((line) => leavers.some((email) => line.includes(email)));
    expect(leaked.slice(0, 3)).toEqual([]);
  });
});
