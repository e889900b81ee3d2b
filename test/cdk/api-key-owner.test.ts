/**
 * The API key's own user must never be deleted (DESIGN.md Safety): `arize.apiKeyOwnerEmail` from the cdk
 * context reaches every workflow function as ARIZE_API_KEY_OWNER_EMAIL, which the planner protects.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ArizeOffboardingStack } from '../../lib/arize-offboarding-stack.js';
import { ConfigError, parseConfig } from '../../lib/config.js';
import { workflowPolicyEnvironment } from '../../lib/workflow/environment.js';
import { loadRuntimeConfig } from '../../lambdas/core/runtime-config.js';
import { cdkJsonContext, logicalIdOf, SKIP_BUNDLING } from './helpers.js';

type Variables = Record<string, unknown>;

function synth(arize: Record<string, unknown>): { stack: ArizeOffboardingStack; variables: (id: string) => Variables } {
  const context = cdkJsonContext();
  const offboarding = context.offboarding as Record<string, unknown>;
  const app = new App({
    context: { ...context, ...SKIP_BUNDLING, offboarding: { ...offboarding, arize: { ...(offboarding.arize as object), ...arize } } },
  });
  const stack = new ArizeOffboardingStack(app, 'OwnerTest');
  const functions = Template.fromStack(stack).findResources('AWS::Lambda::Function') as Record<
    string,
    { Properties: { Environment?: { Variables?: Variables } } }
  >;
  return { stack, variables: (id) => functions[id]?.Properties.Environment?.Variables ?? {} };
}

describe('arize.apiKeyOwnerEmail', () => {
  it('is passed, normalised, to every workflow function and not to the start function', () => {
    const { stack, variables } = synth({ apiKeyOwnerEmail: ' Ops.Bot@Example.com ' });
    for (const fn of stack.workflow.functions) {
      expect(variables(logicalIdOf(fn)).ARIZE_API_KEY_OWNER_EMAIL, fn.node.id).toBe('ops.bot@example.com');
    }
    expect(variables(logicalIdOf(stack.intake.startFunction))).not.toHaveProperty('ARIZE_API_KEY_OWNER_EMAIL');
  });

  it('defaults to none: no variable at all rather than an empty one', () => {
    const { stack, variables } = synth({});
    for (const fn of stack.workflow.functions) expect(variables(logicalIdOf(fn))).not.toHaveProperty('ARIZE_API_KEY_OWNER_EMAIL');
  });

  it('rejects an invalid address, naming the key', () => {
    expect(() => parseConfig({ arize: { apiKeyOwnerEmail: 'not-an-email' } })).toThrow(ConfigError);
    expect(() => parseConfig({ arize: { apiKeyOwnerEmail: 'not-an-email' } })).toThrow(/offboarding\.arize\.apiKeyOwnerEmail/);
  });

  it('round-trips through the Lambda environment into the planning policy', () => {
    const env = workflowPolicyEnvironment(parseConfig({ arize: { apiKeyOwnerEmail: 'owner@example.com' } }));
    expect(loadRuntimeConfig({ LEDGER_TABLE_NAME: 'ledger', ...env }).planning.apiKeyOwnerEmail).toBe('owner@example.com');
  });
});
