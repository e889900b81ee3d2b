/**
 * Operator-visible durability of the real `offboard` CLI: two working commands on one data dir, unusable data
 * dirs, Ctrl-C in `run`, and `serve` killed right after answering 202 (the intake journal). Arize is a sandbox
 * over HTTP in this process, given to the CLI as ARIZE_API_* (external Arize), so it outlives the CLI.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWebhook } from '../../lambdas/core/webhook.js';
import { connectLocalRuntime } from '../../local/runtime/index.js';
import { demoDirectory, startSandbox, type Sandbox } from '../../local/sandbox/server.js';
import { runCli } from '../support/cli.js';
import { externalArizeEnv, servedRuntime, serveUrl, useCliProcesses } from '../support/serve.js';
import type { RequestState } from '../../lambdas/core/ledger.js';
import { waitFor } from '../support/wait.js';

const SLOW = 180_000;
const SECRET = 'whsec_durability_0123456789';
let workDir: string;
let sandbox: Sandbox;

const processes = useCliProcesses();

function arizeEnv(): Record<string, string> {
  return { NODE_NO_WARNINGS: '1', ...externalArizeEnv(sandbox), OFFBOARDING_WEBHOOK_SECRET: SECRET };
}

/** Starts serve again on `dataDir`, waits until every request id is COMPLETED (their states), then stops it. */
async function completedAfterRestart(dataDir: string, requestIds: readonly string[], what: string): Promise<(RequestState | undefined)[]> {
  const restarted = processes.serve(dataDir, arizeEnv(), ['--confirm']);
  try {
    const remote = connectLocalRuntime(await servedRuntime(dataDir, 90_000));
    try {
      return await waitFor(
        async () => {
          const states = await Promise.all(requestIds.map((id) => remote.ledger.getRequestState(id)));
          return states.every((s) => s?.status === 'COMPLETED') ? states : undefined;
        },
        120_000,
        what,
      );
    } finally {
      await remote.close();
    }
  } finally {
    restarted.child.kill('SIGTERM');
    await restarted.exited;
  }
}

const emailsOf = (...names: string[]) => names.map((name) => demoDirectory().find((u) => u.email.toLowerCase().startsWith(name))?.email.toLowerCase() ?? name);

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'offboard-durability-'));
  sandbox = await startSandbox({ seed: demoDirectory() });
});

afterAll(async () => {
  await sandbox.close();
  await rm(workDir, { recursive: true, force: true });
});

