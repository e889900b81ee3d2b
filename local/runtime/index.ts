/**
 * The whole pipeline on one machine, no AWS account: local SQS (queue + DLQ as the stack configures them)
 * → an event-source poller → the real start handler use case → a local Step Functions service running the
 * ASL synthesised from ArizeOffboardingStack, whose Task states call the real task handlers → a dynalite
 * ledger; Arize is the sandbox (demo directory by default) or an external endpoint.
 * Only the engines are local: handlers, state machine, SDK calls and settings are the deployed ones.
 */
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SQSEvent } from 'aws-lambda';
import { connectionFetch } from '../../lambdas/arize/connection.js';
import { executionStarterFrom } from '../../lambdas/adapters/execution-starter.js';
import { DynamoLedger } from '../../lambdas/adapters/ledger.js';
import { ledgerTableDefinition } from '../../lambdas/adapters/ledger-table.js';
import { maskEmailsInText } from '../../lambdas/core/email.js';
import type { RecordOptions } from '../../lambdas/core/ledger.js';
import type { Outcome } from '../../lambdas/core/outcome.js';
import { parseRequest } from '../../lambdas/core/request.js';
import { startRequests } from '../../lambdas/usecases/start.js';
import type { PublishedAlert } from '../../lambdas/usecases/task-handlers.js';
import type { OffboardingConfig } from '../../lib/config.js';
import { ensureTable, startDynamo, type LocalDynamo } from '../engines/dynamo.js';
import { SqsPoller } from '../engines/sqs-poller.js';
import { startSqs, type LocalSqs } from '../engines/sqs.js';
import { demoDirectory, startSandbox, type Sandbox } from '../sandbox/server.js';
import {
  LOCAL_DLQ_NAME,
  LOCAL_LEDGER_TABLE_NAME,
  LOCAL_QUEUE_NAME,
  loadLocalConfig,
  workflowRuntimeConfig,
  type LocalArizeEndpoint,
  type LocalConfigOverrides,
} from './config.js';
import { loadWorkflowDefinition, type WorkflowDefinition } from './definition.js';
import { redriveDeadLetters, sendBodies, type IntakeQueueRef } from './queue.js';
import { DEFAULT_DATA_DIR, readRuntimeInfo, removeRuntimeInfo, writeRuntimeInfo, type RuntimeInfo } from './runtime-file.js';
import { lockDataDir, RuntimeInUseError, type DataDirLock } from './data-dir-lock.js';
import { connectLocalRuntime, POLL_INTERVAL_MS as REMOTE_POLL_INTERVAL_MS } from './remote.js';
import type { LocalArizeOption, LocalRuntime, LocalRuntimeOptions, ProgressEvent, RemoteRuntime } from './types.js';
import { IntakeJournal } from './intake-journal.js';
import { arizeClientFor, createLocalWorkflow, lineLog, localWorkflowDeps } from './workflow.js';

export { loadLocalConfig, type LocalConfigOverrides } from './config.js';
export { loadWorkflowDefinition, type WorkflowDefinition, type IntakeSettings } from './definition.js';
export { DEFAULT_DATA_DIR, readRuntimeInfo, type RuntimeInfo } from './runtime-file.js';
export { DataDirError, RuntimeInUseError } from './data-dir-lock.js';
export { IntakeJournal, journaledQueue } from './intake-journal.js';
export { createLocalWorkflow, localWorkflowDeps, arizeClientFor, type TaskHandlerMap } from './workflow.js';
export { connectLocalRuntime } from './remote.js';
export type * from './types.js';


