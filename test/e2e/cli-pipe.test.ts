/**
 * `offboard users list --all | head`: the reader closing the pipe early is normal shell use and must end
 * the CLI quietly, not with an unhandled EPIPE stack trace.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateDirectory } from '../../local/sandbox/seed.js';
import { startSandbox, type Sandbox } from '../../local/sandbox/server.js';
import { CLI_ENTRY, REPO_ROOT } from '../support/cli.js';

let sandbox: Sandbox;

beforeAll(async () => {
  // Enough rows that the output cannot fit in the pipe buffer before the reader goes away.
  sandbox = await startSandbox({ seed: generateDirectory(3_000), apiKey: 'pipe-key' });
});

afterAll(async () => {
  await sandbox.close();
});

it('exits quietly with status 0 when stdout is closed by the reader (EPIPE)', async () => {
  const child = spawn(process.execPath, [CLI_ENTRY, 'users', 'list', '--all', '--output', 'csv'], {
    cwd: REPO_ROOT,
    env: { ...process.env, ARIZE_API_KEY: 'pipe-key', ARIZE_API_HOST: '127.0.0.1', ARIZE_API_SCHEME: 'http', ARIZE_API_PORT: String(sandbox.port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let firstChunk = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdout.setEncoding('utf8').once('data', (chunk: string) => {
    firstChunk = chunk;
    child.stdout.destroy();
  });
  const code = await new Promise<number | null>((done) => child.on('close', done));
  expect(firstChunk).toMatch(/^id,/);
  expect(stderr).not.toMatch(/EPIPE|Unhandled/);
  expect(code).toBe(0);
});
