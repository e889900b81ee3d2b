import { describe, expect, it } from 'vitest';
import { ConfigError, loadRuntimeConfig } from '../../lambdas/core/runtime-config.js';

describe('loadRuntimeConfig', () => {
  it('applies documented defaults with only the table name set', () => {
    const config = loadRuntimeConfig({ LEDGER_TABLE_NAME: 'ledger' });
    expect(config.planning).toEqual({ protectedEmails: [], protectedPatterns: [], protectedRoles: [], maxDeletesPerRequest: 50, chunkSize: 100, forceDryRun: false });
    expect(config.retry).toMatchObject({ maxAttempts: 3, backoffSeconds: 60, backoffRate: 2 });
    expect(config.arize).toEqual({});
    expect(config.serviceKeys).toBe('report');
  });

  it('reads SERVICE_KEYS (report | revoke) and names it when invalid', () => {
    expect(loadRuntimeConfig({ LEDGER_TABLE_NAME: 'ledger', SERVICE_KEYS: 'revoke' }).serviceKeys).toBe('revoke');
    expect(() => loadRuntimeConfig({ LEDGER_TABLE_NAME: 'ledger', SERVICE_KEYS: 'Revoke!' })).toThrow(/SERVICE_KEYS: must be one of report, revoke/);
  });

  it('parses lists, numbers and booleans', () => {
    const config = loadRuntimeConfig({
      LEDGER_TABLE_NAME: 'ledger',
      STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:1:stateMachine:x',
      ARIZE_API_KEY_SECRET_ID: 'arize/key',
      ARIZE_API_HOST: '127.0.0.1',
      ARIZE_API_SCHEME: 'http',
      ARIZE_API_PORT: '8080',
      PROTECTED_EMAILS: ' ceo@example.com, ,cfo@example.com',
      PROTECTED_PATTERNS: '*@security.example.com',
      PROTECTED_ROLES: 'ADMIN',
      MAX_DELETES_PER_REQUEST: '5',
      DRY_RUN: 'TRUE',
      RETRY_BACKOFF_SECONDS: '0',
    });
    expect(config.planning.protectedEmails).toEqual(['ceo@example.com', 'cfo@example.com']);
    expect(config.planning.forceDryRun).toBe(true);
    expect(config.planning.maxDeletesPerRequest).toBe(5);
    expect(config.retry.backoffSeconds).toBe(0);
    expect(config.arize).toEqual({ apiKeySecretId: 'arize/key', host: '127.0.0.1', scheme: 'http', port: 8080 });
    expect(config.stateMachineArn).toContain('stateMachine');
  });

  it('turns the shared Arize rate limit on only when ARIZE_SHARED_RATE_LIMIT is true', () => {
    expect(loadRuntimeConfig({ LEDGER_TABLE_NAME: 'ledger', ARIZE_SHARED_RATE_LIMIT: 'true' }).arize.sharedRateLimit).toBe(true);
    expect(loadRuntimeConfig({ LEDGER_TABLE_NAME: 'ledger', ARIZE_SHARED_RATE_LIMIT: 'false' }).arize.sharedRateLimit).toBeUndefined();
    expect(() => loadRuntimeConfig({ LEDGER_TABLE_NAME: 'ledger', ARIZE_SHARED_RATE_LIMIT: 'maybe' })).toThrow(/ARIZE_SHARED_RATE_LIMIT/);
  });

  it('names every bad variable', () => {
    let error: unknown;
    try {
      loadRuntimeConfig({ DRY_RUN: 'maybe', ARIZE_API_PORT: 'eighty', MAX_DELETES_PER_REQUEST: '2.5' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const name of ['LEDGER_TABLE_NAME', 'DRY_RUN', 'ARIZE_API_PORT', 'MAX_DELETES_PER_REQUEST']) expect(message).toContain(name);
  });
});
