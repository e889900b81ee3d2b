/**
 * The scheduled HR pull (`offboarding.pull`): absent ⇒ nothing deployed; present ⇒ a Scheduler schedule invoking a
 * function that may send to the intake queue and read its one secret — nothing else. cdk-nag runs on the app.
 */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { ArizeOffboardingStack } from '../../lib/arize-offboarding-stack.js';
import { parseConfig } from '../../lib/config.js';
import { HrPull } from '../../lib/constructs/hr-pull.js';
import { actionsOf, buildStack, logicalIdOf, statementsForRole, statementsWithAction } from './helpers.js';

interface FunctionResource {
  Properties: { Role: { 'Fn::GetAtt': [string, string] }; Environment: { Variables: Record<string, unknown> }; Timeout?: number };
}

const PULL = { url: 'https://wd2-impl-services1.workday.com/ccx/service/customreport2/acme/ISU/Terminations?format=csv', format: 'csv', schedule: 'cron(15 * * * ? *)', timeZone: 'Europe/Berlin', secretName: 'arize-offboarding/hr-pull' };

const build = buildStack;

describe('offboarding.pull config', () => {
  it('is absent by default and takes defaults for schedule and time zone', () => {
    expect(parseConfig(undefined).pull).toBeUndefined();
    expect(parseConfig({ pull: { url: 'https://hr.example.com/report' } }).pull).toEqual({ url: 'https://hr.example.com/report', schedule: 'rate(1 hour)', timeZone: 'UTC' });
  });

  it('names the field that is wrong', () => {
    expect(() => parseConfig({ pull: {} })).toThrow(/offboarding\.pull\.url/);
    expect(() => parseConfig({ pull: { url: 'http://hr.example.com/report' } })).toThrow(/offboarding\.pull\.url: must be an https URL/);
    expect(() => parseConfig({ pull: { url: 'https://hr.example.com/r', format: 'xml' } })).toThrow(/offboarding\.pull\.format/);
    expect(() => parseConfig({ pull: { url: 'https://hr.example.com/r', schedule: 'hourly' } })).toThrow(/offboarding\.pull\.schedule: must be cron/);
    expect(() => parseConfig({ pull: { url: 'https://hr.example.com/r', timeZone: 'Mars/Base' } })).toThrow(/offboarding\.pull\.timeZone/);
    expect(() => parseConfig({ pull: { url: 'https://hr.example.com/r', password: 'x' } })).toThrow(/password/);
  });
});

describe('HrPull construct', () => {
  it('is not deployed without offboarding.pull', () => {
    const { stack, template } = build();
    expect(stack.pull).toBeUndefined();
    // Only the audit's and the daily evidence publication's schedules; no function reads a report URL.
    const expressions = Object.values(template.findResources('AWS::Scheduler::Schedule')).map((s) => (s as { Properties: { ScheduleExpression: string } }).Properties.ScheduleExpression);
    expect(expressions.sort()).toEqual(['cron(0 6 * * ? *)', 'cron(30 1 * * ? *)']);
    const environments = Object.values(template.findResources('AWS::Lambda::Function')).map((f) => JSON.stringify((f as { Properties: { Environment?: unknown } }).Properties.Environment ?? {}));
    expect(environments.some((env) => env.includes('PULL_REPORT_URL'))).toBe(false);
  });

  it('refuses a plain-http URL and an unknown format, naming the construct', () => {
    const stack = build().stack;
    const base = { hrTimeZone: 'UTC', hrGraceMinutes: 0, intakeQueue: stack.intake.queue, logRetentionDays: 90 };
    expect(() => new HrPull(stack, 'Bad1', { ...base, url: 'http://hr.example.com/report' })).toThrow(/^HrPull: url must be an https URL/);
    expect(() => new HrPull(stack, 'Bad2', { ...base, url: 'https://hr.example.com/report', format: 'xml' as 'csv' })).toThrow(/^HrPull: format must be one of csv, json/);
  });

  describe('with offboarding.pull', () => {
    let app: App;
    let stack: ArizeOffboardingStack;
    let template: Template;
    let fn: FunctionResource;
    let fnId: string;

    beforeAll(() => {
      ({ app, stack, template } = build({ pull: PULL, hrTimeZone: 'America/New_York', hrGraceMinutes: 30 }));
      fnId = logicalIdOf(stack.pull!.function);
      fn = template.findResources('AWS::Lambda::Function')[fnId] as FunctionResource;
    });

    it('schedules the pull function with the configured expression and time zone, with bounded retries', () => {
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: 'cron(15 * * * ? *)',
        ScheduleExpressionTimezone: 'Europe/Berlin',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: Match.objectLike({ Arn: { 'Fn::GetAtt': [fnId, 'Arn'] }, RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 2 }) }),
      });
    });

    it('configures the function from the config: report URL and format, secret by name, HR time zone and grace, intake queue', () => {
      expect(fn.Properties.Environment.Variables).toMatchObject({
        PULL_REPORT_URL: PULL.url,
        PULL_REPORT_FORMAT: 'csv',
        PULL_SECRET_ID: 'arize-offboarding/hr-pull',
        OFFBOARDING_HR_TIME_ZONE: 'America/New_York',
        OFFBOARDING_HR_GRACE_MINUTES: '30',
        INTAKE_QUEUE_URL: { Ref: logicalIdOf(stack.intake.queue) },
      });
      // Nothing about the ledger or Arize: the pull only enqueues.
      expect(Object.keys(fn.Properties.Environment.Variables).filter((k) => /LEDGER|ARIZE|STATE_MACHINE/.test(k))).toEqual([]);
      expect(fn.Properties.Timeout).toBe(180);
    });

    it('grants SendMessage on the intake queue and GetSecretValue on its secret only', () => {
      const statements = statementsForRole(template, fn.Properties.Role['Fn::GetAtt'][0]);
      const data = actionsOf(statements).filter((a) => !a.startsWith('logs:') && !a.startsWith('xray:'));
      expect(data).toEqual(['secretsmanager:GetSecretValue', 'sqs:SendMessage']);
      expect(statementsWithAction(statements, 'sqs:SendMessage').map((s) => s.Resource)).toEqual([{ 'Fn::GetAtt': [logicalIdOf(stack.intake.queue), 'Arn'] }]);
      const secretResource = JSON.stringify(statementsWithAction(statements, 'secretsmanager:GetSecretValue').map((s) => s.Resource));
      expect(secretResource).toContain(':secret:arize-offboarding/hr-pull-??????');
    });

    it('is alarmed like every other function, and passes cdk-nag with zero unacknowledged findings', () => {
      const alarmed = JSON.stringify(template.findResources('AWS::CloudWatch::Alarm'));
      expect(alarmed).toContain(fnId);
      const report = new AwsSolutionsChecks().validateScope(app);
      expect(report.violations.map((v) => `${v.ruleName} @ ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
    });
  });

  it('without secretName the function reads no secret at all', () => {
    const { stack, template } = build({ pull: { url: 'https://hr.example.com/report.json' } });
    const fn = template.findResources('AWS::Lambda::Function')[logicalIdOf(stack.pull!.function)] as FunctionResource;
    expect(fn.Properties.Environment.Variables.PULL_SECRET_ID).toBeUndefined();
    expect(fn.Properties.Environment.Variables.PULL_REPORT_FORMAT).toBeUndefined();
    expect(actionsOf(statementsForRole(template, fn.Properties.Role['Fn::GetAtt'][0])).filter((a) => a.startsWith('secretsmanager:'))).toEqual([]);
  });
});
