/**
 * Production wiring of the workflow use cases (ports → AWS adapters), built once per container: what every task
 * shares (config, ledger). The Arize directory is wired apart (./arize.ts) so that the bundles of tasks that never
 * call Arize (validate, record, plan-retry, summarize, start) do not carry its client. The local runtime and tests
 * build their own `WorkflowDeps` (usecases/ports.ts) and call the use cases directly.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoLedger, createDocumentClient } from '../../adapters/ledger.js';
import { loadRuntimeConfig, type RuntimeConfig } from '../../core/runtime-config.js';
import { log, powertoolsOutcomeMetrics, tracer } from '../../observability.js';
import type { LedgerTaskDeps } from '../../usecases/ports.js';

/** What every handler in a container shares: config read once, each SDK client built once. */
export interface DefaultWiring {
  config: RuntimeConfig;
  /** The traced DynamoDB document client, also used by the Arize wiring's shared rate budget. */
  documents: DynamoDBDocumentClient;
  ledger: DynamoLedger;
}

let defaultWiring: DefaultWiring | undefined;
let defaultDeps: LedgerTaskDeps | undefined;

/** Production wiring from the Lambda environment; throws ConfigError naming the bad variables. */
export function getDefaultWiring(): DefaultWiring {
  if (defaultWiring) return defaultWiring;
  const config = loadRuntimeConfig(process.env);
  const documents = createDocumentClient(tracer.captureAWSv3Client(new DynamoDBClient({})));
  defaultWiring = { config, documents, ledger: new DynamoLedger({ tableName: config.ledgerTableName, client: documents }) };
  return defaultWiring;
}

export function getDefaultDeps(): LedgerTaskDeps {
  if (defaultDeps) return defaultDeps;
  const { config, ledger } = getDefaultWiring();
  defaultDeps = { config, ledger, clock: () => new Date(), metrics: powertoolsOutcomeMetrics, log };
  return defaultDeps;
}
