import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, SERVICE_NAME } from './project-function.js';

export const USERS_FAILED_METRIC = 'UsersFailed';

export interface MonitoredFunction {
  /** Stable label used in the alarm's construct id and description, e.g. the function's construct id. */
  readonly label: string;
  readonly fn: IFunction;
}

export interface MonitoringProps {
  readonly alertTopic: ITopic;
  readonly deadLetterQueue: IQueue;
  /** The intake queue: a message older than `intakeMaxAgeSeconds` means the consumer is stuck. */
  readonly intakeQueue: IQueue;
  /**
   * Age of the oldest intake message above which the stalled-consumer alarm fires.
   * @default 3600 (one hour)
   */
  readonly intakeMaxAgeSeconds?: number;
  readonly stateMachine: IStateMachine;
  readonly functions: readonly MonitoredFunction[];
}

/**
 * Every alarm here means "a person may still have access": anything above zero (or a request older than an hour
 * in the intake queue) notifies the alert topic. Missing data is not breaching — no traffic is the normal state.
 */
export class Monitoring extends Construct {
  public readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const action = new SnsAction(props.alertTopic);
    const fiveMinutes = Duration.minutes(5);

    const addAlarm = (alarmId: string, metric: cloudwatch.IMetric, description: string, threshold = 0): void => {
      const alarm = new cloudwatch.Alarm(this, alarmId, {
        metric,
        threshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      alarm.addAlarmAction(action);
      this.alarms.push(alarm);
    };

    addAlarm(
      'DeadLetterQueueDepth',
      props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
      'Offboarding requests were parked in the dead-letter queue after 5 failed receives; inspect and re-drive.',
    );
    const intakeMaxAgeSeconds = props.intakeMaxAgeSeconds ?? 3600;
    addAlarm(
      'IntakeQueueStalled',
      props.intakeQueue.metricApproximateAgeOfOldestMessage({ period: fiveMinutes, statistic: 'Maximum' }),
      `An offboarding request has waited more than ${intakeMaxAgeSeconds} s in the intake queue; the start function is not consuming it.`,
      intakeMaxAgeSeconds,
    );
    addAlarm(
      'ExecutionsFailed',
      props.stateMachine.metricFailed({ period: fiveMinutes, statistic: 'Sum' }),
      'An offboarding execution failed; its request may be incomplete.',
    );
    addAlarm(
      'ExecutionsTimedOut',
      props.stateMachine.metricTimedOut({ period: fiveMinutes, statistic: 'Sum' }),
      'An offboarding execution timed out; its request may be incomplete.',
    );
    addAlarm(
      'ExecutionsAborted',
      props.stateMachine.metricAborted({ period: fiveMinutes, statistic: 'Sum' }),
      'An offboarding execution was aborted; its request may be incomplete.',
    );
    addAlarm(
      'UsersFailed',
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: USERS_FAILED_METRIC,
        // Powertools Metrics adds the `service` dimension by default; the alarm must match it exactly.
        dimensionsMap: { service: SERVICE_NAME },
        period: fiveMinutes,
        statistic: 'Sum',
      }),
      'At least one user ended FAILED in the ledger; query the byStatus index for FAILED and re-drive.',
    );
    for (const { label, fn } of props.functions) {
      addAlarm(
        `${label}Errors`,
        fn.metricErrors({ period: fiveMinutes, statistic: 'Sum' }),
        `The ${label} Lambda function reported errors.`,
      );
    }
  }
}
