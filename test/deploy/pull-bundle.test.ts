/**
 * The scheduled pull as shipped: cdk.json deploys no pull, so cdk.out has no pull bundle; this file synthesises the
 * HrPull construct with real bundling, loads its bundle in an isolated Node 24 worker with the template's
 * environment, and invokes it against a local report server, a Secrets Manager stand-in and local SQS.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullRequestId } from '../../lambdas/core/hr/pull.js';
import { HrPull } from '../../lib/constructs/hr-pull.js';
import { startSqs, type LocalSqs } from '../../local/engines/sqs.js';
import { receiveAllRequests } from '../support/sqs.js';
import { LambdaWorker } from './bundles.js';

const SECRET = JSON.stringify({ username: 'ISU_Offboarding', password: 'pw-7f3a' });
const BASIC = `Basic ${Buffer.from('ISU_Offboarding:pw-7f3a').toString('base64')}`;

let local: LocalSqs;
let queueUrl: string;
let servers: Server[] = [];
let worker: LambdaWorker;

function listen(server: Server): Promise<string> {
  servers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

beforeAll(async () => {
  local = await startSqs();
  ({ queueUrl } = await local.createQueues({ name: 'pull-bundle-intake', dlqName: 'pull-bundle-dlq', maxReceiveCount: 5, visibilityTimeoutSeconds: 30 }));
  const reportUrl = await listen(
    createServer((req, res) => {
      if (req.headers.authorization !== BASIC) return void res.writeHead(401).end();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ Report_Entry: [{ Work_Email: 'emma.johansson@example.com', Termination_Date: '2026-11-30' }, { Work_Email: 'kept@example.com', Worker_Status: 'Active' }] }));
    }),
  );
  const secretsUrl = await listen(
    createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify({ Name: 'hr-pull', SecretString: SECRET })));
    }),
  );

  const outdir = mkdtempSync(path.join(tmpdir(), 'pull-bundle-'));
  const app = new App({ outdir });
  const stack = new Stack(app, 'PullBundle');
  const pull = new HrPull(stack, 'HrPull', {
    url: 'https://tenant.example.com/ccx/service/customreport2/acme/ISU/Terminations',
    secretName: 'hr-pull',
    hrTimeZone: 'America/New_York',
    hrGraceMinutes: 0,
    intakeQueue: new sqs.Queue(stack, 'Intake'),
    logRetentionDays: 90,
  });
  const assembly = app.synth();
  const template = JSON.parse(readFileSync(path.join(assembly.directory, 'PullBundle.template.json'), 'utf8')) as {
    Resources: Record<string, { Type: string; Properties: { Handler: string; Timeout: number; Environment: { Variables: Record<string, unknown> }; Code: { S3Key: string } } }>;
  };
  const logicalId = stack.getLogicalId(pull.function.node.defaultChild as never);
  const props = template.Resources[logicalId]!.Properties;
  const literal = Object.fromEntries(Object.entries(props.Environment.Variables).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  worker = new LambdaWorker({
    fn: {
      logicalId,
      handler: props.Handler,
      assetDir: path.join(assembly.directory, `asset.${props.Code.S3Key.replace(/\.zip$/, '')}`),
      roleId: 'unused',
      // The template's variables, with the report URL and queue pointed at the local stand-ins.
      environment: { ...literal, PULL_REPORT_URL: `${reportUrl}/ccx/service/customreport2/acme/ISU/Terminations`, INTAKE_QUEUE_URL: queueUrl },
      timeoutSeconds: props.Timeout,
    },
    extraEnv: { AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_ENDPOINT_URL_SQS: local.endpoint, AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsUrl },
  });
}, 180_000);

afterAll(async () => {
  await worker?.close();
  await local?.close();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  servers = [];
});

describe('the pull bundle', () => {
  it('initialises in isolation and enqueues the same request on every pull', async () => {
    const init = await worker.ready;
    expect(init.error).toBeUndefined();
    const id = pullRequestId('emma.johansson@example.com', '2026-11-30');
    for (let pull = 0; pull < 2; pull += 1) {
      await expect(worker.invoke({})).resolves.toEqual({ rows: 2, enqueued: 1, notTerminated: 1, problems: 0 });
      expect((await receiveAllRequests(local.client, queueUrl)).map((r) => [r.requestId, r.effectiveAt])).toEqual([[id, '2026-12-01T05:00:00.000Z']]);
    }
    expect(worker.logs.join('\n')).not.toMatch(/emma|pw-7f3a|ISU_Offboarding/);
  });
});
