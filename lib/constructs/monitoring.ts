import { Duration } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ORPHANED_SERVICE_KEYS_METRIC, OUTCOME_METRIC_NAMES, SLA_MISSED_METRIC, USERS_REHIRED_AFTER_DELETION_METRIC, WEBHOOK_FAILURES_METRIC } from '../../lambdas/core/metric-names.js';
import { METRICS_NAMESPACE, SERVICE_NAME } from './project-function.js';

export const USERS_FAILED_METRIC = OUTCOME_METRIC_NAMES.FAILED;
export const USERS_HELD_METRIC = OUTCOME_METRIC_NAMES.HELD;
export { ORPHANED_SERVICE_KEYS_METRIC, SLA_MISSED_METRIC, WEBHOOK_FAILURES_METRIC };

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
  /**
   * The HR webhook API: any 5xx it answers means an HR event may not have been accepted.
   * @default - no API alarm
   */
  readonly webhookApi?: apigwv2.IHttpApi;
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
    const projectMetric = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        // Powertools Metrics adds the `service` dimension by default; the alarm must match it exactly.
        dimensionsMap: { service: SERVICE_NAME },
        period: fiveMinutes,
        statistic: 'Sum',
      });
    addAlarm(
      'UsersFailed',
      projectMetric(USERS_FAILED_METRIC),
      'At least one user ended FAILED in the ledger; query the byStatus index for FAILED and re-drive.',
    );
    // The HELD alert task's failure is caught (HELD is recorded either way): this alarm is the second channel.
    addAlarm(
      'UsersHeld',
      projectMetric(USERS_HELD_METRIC),
      'A request exceeded the blast-radius cap and is HELD for approval (offboard approve); nobody was deleted.',
    );
    addAlarm(
      'OrphanedServiceKeys',
      projectMetric(ORPHANED_SERVICE_KEYS_METRIC),
      'A deleted leaver created SERVICE keys that are still active (serviceKeys: report, or a revoke that did not verify); ' +
        'the DELETED outcome in the ledger names them (offboard status <email>): revoke or re-own them.',
    );
    addAlarm(
      'UsersRehiredAfterDeletion',
      projectMetric(USERS_REHIRED_AFTER_DELETION_METRIC),
      'HR rescinded a termination after the account was deleted (REHIRED_AFTER_DELETION in the ledger): re-invite the person in Arize by hand.',
    );
    addAlarm(
      'SlaMissed',
      projectMetric(SLA_MISSED_METRIC),
      'A leaver was removed from Arize later than the removal SLA (offboarding.evidence.slaHours) after the effective termination; ' +
        'the evidence export (offboard evidence) lists them with sla=missed.',
    );
    addAlarm(
      'WebhookFailures',
      projectMetric(WEBHOOK_FAILURES_METRIC),
      'The HR webhook answered 503 (intake queue or secret unavailable); HR must retry, check its delivery log.',
    );
    if (props.webhookApi) {
      addAlarm(
        'WebhookApi5xx',
        props.webhookApi.metricServerError({ period: fiveMinutes, statistic: 'Sum' }),
        'The HR webhook API answered 5xx; HR events may not have been accepted.',
      );
    }
    for (const { label, fn } of props.functions) {
      addAlarm(
        `${label}Errors`,
        fn.metricErrors({ period: fiveMinutes, statistic: 'Sum' }),
        `The ${label} Lambda function reported errors.`,
      );
    }
  }
}
