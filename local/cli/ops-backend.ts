/**
 * Where the operator commands send requests and read the ledger: the local data dir (the local
 * runtime, started in this process or reached through a running `offboard serve`) or a deployed stack
 * (`--stack <name>`: CloudFormation outputs → SQS queue and DynamoDB ledger table).
 */
import {
  CloudFormationClient,
  DescribeStacksCommand,
  type Output,
} from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createDocumentClient, DynamoLedger } from '../../lambdas/adapters/ledger.js';
import type { Ledger, RequestState } from '../../lambdas/core/ledger.js';
import type { OffboardingRequest } from '../../lambdas/core/request.js';
import { redriveDeadLetters, sendBodies } from '../runtime/queue.js';
import { CliError, EXIT_USAGE } from './errors.js';
import { FINAL_REQUEST_STATES } from './ops-report.js';

export interface WaitOptions {
  timeoutMs: number;
  /**
   * Called with the latest known state of every awaited request while waiting; an in-process runtime adds, per
   * unfinished request, how many of its emails have an outcome so far (progress per email, not per request).
   */
  onUpdate?: (states: ReadonlyMap<string, RequestState | undefined>, recorded?: ReadonlyMap<string, number>) => void;
  pollIntervalMs?: number;
}

export interface OpsBackend {
  /** Shown to the operator: where the requests go. */
  label: string;
  kind: 'local' | 'stack';
  ledger: Ledger;
  submit(requests: readonly OffboardingRequest[]): Promise<void>;
  /** False when this process hosts the queue itself: leaving early would lose the submitted work. */
  canLeaveEarly: boolean;
  /** Waits until every request is in a final state (or the timeout); returns the last states seen. */
  waitFor(requestIds: readonly string[], options: WaitOptions): Promise<Map<string, RequestState | undefined>>;
  /** Moves dead-lettered messages back to the intake queue; returns how many. */
  redriveDlq(): Promise<number>;
  close(): Promise<void>;
}

export async function readStates(ledger: Pick<Ledger, 'getRequestState'>, requestIds: readonly string[]): Promise<Map<string, RequestState | undefined>> {
  const entries = await Promise.all(requestIds.map(async (id) => [id, await ledger.getRequestState(id)] as const));
  return new Map(entries);
}

function isFinal(state: RequestState | undefined): boolean {
  return state !== undefined && FINAL_REQUEST_STATES.has(state.status);
}

