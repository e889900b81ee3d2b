/**
 * What the local runtime offers and takes, apart from its implementation so that `remote.ts` (a connection to
 * a runtime another process runs) and `index.ts` (the in-process runtime) share the shape without importing
 * each other.
 */
import type { ArizeEndpoint, ArizeUsersClient } from '../../lambdas/arize/index.js';
import type { ExecutionStarter } from '../../lambdas/adapters/execution-starter.js';
import type { DynamoLedger } from '../../lambdas/adapters/ledger.js';
import type { OffboardingRequestInput } from '../../lambdas/core/request.js';
import type { PublishedAlert } from '../../lambdas/usecases/task-handlers.js';
import type { OffboardingConfig } from '../../lib/config.js';
import type { LocalStepFunctions } from '../engines/stepfunctions.js';
import type { Sandbox, SeedUser } from '../sandbox/server.js';
import type { LocalConfigOverrides } from './config.js';
import type { WorkflowDefinition } from './definition.js';
import type { IntakeJournal } from './intake-journal.js';
import type { IntakeQueueRef } from './queue.js';
import type { RuntimeInfo } from './runtime-file.js';
import type { TaskHandlerMap } from './workflow.js';

export type LocalArizeOption =
  | { mode: 'sandbox'; seed?: SeedUser[]; latencyMs?: number; errorRate?: number }
  | {
      mode: 'external';
      apiKey: string;
      /** Resolved by lambdas/arize/config.ts (the CLI's way); wins over host/scheme/port. */
      endpoint?: ArizeEndpoint;
      host?: string;
      scheme?: 'http' | 'https';
      port?: number;
    };

export interface LocalRuntimeOptions {
  /** Persisted dynalite under `<dataDir>/ledger`, runtime.json in `<dataDir>`; default `.offboard`. Ignored when inMemory. */
  dataDir?: string;
  /** Nothing on disk except the definition cache (tests). */
  inMemory?: boolean;
  /** Default: the sandbox with the demo directory. */
  arize?: LocalArizeOption;
  /** Merged over the cdk.json context defaults (nested groups key by key), validated by lib/config.ts. */
  config?: LocalConfigOverrides;
  /**
   * A demo device, only for the built-in sandbox this runtime starts itself: multiplies every wait the stack
   * configures (Wait states — the effective date included —, Retry intervals, the batching window and, at
   * least 1 s, the queue's visibility timeout). Default 0.001 with the built-in sandbox (announced on `log`);
   * tests use 0. Against an external Arize every wait lasts its real time: any value but 1 is refused there.
   */
  waitTimeScale?: number;
  /** Real Arize without --confirm: every request is a dry run (DRY_RUN, as the stack's dryRun setting). */
  forceDryRun?: boolean;
  /** Progress and warning lines (emails masked). */
  log?: (line: string) => void;
  /**
   * Overrides the (scaled) visibility timeout of the intake queue, in whole seconds >= 1 (e.g. 1 for fast
   * redelivery tests): local-aws-sqs treats 0 as its 30 s default, so 0 is refused rather than silently slow.
   */
  visibilityTimeoutSeconds?: number;
  /** A definition already loaded (tests share one per file); default: loadWorkflowDefinition (cached). */
  definition?: WorkflowDefinition;
  /** Where synthesised definitions are cached; default the OS temp folder; false = always synthesise. */
  definitionCacheDir?: string | false;
  /** Receives what AlertHeld would publish (they are also kept in `alerts`). */
  onAlert?: (alert: PublishedAlert) => void;
  /** Keep each execution's event log (default false: memory would grow with every request run). */
  retainEvents?: boolean;
  /**
   * Executions doing work at once (not counting those sleeping in a Wait); further requests stay on the queue
   * until one finishes. Default DEFAULT_MAX_ACTIVE_EXECUTIONS: enough to keep the Arize client's window full.
   */
  maxActiveExecutions?: number;
  /** Test seams, kept deliberately small. */
  seams?: {
    /** E.g. an execution starter that throws N times, to exercise SQS redelivery. */
    wrapStarter?: (starter: ExecutionStarter) => ExecutionStarter;
    /** E.g. a task that fails with a Lambda service error. */
    wrapTaskHandlers?: (handlers: TaskHandlerMap) => TaskHandlerMap;
  };
}

export interface ProgressEvent {
  /** The request id; for a rejected message, its rejection id (the ledger key of its REJECTED record). */
  requestId: string;
  kind: 'started' | 'outcomes' | 'finished' | 'rejected';
  /** `finished`: the request's final ledger state (COMPLETED, HELD, …); `rejected`: the reason. */
  status?: string;
  /** `outcomes`: how many of the request's emails have an outcome recorded so far (each email counted once). */
  emails?: number;
}

export interface DrainOptions {
  /** Default 60 s. */
  timeoutMs?: number;
}

/** What both the in-process runtime and a connection to a running one offer. */
export interface OffboardingRuntime {
  readonly mode: 'local' | 'remote';
  /** Enqueue on the intake queue (like the webhook / CLI in AWS). */
  submit(request: OffboardingRequestInput | OffboardingRequestInput[]): Promise<void>;
  /** Enqueue an arbitrary body (poison messages in tests). */
  submitRaw(body: string): Promise<void>;
  /** Resolves when the queue is empty, nothing is in flight and every execution has finished. */
  drain(options?: DrainOptions): Promise<void>;
  ledger: DynamoLedger;
  queue: IntakeQueueRef;
  /** Moves DLQ messages back to the intake queue; returns how many. */
  redriveDlq(): Promise<number>;
  onProgress(listener: (event: ProgressEvent) => void): () => void;
  close(): Promise<void>;
}

export interface LocalRuntime extends OffboardingRuntime {
  readonly mode: 'local';
  executions: LocalStepFunctions;
  sandbox?: Sandbox;
  /** The client the workflow uses (status / audit). */
  arize: ArizeUsersClient;
  /** Alerts AlertHeld would have published, oldest first. */
  alerts: PublishedAlert[];
  config: OffboardingConfig;
  definition: WorkflowDefinition;
  /** Absolute data dir, undefined when in memory. */
  dataDir?: string;
  endpoints: { dynamo: string; sqs: string; sandbox?: string };
  /** Startup timings in ms (definition = synthesis or cache read). */
  timings: { definitionMs: number; definitionSource: 'cache' | 'synthesized' | 'given'; totalMs: number };
  /** Adds e.g. `controlUrl` (offboard serve) to runtime.json for other processes. */
  advertise(extra: Pick<RuntimeInfo, 'controlUrl'>): void;
  /** Request ids a previous process left RECEIVED or RUNNING, queued again at start (persisted data dir only). */
  resumed: string[];
  /** 1 = real time (always against an external Arize); below 1 only with the built-in demo sandbox. */
  waitTimeScale: number;
  /** Request ids left RECEIVED or RUNNING without a stored request (older data): reported, not guessed. */
  unresumable: string[];
  /** Persisted data dir only: where `offboard serve` makes accepted events durable before answering 202. */
  journal?: IntakeJournal;
  /** Request ids a previous process accepted (journal) but never started, queued again at start. */
  recoveredIntake: string[];
}

export interface RemoteRuntime extends OffboardingRuntime {
  readonly mode: 'remote';
  info: RuntimeInfo;
  /** Present when the running runtime uses the sandbox, or an external key was given. */
  arize?: ArizeUsersClient;
}
