/**
 * Effective dates against an external Arize, through the user's path: the real `offboard` CLI as a process,
 * an Arize sandbox started on its own (reached through ARIZE_API_KEY/HOST/SCHEME/PORT like a real one), the
 * local runtime on a persisted data dir. Waits are real: no shortened clock exists against an external Arize.
 * The process is SIGKILLed while it waits; the next one resumes the wait from the ledger and never runs early.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRuntimeInfo } from '../../local/runtime/index.js';
import { startSandbox, type Sandbox } from '../../local/sandbox/server.js';
import { runCli, spawnCli, type CliRun } from '../support/cli.js';
import { useLocalRuntimeHarness } from '../support/local-runtime.js';

// Warms the definition cache the spawned CLI reads, so its start-up is not a synthesis.
const harness = useLocalRuntimeHarness();
const LEAVER = 'ann@example.com';

let workDir: string;
let sandbox: Sandbox;

beforeAll(async () => {
  harness.definition();
  workDir = await mkdtemp(join(tmpdir(), 'offboard-effective-'));
  sandbox = await startSandbox();
});

afterAll(async () => {
  await sandbox.close();
  await rm(workDir, { recursive: true, force: true });
});

const arizeEnv = () => ({
  NODE_NO_WARNINGS: '1',
  ARIZE_API_KEY: sandbox.apiKey,
  ARIZE_API_HOST: '127.0.0.1',
  ARIZE_API_SCHEME: 'http',
  ARIZE_API_PORT: String(sandbox.port),
});

const isDeleted = (email: string) => sandbox.store.users().find((user) => user.email === email)?.deleted === true;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface EmailStatusJson {
  latest: string;
  scheduled?: { requestId: string; effectiveAt: string }[];
  history: { requestId: string; status: string; recordedAt: string }[];
}

async function emailStatus(dataDir: string): Promise<{ run: CliRun; view?: EmailStatusJson }> {
  const run = await runCli(['status', LEAVER, '--data-dir', dataDir, '--output', 'json'], { cwd: workDir, env: arizeEnv() });
  try {
    return { run, view: JSON.parse(run.stdout) as EmailStatusJson };
  } catch {
    return { run };
  }
}

/**
 * Until the leaver shows SCHEDULED. Status is asked only once the submitting process advertises its runtime
 * (runtime.json): before that, a second process opening the same LevelDB store would race it for the lock.
 */
async function untilScheduled(dataDir: string, deadline: number): Promise<EmailStatusJson> {
  let last = 'nothing yet';
  for (;;) {
    if (readRuntimeInfo(dataDir) !== undefined) {
      const { run, view } = await emailStatus(dataDir);
      if (view?.latest === 'SCHEDULED') return view;
      last = `${run.stdout}${run.stderr}`;
    }
    if (Date.now() > deadline) throw new Error(`never shown as scheduled: ${last}`);
    await sleep(300);
  }
}

describe('an effective date against an external Arize', () => {
  it('is waited for in real time, shown as scheduled, survives a SIGKILL, and the deletion happens only after it', async () => {
    const dataDir = join(workDir, 'data');
    const effectiveAtMs = Date.now() + 45_000;
    const effectiveAt = new Date(effectiveAtMs).toISOString();
    const args = ['submit', '--email', LEAVER, '--effective-at', effectiveAt, '--confirm', '--data-dir', dataDir, '--timeout', '120'];

    const first = spawnCli(args, { cwd: workDir, env: arizeEnv() });
    const view = await untilScheduled(dataDir, effectiveAtMs - 8_000);
    expect(view.scheduled).toEqual([expect.objectContaining({ effectiveAt })]);
    expect(view.history).toEqual([]);
    expect(isDeleted(LEAVER)).toBe(false);

    first.child.kill('SIGKILL');
    const killed = await first.done;
    expect(killed.code).toBeNull();
    // Real-time waits against an external Arize: nothing said they were shortened.
    expect(killed.stderr).not.toContain('waits shortened');
    expect(isDeleted(LEAVER)).toBe(false);
    // The ledger alone (no process running) still knows the leaver is scheduled.
    expect((await emailStatus(dataDir)).view).toMatchObject({ latest: 'SCHEDULED', scheduled: [{ effectiveAt }] });

    // The user runs the command again: the runtime resumes the interrupted request, which waits again.
    const second = spawnCli(args, { cwd: workDir, env: arizeEnv() });
    let exited = false;
    void second.done.then(() => (exited = true));
    while (!exited) {
      const before = Date.now() < effectiveAtMs;
      const deleted = isDeleted(LEAVER);
      if (before) expect(deleted, 'deleted before its effective date').toBe(false);
      await sleep(100);
    }
    const resumed = await second.done;
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resume: request \S+ was RUNNING/);
    expect(isDeleted(LEAVER)).toBe(true);
    expect(Date.now()).toBeGreaterThanOrEqual(effectiveAtMs);

    const after = (await emailStatus(dataDir)).view;
    expect(after?.latest).toBe('DELETED');
    expect(after?.scheduled).toBeUndefined();
    const deletedAt = after?.history.find((entry) => entry.status === 'DELETED')?.recordedAt ?? '';
    expect(Date.parse(deletedAt)).toBeGreaterThanOrEqual(effectiveAtMs);
    // Look-alike accounts are untouched.
    for (const email of ['joann@example.com', 'ann@example.com.au']) expect(isDeleted(email), email).toBe(false);
  }, 150_000);
});
