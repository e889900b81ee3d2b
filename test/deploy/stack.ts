/**
 * The deployed stack, run locally from cdk.out: every function's bundle in its own Node 24 worker with the
 * template's environment; dynalite and local SQS for DynamoDB and SQS; the state machine from the template's
 * DefinitionString on aws-local-stepfunctions, its Lambda tasks invoking the workers; the Arize sandbox over HTTP.
 *
 * Every AWS call goes through one front server (AWS_ENDPOINT_URL): it names the caller by the access key id each
 * worker gets (its role's logical id), the action and the resource, asks the IAM checker, answers AccessDenied like
 * AWS when the template does not allow it, and otherwise forwards to the engine or to a stand-in for the services
 * without one (Secrets Manager: JSON 1.1 GetSecretValue; Step Functions: StartExecution on the local engine;
 * S3: PutObject).
 */
import { randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { ensureTable, startDynamo, type LocalDynamo } from '../../local/engines/dynamo.js';
import { SqsPoller } from '../../local/engines/sqs-poller.js';
import { startSqs, type LocalSqs } from '../../local/engines/sqs.js';
import { LocalStepFunctions, type ExecutionResult, type TaskHandler } from '../../local/engines/stepfunctions.js';
import { startSandbox, type Sandbox, type SeedUser } from '../../local/sandbox/server.js';
import { IamChecker, type AwsCall } from './iam.js';
import { LambdaWorker } from './bundles.js';
import { ACCOUNT, PARTITION, REGION, functionsOf, loadTemplate, onlyResourceId, Resolver, stateMachineDefinition, type FunctionInfo, type Json, str } from './template.js';

export interface PublishedMessage {
  topicArn: string;
  subject?: string;
  message: string;
}

export interface DeployedStackOptions {
  seed: SeedUser[];
  apiKey: string;
}

interface ParsedCall {
  service: 'dynamodb' | 'sqs' | 'states' | 'secretsmanager' | 's3';
  caller: string;
  action: string;
  resources: string[];
  target: string;
  body: Buffer;
}

/** The credentials of local/engines' clients: the operator's, not a role of the stack. */
export const OPERATOR_ACCESS_KEY = 'local';
const CREDENTIAL = /Credential=([^/]+)\/\d{8}\/[^/]+\/([^/]+)\//;
/** Batch APIs are authorised by their single-message action. */
const SQS_ACTION_ALIASES: Record<string, string> = {
  SendMessageBatch: 'SendMessage',
  DeleteMessageBatch: 'DeleteMessage',
  ChangeMessageVisibilityBatch: 'ChangeMessageVisibility',
};

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

function jsonError(res: ServerResponse, status: number, type: string, message: string, contentType = 'application/x-amz-json-1.0'): void {
  res.writeHead(status, { 'content-type': contentType, 'x-amzn-errortype': type });
  res.end(JSON.stringify({ __type: type, message }));
}

export class DeployedStack {
  readonly resolver: Resolver;
  readonly iam: IamChecker;
  readonly functions: FunctionInfo[];
  readonly workers = new Map<string, LambdaWorker>();
  readonly secrets = new Map<string, string>();
  readonly objects = new Map<string, Buffer>();
  readonly published: PublishedMessage[] = [];
  readonly executions: string[] = [];
  /** Every call seen at the front, allowed or not. */
  readonly calls: AwsCall[] = [];
  /** Secrets Manager answers 500 while set (a webhook 503 path). */
  secretsUnavailable = false;
  tableName = '';
  queueUrl = '';
  dlqUrl = '';
  stateMachine!: LocalStepFunctions;
  stateMachineRoleId = '';

  private front!: Server;
  private frontUrl = '';
  private dynamo!: LocalDynamo;
  private sqs!: LocalSqs;
  sandbox!: Sandbox;
  private poller?: SqsPoller;

  private constructor(private readonly options: DeployedStackOptions) {
    this.resolver = new Resolver(loadTemplate());
    this.iam = new IamChecker(this.resolver);
    this.functions = [];
  }

  static async start(options: DeployedStackOptions): Promise<DeployedStack> {
    const stack = new DeployedStack(options);
    await stack.boot();
    return stack;
  }

  get dynamoDoc(): LocalDynamo['doc'] {
    return this.dynamo.doc;
  }

  fn(prefix: string): FunctionInfo {
    const matches = this.functions.filter((f) => f.logicalId.startsWith(prefix));
    if (matches.length !== 1) throw new Error(`expected one function ${prefix}*, found ${matches.length}`);
    return matches[0]!;
  }

  worker(prefix: string): LambdaWorker {
    return this.workers.get(this.fn(prefix).logicalId)!;
  }

  private async boot(): Promise<void> {
    const template = this.resolver.template;
    this.front = createServer((req, res) => {
      this.handleFront(req, res).catch((error: unknown) => jsonError(res, 500, 'InternalFailure', String(error)));
    });
    this.frontUrl = await listen(this.front);
    // Queue URLs point at the front: the SQS client sends each call to its queue's URL.
    (this.resolver.names).sqsEndpoint = this.frontUrl;

    [this.dynamo, this.sqs, this.sandbox] = await Promise.all([
      startDynamo(),
      startSqs(),
      startSandbox({ seed: this.options.seed, apiKey: this.options.apiKey }),
    ]);

    const tableId = onlyResourceId(template, 'AWS::DynamoDB::Table');
    this.tableName = this.resolver.ref(tableId);
    const table = this.resolver.resolve(this.resolver.resource(tableId).Properties) as Record<string, Json>;
    await ensureTable(this.dynamo.client, {
      TableName: this.tableName,
      KeySchema: table.KeySchema,
      AttributeDefinitions: table.AttributeDefinitions,
      GlobalSecondaryIndexes: table.GlobalSecondaryIndexes,
      BillingMode: 'PAY_PER_REQUEST',
    } as unknown as CreateTableCommandInput);

    for (const queueId of ['IntakeDeadLetterQueue', 'IntakeQueue'].map((prefix) => onlyResourceId(template, 'AWS::SQS::Queue', prefix))) {
      const props = this.resolver.resolve(this.resolver.resource(queueId).Properties) as Record<string, Json>;
      const attributes: Record<string, string> = {};
      if (props.VisibilityTimeout !== undefined) attributes.VisibilityTimeout = str(props.VisibilityTimeout);
      if (props.MessageRetentionPeriod !== undefined) attributes.MessageRetentionPeriod = str(props.MessageRetentionPeriod);
      if (props.RedrivePolicy) attributes.RedrivePolicy = JSON.stringify(props.RedrivePolicy);
      await this.sqs.client.send(new CreateQueueCommand({ QueueName: queueId, Attributes: attributes }));
    }
    this.queueUrl = this.resolver.ref(onlyResourceId(template, 'AWS::SQS::Queue', 'IntakeQueue'));
    this.dlqUrl = this.resolver.ref(onlyResourceId(template, 'AWS::SQS::Queue', 'IntakeDeadLetterQueue'));

    for (const secretId of Object.keys(template.Resources).filter((id) => template.Resources[id]!.Type === 'AWS::SecretsManager::Secret')) {
      const arn = this.resolver.ref(secretId);
      this.secrets.set(arn, secretId.startsWith('ArizeApiKey') ? this.options.apiKey : randomBytes(32).toString('hex'));
    }

    this.functions.push(...functionsOf(this.resolver));
    for (const fn of this.functions) {
      const worker = new LambdaWorker({ fn, extraEnv: this.workerEnv(fn) });
      this.workers.set(fn.logicalId, worker);
    }
    const inits = await Promise.all([...this.workers.values()].map(async (w) => ({ id: w.options.fn.logicalId, init: await w.ready })));
    const failed = inits.filter((i) => !i.init.ok);
    if (failed.length > 0) throw new Error(`bundles failed at init: ${failed.map((f) => `${f.id}: ${f.init.error?.message ?? ''}`).join('; ')}`);

    const machine = stateMachineDefinition(this.resolver);
    this.stateMachineRoleId = machine.roleId;
    this.stateMachine = new LocalStepFunctions({
      definition: machine.definition,
      taskHandlers: this.taskHandlers(machine.definition, machine.roleId),
      waitTimeScale: 0,
      stateMachineName: machine.id,
    });
  }

  /** The deployed environment plus what the Lambda service and the test substitute: credentials naming the role, local endpoints, the sandbox. */
  private workerEnv(fn: FunctionInfo): Record<string, string> {
    const env: Record<string, string> = {
      AWS_ACCESS_KEY_ID: fn.roleId,
      AWS_SECRET_ACCESS_KEY: 'local-secret',
      AWS_SESSION_TOKEN: 'local-session',
      AWS_ENDPOINT_URL: this.frontUrl,
      AWS_ENDPOINT_URL_DYNAMODB: this.frontUrl,
      AWS_ENDPOINT_URL_SQS: this.frontUrl,
      AWS_ENDPOINT_URL_SFN: this.frontUrl,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: this.frontUrl,
      AWS_ENDPOINT_URL_S3: this.frontUrl,
    };
    if ('ARIZE_API_HOST' in fn.environment) {
      const sandbox = new URL(this.sandbox.url);
      // The one substitution in the function's own variables: Arize itself is the sandbox.
      Object.assign(env, { ARIZE_API_HOST: sandbox.hostname, ARIZE_API_SCHEME: 'http', ARIZE_API_PORT: sandbox.port });
    }
    return env;
  }

  private taskHandlers(definition: Record<string, Json>, roleId: string): Record<string, TaskHandler> {
    const handlers: Record<string, TaskHandler> = {};
    const visit = (states: Record<string, Json>) => {
      for (const [name, raw] of Object.entries(states)) {
        const state = raw as Record<string, Json>;
        const processor = (state.ItemProcessor ?? state.Iterator) as { States?: Record<string, Json> } | undefined;
        if (processor?.States) visit(processor.States);
        if (state.Type !== 'Task') continue;
        const resource = str(state.Resource);
        const parameters = (state.Parameters ?? {}) as Record<string, Json>;
        const directLambda = /^arn:aws[\w-]*:lambda:[^:]*:[^:]*:function:/.test(resource);
        if (directLambda || resource.endsWith(':states:::lambda:invoke')) {
          // payloadResponseOnly tasks name the function as their Resource; lambda:invoke ones in Parameters.
          const functionArn = directLambda ? resource : str(parameters.FunctionName);
          const functionId = functionArn.split(':function:')[1]!;
          handlers[name] = async (payload) => {
            await this.enforce({ caller: roleId, action: 'lambda:InvokeFunction', resource: functionArn });
            return this.workers.get(functionId)!.invoke(payload);
          };
        } else if (resource.endsWith(':states:::sns:publish')) {
          handlers[name] = async (input) => {
            const { TopicArn, Message, Subject } = input as { TopicArn: string; Message: unknown; Subject?: string };
            await this.enforce({ caller: roleId, action: 'sns:Publish', resource: TopicArn });
            // SNS encrypts the message with the topic's key on the publisher's behalf, with the publisher's permissions.
            const keyArn = this.topicKeyArn(TopicArn);
            if (keyArn) {
              await this.enforce({ caller: roleId, action: 'kms:GenerateDataKey', resource: keyArn });
              await this.enforce({ caller: roleId, action: 'kms:Decrypt', resource: keyArn });
            }
            this.published.push({ topicArn: TopicArn, message: typeof Message === 'string' ? Message : JSON.stringify(Message), ...(Subject ? { subject: Subject } : {}) });
            return { MessageId: randomBytes(8).toString('hex') };
          };
        } else {
          throw new Error(`Task ${name} uses ${resource}, which the deploy suite does not emulate`);
        }
      }
    };
    visit(definition.States as Record<string, Json>);
    return handlers;
  }

  topicKeyArn(topicArn: string): string | undefined {
    for (const [id, resource] of Object.entries(this.resolver.template.Resources)) {
      if (resource.Type === 'AWS::SNS::Topic' && this.resolver.ref(id) === topicArn && resource.Properties?.KmsMasterKeyId !== undefined) {
        return this.resolver.resolveString(resource.Properties.KmsMasterKeyId);
      }
    }
    return undefined;
  }

  /** Checks a call the way AWS would at the service; a denied call throws AccessDeniedException. */
  async enforce(call: AwsCall): Promise<void> {
    this.calls.push(call);
    const decision = await this.iam.check(call);
    if (!decision.allowed) {
      const error = new Error(`User: ${call.caller} is not authorized to perform: ${call.action} on resource: ${call.resource}`);
      error.name = call.action.startsWith('kms:') ? 'KMS.AccessDeniedException' : 'AccessDeniedException';
      throw error;
    }
  }

  /** The intake event source: Lambda's poller, with the start function's role. */
  async startIntake(): Promise<void> {
    const start = this.fn('IntakeStartFunction');
    const mappingId = onlyResourceId(this.resolver.template, 'AWS::Lambda::EventSourceMapping');
    const mapping = this.resolver.resource(mappingId).Properties ?? {};
    const client = new SQSClient({
      region: REGION,
      endpoint: this.frontUrl,
      credentials: { accessKeyId: start.roleId, secretAccessKey: 'local-secret' },
    });
    this.poller = new SqsPoller({
      client,
      queueUrl: this.queueUrl,
      batchSize: Number(mapping.BatchSize ?? 10),
      maxConcurrency: 2,
      handler: async (event) => (await this.workers.get(start.logicalId)!.invoke(event)) as never,
      onError: () => undefined,
    });
    await this.poller.start();
  }

  async drainIntake(): Promise<void> {
    await this.poller?.drain({ timeoutMs: 60_000 });
  }

  async waitForExecution(name: string): Promise<ExecutionResult> {
    const arn = `arn:${PARTITION}:states:${REGION}:${ACCOUNT}:execution:${this.stateMachine.stateMachineArn.split(':stateMachine:')[1]}:${name}`;
    return this.stateMachine.waitForExecution(arn);
  }

  /** Parsed EMF metrics the functions printed: metric name → sum. */
  metrics(prefix = ''): Record<string, number> {
    const sums: Record<string, number> = {};
    for (const worker of this.workers.values()) {
      if (!worker.options.fn.logicalId.startsWith(prefix)) continue;
      for (const line of worker.logs) {
        if (!line.startsWith('{') || !line.includes('"_aws"')) continue;
        const record = JSON.parse(line) as { _aws?: { CloudWatchMetrics?: { Metrics: { Name: string }[] }[] } } & Record<string, unknown>;
        for (const directive of record._aws?.CloudWatchMetrics ?? []) {
          for (const { Name } of directive.Metrics) sums[Name] = (sums[Name] ?? 0) + Number(record[Name] ?? 0);
        }
      }
    }
    return sums;
  }

  allLogs(): string[] {
    return [...this.workers.values()].flatMap((w) => w.logs);
  }

  async close(): Promise<void> {
    await this.poller?.stop();
    await Promise.all([...this.workers.values()].map((w) => w.close()));
    await Promise.allSettled([this.dynamo?.close(), this.sqs?.close(), this.sandbox?.close()]);
    await new Promise<void>((resolve) => {
      this.front.close(() => resolve());
      this.front.closeAllConnections();
    });
  }

  // ---- the front: IAM check, then engine or stand-in ---------------------------------------------------

  private parse(req: IncomingMessage, body: Buffer): ParsedCall {
    const match = CREDENTIAL.exec(req.headers.authorization ?? '');
    const caller = match?.[1] ?? 'anonymous';
    const scope = match?.[2] ?? '';
    const target = String(req.headers['x-amz-target'] ?? '');
    const json = (): Record<string, Json> => (body.length > 0 ? (JSON.parse(body.toString('utf8')) as Record<string, Json>) : {});
    const tableArn = (name: string) => `arn:${PARTITION}:dynamodb:${REGION}:${ACCOUNT}:table/${name}`;
    if (target.startsWith('DynamoDB_20120810.')) {
      const operation = target.split('.')[1]!;
      const input = json();
      const tables = input.RequestItems ? Object.keys(input.RequestItems as object) : [str(input.TableName)];
      const resources = tables.map((t) => (input.IndexName ? `${tableArn(t)}/index/${str(input.IndexName)}` : tableArn(t)));
      return { service: 'dynamodb', caller, action: `dynamodb:${operation}`, resources, target, body };
    }
    if (target.startsWith('AmazonSQS.')) {
      const operation = target.split('.')[1]!;
      const input = json();
      const name = input.QueueUrl ? str(input.QueueUrl).split('/').pop()! : str(input.QueueName);
      return { service: 'sqs', caller, action: `sqs:${SQS_ACTION_ALIASES[operation] ?? operation}`, resources: [`arn:${PARTITION}:sqs:${REGION}:${ACCOUNT}:${name}`], target, body };
    }
    if (target.startsWith('AWSStepFunctions.')) {
      const input = json();
      return { service: 'states', caller, action: `states:${target.split('.')[1]!}`, resources: [str(input.stateMachineArn ?? input.executionArn)], target, body };
    }
    if (target.startsWith('secretsmanager.')) {
      const secretId = str(json().SecretId);
      const arn = secretId.startsWith('arn:') ? secretId : [...this.secrets.keys()].find((a) => a.split(':secret:')[1]?.replace(/-\w{6}$/, '') === secretId) ?? `arn:${PARTITION}:secretsmanager:${REGION}:${ACCOUNT}:secret:${secretId}-XXXXXX`;
      return { service: 'secretsmanager', caller, action: `secretsmanager:${target.split('.')[1]!}`, resources: [arn], target, body };
    }
    if (scope === 's3') {
      const host = String(req.headers.host ?? '');
      const url = new URL(req.url ?? '/', 'http://front');
      const hostBucket = host.split('.').length > 1 && !/^\d/.test(host) ? host.split('.')[0] : undefined;
      const key = hostBucket ? `${hostBucket}${url.pathname}` : url.pathname.slice(1);
      const action = req.method === 'PUT' ? 's3:PutObject' : req.method === 'GET' ? 's3:GetObject' : `s3:${String(req.method)}`;
      return { service: 's3', caller, action, resources: [`arn:${PARTITION}:s3:::${decodeURIComponent(key)}`], target, body };
    }
    throw new Error(`unrecognised AWS call: ${String(req.method)} ${String(req.url)} target=${target} scope=${scope}`);
  }

  private async handleFront(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const call = this.parse(req, body);
    // The operator (offboard submit/approve, the test's own setup) is outside the stack: its calls are not checked.
    const resources = call.caller === OPERATOR_ACCESS_KEY ? [] : call.resources;
    for (const resource of resources) {
      try {
        await this.enforce({ caller: call.caller, action: call.action, resource });
      } catch (error) {
        if (call.service === 's3') {
          res.writeHead(403, { 'content-type': 'application/xml' });
          res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>${(error as Error).message}</Message></Error>`);
        } else {
          jsonError(res, 400, 'AccessDeniedException', (error as Error).message);
        }
        return;
      }
    }
    switch (call.service) {
      case 'dynamodb':
        return this.forward(req, res, body, this.dynamo.endpoint, false);
      case 'sqs':
        return this.forward(req, res, body, this.sqs.endpoint, true);
      case 'states':
        return this.startExecution(call, res);
      case 'secretsmanager':
        return this.getSecretValue(call, res);
      case 's3':
        this.objects.set(call.resources[0]!, body);
        res.writeHead(200, { etag: `"${randomBytes(8).toString('hex')}"` });
        res.end();
        return;
    }
  }

  /** Forwards to an engine; for SQS, queue URLs are rewritten between the front's origin and the engine's. */
  private forward(req: IncomingMessage, res: ServerResponse, body: Buffer, engine: string, rewriteUrls: boolean): Promise<void> {
    const target = new URL(engine);
    const payload = rewriteUrls ? Buffer.from(body.toString('utf8').split(this.frontUrl).join(target.origin)) : body;
    const headers = { ...req.headers, host: target.host, 'content-length': String(payload.length) };
    return new Promise((resolve, reject) => {
      const upstream = httpRequest({ hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          let out = Buffer.concat(chunks);
          if (rewriteUrls) out = Buffer.from(out.toString('utf8').split(target.origin).join(this.frontUrl));
          const outHeaders = { ...response.headers, 'content-length': String(out.length) };
          res.writeHead(response.statusCode ?? 500, outHeaders);
          res.end(out);
          resolve();
        });
        response.on('error', reject);
      });
      upstream.on('error', reject);
      upstream.end(payload);
    });
  }

  private async startExecution(call: ParsedCall, res: ServerResponse): Promise<void> {
    if (call.action !== 'states:StartExecution') return jsonError(res, 400, 'UnknownOperationException', call.action);
    const input = JSON.parse(call.body.toString('utf8')) as { stateMachineArn: string; name?: string; input?: string };
    if (input.stateMachineArn !== this.stateMachine.stateMachineArn) {
      return jsonError(res, 400, 'StateMachineDoesNotExist', `State Machine Does Not Exist: '${input.stateMachineArn}'`);
    }
    try {
      const started = await this.stateMachine.startExecution({
        ...(input.name !== undefined ? { name: input.name } : {}),
        input: input.input === undefined ? {} : (JSON.parse(input.input) as unknown),
      });
      if (!this.executions.includes(started.executionArn)) this.executions.push(started.executionArn);
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify({ executionArn: started.executionArn, startDate: started.startDate.getTime() / 1000 }));
    } catch (error) {
      jsonError(res, 400, (error as Error).name, (error as Error).message);
    }
  }

  private getSecretValue(call: ParsedCall, res: ServerResponse): void {
    const contentType = 'application/x-amz-json-1.1';
    if (this.secretsUnavailable) return jsonError(res, 500, 'InternalServiceError', 'stand-in: unavailable', contentType);
    const arn = call.resources[0]!;
    const value = this.secrets.get(arn);
    if (call.action !== 'secretsmanager:GetSecretValue') return jsonError(res, 400, 'InvalidRequestException', call.action, contentType);
    if (value === undefined) return jsonError(res, 400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.", contentType);
    res.writeHead(200, { 'content-type': contentType });
    res.end(JSON.stringify({ ARN: arn, Name: arn.split(':secret:')[1]!.replace(/-\w{6}$/, ''), SecretString: value, VersionId: 'v1', VersionStages: ['AWSCURRENT'], CreatedDate: Date.now() / 1000 }));
  }
}
