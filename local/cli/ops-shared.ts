/**
 * What every operator command shares: where it works (`--data-dir` / `--stack`), the real-Arize safety
 * rule (no deletion without `--confirm`), waiting for requests with a progress line, and exit codes.
 */
import { resolve } from 'node:path';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { Option, type Command } from 'commander';
import type { RequestState } from '../../lambdas/core/ledger.js';
import { dryRunRequestId, RequestIdSchema, type OffboardingRequest } from '../../lambdas/core/request.js';
import { CliError, EXIT_USAGE } from './errors.js';
import { connectStack, type OpsBackend } from './ops-backend.js';
import { FINAL_REQUEST_STATES } from './ops-report.js';
import { DEFAULT_DATA_DIR, readRuntimeInfo } from '../runtime/runtime-file.js';
import { arizeOptionFromEnvironment } from './arize-target.js';
import { positiveNumberOption } from './options.js';
import { createProgress, progressMode } from './progress.js';
import { note } from './log.js';

export { DEFAULT_DATA_DIR };
export const DEFAULT_WAIT_SECONDS = 600;

export interface TargetFlags {
  dataDir: string;
  stack?: string;
  region?: string;
}

export interface DeleteFlags extends TargetFlags {
  confirm?: boolean;
  wait: boolean;
  timeout: number;
  /** `--progress` / `--no-progress`; undefined: only on a terminal. */
  progress?: boolean;
}

export const WHERE_HELP = `
Where it works:
  default          the local data dir (--data-dir, default ${DEFAULT_DATA_DIR}): connects to a running
                   \`offboard serve\` on that dir, or starts the local runtime in this process (Arize sandbox
                   with the demo directory, or the real Arize API when ARIZE_API_KEY is set)
  --stack <name>   a deployed stack: its outputs QueueUrl, LedgerTableName and DeadLetterQueueUrl are read from
                   CloudFormation with your AWS credentials (AWS_PROFILE / AWS_REGION or --region)

Exit codes: 0 done, 1 something failed (a FAILED outcome, a request that did not finish in time),
2 usage or configuration error (nothing was enqueued).`;

export const SAFETY_HELP = `
Real Arize: with ARIZE_API_KEY set (or --stack, or a running \`offboard serve\` on the data dir that uses the real
Arize) every request is sent as a dry run unless --confirm is given; the command says so on stderr before it starts.`;

export function addTargetOptions(command: Command): Command {
  return command
    .option('--data-dir <dir>', 'local data directory', DEFAULT_DATA_DIR)
    .option('--stack <name>', 'work against a deployed CloudFormation stack instead of the local data dir')
    .option('--region <region>', 'AWS region of --stack (default: AWS_REGION / your profile)');
}

/** Options of the commands that enqueue work. */
export function addDeleteOptions(command: Command): Command {
  return addTargetOptions(command)
    .option('--confirm', 'really delete when talking to the real Arize (ARIZE_API_KEY set, or --stack)')
    .option('--no-wait', 'return once enqueued (only with --stack or a running `offboard serve`)')
    .addOption(
      new Option('--timeout <seconds>', 'how long to wait for the requests to finish')
        .default(DEFAULT_WAIT_SECONDS)
        .argParser(positiveNumberOption('--timeout', Number.POSITIVE_INFINITY, 'seconds')),
    )
    .option('--progress', 'show progress (emails done, emails/s, ETA) on stderr even when it is not a terminal')
    .option('--no-progress', 'never show progress (default: only when stderr is a terminal)');
}

/**
 * Requests go to the runtime already running on the data dir when there is one, and it keeps the Arize it
 * was started with: one without a sandbox (`offboard serve` with ARIZE_API_KEY) is the real Arize, whatever
 * this shell's environment says.
 */
function runningRuntimeUsesRealArize(flags: TargetFlags): boolean {
  if (flags.stack !== undefined) return false;
  const running = readRuntimeInfo(resolve(flags.dataDir));
  return running !== undefined && running.sandboxUrl === undefined;
}

