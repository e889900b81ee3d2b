/** `offboard sandbox` as a real process: URL first, serves requests, exits 0 on SIGTERM/SIGINT. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ListUsersResponseSchema } from '../../lambdas/arize/wire.js';
import { CLI_ENTRY } from '../support/cli.js';

const projectRoot = resolve(import.meta.dirname, '../..');
const children: ChildProcessWithoutNullStreams[] = [];
let workDir = '';

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'sandbox-cli-'));
});
afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

function runCli(args: string[]): { child: ChildProcessWithoutNullStreams; stdout: () => string; stderr: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI_ENTRY, 'sandbox', ...args], { cwd: projectRoot });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exit = new Promise<number | null>((resolveExit) => child.on('close', (code) => resolveExit(code)));
  return { child, stdout: () => out, stderr: () => err, exit };
}

async function firstLines(stdout: () => string, exit: Promise<number | null>, count: number): Promise<string[]> {
  let exited = false;
  void exit.then(() => (exited = true));
  for (;;) {
    const lines = stdout().split('\n');
    if (lines.length > count) return lines.slice(0, count);
    if (exited) throw new Error(`sandbox exited before printing ${count} lines: ${stdout()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('offboard sandbox', { timeout: 60_000 }, () => {
  it('prints its URL then the exports, serves the seed with the given key, and exits 0 on SIGTERM', async () => {
    const seedPath = join(workDir, 'users.json');
    await writeFile(
      seedPath,
      JSON.stringify([
        { email: 'owner@example.com', role: { type: 'PREDEFINED', name: 'admin' } },
        { email: 'leaver@example.com', status: 'active' },
      ]),
    );
    const run = runCli(['--port', '0', '--seed', seedPath, '--api-key', 'cli-test-key', '--latency-ms', '1', '--rate-limit', '500']);
    const [url, exports] = await firstLines(run.stdout, run.exit, 2);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const port = new URL(url!).port;
    expect(exports).toContain(`ARIZE_API_PORT=${port}`);
    expect(exports).toMatch(/ARIZE_API_HOST=127\.0\.0\.1 ARIZE_API_SCHEME=http/);
    expect(exports).not.toContain('cli-test-key');

    const response = await fetch(`${url}/v2/users`, { headers: { authorization: 'Bearer cli-test-key' } });
    expect(response.status).toBe(200);
    const page = ListUsersResponseSchema.parse(await response.json());
    expect(page.users.map((user) => user.email)).toEqual(['owner@example.com', 'leaver@example.com']);
    expect((await fetch(`${url}/v2/users`, { headers: { authorization: 'Bearer sandbox-demo-key' } })).status).toBe(401);
    const ownerDelete = await fetch(`${url}/v2/users/${encodeURIComponent(page.users[0]!.id)}`, {
      method: 'DELETE',
      headers: { authorization: 'Bearer cli-test-key' },
    });
    expect(ownerDelete.status).toBe(400);

    run.child.kill('SIGTERM');
    expect(await run.exit).toBe(0);
    expect(run.stderr()).not.toContain('owner@example.com');
  });

  it('serves the demo directory with the printed demo key without --seed, and exits 0 on SIGINT', async () => {
    const run = runCli([]);
    const [url, exports] = await firstLines(run.stdout, run.exit, 2);
    expect(exports).toContain('ARIZE_API_KEY=sandbox-demo-key');
    const response = await fetch(`${url}/v2/users?limit=100`, { headers: { authorization: 'Bearer sandbox-demo-key' } });
    const page = ListUsersResponseSchema.parse(await response.json());
    expect(page.users.map((user) => user.email)).toContain('joann@example.com');
    run.child.kill('SIGINT');
    expect(await run.exit).toBe(0);
  });

  it.each([
    [['--error-rate', '2'], '--error-rate'],
    [['--rate-limit', '0'], '--rate-limit'],
    [['--latency-ms', 'fast'], '--latency-ms'],
    [['--port', '99999'], '--port'],
    [['--seed', '/nonexistent/users.json'], '--seed'],
  ])('refuses %j with exit 2 naming the option', async (args, option) => {
    const run = runCli(args);
    expect(await run.exit).toBe(2);
    expect(run.stderr()).toContain(option);
    expect(run.stdout()).toBe('');
  });

  it('refuses a malformed seed with exit 2 naming the entry and field', async () => {
    const seedPath = join(workDir, 'bad.json');
    await writeFile(seedPath, JSON.stringify([{ email: 'a@example.com' }, { email: 'b@example.com', status: 'gone' }]));
    const run = runCli(['--seed', seedPath]);
    expect(await run.exit).toBe(2);
    expect(run.stderr()).toContain('seed[1].status: expected one of ACTIVE|INVITED|EXPIRED');
    const notJson = join(workDir, 'not.json');
    await writeFile(notJson, '[{"email": ');
    const second = runCli(['--seed', notJson]);
    expect(await second.exit).toBe(2);
    expect(second.stderr()).toContain('not valid JSON');
  });
});
