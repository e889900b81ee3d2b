import { RemovalPolicy, SecretValue, Validations } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

import { ARIZE_API_KEY_PLACEHOLDER } from '../../lambdas/core/secret-placeholder.js';

/**
 * A freshly created secret holds ARIZE_API_KEY_PLACEHOLDER, deliberately not a key: the operator replaces it after the
 * first deploy (`aws secretsmanager put-secret-value --secret-id <name> --secret-string <key>`), and the runtime refuses
 * it with that instruction instead of calling Arize with it.
 */
export { ARIZE_API_KEY_PLACEHOLDER };

export interface ArizeApiKeySecretProps {
  /** Secret name, from context `offboarding.arize.secretName`. */
  readonly secretName: string;
  /** From context `offboarding.arize.importExistingSecret`: reference an existing secret instead of creating one. */
  readonly importExisting: boolean;
}

export class ArizeApiKeySecret extends Construct {
  public readonly secret: secretsmanager.ISecret;
  /** True when this stack owns the secret (and its placeholder value must be replaced). */
  public readonly created: boolean;

  constructor(scope: Construct, id: string, props: ArizeApiKeySecretProps) {
    super(scope, id);

    if (props.importExisting) {
      this.secret = secretsmanager.Secret.fromSecretNameV2(this, 'Imported', props.secretName);
      this.created = false;
      return;
    }

    const secret = new secretsmanager.Secret(this, 'Secret', {
      secretName: props.secretName,
      description: 'Arize API key used by arize-offboarding to delete users; replace the placeholder value after deploy.',
      secretStringValue: SecretValue.unsafePlainText(ARIZE_API_KEY_PLACEHOLDER),
      // The real key is typed in by an operator after deploy; losing it on stack delete would stop offboarding.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Arize API keys are issued in the Arize UI by a human; there is no API a rotation Lambda could call. ' +
        'Rotation is an operator runbook step (README).',
    });
    this.secret = secret;
    this.created = true;
  }
}
