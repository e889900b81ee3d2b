/**
 * The CLI's shared parts, through the real process: the one progress display (`offboard run --progress`: per
 * email, with rate and ETA, on stderr only) and the one input reader (`users delete --emails-file` takes the CSV
 * with a header that `offboard run` takes).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../local/sandbox/server.js';
import { runCli, type CliRun } from '../support/cli.js';

const SLOW = 180_000;
let workDir: string;

const cli = (args: string[], env: Record<string, string> = {}): Promise<CliRun> =>
  runCli(args, { cwd: workDir, env: { NODE_NO_WARNINGS: '1', ...env } });

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'offboard-cli-progress-'));
});

afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

describe('offboard run progress', () => {
  it(
    'with --progress counts emails (not requests) with a rate, on stderr only; stdout stays the JSON report',
    async () => {
      const file = join(workDir, 'leavers.csv');
      await writeFile(file, 'email,name\nmarcus.chen@example.com,Marcus\nnobody.a@example.com,A\nnobody.b@example.com,B\n');
      const shown = await cli(['run', file, '--data-dir', join(workDir, 'shown'), '--progress', '-o', 'json']);
      expect(shown.code, shown.stderr).toBe(0);
      const report = JSON.parse(shown.stdout) as { outcomes: { email: string }[] };
      expect(report.outcomes).toHaveLength(3);
      // One request of three emails: the display counts the emails, and says how fast they went.
      expect(shown.stderr).toMatch(/^Offboarding 3\/3 emails \[#+\] [\d.]+ emails\/s, done in \d+s$/m);
      expect(shown.stderr).not.toContain('\x1b[');
      expect(shown.stdout).not.toContain('Offboarding');

      // Not a terminal and no --progress: no progress lines at all.
      const quiet = await cli(['run', file, '--data-dir', join(workDir, 'quiet'), '-o', 'json']);
      expect(quiet.code, quiet.stderr).toBe(0);
      expect(quiet.stderr).not.toMatch(/\d+\/\d+ emails/);
    },
    SLOW,
  );

  it('documents the option in --help', async () => {
    const help = await cli(['run', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--progress\s+show progress \(emails done, emails\/s, ETA\)/);
    expect(help.stdout).toContain('--no-progress');
  });
});

describe('users delete --emails-file reads the formats offboard run reads', () => {
  const API_KEY = 'e2e-progress-key';
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ apiKey: API_KEY });
  });
  afterAll(async () => {
    await sandbox.close();
  });
  const usersCli = (args: string[]) =>
    cli(args, { ARIZE_API_KEY: API_KEY, ARIZE_API_HOST: '127.0.0.1', ARIZE_API_SCHEME: 'http', ARIZE_API_PORT: String(sandbox.port) });

  it('accepts a CSV with a header row (the header is not an email), deleting exactly the listed people', async () => {
    const leaver = sandbox.store.add({ email: 'csv.leaver@corp.test' });
    const stays = sandbox.store.add({ email: 'csv.stays@corp.test' });
    const file = join(workDir, 'hr-export.csv');
    await writeFile(file, 'name,email,department\nCSV Leaver,CSV.Leaver@corp.test,Sales\nGhost,ghost@corp.test,Ops\n');
    const run = await usersCli(['users', 'delete', '--yes', '--emails-file', file, '--output', 'json']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual([
      { user_id: leaver.id, email: 'CSV.Leaver@corp.test', status: 'deleted' },
      { user_id: '', email: 'ghost@corp.test', status: 'not_found', error: 'no user with this email' },
    ]);
    expect(sandbox.store.find('csv.leaver@corp.test')?.deleted).toBe(true);
    expect(sandbox.store.find(stays.email)?.deleted).toBe(false);
  });

  it('refuses a CSV without an email column and an invalid email by its line, deleting nothing', async () => {
    sandbox.counters.reset();
    const noColumn = join(workDir, 'no-column.csv');
    await writeFile(noColumn, 'name,department\nAnn,Sales\n');
    const refused = await usersCli(['users', 'delete', '--yes', '--emails-file', noColumn]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`--emails-file ${noColumn}: line 1: a CSV file needs a header row with an "email" column`);

    const bad = join(workDir, 'bad.csv');
    await writeFile(bad, 'email\nfine@corp.test\nnot-an-email\n');
    const invalid = await usersCli(['users', 'delete', '--yes', '--emails-file', bad]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain(`'not-an-email' (--emails-file ${bad} line 3)`);
    expect(sandbox.counters.byRoute.delete ?? 0).toBe(0);
  });
});
