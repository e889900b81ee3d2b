import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { CONFIG_CONTEXT_KEY, ConfigError, LOG_RETENTION_DAYS, loadConfig, parseConfig } from '../../lib/config.js';

const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  context: Record<string, unknown>;
};

describe('offboarding config (cdk.json context "offboarding")', () => {
  it('fills every documented default when the context key is absent', () => {
    const config = loadConfig(new App().node);
    expect(config).toEqual({
      protectedEmails: [],
      protectedPatterns: [],
      protectedRoles: ['ADMIN'],
      maxDeletesPerRequest: 50,
      retry: { maxAttempts: 3, backoffSeconds: 60, backoffRate: 2 },
      dryRun: false,
      serviceKeys: 'report',
      arize: {
        host: 'api.arize.com',
        scheme: 'https',
        secretName: 'arize-offboarding/arize-api-key',
        importExistingSecret: false,
        maxConcurrency: 4,
        maxRequestsPerSecond: 10,
      },
      intake: { batchSize: 10, maxBatchingWindowSeconds: 5, maxConcurrency: 5 },
      deleteChunkSize: 100,
      deleteMapConcurrency: 4,
      logRetentionDays: 90,
      webhook: { throttlingRateLimit: 10, throttlingBurstLimit: 20, secretName: 'arize-offboarding/webhook-secret' },
      hrProviders: [],
      hrTimeZone: 'UTC',
      hrGraceMinutes: 0,
      audit: { schedule: 'cron(0 6 * * ? *)', timeZone: 'UTC', redriveOlderThanMinutes: 60, driftLookbackDays: 90, reportRetentionDays: 365 },
      evidence: { slaHours: 24, retentionDays: 400 },
    });
  });

  it('cdk.json documents exactly the defaults', () => {
    expect(parseConfig(cdkJson.context[CONFIG_CONTEXT_KEY])).toEqual(parseConfig(undefined));
  });

  it('merges a partial override with defaults, including nested objects', () => {
    const app = new App({
      context: {
        offboarding: {
          protectedEmails: ['  CEO@Example.com '],
          dryRun: true,
          arize: { host: '127.0.0.1', scheme: 'http', port: 8080 },
          intake: { batchSize: 50 },
        },
      },
    });
    const config = loadConfig(app.node);
    expect(config.protectedEmails).toEqual(['ceo@example.com']);
    expect(config.dryRun).toBe(true);
    expect(config.arize).toMatchObject({ host: '127.0.0.1', scheme: 'http', port: 8080, maxConcurrency: 4 });
    expect(config.intake).toEqual({ batchSize: 50, maxBatchingWindowSeconds: 5, maxConcurrency: 5 });
  });

  it('accepts the context as a JSON string, as `cdk -c offboarding=...` passes it', () => {
    const config = parseConfig('{"maxDeletesPerRequest": 7}');
    expect(config.maxDeletesPerRequest).toBe(7);
  });

  it('rejects a bad value with an error naming the full context path', () => {
    const app = new App({ context: { offboarding: { intake: { maxConcurrency: 1 } } } });
    expect(() => loadConfig(app.node)).toThrow(ConfigError);
    expect(() => loadConfig(app.node)).toThrow(/offboarding\.intake\.maxConcurrency/);
  });

  it('rejects unknown keys so a typo cannot silently fall back to a default', () => {
    expect(() => parseConfig({ maxDeletePerRequest: 5 })).toThrow(/offboarding.*maxDeletePerRequest/s);
  });

  it('rejects a batch size above 10 without a batching window (an SQS limit)', () => {
    expect(() => parseConfig({ intake: { batchSize: 20, maxBatchingWindowSeconds: 0 } })).toThrow(
      /offboarding\.intake\.batchSize: batchSize above 10 requires maxBatchingWindowSeconds > 0/,
    );
  });

  it('rejects a log retention CloudWatch does not offer, and a malformed protected email', () => {
    expect(() => parseConfig({ logRetentionDays: 42 })).toThrow(/offboarding\.logRetentionDays/);
    expect(() => parseConfig({ protectedEmails: ['not-an-email'] })).toThrow(/offboarding\.protectedEmails\.0/);
  });

  it('takes serviceKeys report or revoke only, naming the field otherwise', () => {
    expect(parseConfig({ serviceKeys: 'revoke' }).serviceKeys).toBe('revoke');
    expect(() => parseConfig({ serviceKeys: 'delete' })).toThrow(/offboarding\.serviceKeys: must be one of report, revoke/);
  });

  it('offers exactly the log retention periods aws-cdk-lib knows (the pure schema states them itself)', () => {
    const cdkValues = Object.values(logs.RetentionDays).filter((value): value is number => typeof value === 'number');
    expect([...LOG_RETENTION_DAYS].sort((a, b) => a - b)).toEqual(cdkValues.sort((a, b) => a - b));
  });

  it('rejects a context string that is not JSON, naming the key', () => {
    expect(() => parseConfig('{oops')).toThrow(/context "offboarding" is a string but not valid JSON/);
  });
});
