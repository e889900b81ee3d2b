/**
 * `offboard serve` — the HR webhook on node:http (the same `processWebhook` the Lambda runs), feeding the local
 * runtime; plus `GET /healthz`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { SqsRequestQueue } from '../../lambdas/adapters/queue.js';
import { announceArize, arizeOptionFromEnvironment } from './arize-target.js';
import { MAX_WEBHOOK_BODY_BYTES, problemResponse, type WebhookResponse } from '../../lambdas/core/webhook.js';
import { HR_ADAPTERS, adapterForPath } from '../../lambdas/core/hr/registry.js';
import { HR_PROVIDERS, type HrProvider } from '../../lambdas/core/hr/types.js';
import {
  DEFAULT_HR_LOOKUP,
  effectiveDatePolicyFromEnv,
  hrSettingsFromEnv,
  ledgerRejections,
  processHrWebhook,
  type HrIntakeDeps,
  type HrProviderSettings,
} from '../../lambdas/usecases/hr-intake.js';
import { loadWebhookSecrets, processWebhook, type WebhookDeps } from '../../lambdas/usecases/webhook.js';
import { cancelRecorder } from '../../lambdas/usecases/cancel.js';
import { maskEmailsInText } from '../../lambdas/core/email.js';
import * as z from 'zod';
import { CliError, EXIT_USAGE } from './errors.js';
import { cliLog } from './log.js';
import { parseOptions, TARGET_OPTIONS } from './options.js';
import { DEFAULT_DATA_DIR } from '../runtime/runtime-file.js';

export const WEBHOOK_PATH = '/hr/events';

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65_535) throw new CliError(`invalid value for --port: '${value}' (expected 0..65535)`, EXIT_USAGE);
  return port;
}


/** Reads at most `limit + 1` bytes: a larger body is answered 413 without buffering it all. */
async function readBody(request: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.byteLength;
    if (size > limit) return 'too-large';
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

function send(response: ServerResponse, reply: WebhookResponse): void {
  response.writeHead(reply.status, reply.headers).end(reply.body);
}

/** The request listener: routing, body limit, then the shared use case. Exported for tests. */
export function webhookListener(deps: WebhookDeps, hrDeps?: HrIntakeDeps) {
  return (request: IncomingMessage, response: ServerResponse): void => {
    void (async () => {
      const path = (request.url ?? '/').split('?')[0] ?? '/';
      if (path === '/healthz') {
        if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, problemResponse(405, 'use GET', { allow: 'GET' }));
        return send(response, { status: 200, headers: { 'content-type': 'application/json' }, body: '{"status":"ok"}' });
      }
      const adapter = hrDeps ? adapterForPath(path) : undefined;
      if (path !== WEBHOOK_PATH && !adapter) return send(response, problemResponse(404, `no route; POST ${WEBHOOK_PATH}`));
      if (request.method !== 'POST' && !(adapter && request.method === 'GET')) return send(response, problemResponse(405, 'use POST', { allow: 'POST' }));
      const body = request.method === 'POST' ? await readBody(request, MAX_WEBHOOK_BODY_BYTES) : Buffer.alloc(0);
      if (body === 'too-large') {
        response.setHeader('connection', 'close');
        return send(response, problemResponse(413, `body must be at most ${MAX_WEBHOOK_BODY_BYTES} bytes`));
      }
      const headers: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(request.headers)) headers[name] = Array.isArray(value) ? value.join(',') : value;
      if (adapter && hrDeps) return send(response, await processHrWebhook(adapter, { method: request.method ?? 'POST', headers, body }, hrDeps));
      send(response, await processWebhook({ headers, body }, deps));
    })().catch(() => {
      if (!response.headersSent) send(response, problemResponse(503, 'try again later'));
      else response.destroy();
    });
  };
}

export const optionsSchema = z.strictObject({
  port: z.string().regex(/^\d+$/, 'expected a port 0..65535'),
  dataDir: TARGET_OPTIONS.dataDir,
  confirm: z.boolean().optional(),
});
type ServeFlags = z.output<typeof optionsSchema>;

