/**
 * Dependencies of the use cases, and their production wiring (built once per container).
 * The local runtime and tests build their own `WorkflowDeps` and call the exported use-case
 * functions directly; the `handler` exports only add this default wiring.
 */
import type { Context } from 'aws-lambda';
import { ArizeUsersClient, DEFAULT_MAX_REQUESTS_PER_SECOND, type CallOptions, type EmailResolution, type User } from '../arize/index.js';
import type { RemovalDirectory } from '../core/removal.js';
import { SharedRateBudget } from '../arize/shared-budget.js';
import { DynamoSharedRateStore } from '../adapters/shared-rate-limit.js';
import { DynamoLedger, createDocumentClient, type Ledger } from '../adapters/ledger.js';
import { loadArizeApiKey, secretsManagerSource, type SecretSource } from '../adapters/secrets.js';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { arizeEndpointOptions, arizeLimitOptions, loadRuntimeConfig, type RuntimeConfig } from '../core/runtime-config.js';
import { slaMissesOf, terminationTimeOf } from '../core/evidence.js';
import type { Outcome } from '../core/outcome.js';
import { log, powertoolsOutcomeMetrics, tracer, type OutcomeMetricsSink } from '../observability.js';

/**
 * The part of the Arize client the workflow uses (ArizeUsersClient satisfies it): resolution, and the verified
 * removal of core/removal.ts (access inventory, delete, read-back, SERVICE-key revocation).
 */
export interface UserDirectory extends RemovalDirectory {
  resolveEmailMatches(emails: string[], opts?: CallOptions): Promise<Map<string, EmailResolution>>;
  delete(userId: string, opts?: CallOptions): Promise<void>;
  /** By id: reconciles a recorded delete intent (404 ⇒ the deletion happened) and reads the role before a delete. */
  get(userId: string, opts?: CallOptions): Promise<Pick<User, 'id' | 'role'>>;
}

export interface WorkflowLog {
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

export interface WorkflowDeps {
  config: RuntimeConfig;
  ledger: Ledger;
  /** Lazy: only the resolve and delete tasks need the API key. */
  directory: () => Promise<UserDirectory>;
  clock: () => Date;
  metrics: OutcomeMetricsSink;
  log: WorkflowLog;
}

/** Time a task leaves itself to record outcomes after its last Arize call. */
export const RECORDING_RESERVE_MS = 5_000;

export function deadlineFrom(context: Pick<Context, 'getRemainingTimeInMillis'> | undefined, now: number): number | undefined {
  if (!context || typeof context.getRemainingTimeInMillis !== 'function') return undefined;
  return now + Math.max(1_000, context.getRemainingTimeInMillis() - RECORDING_RESERVE_MS);
}

export const noopMetrics: OutcomeMetricsSink = { countOutcomes: () => undefined };

/**
 * Counts the deletions just recorded that missed the removal SLA (metric `SlaMissed`, alarmed in
 * lib/constructs/monitoring.ts). The termination time is the request's effective time, else when it was
 * received; for an approval it is the HELD request's. One state read, only when something was deleted.
 * Never fails the task: the deletions are recorded already, and the evidence export judges the SLA anyway.
 */
export async function reportSlaMisses(deps: Pick<WorkflowDeps, 'ledger' | 'metrics' | 'config' | 'log'>, requestId: string, outcomes: readonly Outcome[]): Promise<number> {
  if (deps.metrics.countSlaMisses === undefined || !outcomes.some((o) => o.status === 'DELETED')) return 0;
  try {
    let state = await deps.ledger.getRequestState(requestId);
    const approved = state?.request?.approvesHeldRequest;
    if (approved !== undefined) state = (await deps.ledger.getRequestState(approved)) ?? state;
    const misses = state === undefined ? 0 : slaMissesOf(outcomes, terminationTimeOf(state), deps.config.slaHours);
    deps.metrics.countSlaMisses(misses);
    if (misses > 0) deps.log.warn('deletions recorded after the removal SLA', { requestId, misses, slaHours: deps.config.slaHours });
    return misses;
  } catch (error) {
    deps.log.warn('SLA check of recorded deletions failed', { requestId, error: error instanceof Error ? error.message : String(error) });
    return 0;
  }
}

/** What every handler in a container shares: config read once, each SDK client built once. */
export interface DefaultWiring {
  config: RuntimeConfig;
  ledger: DynamoLedger;
  /** Lazy: only tasks that call Arize read the API key (cached for SECRET_MAX_AGE_SECONDS; a failed read is retried next time). */
  arize: () => Promise<ArizeUsersClient>;
}

let defaultWiring: DefaultWiring | undefined;
let defaultDeps: WorkflowDeps | undefined;

/** Production wiring from the Lambda environment; throws ConfigError naming the bad variables. */
export function getDefaultWiring(): DefaultWiring {
  defaultWiring ??= buildDefaultWiring();
  return defaultWiring;
}

export function getDefaultDeps(): WorkflowDeps {
  if (defaultDeps) return defaultDeps;
  const { config, ledger, arize } = getDefaultWiring();
  defaultDeps = { config, ledger, directory: arize, clock: () => new Date(), metrics: powertoolsOutcomeMetrics, log };
  return defaultDeps;
}

function buildDefaultWiring(): DefaultWiring {
  const config = loadRuntimeConfig(process.env);
  const dynamo = tracer.captureAWSv3Client(new DynamoDBClient({}));
  const documents = createDocumentClient(dynamo);
  // One bucket for every concurrent invocation (resolve, delete, audit): see shared-budget.ts.
  const sharedBudget = config.arize.sharedRateLimit === true
    ? new SharedRateBudget(new DynamoSharedRateStore({ tableName: config.ledgerTableName, client: documents }), {
        maxRate: DEFAULT_MAX_REQUESTS_PER_SECOND,
      })
    : undefined;
  // Built on the first Arize call: validate, record, plan-retry and summarize never read the key.
  let secrets: SecretSource | undefined;
  // One client per key: it carries the learned rate, so it is kept while the key stays the same, and replaced
  // when a rotated key arrives (the secret is re-read after SECRET_MAX_AGE_SECONDS, not once per container).
  let current: { apiKey: string; client: ArizeUsersClient } | undefined;
  return {
    config,
    ledger: new DynamoLedger({ tableName: config.ledgerTableName, client: documents }),
    arize: async () => {
      secrets ??= secretsManagerSource(tracer.captureAWSv3Client(new SecretsManagerClient({})));
      const apiKey = await loadArizeApiKey(config.arize, secrets);
      if (current?.apiKey !== apiKey) {
        const client = new ArizeUsersClient({
          apiKey,
          ...arizeEndpointOptions(config.arize),
          ...arizeLimitOptions(config.arize),
          ...(sharedBudget === undefined ? {} : { sharedBudget }),
          logger: log,
        });
        current = { apiKey, client };
      }
      return current.client;
    },
  };
}

/** Tests only. */
export function resetDefaultDeps(): void {
  defaultWiring = undefined;
  defaultDeps = undefined;
}