export const DEFAULT_WAIT_TIME_SCALE = 0.001;
const DEFAULT_DRAIN_TIMEOUT_MS = 60_000;

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function externalEndpoint(option: LocalArizeOption, config: OffboardingConfig): LocalArizeEndpoint {
  if (option.mode !== 'external') throw new Error('local runtime: the sandbox did not start');
  if (option.endpoint !== undefined) {
    // The resolved endpoint is complete: an absent port means the scheme's default, not cdk.json's port.
    const url = new URL(option.endpoint.baseUrl);
    return { apiKey: option.apiKey, host: url.hostname, scheme: url.protocol === 'http:' ? 'http' : 'https', ...(url.port !== '' ? { port: Number(url.port) } : {}) };
  }
  const port = option.port ?? config.arize.port;
  return {
    apiKey: option.apiKey,
    host: option.host ?? config.arize.host,
    scheme: option.scheme ?? config.arize.scheme,
    ...(port !== undefined ? { port } : {}),
  };
}

function sandboxEndpoint(sandbox: Sandbox): LocalArizeEndpoint {
  return { apiKey: sandbox.apiKey, host: '127.0.0.1', scheme: 'http', port: sandbox.port };
}

export class WaitTimeScaleError extends Error {
  override readonly name = 'WaitTimeScaleError';
}

/**
 * Shortened waits are a demo device: an effective date scaled by 0.001 against a real directory deletes a
 * leaver hours early. So the scale exists only with the sandbox this runtime starts itself (its directory
 * lives and dies with the process); an external Arize — a real one, or a sandbox started on its own and
 * reached like one — always gets real time, whatever the caller asks for.
 */
export function effectiveWaitTimeScale(arize: LocalArizeOption, requested: number | undefined): number {
  if (requested !== undefined && (!Number.isFinite(requested) || requested < 0)) {
    throw new WaitTimeScaleError(`waitTimeScale must be a finite number >= 0, got ${String(requested)}`);
  }
  if (arize.mode === 'sandbox') return requested ?? DEFAULT_WAIT_TIME_SCALE;
  if (requested !== undefined && requested !== 1) {
    throw new WaitTimeScaleError(
      `waitTimeScale ${String(requested)} refused: shortened waits exist only with the built-in demo sandbox; ` +
        'against an external Arize every wait (effective dates, retry backoff) lasts its real time',
    );
  }
  return 1;
}

