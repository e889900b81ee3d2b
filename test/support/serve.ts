/**
 * Set-up shared by the end-to-end tests that run `offboard serve` and `offboard sandbox` as real processes:
 * spawning them, waiting until they listen, the environment that points the CLI at a sandbox as an external
 * Arize, and killing whatever a test left running.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { readRuntimeInfo, type RuntimeInfo } from '../../local/runtime/index.js';
import { spawnCli, type CliProcess, type CliRunOptions } from './cli.js';
import { waitFor } from './wait.js';

const LISTENING = /listening on (http:\/\/127\.0\.0\.1:\d+)/;

export interface CliProcesses {
  /** A CLI process, SIGKILLed after the file's tests if it still runs. */
  spawn(args: readonly string[], options?: CliRunOptions): CliProcess;
  /** `offboard serve --port 0 --data-dir <dataDir>` with `args` added. */
  serve(dataDir: string, env: Record<string, string | undefined>, args?: readonly string[]): CliProcess;
  /** A fresh directory, removed after the file's tests. */
  tempDir(prefix: string): string;
}

export function useCliProcesses(): CliProcesses {
  const children: CliProcess[] = [];
  const dirs: string[] = [];
  afterAll(() => {
    for (const { child } of children) {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) continue;
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // Exited between the check and the kill: nothing left to stop.
      }
    }
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  const spawn = (args: readonly string[], options?: CliRunOptions) => {
    const started = spawnCli(args, options);
    children.push(started);
    return started;
  };
  return {
    spawn,
    serve: (dataDir, env, args = []) => spawn(['serve', '--port', '0', '--data-dir', dataDir, ...args], { env }),
    tempDir(prefix) {
      const dir = mkdtempSync(join(tmpdir(), prefix));
      dirs.push(dir);
      return dir;
    },
  };
}

/** The URL a `serve` process announces once it listens. */
export function serveUrl(serve: CliProcess, timeoutMs = 120_000): Promise<string> {
  return waitFor(() => LISTENING.exec(serve.output())?.[1], timeoutMs, 'serve to listen');
}

/** Starts `offboard sandbox` with this API key and returns its URL. */
export async function startSandboxProcess(processes: CliProcesses, apiKey: string): Promise<{ process: CliProcess; url: string }> {
  const sandbox = processes.spawn(['sandbox', '--port', '0', '--api-key', apiKey]);
  const url = await waitFor(() => /^(http:\/\/127\.0\.0\.1:\d+)/m.exec(sandbox.output())?.[1], 60_000, 'the sandbox URL');
  return { process: sandbox, url };
}

/** ARIZE_API_* pointing the CLI at a sandbox over HTTP, as it would be pointed at a real Arize. */
export function externalArizeEnv(sandbox: { apiKey: string; port: number | string }): Record<string, string> {
  return { ARIZE_API_KEY: sandbox.apiKey, ARIZE_API_HOST: '127.0.0.1', ARIZE_API_SCHEME: 'http', ARIZE_API_PORT: String(sandbox.port) };
}

/** The runtime.json of the serve on `dataDir`, once it advertises its control endpoint (it then takes work). */
export function servedRuntime(dataDir: string, timeoutMs: number): Promise<RuntimeInfo> {
  return waitFor(() => {
    const found = readRuntimeInfo(dataDir);
    return found?.controlUrl ? found : undefined;
  }, timeoutMs, 'the serve on the data dir');
}
