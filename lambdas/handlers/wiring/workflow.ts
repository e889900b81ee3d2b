/**
 * Production wiring of the workflow use cases (ports → AWS adapters), built once per container. The local
 * runtime and tests build their own `WorkflowDeps` (usecases/ports.ts) and call the use cases directly.
 */
import type { Context } from 'aws-lambda';
import { ArizeUsersClient, DEFAULT_MAX_REQUESTS_PER_SECOND } from '../../arize/index.js';
import { SharedRateBudget } from '../../arize/shared-budget.js';
import { DynamoSharedRateStore } from '../../adapters/shared-rate-limit.js';
import { DynamoLedger, createDocumentClient } from '../../adapters/ledger.js';
import { loadArizeApiKey, secretsManagerSource, type SecretSource } from '../../adapters/secrets.js';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { arizeEndpointOptions, arizeLimitOptions, loadRuntimeConfig, type RuntimeConfig } from '../../core/runtime-config.js';
import { log, powertoolsOutcomeMetrics, tracer } from '../../observability.js';
import type { WorkflowDeps } from '../../usecases/ports.js';

/** Time a task leaves itself to record outcomes after its last Arize call. */
export const RECORDING_RESERVE_MS = 5_000;

export function deadlineFrom(context: Pick<Context, 'getRemainingTimeInMillis'> | undefined, now: number): number | undefined {
  if (!context || typeof context.getRemainingTimeInMillis !== 'function') return undefined;
  return now + Math.max(1_000, context.getRemainingTimeInMillis() - RECORDING_RESERVE_MS);
}

/** The use cases' call options for a Lambda invocation: Arize calls stop in time to record their outcomes. */
export function deadlineOptions(context: Pick<Context, 'getRemainingTimeInMillis'> | undefined): { deadline?: number } {
  const deadline = deadlineFrom(context, Date.now());
  return deadline ? { deadline } : {};
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
