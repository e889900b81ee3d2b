/**
 * The scheduled pull Lambda's exported handler, wired from its environment as in AWS: the report from a local HTTP
 * server (bearer token checked), the credentials from a Secrets Manager stand-in (GetSecretValue, JSON 1.1), the
 * requests on a real local SQS queue. Rows → messages; a second pull enqueues the same request ids with the same
 * content, which the start handler acknowledges as duplicates (same id + same digest).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullRequestId } from '../../lambdas/core/hr/pull.js';
import { requestDigest } from '../../lambdas/core/request.js';
import { handler } from '../../lambdas/handlers/pull.js';
import { LOCAL_AWS_CREDENTIALS, LOCAL_AWS_REGION } from '../../local/engines/dynamo.js';
import { startSqs, type LocalSqs } from '../../local/engines/sqs.js';
import { lambdaContext } from '../support/lambda-context.js';
import { receiveAllRequests } from '../support/sqs.js';

const TOKEN = 'pull-token-5d0c1e';
const SECRET_ID = 'arize-offboarding/hr-pull';

const REPORT = [
  'Employee_ID,Work_Email,Termination_Date,Worker_Status,Time_Zone',
  '1001,emma.johansson@example.com,2026-11-30,Terminated,',
  '1002,"zara.ahmed@example.com",2030-01-31,Terminated,Asia/Tokyo',
  '1003,still.here@example.com,,Active,',
].join('\r\n');

let sqs: LocalSqs;
let queueUrl: string;
let report: Server;
let secrets: Server;
let reportBody = REPORT;
let acceptedToken = TOKEN;
const secretCalls: string[] = [];
const saved = { ...process.env };

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    req.on('end', () => resolve(text));
  });
}

const invoke = () => handler({}, lambdaContext('pull-function', 180_000));

beforeAll(async () => {
  sqs = await startSqs();
  ({ queueUrl } = await sqs.createQueues({ name: 'pull-intake', dlqName: 'pull-intake-dlq', maxReceiveCount: 5, visibilityTimeoutSeconds: 30 }));
  report = createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${acceptedToken}`) {
      res.writeHead(401).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8' }).end(reportBody);
  });
  secrets = createServer((req, res) => {
    void body(req).then((text) => {
      const { SecretId } = JSON.parse(text) as { SecretId: string };
      secretCalls.push(`${String(req.headers['x-amz-target'])} ${SecretId}`);
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ ARN: `arn:aws:secretsmanager:${LOCAL_AWS_REGION}:000000000000:secret:${SecretId}-AbCdEf`, Name: SecretId, SecretString: JSON.stringify({ token: TOKEN }) }));
    });
  });
  const [reportUrl, secretsUrl] = await Promise.all([listen(report), listen(secrets)]);
  Object.assign(process.env, {
    PULL_REPORT_URL: `${reportUrl}/ccx/service/customreport2/acme/Terminations?format=csv`,
    PULL_SECRET_ID: SECRET_ID,
    INTAKE_QUEUE_URL: queueUrl,
    OFFBOARDING_HR_TIME_ZONE: 'America/New_York',
    OFFBOARDING_HR_GRACE_MINUTES: '0',
    AWS_REGION: LOCAL_AWS_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_AWS_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_AWS_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsUrl,
  });
  delete process.env.PULL_REPORT_FORMAT;
}, 60_000);

afterAll(async () => {
  process.env = saved;
  await sqs.close();
  await Promise.all([report, secrets].map((server) => new Promise((resolve) => server.close(resolve))));
});

describe('scheduled pull Lambda', () => {
  const emmaId = pullRequestId('emma.johansson@example.com', '2026-11-30');
  const zaraId = pullRequestId('zara.ahmed@example.com', '2030-01-31');

  it('turns the terminated rows into requests on the intake queue; the next pull enqueues the same ids and content', async () => {
    await expect(invoke()).resolves.toEqual({ rows: 3, enqueued: 2, notTerminated: 1, problems: 0 });
    const first = await receiveAllRequests(sqs.client, queueUrl);
    expect(first.map((r) => [r.requestId, r.emails, r.effectiveAt, r.effectiveAtOriginal])).toEqual([
      [emmaId, ['emma.johansson@example.com'], '2026-12-01T05:00:00.000Z', '2026-11-30'],
      // The row's own zone wins over the configured one.
      [zaraId, ['zara.ahmed@example.com'], '2030-01-31T15:00:00.000Z', '2030-01-31'],
    ]);
    expect(secretCalls).toEqual([`secretsmanager.GetSecretValue ${SECRET_ID}`]);

    await expect(invoke()).resolves.toEqual({ rows: 3, enqueued: 2, notTerminated: 1, problems: 0 });
    const second = await receiveAllRequests(sqs.client, queueUrl);
    expect(second.map((r) => r.requestId)).toEqual([emmaId, zaraId]);
    expect(second.map(requestDigest)).toEqual(first.map(requestDigest));
    // The secret is cached for SECRET_MAX_AGE_SECONDS: a pull every few minutes does not read it every time.
    expect(secretCalls).toHaveLength(1);
  });

  it('enqueues the usable rows and then fails the invocation naming the unusable row, never its email', async () => {
    reportBody = `${REPORT}\r\n1004,not-an-email,2026-12-15,Terminated,`;
    try {
      const error = await invoke().then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(/1 unusable row\(s\) in the report from 127\.0\.0\.1:\d+: row 4: email: not a valid email address/);
      expect((error as Error).message).not.toMatch(/not-an-email/);
      expect((await receiveAllRequests(sqs.client, queueUrl)).map((r) => r.requestId)).toEqual([emmaId, zaraId]);
    } finally {
      reportBody = REPORT;
    }
  });

  it('credentials refused by the HR system: the invocation fails and nothing is enqueued', async () => {
    acceptedToken = 'rotated-token';
    try {
      await expect(invoke()).rejects.toThrow(/pull failed: the report URL refused the configured credentials \(401\)/);
      expect(await receiveAllRequests(sqs.client, queueUrl)).toEqual([]);
    } finally {
      acceptedToken = TOKEN;
    }
  });
});
