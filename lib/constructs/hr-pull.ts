import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { REPORT_FORMATS, type ReportFormat } from '../../lambdas/core/hr/pull.js';
import { scheduleFunction } from './function-schedule.js';
import { PROJECT_ROOT, ProjectFunction } from './project-function.js';

export const PULL_HANDLER_ENTRY = path.join(PROJECT_ROOT, 'lambdas', 'handlers', 'pull.ts');

export interface HrPullProps {
  /** The HR report (Workday RaaS, any CSV/JSON export); https only: the credentials travel with the request. */
  readonly url: string;
  /**
   * Report format.
   * @default - from the response's content type
   */
  readonly format?: ReportFormat;
  /**
   * EventBridge Scheduler expression.
   * @default 'rate(1 hour)'
   */
  readonly schedule?: string;
  /**
   * IANA time zone a cron schedule is read in.
   * @default 'UTC'
   */
  readonly timeZone?: string;
  /**
   * Name of an existing Secrets Manager secret with the report credentials: `{"token": "…"}` or
   * `{"username": "…", "password": "…"}`. Referenced, never created: the HR system issues these credentials.
   * @default - the report is fetched without credentials
   */
  readonly secretName?: string;
  /** A date-only termination date ends at midnight in this IANA zone (unless the row names the employee's). */
  readonly hrTimeZone: string;
  readonly hrGraceMinutes: number;
  /** Requests are enqueued here (SendMessage only). */
  readonly intakeQueue: IQueue;
  readonly logRetentionDays: number;
  /**
   * Handler module of the pull function.
   * @default lambdas/handlers/pull.ts
   */
  readonly entry?: string;
}

/**
 * EventBridge Scheduler → pull function: fetches the HR report and enqueues its leavers on the intake queue, the
 * same mapping as `offboard pull`. Idempotent across pulls (deterministic request ids), so the schedule can be
 * frequent and a retried invocation is harmless.
 */
export class HrPull extends Construct {
  public readonly function: ProjectFunction;
  public readonly schedule: scheduler.Schedule;
  public readonly secret?: secretsmanager.ISecret;

  constructor(scope: Construct, id: string, props: HrPullProps) {
    super(scope, id);
    if (!/^https:\/\/[^\s/]+/.test(props.url.trim())) throw new Error(`HrPull: url must be an https URL (got '${props.url}')`);
    if (props.format !== undefined && !REPORT_FORMATS.includes(props.format)) {
      throw new Error(`HrPull: format must be one of ${REPORT_FORMATS.join(', ')} (got '${String(props.format)}')`);
    }

    this.function = new ProjectFunction(this, 'PullFunction', {
      entry: props.entry ?? PULL_HANDLER_ENTRY,
      description: 'Scheduled pull: fetches the HR report and enqueues its terminated rows as offboarding requests',
      // One report GET (30 s per attempt, 120 s budget) plus the enqueue.
      timeout: Duration.minutes(3),
      logRetentionDays: props.logRetentionDays,
      environment: {
        PULL_REPORT_URL: props.url.trim(),
        ...(props.format ? { PULL_REPORT_FORMAT: props.format } : {}),
        OFFBOARDING_HR_TIME_ZONE: props.hrTimeZone,
        OFFBOARDING_HR_GRACE_MINUTES: String(props.hrGraceMinutes),
      },
    });
    this.function.bindQueue(props.intakeQueue, 'send');
    if (props.secretName) {
      this.secret = secretsmanager.Secret.fromSecretNameV2(this, 'Secret', props.secretName);
      this.function.bindSecret(this.secret, 'PULL_SECRET_ID');
    }

    // Retries bridge a short outage; a report listing recent leavers is read again by the next pull anyway.
    this.schedule = scheduleFunction(this, this.function, { expression: props.schedule ?? 'rate(1 hour)', timeZone: props.timeZone ?? 'UTC', what: 'the arize-offboarding HR pull' });
  }
}
