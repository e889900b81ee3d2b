import { CfnElement, Duration, Stack, TimeZone, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import type { Construct } from 'constructs';
import type { ProjectFunction } from './project-function.js';

export interface FunctionScheduleProps {
  /** EventBridge Scheduler expression: cron(...) or rate(...). */
  readonly expression: string;
  /** IANA time zone a cron expression is read in. */
  readonly timeZone: string;
  /** Says what runs, e.g. 'the arize-offboarding audit'. */
  readonly what: string;
}

/**
 * The one way a function runs on a schedule (audit, HR pull): EventBridge Scheduler with its own role, two retries
 * within an hour. Creates `SchedulerRole` and `Schedule` in `scope`.
 */
export function scheduleFunction(scope: Construct, fn: ProjectFunction, props: FunctionScheduleProps): scheduler.Schedule {
  const schedulerRole = new iam.Role(scope, 'SchedulerRole', {
    assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com'),
    description: `Lets EventBridge Scheduler invoke ${props.what}`,
  });
  const schedule = new scheduler.Schedule(scope, 'Schedule', {
    description: `Runs ${props.what}`,
    schedule: scheduler.ScheduleExpression.expression(props.expression, TimeZone.of(props.timeZone)),
    target: new LambdaInvoke(fn, { role: schedulerRole, retryAttempts: 2, maxEventAge: Duration.hours(1) }),
  });
  Validations.of(schedulerRole).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${Stack.of(scope).getLogicalId(fn.node.defaultChild as CfnElement)}.Arn>:*]`,
    reason:
      'aws-scheduler-targets grants lambda:InvokeFunction on the function and its versions/aliases (<arn>:*); ' +
      'the role can invoke this one function only.',
  });
  return schedule;
}