export function allFinal(states: ReadonlyMap<string, RequestState | undefined>): boolean {
  return [...states.values()].every(isFinal);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls the ledger: works the same against dynalite and a deployed table. By default it stops once every
 * request is final; `stopWhen` replaces that rule (the in-process runtime knows better when it is done).
 */
export async function pollUntilFinal(
  ledger: Pick<Ledger, 'getRequestState'>,
  requestIds: readonly string[],
  options: WaitOptions,
  rule: { stopWhen?: (states: ReadonlyMap<string, RequestState | undefined>) => boolean } = {},
): Promise<Map<string, RequestState | undefined>> {
  const deadline = Date.now() + options.timeoutMs;
  const interval = options.pollIntervalMs ?? 250;
  const stopWhen = rule.stopWhen ?? allFinal;
  const states = new Map<string, RequestState | undefined>();
  for (;;) {
    // A final state does not change while this command waits: only the others are read again, so a poll of a
    // 100-request run costs what is still under way, not every request each time.
    const open = requestIds.filter((id) => !isFinal(states.get(id)));
    for (const [id, state] of await readStates(ledger, open)) states.set(id, state);
    options.onUpdate?.(states);
    if (stopWhen(states) || Date.now() >= deadline) return states;
    await sleep(Math.min(interval, Math.max(1, deadline - Date.now())));
  }
}

// ---------------------------------------------------------------------------------------------
// Deployed stack

export const STACK_OUTPUTS = {
  queueUrl: 'QueueUrl',
  deadLetterQueueUrl: 'DeadLetterQueueUrl',
  ledgerTableName: 'LedgerTableName',
  stateMachineArn: 'StateMachineArn',
} as const;

export interface StackOutputs {
  queueUrl: string;
  ledgerTableName: string;
  deadLetterQueueUrl?: string;
  stateMachineArn?: string;
}

export interface StackClients {
  cloudFormation?: CloudFormationClient;
  sqs?: SQSClient;
  dynamo?: DynamoDBClient;
}

/** Reads the stack's outputs; a missing stack, missing credentials or a missing output is a configuration error. */
export async function readStackOutputs(stackName: string, client: CloudFormationClient): Promise<StackOutputs> {
  let outputs: Output[];
  try {
    const result = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = result.Stacks?.[0];
    if (stack === undefined) throw new CliError(`stack '${stackName}' not found`, EXIT_USAGE);
    outputs = stack.Outputs ?? [];
  } catch (error) {
    if (error instanceof CliError) throw error;
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new CliError(`cannot read the outputs of stack '${stackName}' from CloudFormation (${message})`, EXIT_USAGE);
  }
  const value = (key: string) => outputs.find((output) => output.OutputKey === key)?.OutputValue;
  const queueUrl = value(STACK_OUTPUTS.queueUrl);
  const ledgerTableName = value(STACK_OUTPUTS.ledgerTableName);
  const missing = [
    ...(queueUrl ? [] : [STACK_OUTPUTS.queueUrl]),
    ...(ledgerTableName ? [] : [STACK_OUTPUTS.ledgerTableName]),
  ];
  if (queueUrl === undefined || ledgerTableName === undefined || missing.length > 0) {
    throw new CliError(`stack '${stackName}' has no output ${missing.join(', ')}: is it an arize-offboarding stack?`, EXIT_USAGE);
  }
  const deadLetterQueueUrl = value(STACK_OUTPUTS.deadLetterQueueUrl);
  const stateMachineArn = value(STACK_OUTPUTS.stateMachineArn);
  return {
    queueUrl,
    ledgerTableName,
    ...(deadLetterQueueUrl ? { deadLetterQueueUrl } : {}),
    ...(stateMachineArn ? { stateMachineArn } : {}),
  };
}

export async function connectStack(stackName: string, clients: StackClients = {}): Promise<OpsBackend> {
  const cloudFormation = clients.cloudFormation ?? new CloudFormationClient({});
  const outputs = await readStackOutputs(stackName, cloudFormation);
  const sqs = clients.sqs ?? new SQSClient({});
  const dynamo = clients.dynamo ?? new DynamoDBClient({});
  const ledger = new DynamoLedger({ tableName: outputs.ledgerTableName, client: createDocumentClient(dynamo) });
  return {
    label: `stack ${stackName} (queue ${outputs.queueUrl}, ledger table ${outputs.ledgerTableName})`,
    kind: 'stack',
    ledger,
    canLeaveEarly: true,
    submit: (requests) => sendBodies(sqs, outputs.queueUrl, requests.map((request) => JSON.stringify(request))),
    waitFor: (requestIds, options) => pollUntilFinal(ledger, requestIds, { pollIntervalMs: 2000, ...options }),
    async redriveDlq() {
      if (outputs.deadLetterQueueUrl === undefined) {
        throw new CliError(`stack '${stackName}' has no output ${STACK_OUTPUTS.deadLetterQueueUrl}`, EXIT_USAGE);
      }
      return redriveDeadLetters({ client: sqs, queueUrl: outputs.queueUrl, dlqUrl: outputs.deadLetterQueueUrl });
    },
    close() {
      // Only clients created here are ours to destroy.
      if (clients.sqs === undefined) sqs.destroy();
      if (clients.dynamo === undefined) dynamo.destroy();
      if (clients.cloudFormation === undefined) cloudFormation.destroy();
      return Promise.resolve();
    },
  };
}