export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const started = performance.now();
  const arizeOption: LocalArizeOption = options.arize ?? { mode: 'sandbox' };
  const scale = effectiveWaitTimeScale(arizeOption, options.waitTimeScale);
  const overrides: LocalConfigOverrides = { ...options.config, ...(options.forceDryRun ? { dryRun: true } : {}) };
  const config = loadLocalConfig(overrides);
  // Request ids may hold an email (`hr-ann@example.com`): every line this runtime writes is masked like a log.
  const log = options.log;
  const write = log === undefined ? undefined : (line: string) => log(maskEmailsInText(line));
  const dataDir = options.inMemory ? undefined : resolve(options.dataDir ?? DEFAULT_DATA_DIR);
  let lock: DataDirLock | undefined;
  if (dataDir !== undefined) {
    const running = readRuntimeInfo(dataDir);
    if (running !== undefined) throw new RuntimeInUseError(dataDir, running.pid);
    // Before the store is opened: LevelDB allows one process, and the loser must get a clear answer.
    lock = await lockDataDir(dataDir, write ? { log: write } : {});
  }
  if (scale !== 1) {
    write?.(
      `note: waits shortened ×${String(scale)} (effective dates, retry backoff): demo device of the built-in Arize sandbox; ` +
        'against an external Arize every wait lasts its real time',
    );
  }

  const opened: { close(): Promise<void> }[] = [];
  // Released only after every service is closed (closeAll closes them concurrently): the next holder must
  // never open the store while this process still has it open.
  const releaseLock = () => lock?.release() ?? Promise.resolve();
  try {
    const definitionPromise: Promise<WorkflowDefinition> = options.definition
      ? Promise.resolve(options.definition)
      : loadWorkflowDefinition({ config, ...(options.definitionCacheDir !== undefined ? { cacheDir: options.definitionCacheDir } : {}) });
    const [dynamo, sqs, sandbox] = await Promise.all([
      startDynamo(dataDir !== undefined ? { path: resolve(dataDir, 'ledger') } : {}).then((d: LocalDynamo) => (opened.push(d), d)),
      startSqs().then((s: LocalSqs) => (opened.push(s), s)),
      arizeOption.mode === 'sandbox'
        ? startSandbox({
            ...(arizeOption.seed ? { seed: arizeOption.seed } : {}),
            ...(arizeOption.latencyMs !== undefined ? { latencyMs: arizeOption.latencyMs } : {}),
            ...(arizeOption.errorRate !== undefined ? { errorRate: arizeOption.errorRate } : {}),
          }).then((s) => (opened.push(s), s))
        : Promise.resolve(undefined),
    ]);
    const definition = await definitionPromise;
    await ensureTable(dynamo.client, ledgerTableDefinition(LOCAL_LEDGER_TABLE_NAME));

    const intake = definition.intake;
    const maxActiveExecutions = options.maxActiveExecutions ?? DEFAULT_MAX_ACTIVE_EXECUTIONS;
    if (!Number.isInteger(maxActiveExecutions) || maxActiveExecutions < 1) {
      throw new Error(`maxActiveExecutions must be a whole number >= 1, got ${String(options.maxActiveExecutions)}`);
    }
    if (options.visibilityTimeoutSeconds !== undefined && (!Number.isInteger(options.visibilityTimeoutSeconds) || options.visibilityTimeoutSeconds < 1)) {
      throw new Error(`visibilityTimeoutSeconds must be a whole number of seconds >= 1, got ${String(options.visibilityTimeoutSeconds)}`);
    }
    const stackVisibility = intake.visibilityTimeoutSeconds;
    const visibilityTimeoutSeconds =
      options.visibilityTimeoutSeconds ?? (scale === 1 ? stackVisibility : Math.max(1, Math.ceil(stackVisibility * scale)));
    const queues = await sqs.createQueues({
      name: LOCAL_QUEUE_NAME,
      dlqName: LOCAL_DLQ_NAME,
      maxReceiveCount: intake.maxReceiveCount,
      visibilityTimeoutSeconds,
    });
    const queue: IntakeQueueRef = { client: sqs.client, queueUrl: queues.queueUrl, dlqUrl: queues.dlqUrl };

    // Progress per email, not per request (a request holds up to 1,000): the emails of each unfinished request
    // that have an outcome, forgotten when the request finishes so memory follows the executions under way.
    const recorded = new Map<string, Set<string>>();
    const ledger = new OutcomeReportingLedger({ tableName: LOCAL_LEDGER_TABLE_NAME, client: dynamo.doc }, (outcomes) => {
      const touched = new Set<string>();
      for (const outcome of outcomes) {
        if (!watchedRequests.has(outcome.requestId)) continue;
        let emails = recorded.get(outcome.requestId);
        if (emails === undefined) recorded.set(outcome.requestId, (emails = new Set()));
        emails.add(outcome.email);
        touched.add(outcome.requestId);
      }
      for (const requestId of touched) emit({ requestId, kind: 'outcomes', emails: recorded.get(requestId)?.size ?? 0 });
    });
    // The sandbox's key belongs to its first seed user: passed as the key owner so that user is always PROTECTED.
    const sandboxOwner = arizeOption.mode === 'sandbox' ? (arizeOption.seed ?? demoDirectory())[0]?.email : undefined;
    const endpoint: LocalArizeEndpoint =
      arizeOption.mode === 'sandbox' && sandbox !== undefined ? sandboxEndpoint(sandbox) : externalEndpoint(arizeOption, config);
    const runtimeConfig = workflowRuntimeConfig(config, {
      tableName: LOCAL_LEDGER_TABLE_NAME,
      arize: endpoint,
      ...(sandboxOwner !== undefined ? { apiKeyOwnerEmail: sandboxOwner } : {}),
    });
    const connection = arizeOption.mode === 'external' && arizeOption.endpoint !== undefined ? connectionFetch(arizeOption.endpoint) : undefined;
    const arize = arizeClientFor(runtimeConfig, connection !== undefined ? { fetch: connection } : {});
    const workflowLog = lineLog(write);
    const deps = localWorkflowDeps({ config: runtimeConfig, ledger, directory: arize, log: workflowLog });

    const alerts: PublishedAlert[] = [];
    const executions = createLocalWorkflow({
      definition: definition.definition,
      deps,
      waitTimeScale: scale,
      onAlert: (alert) => {
        alerts.push(alert);
        write?.(`alert: ${alert.Subject ?? 'offboarding alert'}`);
        options.onAlert?.(alert);
      },
      ...(options.seams?.wrapTaskHandlers ? { wrapTaskHandlers: options.seams.wrapTaskHandlers } : {}),
      // Nothing in the runtime reads an execution's event log (progress and drain need only its status), and a
      // 1,000-email request's log holds every Map iteration's input and output: kept for a whole `run`, the logs
      // were what grew with the emails. Tests that inspect a history ask for it.
      retainEvents: options.retainEvents ?? false,
    });

    const listeners = new Set<(event: ProgressEvent) => void>();
    const emit = (event: ProgressEvent) => {
      for (const listener of listeners) {
        try {
          listener(event);
        } catch (error) {
          write?.(`warn: progress listener failed: ${describeError(error)}`);
        }
      }
    };
    const watched = new Set<string>();
    const watchedRequests = new Set<string>();
    const finishing = new Set<Promise<void>>();
    const watch = (executionArn: string, requestId: string) => {
      if (watched.has(executionArn)) return;
      watched.add(executionArn);
      watchedRequests.add(requestId);
      const done = executions
        .waitForExecution(executionArn)
        .then(async (result) => {
          watchedRequests.delete(requestId);
          recorded.delete(requestId);
          const state = await ledger.getRequestState(requestId).catch(() => undefined);
          emit({ requestId, kind: 'finished', status: state?.status ?? result.status });
        })
        .catch((error: unknown) => write?.(`warn: watching ${requestId} failed: ${describeError(error)}`))
        .finally(() => finishing.delete(done));
      finishing.add(done);
    };
    const baseStarter = executionStarterFrom(async ({ name, input }) => {
      const result = await executions.startExecution({ name, input });
      const requestId = (input as { requestId?: unknown }).requestId;
      watch(result.executionArn, typeof requestId === 'string' ? requestId : name);
      return result;
    });
    const starter = options.seams?.wrapStarter ? options.seams.wrapStarter(baseStarter) : baseStarter;
    const startDeps = { ledger, starter, clock: () => new Date(), log: workflowLog };

    const journal = dataDir === undefined ? undefined : new IntakeJournal(dataDir);
    const handleBatch = async (event: SQSEvent) => {
      const { response, results } = await startRequests(event, startDeps);
      for (const result of results) {
        // The ledger holds these requests now (state item with the request): their journal entries are done.
        if (journal && (result.status === 'started' || result.status === 'duplicate')) for (const requestId of result.requestIds) journal.settle(requestId);
        if (result.status === 'started') for (const requestId of result.requestIds) emit({ requestId, kind: 'started' });
        else if (result.status === 'rejected') emit({ requestId: result.rejectionId, kind: 'rejected', status: result.reason });
      }
      return response;
    };
    const poller = new SqsPoller({
      client: sqs.client,
      // Memory grows with the executions under way, not with the backlog: the rest wait on the queue.
      capacity: () => maxActiveExecutions - executions.activeExecutions(),
      queueUrl: queues.queueUrl,
      handler: handleBatch,
      batchSize: intake.batchSize,
      maxBatchingWindowMs: intake.maxBatchingWindowSeconds * 1000 * scale,
      maxConcurrency: intake.maxConcurrency,
      onError: (error, phase) => write?.(`warn: intake ${phase} failed (message stays on the queue): ${describeError(error)}`),
    });
    // Executions and the queue lived in the previous process's memory: what it left unfinished is queued again
    // before the poller takes new work, through the start handler as any request (its ledger writes are idempotent
    // per request/email/attempt, and a deletion already recorded stays the email's outcome).
    const interrupted = dataDir === undefined ? { resumed: [], unresumable: [] } : await resumeInterrupted(ledger, queue, write);
    const recoveredIntake = journal === undefined ? [] : await recoverIntake(journal, ledger, queue, write);
    await poller.start();

    const info: RuntimeInfo | undefined =
      dataDir === undefined
        ? undefined
        : {
            pid: process.pid,
            startedAt: new Date().toISOString(),
            dynamoEndpoint: dynamo.endpoint,
            sqsEndpoint: sqs.endpoint,
            queueUrl: queues.queueUrl,
            dlqUrl: queues.dlqUrl,
            tableName: LOCAL_LEDGER_TABLE_NAME,
            ...(sandbox ? { sandboxUrl: sandbox.url, sandboxApiKey: sandbox.apiKey } : {}),
          };
    if (dataDir !== undefined && info !== undefined) writeRuntimeInfo(dataDir, info);

    let closing: Promise<void> | undefined;
    const runtime: LocalRuntime = {
      mode: 'local',
      ledger,
      executions,
      ...(sandbox ? { sandbox } : {}),
      arize,
      alerts,
      config,
      definition,
      ...(dataDir !== undefined ? { dataDir } : {}),
      resumed: interrupted.resumed,
      waitTimeScale: scale,
      unresumable: interrupted.unresumable,
      recoveredIntake,
      ...(journal ? { journal } : {}),
      endpoints: { dynamo: dynamo.endpoint, sqs: sqs.endpoint, ...(sandbox ? { sandbox: sandbox.url } : {}) },
      timings: {
        definitionMs: options.definition ? 0 : definition.millis,
        definitionSource: options.definition ? 'given' : definition.source,
        totalMs: performance.now() - started,
      },
      queue,
      async submit(request) {
        const requests = Array.isArray(request) ? request : [request];
        await sendBodies(queue.client, queue.queueUrl, requests.map((r) => JSON.stringify(r)));
      },
      async submitRaw(body) {
        await sendBodies(queue.client, queue.queueUrl, [body]);
      },
      async drain(drainOptions = {}) {
        const timeoutMs = drainOptions.timeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
        const deadline = Date.now() + timeoutMs;
        await poller.drain({ timeoutMs });
        await withTimeout(executions.waitForIdle(), Math.max(1, deadline - Date.now()), 'drain: executions');
        await withTimeout(Promise.all([...finishing]), Math.max(1, deadline - Date.now()), 'drain: progress');
      },
      redriveDlq: () => redriveDeadLetters(queue),
      onProgress(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      advertise(extra) {
        if (dataDir === undefined || info === undefined) return;
        Object.assign(info, extra);
        writeRuntimeInfo(dataDir, info);
      },
      close() {
        closing ??= (async () => {
          await poller.stop();
          // A closing runtime must not leave executions writing into a closed ledger.
          const running = executions.listExecutions({ status: 'RUNNING' });
          await Promise.all(running.map((execution) => executions.stopExecution(execution.executionArn)));
          if (dataDir !== undefined) removeRuntimeInfo(dataDir);
          await Promise.allSettled([...finishing]);
          await closeAll(opened);
          await releaseLock();
        })();
        return closing;
      },
    };
    return runtime;
  } catch (error) {
    await closeAll(opened);
    await releaseLock();
    throw error;
  }
}

