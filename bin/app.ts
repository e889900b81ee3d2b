import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ArizeOffboardingStack } from '../lib/arize-offboarding-stack.js';

const app = new App();
new ArizeOffboardingStack(app, 'ArizeOffboarding', {
  // Environment-agnostic unless the CLI supplies an account/region (`cdk deploy` with a profile does).
  env:
    process.env.CDK_DEFAULT_ACCOUNT && process.env.CDK_DEFAULT_REGION
      ? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION }
      : undefined,
});
// cdk-nag 3 runs as a policy-validation plugin: any unacknowledged AwsSolutions finding fails synth.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
