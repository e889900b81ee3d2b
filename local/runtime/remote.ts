/**
 * A second process on the same data dir (e.g. `offboard status` while `offboard serve` runs) talks to the
 * running services over their endpoints instead of opening the LevelDB store twice.
 */
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ArizeUsersClient } from '../../lambdas/arize/index.js';
import { connectionFetch } from '../../lambdas/arize/connection.js';
import { DynamoLedger, createDocumentClient } from '../../lambdas/adapters/ledger.js';
import type { RequestStateStatus } from '../../lambdas/core/outcome.js';
import { createLocalDynamoClient } from '../engines/dynamo.js';
import { createLocalSqsClient } from '../engines/sqs.js';
import { RuntimeInUseError } from './data-dir-lock.js';
import {
  DEFAULT_DATA_DIR,
  startLocalRuntime,
  type LocalRuntime,
  type LocalRuntimeOptions,
  type ProgressEvent,
  type RemoteRuntime,
} from './index.js';
import { expectedRequestIds, messagesInQueue, redriveDeadLetters, sendBodies } from './queue.js';
import { readRuntimeInfo, type RuntimeInfo } from './runtime-file.js';

/** States a request does not leave without a human (approve / redrive) or ever. */
const FINAL_STATES: ReadonlySet<RequestStateStatus> = new Set(['COMPLETED', 'COMPLETED_WITH_FAILURES', 'HELD', 'FAILED', 'REJECTED', 'CANCELLED']);
const POLL_INTERVAL_MS = 100;
const CONNECT_WAIT_MS = 60_000;

export function connectLocalRuntime(info: RuntimeInfo, options: Pick<LocalRuntimeOptions, 'arize'> = {}): RemoteRuntime {
  const dynamoClient = createLocalDynamoClient(info.dynamoEndpoint);
  const doc = createDocumentClient(dynamoClient);
  const sqs = createLocalSqsClient(info.sqsEndpoint);
  const ledger = new DynamoLedger({ tableName: info.tableName, client: doc });
  const queue = { client: sqs, queueUrl: info.queueUrl, dlqUrl: info.dlqUrl };
  const external = options.arize?.mode === 'external' ? options.arize : undefined;
  const arize =
    external !== undefined
      ? new ArizeUsersClient({
          apiKey: external.apiKey,
          ...(external.endpoint !== undefined
            ? { baseUrl: external.endpoint.baseUrl, ...(connectionFetch(external.endpoint) ? { fetch: connectionFetch(external.endpoint) } : {}) }
            : {
                ...(external.host !== undefined ? { host: external.host } : {}),
                ...(external.scheme !== undefined ? { scheme: external.scheme } : {}),
                ...(external.port !== undefined ? { port: external.port } : {}),
              }),
          env: {},
        })
      : info.sandboxUrl !== undefined && info.sandboxApiKey !== undefined
        ? new ArizeUsersClient({ baseUrl: info.sandboxUrl, apiKey: info.sandboxApiKey, env: {} })
        : undefined;

  // Ids submitted through this connection; drain waits for their final ledger states.
  const pending = new Set<string>();
  const listeners = new Set<(event: ProgressEvent) => void>();
  const emit = (event: ProgressEvent) => {
    for (const listener of listeners) listener(event);
  };

  return {
    mode: 'remote',
    info,
    ledger,
    queue,
    ...(arize ? { arize } : {}),
    async submit(request) {
      const requests = Array.isArray(request) ? request : [request];
      await sendBodies(sqs, info.queueUrl, requests.map((r) => JSON.stringify(r)));
      for (const r of requests) for (const id of expectedRequestIds(r)) pending.add(id);
    },
    async submitRaw(body) {
      await sendBodies(sqs, info.queueUrl, [body]);
    },
    async drain(drainOptions = {}) {
      const deadline = Date.now() + (drainOptions.timeoutMs ?? 60_000);
      for (;;) {
        for (const requestId of [...pending]) {
          const state = await ledger.getRequestState(requestId);
          if (state !== undefined && FINAL_STATES.has(state.status)) {
            pending.delete(requestId);
            emit({ requestId, kind: 'finished', status: state.status });
          }
        }
        if (pending.size === 0 && (await messagesInQueue(sqs, info.queueUrl)) === 0) return;
        if (Date.now() >= deadline) {
          throw new Error(`drain: ${pending.size} request(s) not finished in time (${[...pending].slice(0, 5).join(', ')})`);
        }
        await sleep(POLL_INTERVAL_MS);
      }
    },
    redriveDlq: () => redriveDeadLetters(queue),
    onProgress(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      doc.destroy();
      dynamoClient.destroy();
      sqs.destroy();
      return Promise.resolve();
    },
  };
}

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
    await sleep(POLL_INTERVAL_MS * 2);
  }
}
