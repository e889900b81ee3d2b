/**
 * Configuration of the local runtime: the stack's own settings (cdk.json context `offboarding`, validated by
 * lib/config.ts) with local overrides merged over them, and the workflow's RuntimeConfig derived from those
 * settings through the same environment mapping the Lambdas get in AWS.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONFIG_CONTEXT_KEY, parseConfig, type OffboardingConfig } from '../../lib/config.js';
import { workflowArizeEnvironment, workflowPolicyEnvironment } from '../../lib/workflow/environment.js';
import { loadRuntimeConfig, type RuntimeConfig } from '../../lambdas/core/runtime-config.js';

export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const LOCAL_LEDGER_TABLE_NAME = 'offboarding-ledger';
export const LOCAL_QUEUE_NAME = 'offboarding-intake';
export const LOCAL_DLQ_NAME = 'offboarding-intake-dlq';

type Overridable<T> = { [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? Partial<T[K]> : T[K] };
/** Top-level keys replace; the nested groups (arize, intake, retry) are merged key by key. */
export type LocalConfigOverrides = Overridable<OffboardingConfig>;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The `offboarding` context of the project's cdk.json, or {} when there is none (parseConfig fills defaults). */
export function readCdkJsonContext(cdkJsonPath: string = join(PROJECT_ROOT, 'cdk.json')): unknown {
  let text: string;
  try {
    text = readFileSync(cdkJsonPath, 'utf8');
  } catch {
    return {};
  }
  const parsed = JSON.parse(text) as { context?: Record<string, unknown> };
  return parsed.context?.[CONFIG_CONTEXT_KEY] ?? {};
}

/**
 * `OFFBOARDING_CONFIG`: JSON overrides of the cdk.json `offboarding` context for CLI runs (e.g. a short retry
 * backoff against a local sandbox), merged like `options.config` and validated by the same parser.
 */
export const CONFIG_OVERRIDES_ENV = 'OFFBOARDING_CONFIG';

export function configOverridesFromEnvironment(env: NodeJS.ProcessEnv = process.env): LocalConfigOverrides {
  const text = env[CONFIG_OVERRIDES_ENV]?.trim();
  if (!text) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${CONFIG_OVERRIDES_ENV} must be a JSON object of offboarding settings (it does not parse)`);
  }
  if (!isPlainObject(parsed)) throw new Error(`${CONFIG_OVERRIDES_ENV} must be a JSON object of offboarding settings`);
  return parsed;
}

/** cdk.json defaults, overrides merged over them, validated like `cdk synth` would (errors name the key). */
export function loadLocalConfig(overrides: LocalConfigOverrides = {}, cdkJsonPath?: string): OffboardingConfig {
  const base = readCdkJsonContext(cdkJsonPath);
  const merged: Record<string, unknown> = isPlainObject(base) ? { ...base } : {};
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    const current = merged[key];
    merged[key] = isPlainObject(value) && isPlainObject(current) ? { ...current, ...value } : value;
  }
  return parseConfig(merged);
}

export interface LocalArizeEndpoint {
  apiKey: string;
  host: string;
  scheme: 'http' | 'https';
  port?: number;
}

/**
 * The RuntimeConfig a deployed workflow function would load, with the local table and Arize endpoint.
 * Built from environment variables on purpose: the same parser, the same defaults, the same validation.
 */
export function workflowRuntimeConfig(
  config: OffboardingConfig,
  local: { tableName: string; arize: LocalArizeEndpoint; apiKeyOwnerEmail?: string },
): RuntimeConfig {
  const withOwner: OffboardingConfig =
    local.apiKeyOwnerEmail !== undefined && config.arize.apiKeyOwnerEmail === undefined
      ? { ...config, arize: { ...config.arize, apiKeyOwnerEmail: local.apiKeyOwnerEmail.trim().toLowerCase() } }
      : config;
  const arizeConfig: OffboardingConfig = {
    ...withOwner,
    arize: {
      ...withOwner.arize,
      host: local.arize.host,
      scheme: local.arize.scheme,
      ...(local.arize.port !== undefined ? { port: local.arize.port } : {}),
    },
  };
  if (local.arize.port === undefined) delete arizeConfig.arize.port;
  return loadRuntimeConfig({
    LEDGER_TABLE_NAME: local.tableName,
    ...workflowPolicyEnvironment(withOwner),
    ...workflowArizeEnvironment(arizeConfig),
    ARIZE_API_KEY: local.arize.apiKey,
  });
}
