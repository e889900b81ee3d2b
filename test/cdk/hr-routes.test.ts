/** Native HR routes in the stack: only enabled providers get a route and a secret; config errors name the key. */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config.js';
import { actionsOf, buildStack, logicalIdOf, statementsForRole } from './helpers.js';

const build = buildStack;

describe('hrProviders', () => {
  it('adds a route and a retained secret per enabled provider (GET too for Okta), and nothing else', { timeout: 180_000 }, () => {
    const { stack, template } = build({ hrProviders: ['bamboohr', 'okta'], hrTimeZone: 'America/Los_Angeles', hrGraceMinutes: 30 });
    const routeKeys = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((r) => (r as { Properties: { RouteKey: string } }).Properties.RouteKey).sort();
    expect(routeKeys).toEqual(['GET /hr/okta', 'POST /hr/bamboohr', 'POST /hr/events', 'POST /hr/okta']);
    const fn = template.findResources('AWS::Lambda::Function')[logicalIdOf(stack.webhook.function)] as {
      Properties: { Role: { 'Fn::GetAtt': [string, string] }; Environment: { Variables: Record<string, unknown> } };
    };
    const env = fn.Properties.Environment.Variables;
    expect(env).toMatchObject({ OFFBOARDING_HR_TIME_ZONE: 'America/Los_Angeles', OFFBOARDING_HR_GRACE_MINUTES: '30' });
    expect(JSON.stringify(env.HR_BAMBOOHR_SECRET_ID)).toContain(logicalIdOf(stack.webhook.hrSecrets.get('bamboohr')!));
    expect(JSON.stringify(env.HR_OKTA_SECRET_ID)).toContain(logicalIdOf(stack.webhook.hrSecrets.get('okta')!));
    expect(env.HR_GUSTO_SECRET_ID).toBeUndefined();
    const secrets = template.findResources('AWS::SecretsManager::Secret');
    for (const secret of stack.webhook.hrSecrets.values()) expect(secrets[logicalIdOf(secret)]).toMatchObject({ DeletionPolicy: 'Retain' });
    expect(stack.webhook.hrSecrets.size).toBe(2);
    // REJECTED records need ledger writes; deletes and scans stay out.
    const actions = actionsOf(statementsForRole(template, fn.Properties.Role['Fn::GetAtt'][0]));
    expect(actions).toContain('dynamodb:PutItem');
    expect(actions.filter((a) => /DeleteItem|Scan/.test(a))).toEqual([]);
  });

  it('validates the keys, naming them', () => {
    expect(() => parseConfig({ hrProviders: ['workday'] })).toThrow(/offboarding\.hrProviders/);
    expect(() => parseConfig({ hrTimeZone: 'Mars/Olympus' })).toThrow(/offboarding\.hrTimeZone: must be an IANA time zone/);
    expect(() => parseConfig({ hrGraceMinutes: -5 })).toThrow(/offboarding\.hrGraceMinutes/);
    expect(parseConfig(undefined)).toMatchObject({ hrProviders: [], hrTimeZone: 'UTC', hrGraceMinutes: 0 });
  });
});
