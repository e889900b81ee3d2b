import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { OffboardingConfig } from '../config.js';
import { PROJECT_ROOT, DEFAULT_FUNCTION_TIMEOUT, ProjectFunction } from './project-function.js';

export const START_HANDLER_ENTRY = path.join(PROJECT_ROOT, 'lambdas', 'handlers', 'start.ts');

/** After 5 failed receives a message is parked in the DLQ for a human (and the DLQ-depth alarm fires). */
export const MAX_RECEIVE_COUNT = 5;

/**
 * A message's age travels with it into the DLQ, so the DLQ must keep it longer than the queue did: the queue keeps
 * requests a week (a stalled consumer is alarmed after an hour), the DLQ the SQS maximum of 14 days — at least a
 * week of investigation left for a message that aged out its whole life in the queue.
 */
export const INTAKE_RETENTION = Duration.days(7);
export const DEAD_LETTER_RETENTION = Duration.days(14);
export const DEAD_LETTER_RETENTION_MARGIN = Duration.days(7);
if (DEAD_LETTER_RETENTION.toSeconds() < INTAKE_RETENTION.toSeconds() + DEAD_LETTER_RETENTION_MARGIN.toSeconds()) {
  throw new Error('DEAD_LETTER_RETENTION must exceed INTAKE_RETENTION by DEAD_LETTER_RETENTION_MARGIN');
}

/**
 * AWS guidance for SQS-triggered Lambda: visibility timeout ≥ 6 × function timeout (+ batching window), so a
 * message is not redelivered while throttled retries of the same batch are still in flight.
 */
export function intakeVisibilityTimeout(functionTimeout: Duration, batchingWindowSeconds: number): Duration {
  return Duration.seconds(6 * functionTimeout.toSeconds() + batchingWindowSeconds);
}

export interface IntakeQueueProps {
  readonly intake: OffboardingConfig['intake'];
  readonly ledger: ITable;
  readonly stateMachine: IStateMachine;
  readonly logRetentionDays: number;
  /**
   * Handler module of the start function.
   * @default lambdas/handlers/start.ts
   */
  readonly startEntry?: string;
  /**
   * Start function timeout; the queue's visibility timeout is derived from it.
   * @default 30 seconds (DEFAULT_FUNCTION_TIMEOUT)
   */
  readonly startTimeout?: Duration;
}

export class IntakeQueue extends Construct {
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly startFunction: ProjectFunction;

  constructor(scope: Construct, id: string, props: IntakeQueueProps) {
    super(scope, id);
    const startTimeout = props.startTimeout ?? DEFAULT_FUNCTION_TIMEOUT;

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // The longest SQS allows: a parked request must survive a long weekend plus investigation.
      retentionPeriod: DEAD_LETTER_RETENTION,
    });

    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: intakeVisibilityTimeout(startTimeout, props.intake.maxBatchingWindowSeconds),
      // If the consumer is down, requests wait (alarmed by age after an hour) rather than expire; shorter than the
      // DLQ's, so a message that aged here still has a week in the DLQ.
      retentionPeriod: INTAKE_RETENTION,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });

    this.startFunction = new ProjectFunction(this, 'StartFunction', {
      entry: props.startEntry ?? START_HANDLER_ENTRY,
      description: 'Validates offboarding requests from the intake queue and starts one execution per request',
      timeout: startTimeout,
      logRetentionDays: props.logRetentionDays,
    });
    // Creates request states and writes REJECTED records; reads a request's state only when its id already exists
    // (the same content, or a conflicting request to refuse).
    this.startFunction.bindLedger(props.ledger, ['get', 'put']);
    this.startFunction.bindStateMachine(props.stateMachine);

    // A plain mapping instead of SqsEventSource: that one grants grantConsumeMessages (GetQueueUrl,
    // ChangeMessageVisibility too); Lambda's poller needs exactly these three, and the handler calls no SQS API.
    this.startFunction.addEventSourceMapping('IntakeEventSource', {
      eventSourceArn: this.queue.queueArn,
      batchSize: props.intake.batchSize,
      maxBatchingWindow:
        props.intake.maxBatchingWindowSeconds > 0 ? Duration.seconds(props.intake.maxBatchingWindowSeconds) : undefined,
      reportBatchItemFailures: true,
      maxConcurrency: props.intake.maxConcurrency,
    });
    iam.Grant.addToPrincipal({
      grantee: this.startFunction,
      actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
      resourceArns: [this.queue.queueArn],
    });
  }
}
