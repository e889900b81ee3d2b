/**
 * The operator commands over the local data dir. Reading (status, failures, report) opens only the
 * ledger — through a running `offboard serve` if there is one, else the dynalite store itself — so it
 * costs no workflow synthesis; working (run, submit, approve, redrive) needs the whole runtime.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { DynamoLedger } from '../../lambdas/adapters/ledger.js';
import { ledgerTableDefinition } from '../../lambdas/adapters/ledger-table.js';
import { ensureTable, startDynamo } from '../engines/dynamo.js';
import { configOverridesFromEnvironment, LOCAL_LEDGER_TABLE_NAME, type LocalConfigOverrides } from '../runtime/config.js';
import {
  connectLocalRuntime,
  connectOrStartLocalRuntime,
  readRuntimeInfo,
  startLocalRuntime,
  RuntimeInUseError,
  type LocalRuntime,
  type OffboardingRuntime,
  type RemoteRuntime,
} from '../runtime/index.js';
import { announceArize, arizeOptionFromEnvironment } from './arize-target.js';
import { CliError, EXIT_USAGE } from './errors.js';
export { announceArize, arizeOptionFromEnvironment };
import { allFinal, pollUntilFinal, readStates, type OpsBackend } from './ops-backend.js';

export interface LocalBackendOptions {
  dataDir: string;
  purpose: 'read' | 'work';
  /** Real Arize only: without it every request is a dry run. */
  confirm: boolean;
  log: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

function configOverrides(env: NodeJS.ProcessEnv): LocalConfigOverrides {
  try {
    return configOverridesFromEnvironment(env);
  } catch (error) {
    throw new CliError((error as Error).message, EXIT_USAGE);
  }
}

function runtimeBackend(runtime: LocalRuntime | RemoteRuntime, label: string): OpsBackend {
  return {
    label,
    kind: 'local',
    ledger: runtime.ledger,
    canLeaveEarly: runtime.mode === 'remote',
    submit: (requests) => runtime.submit([...requests]),
    async waitFor(requestIds, options) {
      if (runtime.mode === 'remote') return pollUntilFinal(runtime.ledger, requestIds, { pollIntervalMs: 150, ...options });
      // In process: a request id may already be final from an earlier run, so the ledger alone cannot say
      // when this run is over; the runtime can (queue empty, every execution finished).
      let drained = false;
      const recorded = new Map<string, number>();
      const stopListening = runtime.onProgress((event) => {
        if (event.kind === 'outcomes' && event.emails !== undefined) recorded.set(event.requestId, event.emails);
        else if (event.kind === 'finished') recorded.delete(event.requestId);
      });
      try {
        const draining = runtime
          .drain({ timeoutMs: options.timeoutMs })
          .catch(() => undefined)
          .finally(() => (drained = true));
        const onUpdate = options.onUpdate;
        const states = await pollUntilFinal(
          runtime.ledger,
          requestIds,
          { pollIntervalMs: 150, ...options, timeoutMs: options.timeoutMs + 1_000, ...(onUpdate ? { onUpdate: (seen) => onUpdate(seen, recorded) } : {}) },
          { stopWhen: () => drained },
        );
        await draining;
        const final = await readStates(runtime.ledger, requestIds);
        options.onUpdate?.(final);
        return allFinal(final) ? final : states;
      } finally {
        stopListening();
      }
    },
    redriveDlq: () => runtime.redriveDlq(),
    close: () => runtime.close(),
  };
}

function describeRuntime(runtime: OffboardingRuntime, dataDir: string, env: NodeJS.ProcessEnv): string {
  if (runtime.mode === 'remote') return `the running local runtime on ${dataDir}`;
  const option = arizeOptionFromEnvironment(env);
  const arize = option.mode === 'sandbox' ? 'the Arize sandbox (demo directory)' : `Arize at ${option.endpoint?.baseUrl ?? 'api.arize.com'}`;
  return `the local runtime on ${dataDir} with ${arize}`;
}

async function openLedgerOnly(dataDir: string): Promise<OpsBackend> {
  const info = readRuntimeInfo(dataDir);
  if (info !== undefined) {
    const remote = connectLocalRuntime(info);
    return runtimeBackend(remote, `the running local runtime on ${dataDir}`);
  }
  const ledgerPath = resolve(dataDir, 'ledger');
  if (!existsSync(ledgerPath)) {
    throw new CliError(`no ledger in ${dataDir}: nothing has run there yet (try \`npm start\` or \`offboard run <file>\`)`, EXIT_USAGE);
  }
  const dynamo = await startDynamo({ path: ledgerPath });
  try {
    await ensureTable(dynamo.client, ledgerTableDefinition(LOCAL_LEDGER_TABLE_NAME));
  } catch (error) {
    await dynamo.close();
    throw error;
  }
  const ledger = new DynamoLedger({ tableName: LOCAL_LEDGER_TABLE_NAME, client: dynamo.doc });
  const notRunning = () => Promise.reject(new CliError('this command needs the runtime, not just the ledger', EXIT_USAGE));
  return {
    label: `the ledger in ${dataDir}`,
    kind: 'local',
    ledger,
    canLeaveEarly: false,
    submit: notRunning,
    waitFor: (requestIds, options) => pollUntilFinal(ledger, requestIds, options),
    redriveDlq: notRunning,
    close: () => dynamo.close(),
  };
}

export async function openLocalBackend(options: LocalBackendOptions): Promise<OpsBackend> {
  const env = options.env ?? process.env;
  const dataDir = resolve(options.dataDir);
  if (options.purpose === 'read') return openLedgerOnly(dataDir);
  const arize = arizeOptionFromEnvironment(env);
  announceArize(arize, options.log);
  const runtimeOptions = {
    dataDir,
    arize,
    config: configOverrides(env),
    forceDryRun: arize.mode === 'external' && !options.confirm,
    log: options.log,
  };
  // A running `offboard serve` is long-lived: connect to it. Another working command (its runtime closes when its
  // own requests are done) is waited for instead, so this one never hands work to a process about to stop.
  const deadline = Date.now() + HOLDER_WAIT_MS;
  let told = false;
  for (;;) {
    const info = readRuntimeInfo(dataDir);
    if (info?.controlUrl !== undefined) {
      const runtime = await connectOrStartLocalRuntime(runtimeOptions);
      return runtimeBackend(runtime, describeRuntime(runtime, options.dataDir, env));
    }
    if (info === undefined) {
      try {
        const runtime = await startLocalRuntime(runtimeOptions);
        return runtimeBackend(runtime, describeRuntime(runtime, options.dataDir, env));
      } catch (error) {
        if (!(error instanceof RuntimeInUseError)) throw error;
      }
    }
    if (Date.now() >= deadline) {
      throw new CliError(`data dir ${options.dataDir} is still in use by another offboard command after ${HOLDER_WAIT_MS / 1000} s; try again when it has finished`, EXIT_USAGE);
    }
    if (!told) {
      told = true;
      options.log(`Data dir ${options.dataDir} is in use by another offboard command${info ? ` (process ${info.pid})` : ''}; waiting for it to finish…`);
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 500));
  }
}

/** How long a working command waits for another one holding the data dir. */
const HOLDER_WAIT_MS = 600_000;
