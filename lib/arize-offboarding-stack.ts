import { Annotations, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { loadConfig, type OffboardingConfig } from './config.js';
import { Alerts } from './constructs/alerts.js';
import { Audit } from './constructs/audit.js';
import { Evidence } from './constructs/evidence.js';
import { ArizeApiKeySecret } from './constructs/arize-api-key.js';
import { IntakeQueue } from './constructs/intake-queue.js';
import { HrPull } from './constructs/hr-pull.js';
import { Ledger } from './constructs/ledger.js';
import { Monitoring } from './constructs/monitoring.js';
import { OffboardingWorkflow } from './constructs/offboarding-workflow.js';
import { Webhook } from './constructs/webhook.js';

export interface ArizeOffboardingStackProps extends StackProps {
  /**
   * Overrides the cdk.json context `offboarding` (tests).
   * @default - loaded and validated from the `offboarding` context
   */
  readonly config?: OffboardingConfig;
}

/** Composition only: each concern lives in its own construct under lib/constructs. */
export class ArizeOffboardingStack extends Stack {
  public readonly config: OffboardingConfig;
  public readonly ledger: Ledger;
  public readonly arizeApiKey: ArizeApiKeySecret;
  public readonly alerts: Alerts;
  public readonly workflow: OffboardingWorkflow;
  public readonly intake: IntakeQueue;
  public readonly monitoring: Monitoring;
  public readonly webhook: Webhook;
  public readonly audit: Audit;
  public readonly evidence: Evidence;
  /** Present when `offboarding.pull` is configured. */
  public readonly pull?: HrPull;

  constructor(scope: Construct, id: string, props: ArizeOffboardingStackProps = {}) {
    super(scope, id, {
      description: 'arize-offboarding: removes leavers from Arize (SQS → Step Functions → Arize users API, DynamoDB ledger)',
      ...props,
    });
    this.config = props.config ?? loadConfig(this.node);
    const config = this.config;
    // Both deploy fine without, which is why they must be said out loud at synth (README: deploy checklist).
    if (config.alertEmail === undefined) {
      Annotations.of(this).addWarningV2(
        'arize-offboarding:noAlertEmail',
        'offboarding.alertEmail is not set: alarms and HELD alerts go to a topic nobody subscribes to. Set it in cdk.json (or subscribe to AlertTopicArn yourself).',
      );
    }
    if (config.arize.apiKeyOwnerEmail === undefined) {
      Annotations.of(this).addWarningV2(
        'arize-offboarding:noApiKeyOwnerEmail',
        "offboarding.arize.apiKeyOwnerEmail is not set: the API key owner's own Arize user is not protected from deletion. Set it in cdk.json.",
      );
    }

    this.ledger = new Ledger(this, 'Ledger');
    this.arizeApiKey = new ArizeApiKeySecret(this, 'ArizeApiKey', {
      secretName: config.arize.secretName,
      importExisting: config.arize.importExistingSecret,
    });
    this.alerts = new Alerts(this, 'Alerts', { alertEmail: config.alertEmail });

    this.workflow = new OffboardingWorkflow(this, 'Workflow', {
      ledger: this.ledger.table,
      arizeSecret: this.arizeApiKey.secret,
      alertTopic: this.alerts.topic,
      config,
      logRetentionDays: config.logRetentionDays,
    });

    this.intake = new IntakeQueue(this, 'Intake', {
      intake: config.intake,
      ledger: this.ledger.table,
      stateMachine: this.workflow.stateMachine,
      logRetentionDays: config.logRetentionDays,
    });

    this.webhook = new Webhook(this, 'Webhook', {
      webhook: config.webhook,
      hr: { hrProviders: config.hrProviders, hrTimeZone: config.hrTimeZone, hrGraceMinutes: config.hrGraceMinutes, ledger: this.ledger.table },
      intakeQueue: this.intake.queue,
      ledger: this.ledger.table,
      logRetentionDays: config.logRetentionDays,
    });
    this.audit = new Audit(this, 'Audit', {
      config,
      ledger: this.ledger.table,
      intakeQueue: this.intake.queue,
      arizeSecret: this.arizeApiKey.secret,
      logRetentionDays: config.logRetentionDays,
    });

    this.evidence = new Evidence(this, 'Evidence', {
      ledger: this.ledger.table,
      retentionDays: config.evidence.retentionDays,
      slaHours: config.evidence.slaHours,
      logRetentionDays: config.logRetentionDays,
    });
    if (config.pull) {
      const { url, format, schedule, timeZone, secretName } = config.pull;
      this.pull = new HrPull(this, 'HrPull', {
        url,
        ...(format ? { format } : {}),
        schedule,
        timeZone,
        ...(secretName ? { secretName } : {}),
        hrTimeZone: config.hrTimeZone,
        hrGraceMinutes: config.hrGraceMinutes,
        intakeQueue: this.intake.queue,
        logRetentionDays: config.logRetentionDays,
      });
    }

    this.monitoring = new Monitoring(this, 'Monitoring', {
      alertTopic: this.alerts.topic,
      deadLetterQueue: this.intake.deadLetterQueue,
      intakeQueue: this.intake.queue,
      stateMachine: this.workflow.stateMachine,
      functions: [this.intake.startFunction, ...this.workflow.functions, this.webhook.function, this.audit.function, this.evidence.function, ...(this.pull ? [this.pull.function] : [])].map((fn) => ({ label: fn.node.id, fn })),
      webhookApi: this.webhook.api,
    });

    new CfnOutput(this, 'QueueUrl', {
      value: this.intake.queue.queueUrl,
      description: 'Send offboarding requests here (offboard submit / HR webhook)',
    });
    new CfnOutput(this, 'DeadLetterQueueUrl', {
      value: this.intake.deadLetterQueue.queueUrl,
      description: 'Requests that failed 5 receives; alarmed',
    });
    new CfnOutput(this, 'WebhookUrl', {
      value: this.webhook.url,
      description: 'HR systems POST signed employee.terminated events here (X-Offboarding-Signature, see README)',
    });
    new CfnOutput(this, 'WebhookSecretName', { value: this.webhook.secret.secretName, description: 'HMAC secret shared with the HR system' });
    new CfnOutput(this, 'AuditReportBucketName', { value: this.audit.reportBucket.bucketName });
    new CfnOutput(this, 'EvidenceBucketName', { value: this.evidence.bucket.bucketName, description: 'Daily evidence digests and exports (Object Lock, compliance mode)' });
    new CfnOutput(this, 'StateMachineArn', { value: this.workflow.stateMachine.stateMachineArn });
    new CfnOutput(this, 'LedgerTableName', { value: this.ledger.table.tableName });
    new CfnOutput(this, 'AlertTopicArn', { value: this.alerts.topic.topicArn });
    new CfnOutput(this, 'ArizeApiKeySecretName', {
      value: this.arizeApiKey.secret.secretName,
      description: this.arizeApiKey.created
        ? 'Created with a placeholder value: put the real Arize API key into it before sending requests'
        : 'Existing secret referenced by name',
    });
  }
}
