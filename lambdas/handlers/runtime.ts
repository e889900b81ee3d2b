/**
 * Dependencies of the use cases, and their production wiring (built once per container).
 * The local runtime and tests build their own `WorkflowDeps` and call the exported use-case
 * functions directly; the `handler` exports only add this default wiring.
 */
import type { Context } from 'aws-lambda';
import { ArizeUsersClient, type CallOptions, type EmailResolution } from '../arize/index.js';
import { DynamoLedger, createDocumentClient, type Ledger } from '../adapters/ledger.js';
import { loadArizeApiKey } from '../adapters/secrets.js';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { loadRuntimeConfig, type RuntimeConfig } from '../core/runtime-config.js';
import { log, powertoolsOutcomeMetrics, tracer, type OutcomeMetricsSink } from '../observability.js';

/** The part of the Arize client the workflow uses (ArizeUsersClient satisfies it). */
export interface UserDirectory {
  resolveEmailMatches(emails: string[], opts?: CallOptions): Promise<Map<string, EmailResolution>>;
  delete(userId: string, opts?: CallOptions): Promise<void>;
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

let defaultDeps: WorkflowDeps | undefined;

/** Production wiring from the Lambda environment; throws ConfigError naming the bad variables. */
export function getDefaultDeps(): WorkflowDeps {
  if (defaultDeps) return defaultDeps;
  defaultDeps = buildDefaultDeps();
  return defaultDeps;
}

function buildDefaultDeps(): WorkflowDeps {
  const config = loadRuntimeConfig(process.env);
  const dynamo = tracer.captureAWSv3Client(new DynamoDBClient({}));
  let directory: Promise<UserDirectory> | undefined;
  return {
    config,
    ledger: new DynamoLedger({ tableName: config.ledgerTableName, client: createDocumentClient(dynamo) }),
    directory: () => {
      directory ??= loadArizeApiKey(config.arize).then(
        (apiKey) =>
          new ArizeUsersClient({
            apiKey,
            ...(config.arize.host ? { host: config.arize.host } : {}),
            ...(config.arize.scheme ? { scheme: config.arize.scheme } : {}),
            ...(config.arize.port !== undefined ? { port: config.arize.port } : {}),
            ...(config.arize.maxConcurrency !== undefined ? { maxConcurrency: config.arize.maxConcurrency } : {}),
            ...(config.arize.maxRequestsPerSecond !== undefined ? { maxRequestsPerSecond: config.arize.maxRequestsPerSecond } : {}),
            logger: log,
          }),
        (error: unknown) => {
          directory = undefined;
          throw error;
        },
      );
      return directory;
    },
    clock: () => new Date(),
    metrics: powertoolsOutcomeMetrics,
    log,
  };
}

/** Tests only. */
export function resetDefaultDeps(): void {
  defaultDeps = undefined;
}
