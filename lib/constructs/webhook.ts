import * as path from 'node:path';
import { CfnOutput, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { OffboardingConfig } from '../config.js';
import { PROJECT_ROOT, ProjectFunction, toRetentionDays } from './project-function.js';

export const WEBHOOK_HANDLER_ENTRY = path.join(PROJECT_ROOT, 'lambdas', 'handlers', 'webhook.ts');
export const WEBHOOK_ROUTE_PATH = '/hr/events';

export interface WebhookProps {
  readonly webhook: OffboardingConfig['webhook'];
  /** Native HR routes and how their effective dates are read; the ledger records lookups that fail for good. */
  readonly hr?: Pick<OffboardingConfig, 'hrProviders' | 'hrTimeZone' | 'hrGraceMinutes'> & { readonly ledger: ITable };
  readonly intakeQueue: IQueue;
  /** Read (GetItem only) to answer 409 when an eventId arrives again with other content. */
  readonly ledger: ITable;
  readonly logRetentionDays: number;
  /**
   * Handler module of the webhook function.
   * @default lambdas/handlers/webhook.ts
   */
  readonly entry?: string;
}

/**
 * `POST /hr/events` (HTTP API, $default stage with throttling and JSON access logs) → webhook function → intake
 * queue. The function verifies the HMAC signature itself; the secret is generated here and read once per container.
 */
export class Webhook extends Construct {
  public readonly api: apigwv2.HttpApi;
  public readonly stage: apigwv2.HttpStage;
  public readonly function: ProjectFunction;
  public readonly secret: secretsmanager.Secret;
  public readonly accessLogGroup: logs.LogGroup;
  /** `https://<api>.execute-api.<region>.amazonaws.com/hr/events` */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: WebhookProps) {
    super(scope, id);

    this.secret = new secretsmanager.Secret(this, 'Secret', {
      secretName: props.webhook.secretName,
      description: 'HMAC secret(s) HR signs webhook calls with: a string, or {"secrets": [current, previous]} while rotating.',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      // HR systems hold a copy; losing it on a stack delete would silently break intake.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The secret is shared with the HR system, which must be updated in step; rotation is a runbook (README): ' +
        'store {"secrets": [new, old]}, switch HR, then drop the old one. An automatic rotation would break intake.',
    });

    this.function = new ProjectFunction(this, 'WebhookFunction', {
      entry: props.entry ?? WEBHOOK_HANDLER_ENTRY,
      description: 'Verifies signed HR webhook events and enqueues offboarding requests',
      timeout: Duration.seconds(10),
      logRetentionDays: props.logRetentionDays,
    });
    this.function.bindSecret(this.secret, 'WEBHOOK_SECRET_ID');
    this.function.bindQueue(props.intakeQueue, 'send');
    // get: replayed eventIds with other content (409); query/put/update: rescinds cancel pending requests (cancel.ts).
    this.function.bindLedger(props.ledger, 'readWrite');

    this.api = new apigwv2.HttpApi(this, 'Api', {
      description: 'arize-offboarding HR webhook (HMAC-signed events)',
      createDefaultStage: false,
    });
    this.api.addRoutes({
      path: WEBHOOK_ROUTE_PATH,
      methods: [apigwv2.HttpMethod.POST],
      integration: new HttpLambdaIntegration('Integration', this.function, {
        payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
      }),
    });

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: toRetentionDays(props.logRetentionDays),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.stage = new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.webhook.throttlingRateLimit, burstLimit: props.webhook.throttlingBurstLimit },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogGroup),
        // No body, no query string: events carry emails, and access logs must not.
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            routeKey: '$context.routeKey',
            status: '$context.status',
            responseLength: '$context.responseLength',
            integrationError: '$context.integrationErrorMessage',
            latencyMs: '$context.responseLatency',
          }),
        ),
      },
    });

    this.addHrRoutes(props);

    const routes = this.api.node.findAll().filter((c) => c instanceof apigwv2.HttpRoute);
    for (const route of routes) {
      Validations.of(route).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'HR systems authenticate with an HMAC-SHA256 signature over timestamp and body (X-Offboarding-Signature), ' +
          'verified in the function with a 300 s replay window; an API Gateway authorizer cannot see the raw body.',
      });
    }
    this.url = `${this.api.apiEndpoint}${WEBHOOK_ROUTE_PATH}`;
  }

  /** Secrets of the enabled HR providers, by provider. */
  public readonly hrSecrets = new Map<string, secretsmanager.Secret>();

  /**
   * `/hr/<provider>` for each enabled provider, on the same function: one retained secret each (`HR_<P>_SECRET_ID`),
   * the effective-date settings (ledger access is bound above for every route). Nothing is added when none is enabled.
   */
  private addHrRoutes(props: WebhookProps): void {
    const hr = props.hr;
    if (!hr || hr.hrProviders.length === 0) return;
    this.function.addEnvironment('OFFBOARDING_HR_TIME_ZONE', hr.hrTimeZone);
    this.function.addEnvironment('OFFBOARDING_HR_GRACE_MINUTES', String(hr.hrGraceMinutes));
    const integration = new HttpLambdaIntegration('HrIntegration', this.function, { payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0 });
    for (const provider of hr.hrProviders) {
      const id = `Hr${provider.charAt(0).toUpperCase()}${provider.slice(1)}`;
      const secret = new secretsmanager.Secret(this, `${id}Secret`, {
        description: `${provider}: its webhook secret/token (or {"secrets": [new, old], "apiToken": "…", "apiUrl": "https://…"}).`,
        // A token for the providers that send one back (Okta, Personio, Rippling); replaced by the provider's key otherwise.
        generateSecretString: { passwordLength: 48, excludePunctuation: true },
        removalPolicy: RemovalPolicy.RETAIN,
      });
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason: `The ${provider} key is issued by ${provider} and pasted in by an operator; rotation is the README runbook (store both, switch, drop the old).`,
      });
      this.function.bindSecret(secret, `HR_${provider.toUpperCase()}_SECRET_ID`);
      this.hrSecrets.set(provider, secret);
      this.api.addRoutes({
        path: `/hr/${provider}`,
        // Okta verifies the endpoint once with a GET challenge.
        methods: provider === 'okta' ? [apigwv2.HttpMethod.POST, apigwv2.HttpMethod.GET] : [apigwv2.HttpMethod.POST],
        integration,
      });
      new CfnOutput(this, `${id}SecretName`, { value: secret.secretName, description: `Secret for POST /hr/${provider}` });
    }
  }
}
