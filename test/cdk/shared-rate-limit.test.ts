/**
 * The shared Arize rate limit in the stack: exactly the functions that call Arize get it (env var
 * + GetItem/UpdateItem scoped to the bucket's partition key); no other function does.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ArizeOffboardingStack } from '../../lib/arize-offboarding-stack.js';
import { SHARED_RATE_LIMIT_PK } from '../../lambdas/adapters/ledger-table.js';
import { cdkJsonContext, logicalIdOf, SKIP_BUNDLING, statementsForRole } from './helpers.js';

interface FunctionResource {
  Properties: { Role: { 'Fn::GetAtt': [string, string] }; Environment: { Variables: Record<string, unknown> } };
}

describe('shared Arize rate limit', () => {
  let stack: ArizeOffboardingStack;
  let template: Template;
  let functions: Record<string, FunctionResource>;

  beforeAll(() => {
    const app = new App({ context: { ...cdkJsonContext(), ...SKIP_BUNDLING } });
    stack = new ArizeOffboardingStack(app, 'ArizeOffboarding');
    template = Template.fromStack(stack);
    functions = template.findResources('AWS::Lambda::Function') as Record<string, FunctionResource>;
  });

  it('is on, with a grant scoped to its ledger key, for every function holding the Arize key and for no other', () => {
    let callers = 0;
    for (const [id, fn] of Object.entries(functions)) {
      const vars = fn.Properties.Environment.Variables;
      const callsArize = vars.ARIZE_API_KEY_SECRET_ID !== undefined;
      expect(vars.ARIZE_SHARED_RATE_LIMIT, id).toBe(callsArize ? 'true' : undefined);
      const scoped = statementsForRole(template, fn.Properties.Role['Fn::GetAtt'][0]).filter(
        (s) => JSON.stringify(s.Condition ?? {}).includes(SHARED_RATE_LIMIT_PK),
      );
      if (!callsArize) {
        expect(scoped, id).toEqual([]);
        continue;
      }
      callers++;
      expect(scoped, id).toHaveLength(1);
      expect(scoped[0]).toMatchObject({
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        Resource: { 'Fn::GetAtt': [logicalIdOf(stack.ledger.table), 'Arn'] },
        Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [SHARED_RATE_LIMIT_PK] } },
      });
    }
    // resolve, delete and the audit.
    expect(callers).toBeGreaterThanOrEqual(3);
  });
});