async function serve(flags: ServeFlags): Promise<void> {
  const port = parsePort(flags.port);
  // Refuse before starting anything: an unsigned intake must never run.
  let secrets: string[];
  try {
    secrets = await loadWebhookSecrets({ OFFBOARDING_WEBHOOK_SECRET: process.env.OFFBOARDING_WEBHOOK_SECRET });
  } catch (error) {
    throw new CliError(`offboard serve needs OFFBOARDING_WEBHOOK_SECRET: ${(error as Error).message}`, EXIT_USAGE);
  }
  // Native HR routes: each provider whose OFFBOARDING_<P>_SECRET is set; a bad setting refuses the start.
  const hrSettings = new Map<HrProvider, HrProviderSettings>();
  let policy: HrIntakeDeps['policy'];
  try {
    policy = effectiveDatePolicyFromEnv(process.env);
    for (const provider of HR_PROVIDERS) {
      const settings = hrSettingsFromEnv(HR_ADAPTERS[provider], process.env);
      if (settings) hrSettings.set(provider, settings);
    }
  } catch (error) {
    throw new CliError(`offboard serve: ${(error as Error).message}`, EXIT_USAGE);
  }
  const { startLocalRuntime, journaledQueue } = await import('../runtime/index.js');
  const { configOverridesFromEnvironment } = await import('../runtime/config.js');
  let config;
  try {
    config = configOverridesFromEnvironment(process.env);
  } catch (error) {
    throw new CliError((error as Error).message, EXIT_USAGE);
  }
  // The one settings module decides where Arize is (serve used to ignore ARIZE_API_HOST and call production).
  const arize = arizeOptionFromEnvironment(process.env);
  announceArize(arize, (line) => process.stderr.write(`${line}\n`));
  const runtime = await startLocalRuntime({
    dataDir: flags.dataDir,
    config,
    ...(arize.mode === 'external' ? { arize, forceDryRun: !flags.confirm } : {}),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  if (arize.mode === 'external' && !flags.confirm) process.stderr.write('Real Arize without --confirm: every request runs as a dry run.\n');
  // A request's lifecycle, a line each; the per-email 'outcomes' counts are for progress bars, not for this log.
  runtime.onProgress((event) => {
    if (event.kind !== 'outcomes') process.stderr.write(`${event.kind} ${maskEmailsInText(event.requestId)}${event.status ? ` ${event.status}` : ''}\n`);
  });

  const sqsQueue = new SqsRequestQueue({ queueUrl: runtime.queue.queueUrl, client: runtime.queue.client });
  const deps: WebhookDeps = {
    secrets: () => Promise.resolve(secrets),
    // 202 only once the event is durable: journaled (fsynced) in the data dir, then on the in-memory queue.
    queue: runtime.journal ? journaledQueue(runtime.journal, sqsQueue) : sqsQueue,
    ledger: runtime.ledger,
    clock: () => new Date(),
    log: cliLog,
    cancel: cancelRecorder({ ledger: runtime.ledger, clock: () => new Date(), log: cliLog }),
  };
  const hrDeps: HrIntakeDeps = {
    settings: (provider) => Promise.resolve(hrSettings.get(provider)),
    queue: deps.queue,
    clock: deps.clock,
    log: cliLog,
    policy,
    fetch: (input, init) => fetch(input, init),
    sleep: (ms) => new Promise((resolveSleep) => setTimeout(resolveSleep, ms)),
    random: Math.random,
    lookup: DEFAULT_HR_LOOKUP,
    ledger: runtime.ledger,
    reject: ledgerRejections(runtime.ledger, deps.clock),
    ...(deps.cancel ? { cancel: deps.cancel } : {}),
  };
  const server = createServer(webhookListener(deps, hrDeps));
  server.requestTimeout = 30_000;
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolveListen());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  runtime.advertise({ controlUrl: url });
  const hrRoutes = [...hrSettings.keys()].map((provider) => `POST /hr/${provider}`);
  process.stdout.write(`offboard serve: listening on ${url} (POST ${WEBHOOK_PATH}, ${hrRoutes.length ? `${hrRoutes.join(', ')}, ` : ''}GET /healthz), data dir ${resolve(flags.dataDir)}\n`);

  await new Promise<void>((resolveStop) => {
    const stop = () => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      process.stderr.write('offboard serve: stopping\n');
      server.close(() => resolveStop());
      server.closeAllConnections();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  await runtime.close();
  // The executions are stopped and the ledger is closed, but a task handler that was running goes on in the
  // background (a Retry-After wait, a paced Arize call) and would keep the process alive for minutes after a
  // SIGTERM, until the supervisor's SIGKILL. Nothing it does now can be recorded: the next start resumes its
  // request from the ledger (delete intents, RUNNING state), exactly as after a kill.
  process.stderr.write('offboard serve: stopped\n');
  process.exit(process.exitCode ?? 0);
}

export function register(program: Command): void {
  program
    .command('serve')
    .description(`Serve the signed HR webhook (POST ${WEBHOOK_PATH}, GET /healthz) on 127.0.0.1, feeding the local pipeline`)
    .option('--port <n>', 'port on 127.0.0.1 (0 = any free port)', '8787')
    .option('--data-dir <dir>', 'local data directory', DEFAULT_DATA_DIR)
    .option('--confirm', 'with ARIZE_API_KEY (real Arize): really delete instead of dry runs')
    .addHelpText(
      'after',
      '\nRequires OFFBOARDING_WEBHOOK_SECRET (the HMAC secret; JSON {"secrets": [...]} while rotating).\n' +
        'Native HR routes /hr/<provider> (bamboohr, hibob, gusto, deel, personio, rippling, okta) are served for each provider whose\n' +
        'OFFBOARDING_<PROVIDER>_SECRET is set (comma-separated while rotating); OFFBOARDING_<PROVIDER>_API_TOKEN and _API_URL let\n' +
        'thin events be completed from the provider API; OFFBOARDING_HR_TIME_ZONE and OFFBOARDING_HR_GRACE_MINUTES interpret dates.',
    )
    .action((raw: unknown) => serve(parseOptions(optionsSchema, raw)));
}
