/**
 * A second process on the same data dir (e.g. `offboard status` while `offboard serve` runs) talks to the
 * running services over their endpoints instead of opening the LevelDB store twice.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ArizeUsersClient } from '../../lambdas/arize/index.js';
import { connectionFetch } from '../../lambdas/arize/connection.js';
import { DynamoLedger, createDocumentClient } from '../../lambdas/adapters/ledger.js';
import { FINAL_REQUEST_STATES } from '../../lambdas/core/outcome.js';
import { createLocalDynamoClient } from '../engines/dynamo.js';
import { createLocalSqsClient } from '../engines/sqs.js';
import type { LocalRuntimeOptions, ProgressEvent, RemoteRuntime } from './types.js';
import { expectedRequestIds, messagesInQueue, redriveDeadLetters, sendBodies } from './queue.js';
import type { RuntimeInfo } from './runtime-file.js';

export const POLL_INTERVAL_MS = 100;

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
          if (state !== undefined && FINAL_REQUEST_STATES.has(state.status)) {
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
