/**
 * The workflow wired for local execution: the synthesised ASL on LocalStepFunctions, every Task state
 * answered by the same use-case functions the Lambdas run (createWorkflowTaskHandlers), over injected
 * dependencies (ledger, Arize client, clock). Used by the runtime and by the workflow integration tests.
 */
import { ArizeUsersClient } from '../../lambdas/arize/index.js';
import { arizeEndpointOptions, arizeLimitOptions, type RuntimeConfig } from '../../lambdas/core/runtime-config.js';
import type { Ledger } from '../../lambdas/core/ledger.js';
import { noopMetrics, type OutcomeMetricsSink, type UserDirectory, type WorkflowDeps, type WorkflowLog } from '../../lambdas/usecases/ports.js';
import { createWorkflowTaskHandlers, type PublishedAlert } from '../../lambdas/usecases/task-handlers.js';
import { maskEmailsDeep, maskEmailsInText } from '../../lambdas/core/email.js';
import { LocalStepFunctions, type TaskHandler } from '../engines/stepfunctions.js';

/** Lines for humans: warnings and errors only (info would drown the progress output), emails masked. */
export function lineLog(write: ((line: string) => void) | undefined): WorkflowLog {
  const emit = (level: string, message: string, attributes?: Record<string, unknown>) => {
    if (!write) return;
    const details = attributes && Object.keys(attributes).length > 0 ? ` ${JSON.stringify(maskEmailsDeep(attributes))}` : '';
    write(`${level}: ${maskEmailsInText(message)}${details}`);
  };
  return {
    info: () => undefined,
    warn: (message, attributes) => emit('warn', message, attributes),
    error: (message, attributes) => emit('error', message, attributes),
  };
}

/** The Arize client the workflow uses, configured from RuntimeConfig as the Lambdas configure theirs. */
export function arizeClientFor(config: RuntimeConfig, overrides: { baseUrl?: string; fetch?: typeof fetch } = {}): ArizeUsersClient {
  const arize = config.arize;
  if (arize.apiKey === undefined) throw new Error('local workflow: arize.apiKey is required (ARIZE_API_KEY)');
  return new ArizeUsersClient({
    apiKey: arize.apiKey,
    ...(overrides.baseUrl !== undefined ? { baseUrl: overrides.baseUrl } : arizeEndpointOptions(arize)),
    ...arizeLimitOptions(arize),
    ...(overrides.fetch !== undefined ? { fetch: overrides.fetch } : {}),
    // Only ARIZE_* from RuntimeConfig: a developer's shell must not silently redirect a local run.
    env: {},
  });
}

export interface LocalWorkflowDepsInput {
  config: RuntimeConfig;
  ledger: Ledger;
  directory: UserDirectory;
  clock?: () => Date;
  metrics?: OutcomeMetricsSink;
  log?: WorkflowLog;
}

export function localWorkflowDeps(input: LocalWorkflowDepsInput): WorkflowDeps {
  return {
    config: input.config,
    ledger: input.ledger,
    directory: () => Promise.resolve(input.directory),
    clock: input.clock ?? (() => new Date()),
    metrics: input.metrics ?? noopMetrics,
    log: input.log ?? lineLog(undefined),
  };
}

export type TaskHandlerMap = Record<string, TaskHandler>;

export interface LocalWorkflowOptions {
  definition: object;
  deps: WorkflowDeps;
  /** Scales Wait states and Retry intervals (0 = no waiting, 1 = real time). */
  waitTimeScale: number;
  /** What AlertHeld would publish to SNS. */
  onAlert?: (alert: PublishedAlert) => void | Promise<void>;
  /** Test seam: wrap or replace task handlers (e.g. inject a Lambda service error). */
  wrapTaskHandlers?: (handlers: TaskHandlerMap) => TaskHandlerMap;
  /** Keep per-execution event logs (default true; long runs turn it off, transitions are still counted). */
  retainEvents?: boolean;
  stateMachineName?: string;
}

export function createLocalWorkflow(options: LocalWorkflowOptions): LocalStepFunctions {
  const handlers: TaskHandlerMap = createWorkflowTaskHandlers(options.deps, options.onAlert ? { onAlert: options.onAlert } : {});
  return new LocalStepFunctions({
    definition: options.definition,
    taskHandlers: options.wrapTaskHandlers ? options.wrapTaskHandlers(handlers) : handlers,
    waitTimeScale: options.waitTimeScale,
    retainEvents: options.retainEvents ?? true,
    stateMachineName: options.stateMachineName ?? 'ArizeOffboarding',
  });
}