/**
 * Each execution runs up to the Map's concurrency of chunks, and the Arize client bounds the calls of all of
 * them together: a few executions keep it busy; more only hold memory (measured in README "Measured performance").
 */
export const DEFAULT_MAX_ACTIVE_EXECUTIONS = 4;

const UNFINISHED_STATES = ['RECEIVED', 'RUNNING'] as const;

/** The deployed ledger adapter, telling the runtime what it recorded (after the write succeeded). */
class OutcomeReportingLedger extends DynamoLedger {
  constructor(
    options: ConstructorParameters<typeof DynamoLedger>[0],
    private readonly onRecorded: (outcomes: readonly Outcome[]) => void,
  ) {
    super(options);
  }

  override async recordOutcomes(outcomes: readonly Outcome[], options?: RecordOptions): Promise<void> {
    await super.recordOutcomes(outcomes, options);
    this.onRecorded(outcomes);
  }
}

async function resumeInterrupted(
  ledger: DynamoLedger,
  queue: IntakeQueueRef,
  write: ((line: string) => void) | undefined,
): Promise<{ resumed: string[]; unresumable: string[] }> {
  const resumed: string[] = [];
  const unresumable: string[] = [];
  const bodies: string[] = [];
  // The state items themselves, not the by-status index: dynalite writes an item and its index entries
  // separately, so after a kill the index can still say COMPLETED for an item that says RUNNING.
  {
    for (const state of await ledger.scanRequestStates(UNFINISHED_STATES)) {
      const status = state.status;
      // The stored request went through validation once; parsing it again keeps a damaged item from being queued.
      const stored = state.request === undefined ? undefined : parseRequest(state.request);
      if (stored?.ok && stored.value.requestId === state.requestId) {
        resumed.push(state.requestId);
        bodies.push(JSON.stringify(stored.value));
        write?.(`resume: request ${state.requestId} was ${status} when the previous process stopped; queued again (${stored.value.emails.length} emails)`);
      } else {
        unresumable.push(state.requestId);
        write?.(
          `warn: request ${state.requestId} was ${status} when the previous process stopped and cannot be resumed: ` +
            (stored === undefined ? 'the ledger holds no request for it (written by an older version)' : `its stored request is invalid: ${stored.ok ? 'request id differs' : stored.reason}`) +
            '; submit it again',
        );
      }
    }
  }
  if (bodies.length > 0) await sendBodies(queue.client, queue.queueUrl, bodies);
  return { resumed, unresumable };
}