describe('one data dir, several commands', () => {
  it(
    'two runs started together both finish: the second waits for the first, no store error',
    async () => {
      const dataDir = join(workDir, 'two-runs');
      const files = await Promise.all(
        [['tom@'], ['zara.ahmed@']].map(async (names, index) => {
          const file = join(workDir, `two-${index}.json`);
          await writeFile(file, JSON.stringify([{ requestId: `two-${index}`, type: 'employee.terminated', emails: emailsOf(...names) }]));
          return file;
        }),
      );
      const runs = await Promise.all(files.map((file) => runCli(['run', file, '--data-dir', dataDir, '--confirm'], { env: arizeEnv() })));
      for (const run of runs) {
        if (/Database is closed/.test(run.stderr)) console.log(run.stderr.slice(0, 3000));
        expect(run.stderr).not.toMatch(/Database is closed|\n\s+at /);
        expect(run.code).toBe(0);
      }
      expect(runs.map((run) => run.stderr).join('\n')).toMatch(/in use by another offboard command.*waiting for it to finish/);
      expect(sandbox.store.find('tom@example.com')?.deleted).toBe(true);
      expect(sandbox.store.find('zara.ahmed@example.com')?.deleted).toBe(true);
    },
    SLOW,
  );

  it('an unusable data dir is one clear line and exit 2', async () => {
    const file = join(workDir, 'plain-file');
    await writeFile(file, 'not a directory');
    const input = join(workDir, 'one.json');
    await writeFile(input, JSON.stringify([{ requestId: 'nodir', type: 'employee.terminated', emails: ['ghost@example.com'] }]));
    const run = await runCli(['run', input, '--data-dir', join(file, 'data'), '--confirm'], { env: arizeEnv() });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/data dir .*plain-file\/data cannot be used: .*\((ENOTDIR|EEXIST)\)/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('Ctrl-C and kills', () => {
  it(
    'Ctrl-C in run says what resumes, removes runtime.json, and the next run finishes the request',
    async () => {
      const dataDir = join(workDir, 'sigint');
      const input = join(workDir, 'sigint.json');
      await writeFile(input, JSON.stringify([{ requestId: 'sigint-1', type: 'employee.terminated', emails: emailsOf('noah.wilson@', 'chloe.dubois@') }]));
      sandbox.faults.clear();
      // Slow Arize: the request is still running when Ctrl-C arrives.
      for (const email of emailsOf('noah.wilson@', 'chloe.dubois@')) sandbox.faults.failUser(email, 3, 503);
      const run = processes.spawn(['run', input, '--data-dir', dataDir, '--confirm'], { env: arizeEnv() });
      await waitFor(() => (/Enqueued 1 request/.test(run.output()) ? true : undefined), 90_000, 'the run to enqueue');
      run.child.kill('SIGINT');
      expect(await run.exited).toBe(130);
      expect(run.output()).toMatch(/Interrupted \(SIGINT\).*resume automatically the next time/);
      expect(existsSync(join(dataDir, 'runtime.json'))).toBe(false);
      sandbox.faults.clear();
      const again = await runCli(['run', input, '--data-dir', dataDir, '--confirm', '-o', 'json'], { env: arizeEnv() });
      expect(again.code).toBe(0);
      expect(sandbox.store.find('noah.wilson@example.com')?.deleted).toBe(true);
    },
    SLOW,
  );

  it(
    'serve killed right after its 202s: the restart runs every accepted event (intake journal)',
    async () => {
      const dataDir = join(workDir, 'journal');
      const emails = emailsOf('ingrid.nilsen@', 'grace.kim@', 'kenji.watanabe@');
      // The intake poller waits out a long batching window for a partial batch: accepted events sit on the
      // in-memory queue, not yet started, when the kill comes.
      const slowIntake = { OFFBOARDING_CONFIG: JSON.stringify({ intake: { maxBatchingWindowSeconds: 300 } }) };
      const serve = processes.serve(dataDir, { ...arizeEnv(), ...slowIntake }, ['--confirm']);
      const url = await serveUrl(serve, 90_000);
      const statuses = await Promise.all(
        emails.map(async (email, index) => {
          const body = JSON.stringify({ eventId: `journal-${index}`, type: 'employee.terminated', employee: { email } });
          const response = await fetch(`${url}/hr/events`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-offboarding-signature': signWebhook(SECRET, body, Date.now() / 1000) },
            body,
          });
          return response.status;
        }),
      );
      expect(statuses).toEqual([202, 202, 202]);
      const accepted = emails.map((_, index) => `hr-journal-${index}`);
      serve.child.kill('SIGKILL');
      await serve.exited;
      // What the old in-memory intake lost: accepted, answered 202, never started — now on disk.
      expect(readdirSync(join(dataDir, 'intake')).filter((name) => name.endsWith('.json')).length).toBeGreaterThan(0);
      sandbox.faults.clear();
      const finals = await completedAfterRestart(dataDir, accepted, 'every accepted event to complete');
      expect(finals).toHaveLength(3);
      for (const email of emails) expect(sandbox.store.find(email)?.deleted).toBe(true);
      expect(readdirSync(join(dataDir, 'intake')).filter((name) => name.endsWith('.json'))).toEqual([]);
    },
    SLOW,
  );

  it(
    'serve stops on SIGTERM while a task waits out a long Retry-After; the next start finishes the request',
    async () => {
      const dataDir = join(workDir, 'sigterm');
      const [email] = emailsOf('emma.johansson@');
      sandbox.faults.clear();
      // Every call about this user answers 429 with a 50 s Retry-After: its task sits in the client's wait.
      sandbox.faults.failUser(email ?? '', 1_000, 429, { retryAfterSeconds: 50 });
      const throttledBefore = sandbox.counters.status['429'] ?? 0;
      const serve = processes.serve(dataDir, arizeEnv(), ['--confirm']);
      const url = await serveUrl(serve, 90_000);
      const body = JSON.stringify({ eventId: 'sigterm-1', type: 'employee.terminated', employee: { email } });
      const response = await fetch(`${url}/hr/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-offboarding-signature': signWebhook(SECRET, body, Date.now() / 1000) },
        body,
      });
      expect(response.status).toBe(202);
      await waitFor(() => ((sandbox.counters.status['429'] ?? 0) > throttledBefore ? true : undefined), 60_000, 'the task to be throttled');
      serve.child.kill('SIGTERM');
      // Before, the handler's waits (5 retries × 50 s) kept the process alive long after "stopping".
      const stopped = await Promise.race([serve.exited, new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), 45_000).unref())]);
      if (stopped === 'running') serve.child.kill('SIGKILL');
      expect(stopped).toBe(0);
      expect(serve.output()).toMatch(/offboard serve: stopping\n[\s\S]*offboard serve: stopped/);
      expect(sandbox.store.find(email ?? '')?.deleted).not.toBe(true);

      sandbox.faults.clear();
      const [state] = await completedAfterRestart(dataDir, ['hr-sigterm-1'], 'the interrupted request to complete');
      expect(state?.counts?.DELETED).toBe(1);
      expect(sandbox.store.find(email ?? '')?.deleted).toBe(true);
    },
    SLOW,
  );
});
