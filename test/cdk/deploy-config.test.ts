/**
 * Deploy-time configuration checks of the composed stack (issue 10, defects 5 and 6): missing alert/key-owner
 * emails are warned about at synth, and a chunk size whose worst case exceeds Step Functions' history limit is
 * refused naming the config field. Bundling skipped.
 */
import { App } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ArizeOffboardingStack } from '../../lib/arize-offboarding-stack.js';
import { cdkJsonContext, SKIP_BUNDLING } from './helpers.js';

function stackWith(overrides: Record<string, unknown>): { app: App; stack: ArizeOffboardingStack } {
  const context = cdkJsonContext();
  const offboarding = { ...(context.offboarding as Record<string, unknown>), ...overrides };
  const app = new App({ context: { ...context, ...SKIP_BUNDLING, offboarding } });
  return { app, stack: new ArizeOffboardingStack(app, 'ConfigTest') };
}

// The first synthesis loads aws-cdk-lib, which takes long on a loaded 2-core machine.
describe('deploy configuration', { timeout: 120_000 }, () => {
  it('warns at synth when alertEmail and arize.apiKeyOwnerEmail are missing (the cdk.json defaults)', () => {
    const { stack } = stackWith({});
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.anyValue()).map((w) => JSON.stringify(w.entry.data));
    expect(warnings.some((w) => w.includes('offboarding.alertEmail is not set'))).toBe(true);
    expect(warnings.some((w) => w.includes('offboarding.arize.apiKeyOwnerEmail is not set'))).toBe(true);
  });

  it('does not warn once both are configured', () => {
    const arize = (cdkJsonContext().offboarding as { arize: object }).arize;
    const { stack } = stackWith({ alertEmail: 'secops@example.com', arize: { ...arize, apiKeyOwnerEmail: 'bot@example.com' } });
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.anyValue()).map((w) => JSON.stringify(w.entry.data));
    expect(warnings.filter((w) => w.includes('is not set'))).toEqual([]);
  });

  it('refuses a deleteChunkSize whose worst retry case exceeds 25,000 history events, naming the field and construct', () => {
    const { app } = stackWith({ deleteChunkSize: 1 });
    expect(() => app.synth()).toThrow(/ConfigTest\/Workflow[\s\S]*offboarding\.deleteChunkSize 1 .*history events/);
  });

  it('accepts the default chunk size with the maximum retry rounds', () => {
    const { app } = stackWith({ deleteChunkSize: 100, retry: { maxAttempts: 10, backoffSeconds: 60, backoffRate: 2 } });
    expect(() => app.synth()).not.toThrow();
  });
});
