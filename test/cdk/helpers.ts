import { readFileSync } from 'node:fs';
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ArizeOffboardingStack } from '../../lib/arize-offboarding-stack.js';
import type { IConstruct } from 'constructs';

export interface PolicyStatementJson {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

/** cdk.json context (feature flags + defaults), so tests synthesise what `cdk synth` does. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
    context: Record<string, unknown>;
  };
  return cdkJson.context;
}

/** Context that makes NodejsFunction skip esbuild: construct-level assertions do not need real bundles. */
export const SKIP_BUNDLING = { 'aws:cdk:bundling-stacks': [] as string[] };

/** The whole stack as `cdk synth` builds it (cdk.json context), with `offboarding` keys overridden, without bundling. */
export function buildStack(overrides: Record<string, unknown> = {}) {
  const context = cdkJsonContext();
  const app = new App({
    context: { ...context, ...SKIP_BUNDLING, offboarding: { ...(context.offboarding as Record<string, unknown>), ...overrides } },
  });
  const stack = new ArizeOffboardingStack(app, 'ArizeOffboarding');
  return { app, stack, template: Template.fromStack(stack) };
}

export function logicalIdOf(construct: IConstruct): string {
  const cfn = construct instanceof CfnElement ? construct : construct.node.defaultChild;
  if (!(cfn instanceof CfnElement)) {
    throw new Error(`${construct.node.path} has no CloudFormation resource`);
  }
  return Stack.of(construct).getLogicalId(cfn);
}

/** Every identity-policy statement attached to the role with this logical id. */
export function statementsForRole(template: Template, roleLogicalId: string): PolicyStatementJson[] {
  const policies = template.findResources('AWS::IAM::Policy') as Record<
    string,
    { Properties: { Roles: { Ref?: string }[]; PolicyDocument: { Statement: PolicyStatementJson[] } } }
  >;
  return Object.values(policies)
    .filter((policy) => policy.Properties.Roles.some((role) => role.Ref === roleLogicalId))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
}

export function actionsOf(statements: PolicyStatementJson[]): string[] {
  return statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])).sort();
}

export function statementsWithAction(statements: PolicyStatementJson[], action: string): PolicyStatementJson[] {
  return statements.filter((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]).includes(action));
}
