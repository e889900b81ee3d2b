/**
 * Settings stated once (lambdas/core/settings.ts): the deploy-time schema, the Lambda environment and the Arize
 * client derive their defaults and bounds from one table, so a value one layer accepts the next one accepts too,
 * and the same value arrives. Checked at each bound and just outside it, through the real mapping
 * (cdk.json schema → lib/workflow/environment.ts → loadRuntimeConfig → resolveConfig).
 */
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../lambdas/arize/config.js';
import { loadRuntimeConfig } from '../../lambdas/core/runtime-config.js';
import { DEFAULT_RETRY_POLICY } from '../../lambdas/core/retry-policy.js';
import { SETTINGS, deployedDefault, type SettingName } from '../../lambdas/core/settings.js';
import { parseConfig, type OffboardingConfigInput } from '../../lib/config.js';
import { workflowArizeEnvironment, workflowPolicyEnvironment } from '../../lib/workflow/environment.js';

/** Where each setting sits in cdk.json, and where the Lambda's RuntimeConfig carries it. */
const LAYERS: Record<SettingName, { deploy: (value: number) => OffboardingConfigInput; runtime: (env: Record<string, string>) => number | undefined }> = {
  maxDeletesPerRequest: { deploy: (v) => ({ maxDeletesPerRequest: v }), runtime: (env) => runtime(env).planning.maxDeletesPerRequest },
  deleteChunkSize: { deploy: (v) => ({ deleteChunkSize: v }), runtime: (env) => runtime(env).planning.chunkSize },
  retryMaxAttempts: { deploy: (v) => ({ retry: { maxAttempts: v } }), runtime: (env) => runtime(env).retry.maxAttempts },
  retryBackoffSeconds: { deploy: (v) => ({ retry: { backoffSeconds: v } }), runtime: (env) => runtime(env).retry.backoffSeconds },
  retryBackoffRate: { deploy: (v) => ({ retry: { backoffRate: v } }), runtime: (env) => runtime(env).retry.backoffRate },
  arizeMaxConcurrency: { deploy: (v) => ({ arize: { maxConcurrency: v } }), runtime: (env) => runtime(env).arize.maxConcurrency },
  arizeMaxRequestsPerSecond: { deploy: (v) => ({ arize: { maxRequestsPerSecond: v } }), runtime: (env) => runtime(env).arize.maxRequestsPerSecond },
  evidenceSlaHours: { deploy: (v) => ({ evidence: { slaHours: v } }), runtime: (env) => runtime(env).slaHours },
};

function runtime(env: Record<string, string>) {
  return loadRuntimeConfig({ LEDGER_TABLE_NAME: 'ledger', ...env });
}

function lambdaEnvironment(input: OffboardingConfigInput): Record<string, string> {
  const config = parseConfig(input);
  return { ...workflowPolicyEnvironment(config), ...workflowArizeEnvironment(config) };
}

const names = Object.keys(SETTINGS) as SettingName[];

describe('settings stated once', () => {
  it.each(names)('%s: the deploy schema and the Lambda environment accept the same range and carry the value', (name) => {
    const { min, max } = SETTINGS[name];
    for (const value of [min, max]) {
      expect(LAYERS[name].runtime(lambdaEnvironment(LAYERS[name].deploy(value)))).toBe(value);
    }
    for (const value of [min - 1, max + 1]) {
      expect(() => parseConfig(LAYERS[name].deploy(value))).toThrow(/offboarding\./);
    }
    // Defaults: a stack deployed without the key runs with the deployed default.
    expect(LAYERS[name].runtime(lambdaEnvironment({}))).toBe(deployedDefault(name));
  });

  it('the Lambda environment refuses what the deploy schema refuses, naming the variable', () => {
    expect(() => runtime({ RETRY_MAX_ATTEMPTS: String(SETTINGS.retryMaxAttempts.max + 1) })).toThrow(/RETRY_MAX_ATTEMPTS/);
    expect(() => runtime({ ARIZE_MAX_CONCURRENCY: String(SETTINGS.arizeMaxConcurrency.max + 1) })).toThrow(/ARIZE_MAX_CONCURRENCY/);
    expect(() => runtime({ MAX_DELETES_PER_REQUEST: String(SETTINGS.maxDeletesPerRequest.max + 1) })).toThrow(/MAX_DELETES_PER_REQUEST/);
  });

  it('an unset Lambda variable means the table default, for the policy and (through the client) for Arize', () => {
    const config = runtime({});
    expect(config.planning.maxDeletesPerRequest).toBe(SETTINGS.maxDeletesPerRequest.default);
    expect(config.planning.chunkSize).toBe(SETTINGS.deleteChunkSize.default);
    expect(config.retry).toEqual(DEFAULT_RETRY_POLICY);
    const client = resolveConfig({}, {});
    expect(client.maxConcurrency).toBe(SETTINGS.arizeMaxConcurrency.default);
    expect(client.maxRequestsPerSecond).toBe(SETTINGS.arizeMaxRequestsPerSecond.default);
  });

  it('the client takes the same Arize bounds as the deploy schema and the Lambda environment', () => {
    const { arizeMaxConcurrency: concurrency, arizeMaxRequestsPerSecond: rate } = SETTINGS;
    expect(resolveConfig({ maxConcurrency: concurrency.max, maxRequestsPerSecond: rate.max }, {})).toMatchObject({ maxConcurrency: concurrency.max, maxRequestsPerSecond: rate.max });
    expect(() => resolveConfig({ maxConcurrency: concurrency.max + 1 }, {})).toThrow(/maxConcurrency/);
    expect(() => resolveConfig({}, { ARIZE_MAX_CONCURRENCY: String(concurrency.min - 1) })).toThrow(/ARIZE_MAX_CONCURRENCY/);
    expect(() => resolveConfig({ maxRequestsPerSecond: rate.max + 1 }, {})).toThrow(/maxRequestsPerSecond/);
  });

  it('the deploy-time schema loads without aws-cdk-lib (the CLI and local runtime import it)', async () => {
    const result = await build({
      entryPoints: [new URL('../../lib/config.ts', import.meta.url).pathname],
      bundle: true,
      write: false,
      metafile: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      logLevel: 'silent',
    });
    const imported = Object.values(result.metafile.outputs).flatMap((output) => output.imports.map((entry) => entry.path));
    expect(imported).toContain('zod');
    expect(imported.filter((path) => path.startsWith('aws-cdk-lib'))).toEqual([]);
  });
});