export function isRealArize(flags: TargetFlags, env: NodeJS.ProcessEnv = process.env): boolean {
  return flags.stack !== undefined || (env.ARIZE_API_KEY ?? '').trim() !== '' || runningRuntimeUsesRealArize(flags);
}

function arizeTarget(flags: TargetFlags, env: NodeJS.ProcessEnv): string {
  if (flags.stack !== undefined) return `the Arize account configured in stack ${flags.stack}`;
  if (runningRuntimeUsesRealArize(flags)) return `the real Arize API used by the running local runtime on ${flags.dataDir}`;
  const option = arizeOptionFromEnvironment(env);
  return `the real Arize API at ${option.mode === 'external' && option.endpoint !== undefined ? new URL(option.endpoint.baseUrl).host : 'api.arize.com'}`;
}

/**
 * The rule that protects a laptop from deleting production users by accident: against the real Arize,
 * no `--confirm` ⇒ every request is a dry run, and the operator is told before anything is sent.
 */
export function applySafety(
  requests: readonly OffboardingRequest[],
  flags: TargetFlags & { confirm?: boolean },
  warn: (line: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): OffboardingRequest[] {
  const asDryRun = (request: OffboardingRequest): OffboardingRequest => {
    const requestId = dryRunRequestId(request.requestId);
    const checked = RequestIdSchema.safeParse(requestId);
    if (!checked.success) throw new CliError(`request id '${request.requestId}' is too long to mark as a dry run ('${requestId}'): give a shorter --request-id`, EXIT_USAGE);
    return { ...request, requestId, dryRun: true };
  };
  const marked = requests.map((request) => (request.dryRun ? asDryRun(request) : request));
  if (!isRealArize(flags, env)) return marked;
  if (flags.confirm === true) {
    warn(`Deleting for real: ${arizeTarget(flags, env)} (--confirm given).`);
    return marked;
  }
  const bar = '!'.repeat(78);
  warn(bar);
  warn(`DRY RUN: this talks to ${arizeTarget(flags, env)}.`);
  warn('Nothing will be deleted: every request is sent with dryRun=true. Re-run with --confirm to delete.');
  warn(bar);
  return marked.map(asDryRun);
}

/** Opens the stack, or the local data dir (loaded on demand: the runtime is heavy to import). */
export async function openBackend(
  flags: TargetFlags & { confirm?: boolean },
  purpose: 'read' | 'work',
  log: (line: string) => void,
): Promise<OpsBackend> {
  if (flags.stack !== undefined) {
    const region = flags.region;
    return connectStack(flags.stack, region ? { cloudFormation: new CloudFormationClient({ region }) } : {});
  }
  const { openLocalBackend } = await import('./ops-local.js');
  return openLocalBackend({ dataDir: flags.dataDir, purpose, confirm: flags.confirm === true, log });
}

export async function withBackend<T>(
  flags: TargetFlags & { confirm?: boolean },
  purpose: 'read' | 'work',
  run: (backend: OpsBackend) => Promise<T>,
): Promise<T> {
  const backend = await openBackend(flags, purpose, note);
  // Only a process that hosts the runtime itself has work to hand over on Ctrl-C.
  const hostsRuntime = purpose === 'work' && backend.kind === 'local' && !backend.canLeaveEarly;
  const interrupt = hostsRuntime ? interruptHandler(backend, resolve(flags.dataDir)) : undefined;
  try {
    return await run(backend);
  } catch (error) {
    // Work torn down by Ctrl-C fails on its way out (e.g. a ledger write after the store closed): that is
    // the interruption, not a crash. The handler reports it and exits 130 once the runtime is closed.
    if (interrupt?.interrupted()) return await new Promise<never>(() => undefined);
    throw error;
  } finally {
    if (interrupt) {
      process.off('SIGINT', interrupt.handler);
      process.off('SIGTERM', interrupt.handler);
    }
    if (!interrupt?.interrupted()) await backend.close();
  }
}

/** Close budget on Ctrl-C: executions are stopped, the store closed, runtime.json removed. */
const INTERRUPT_CLOSE_MS = 15_000;

/**
 * Ctrl-C / SIGTERM while this process runs the pipeline: say what happens to the work, close the runtime
 * (stops executions, removes runtime.json, releases the data-dir lock) and exit 130. Started requests keep their
 * RECEIVED/RUNNING state item with the stored request and resume when the next command opens the data dir;
 * requests still on the in-memory queue have no state, so nothing claims they run.
 */
function interruptHandler(
  backend: OpsBackend,
  dataDir: string,
): { handler: (signal: NodeJS.Signals) => void; interrupted: () => boolean } {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    // Background tasks (poller, executions) still in flight fail once the store closes; their errors are part
    // of the shutdown the operator asked for, so they must not turn exit 130 into a crash with a stack trace.
    const swallow = () => undefined;
    process.on('unhandledRejection', swallow);
    process.on('uncaughtException', swallow);
    note(
      `\nInterrupted (${signal}): stopping. Requests already started stay RECEIVED/RUNNING in the ledger of ${dataDir} and ` +
        'resume automatically the next time a working command (offboard run, submit, serve, approve, redrive) opens that data dir; ' +
        'requests not yet started were not recorded: run the same command again (request ids are deterministic, nothing is done twice).',
    );
    const timer = setTimeout(() => process.exit(130), INTERRUPT_CLOSE_MS);
    void backend
      .close()
      .catch((error: unknown) => note(`offboard: closing after ${signal} failed: ${error instanceof Error ? error.message : String(error)}`))
      .finally(() => {
        clearTimeout(timer);
        process.exit(130);
      });
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return { handler, interrupted: () => stopping };
}

/**
 * Emails done: all of a request in a final state, and of an unfinished one those with an outcome already
 * (`recorded`, when the runtime reports it) — what `run` counts, not requests (a part holds up to 1,000).
 */
export function finishedEmails(
  requests: readonly Pick<OffboardingRequest, 'requestId' | 'emails'>[],
  states: ReadonlyMap<string, RequestState | undefined>,
  recorded: ReadonlyMap<string, number> = new Map(),
): number {
  return requests.reduce((sum, request) => {
    const state = states.get(request.requestId);
    if (state !== undefined && FINAL_REQUEST_STATES.has(state.status)) return sum + request.emails.length;
    return sum + Math.min(recorded.get(request.requestId) ?? 0, request.emails.length);
  }, 0);
}

/** Submits, waits (unless told not to and allowed to), and returns the final states. */
export async function submitAndWait(
  backend: OpsBackend,
  requests: readonly OffboardingRequest[],
  flags: Pick<DeleteFlags, 'wait' | 'timeout' | 'progress'>,
): Promise<{ waited: boolean; states: Map<string, RequestState | undefined> }> {
  if (!flags.wait && !backend.canLeaveEarly) {
    throw new CliError(
      '--no-wait needs a running `offboard serve` on this data dir or --stack: the local queue lives in this process',
      EXIT_USAGE,
    );
  }
  await backend.submit(requests);
  const ids = requests.map((r) => r.requestId);
  note(`Enqueued ${ids.length} request${ids.length === 1 ? '' : 's'} on ${backend.label}.`);
  if (!flags.wait) return { waited: false, states: new Map() };
  const total = requests.reduce((sum, request) => sum + request.emails.length, 0);
  const progress = createProgress(total, { label: 'Offboarding', unit: 'emails', mode: progressMode(flags.progress) });
  try {
    const states = await backend.waitFor(ids, { timeoutMs: flags.timeout * 1000, onUpdate: (s, recorded) => progress.set(finishedEmails(requests, s, recorded)) });
    return { waited: true, states };
  } finally {
    progress.finish();
  }
}

export function unfinished(states: ReadonlyMap<string, RequestState | undefined>): string[] {
  return [...states.entries()].filter(([, s]) => s === undefined || !FINAL_REQUEST_STATES.has(s.status)).map(([id]) => id);
}
