/**
 * The ports of the use cases: what they need from the world, as plain interfaces. Adapters (lambdas/adapters/*,
 * the Arize client, the local runtime) implement them; handlers/wiring.ts plugs the AWS ones in, the local
 * runtime and tests their own. Nothing here may import an SDK, Powertools or an adapter (test/unit/layering.test.ts).
 */
import type { CallOptions, EmailResolution, User } from '../arize/index.js';
import type { Ledger } from '../core/ledger.js';
import type { OutcomeCounts } from '../core/outcome.js';
import type { RemovalDirectory } from '../core/removal.js';
import type { OffboardingRequest } from '../core/request.js';
import type { RuntimeConfig } from '../core/runtime-config.js';

export type {
  DeleteIntent,
  Ledger,
  RecordOptions,
  RequestState,
  RequestStateCreation,
  RequestStateUpdate,
  ScheduledEmail,
  TimeRange,
} from '../core/ledger.js';

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

/** What use cases report; handlers pass the Powertools sink, local runs and tests their own. */
export interface OutcomeMetricsSink {
  countOutcomes(counts: Partial<OutcomeCounts>): void;
  /** SERVICE keys of deleted leavers left ACTIVE: the OrphanedServiceKeys alarm watches it. */
  countOrphanedServiceKeys?(count: number): void;
  /** Deletions recorded after the removal SLA (optional: sinks that only count outcomes ignore it). */
  countSlaMisses?(count: number): void;
}

export const noopMetrics: OutcomeMetricsSink = { countOutcomes: () => undefined };

export interface WorkflowDeps {
  config: RuntimeConfig;
  ledger: Ledger;
  /** Lazy: only the resolve and delete tasks need the API key. */
  directory: () => Promise<UserDirectory>;
  clock: () => Date;
  metrics: OutcomeMetricsSink;
  log: WorkflowLog;
}

/** The workflow's dependencies without the Arize directory: what the tasks that never call Arize receive. */
export type LedgerTaskDeps = Omit<WorkflowDeps, 'directory'>;

export type StartResult = { status: 'started'; executionArn: string } | { status: 'duplicate' };

export interface ExecutionStarter {
  /** Starts one execution; an execution with the same name already existing is a duplicate, not an error. */
  start(name: string, input: unknown): Promise<StartResult>;
}

/** The intake queue (SQS in AWS): all or nothing as far as the queue allows (lambdas/adapters/queue.ts). */
export interface RequestQueue {
  send(requests: readonly OffboardingRequest[]): Promise<void>;
}

/** A message over the queue's size limit: permanent, so a sender must not present it as retryable. */
export class MessageTooLargeError extends Error {
  override readonly name = 'MessageTooLargeError';
}

/** Reads a secret's string value by id (port: the handlers' wiring passes the Secrets Manager adapter). */
export interface SecretSource {
  read(secretId: string): Promise<string | undefined>;
}

/** An object written to a bucket (S3 in AWS): evidence and audit reports. */
export interface StoredObject {
  key: string;
  body: string;
  contentType: string;
}

export interface ObjectStore {
  /** Writes one object; returns where it went (`s3://bucket/key`), for the log and the result. */
  put(object: StoredObject): Promise<string>;
}
