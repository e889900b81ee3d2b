/**
 * Local SQS: local-aws-sqs (in memory, JSON protocol, honours redrive policies) on 127.0.0.1 with an
 * ephemeral port. Queues are created like the stack creates them: a DLQ, then the main queue with a
 * redrive policy pointing at it.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createSqsServer } from 'local-aws-sqs';
import { LOCAL_AWS_CREDENTIALS, LOCAL_AWS_REGION, LOCAL_ENGINE_REQUEST_HANDLER } from './dynamo.js';

export const LOCAL_AWS_ACCOUNT_ID = '000000000000';
/** SQS's maximum retention; the stack keeps DLQ messages as long as SQS allows so humans can inspect them. */
const DLQ_RETENTION_SECONDS = 1_209_600;

export interface CreateQueuesInput {
  name: string;
  dlqName: string;
  /** Receives before SQS moves a message to the DLQ (1..1000). */
  maxReceiveCount: number;
  /** How long a received message stays hidden before it is redelivered (0..43200). */
  visibilityTimeoutSeconds: number;
}

export interface CreatedQueues {
  queueUrl: string;
  queueArn: string;
  dlqUrl: string;
  dlqArn: string;
}

export interface LocalSqs {
  /** `http://127.0.0.1:<port>` — pass as `endpoint` to any SQS client. */
  endpoint: string;
  client: SQSClient;
  /** Idempotent for identical settings; SQS rejects a second call with different attributes. */
  createQueues(input: CreateQueuesInput): Promise<CreatedQueues>;
  close(): Promise<void>;
}

export function createLocalSqsClient(endpoint: string): SQSClient {
  return new SQSClient({ endpoint, region: LOCAL_AWS_REGION, credentials: LOCAL_AWS_CREDENTIALS, requestHandler: LOCAL_ENGINE_REQUEST_HANDLER });
}

function assertIntegerInRange(field: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`createQueues: ${field} must be an integer in ${min}..${max}, got ${String(value)}`);
  }
}

export async function getQueueArn(client: SQSClient, queueUrl: string): Promise<string> {
  const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  const arn = Attributes?.QueueArn;
  if (arn === undefined) throw new Error(`SQS returned no QueueArn for ${queueUrl}`);
  return arn;
}

export async function startSqs(): Promise<LocalSqs> {
  const server: Server = await createSqsServer({
    port: 0,
    hostname: '127.0.0.1',
    region: LOCAL_AWS_REGION,
    accountId: LOCAL_AWS_ACCOUNT_ID,
    // Recreating a queue after deleting it must not stall local runs for 60 s as it would in AWS.
    emulateQueueCreationLifecycle: false,
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = createLocalSqsClient(endpoint);

  const createQueues = async (input: CreateQueuesInput): Promise<CreatedQueues> => {
    assertIntegerInRange('maxReceiveCount', input.maxReceiveCount, 1, 1000);
    assertIntegerInRange('visibilityTimeoutSeconds', input.visibilityTimeoutSeconds, 0, 43_200);
    if (input.name === input.dlqName) throw new Error('createQueues: name and dlqName must differ');
    const dlq = await client.send(
      new CreateQueueCommand({ QueueName: input.dlqName, Attributes: { MessageRetentionPeriod: String(DLQ_RETENTION_SECONDS) } }),
    );
    if (dlq.QueueUrl === undefined) throw new Error(`SQS returned no QueueUrl for ${input.dlqName}`);
    const dlqArn = await getQueueArn(client, dlq.QueueUrl);
    const queue = await client.send(
      new CreateQueueCommand({
        QueueName: input.name,
        Attributes: {
          VisibilityTimeout: String(input.visibilityTimeoutSeconds),
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: input.maxReceiveCount }),
        },
      }),
    );
    if (queue.QueueUrl === undefined) throw new Error(`SQS returned no QueueUrl for ${input.name}`);
    const queueArn = await getQueueArn(client, queue.QueueUrl);
    return { queueUrl: queue.QueueUrl, queueArn, dlqUrl: dlq.QueueUrl, dlqArn };
  };

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve, reject) => {
      client.destroy();
      server.close((error?: Error) => (error ? reject(error) : resolve()));
      server.closeAllConnections();
    });
    return closing;
  };
  return { endpoint, client, createQueues, close };
}