async function recoverIntake(
  journal: IntakeJournal,
  ledger: DynamoLedger,
  queue: IntakeQueueRef,
  write: ((line: string) => void) | undefined,
): Promise<string[]> {
  const { entries, invalid } = journal.pending();
  for (const name of invalid) write?.(`warn: intake journal entry ${name} in ${journal.dir} is unreadable; left in place for a human`);
  const recovered: string[] = [];
  const bodies: string[] = [];
  for (const entry of entries) {
    if ((await ledger.getRequestState(entry.requestId)) !== undefined) {
      journal.settle(entry.requestId);
      continue;
    }
    recovered.push(entry.requestId);
    bodies.push(JSON.stringify(entry.request));
    write?.(`resume: request ${entry.requestId} was accepted but not started when the previous process stopped; queued again`);
  }
  if (bodies.length > 0) await sendBodies(queue.client, queue.queueUrl, bodies);
  return recovered;
}

async function closeAll(opened: { close(): Promise<void> }[]): Promise<void> {
  await Promise.allSettled(opened.reverse().map((service) => service.close()));
}

const CONNECT_WAIT_MS = 60_000;

/**
 * A connection to the runtime running on this data dir, or a new in-process runtime when none runs
 * (in-memory runtimes are never shared).
 */
export async function connectOrStartLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime | RemoteRuntime> {
  if (options.inMemory) return startLocalRuntime(options);
  const dataDir = resolve(options.dataDir ?? DEFAULT_DATA_DIR);
  // The lock decides who runs; runtime.json only appears once the holder's services are up (synthesis can take
  // seconds), so a process that lost the race waits for it rather than opening the store a second time.
  const deadline = Date.now() + CONNECT_WAIT_MS;
  for (;;) {
    const info = readRuntimeInfo(dataDir);
    if (info !== undefined) return connectLocalRuntime(info, options);
    try {
      return await startLocalRuntime(options);
    } catch (error) {
      if (!(error instanceof RuntimeInUseError) || Date.now() >= deadline) throw error;
    }
    await sleep(REMOTE_POLL_INTERVAL_MS * 2);
  }
}
