/**
 * Production wiring of the Arize directory, for the tasks that call Arize (resolve, delete, audit) only: the client,
 * its shared rate budget and the Secrets Manager read stay out of the other bundles (./workflow.ts).
 */
import type { Context } from 'aws-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ArizeUsersClient, DEFAULT_MAX_REQUESTS_PER_SECOND } from '../../arize/index.js';
import { SharedRateBudget } from '../../arize/shared-budget.js';
import { DynamoSharedRateStore } from '../../adapters/shared-rate-limit.js';
import { loadArizeApiKey, secretsManagerSource, type SecretSource } from '../../adapters/secrets.js';
import { arizeEndpointOptions, arizeLimitOptions } from '../../core/runtime-config.js';
import { log, tracer } from '../../observability.js';
import type { WorkflowDeps } from '../../usecases/ports.js';
import { getDefaultDeps, getDefaultWiring } from './workflow.js';

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

let defaultDirectory: (() => Promise<ArizeUsersClient>) | undefined;
let defaultArizeDeps: WorkflowDeps | undefined;

/** Lazy: the API key is read on the first Arize call (cached for SECRET_MAX_AGE_SECONDS; a failed read is retried next time). */
export function getDefaultArizeDirectory(): () => Promise<ArizeUsersClient> {
  defaultDirectory ??= buildArizeDirectory();
  return defaultDirectory;
}

/** The workflow's dependencies with the Arize directory: resolve and delete. */
export function getDefaultArizeDeps(): WorkflowDeps {
  defaultArizeDeps ??= { ...getDefaultDeps(), directory: getDefaultArizeDirectory() };
  return defaultArizeDeps;
}

function buildArizeDirectory(): () => Promise<ArizeUsersClient> {
  const { config, documents } = getDefaultWiring();
  // One bucket for every concurrent invocation (resolve, delete, audit): see shared-budget.ts.
  const sharedBudget = config.arize.sharedRateLimit === true
    ? new SharedRateBudget(new DynamoSharedRateStore({ tableName: config.ledgerTableName, client: documents }), {
        maxRate: DEFAULT_MAX_REQUESTS_PER_SECOND,
      })
    : undefined;
  // Built on the first Arize call, not at init.
  let secrets: SecretSource | undefined;
  // One client per key: it carries the learned rate, so it is kept while the key stays the same, and replaced
  // when a rotated key arrives (the secret is re-read after SECRET_MAX_AGE_SECONDS, not once per container).
  let current: { apiKey: string; client: ArizeUsersClient } | undefined;
  return async () => {
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
  };
}
