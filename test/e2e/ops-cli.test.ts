/**
 * The operator CLI spawned as a process on a temporary data dir: `start` (what `npm start` runs), then
 * `status` and `approve` on the ledger it left; `run` refusing an invalid file; `run` against a
 * "real" Arize (a sandbox over HTTP given as ARIZE_API_KEY/HOST) without --confirm being a dry run.
 * Each spawn that starts the runtime costs seconds, so the paths are few and grouped.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../local/sandbox/server.js';
import { runCli, type CliRun } from '../support/cli.js';

const SLOW = 180_000;

let workDir: string;

function cli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return runCli(args, { cwd: workDir, env: { NODE_NO_WARNINGS: '1', ...env } });
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'offboard-ops-cli-'));
});

afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

interface ReportJson {
  totals: Record<string, number>;
  requests: { requestId: string; state: string }[];
  outcomes: { requestId: string; email: string; status: string; attempts: number }[];
}

describe('offboard start, then status and approve on its ledger', () => {
  it(
    'runs the example events end to end, writes the reports, and the HELD request can be approved',
    async () => {
      const dataDir = join(workDir, 'demo');
      const start = await cli(['start', '--data-dir', dataDir]);
      expect(start.stderr).not.toContain('Error');
      expect(start.code).toBe(0);
      // The demo's shortened waits are announced (they exist only with its built-in sandbox).
      expect(start.stdout).toMatch(/^Waits are shortened ×0\.001 for this demo/m);
      expect(start.stdout).toMatch(/^deleted\s+6$/m);
      expect(start.stdout).toMatch(/^held\s+6$/m);
      expect(start.stdout).toMatch(/^rejected\s+1$/m);
      expect(start.stdout).toContain('offboard approve hr-2024-0412-009');
      // Not a terminal: progress comes as plain lines, one per finished request.
      expect(start.stderr).toMatch(/\[10\/10\] \S+: \w+/);
      expect(start.stderr).not.toContain('\x1b[');

      const report = JSON.parse(await readFile(join(dataDir, 'report.json'), 'utf8')) as ReportJson;
      expect(report.totals).toEqual({ DELETED: 6, NOT_FOUND: 1, FAILED: 0, PROTECTED: 2, HELD: 6, DRY_RUN: 1, REJECTED: 1, CANCELLED: 0, REHIRED_AFTER_DELETION: 0 });
      const byEmail = new Map(report.outcomes.map((o) => [o.email, o]));
      expect(byEmail.get('marcus.chen@example.com')?.status).toBe('DELETED');
      expect(byEmail.get('priya.raman@example.com')?.status).toBe('PROTECTED');
      expect(byEmail.get('ravi.patel@example.com')).toMatchObject({ status: 'DELETED', attempts: 2 });
      expect(report.outcomes.some((o) => o.email.includes('joann'))).toBe(false);
      const csv = await readFile(join(dataDir, 'report.csv'), 'utf8');
      expect(csv.split('\r\n')[0]).toBe('request_id,email,status,user_id,attempts,detail,recorded_at');
      expect(csv.split('\r\n').filter((line) => line !== '')).toHaveLength(1 + 17);

      const status = await cli(['status', 'hr-2024-0412-006', '--data-dir', dataDir, '-o', 'json']);
      expect(status.code).toBe(0);
      const view = JSON.parse(status.stdout) as { requestId: string; state: string; outcomes: unknown[] };
      expect(view).toMatchObject({ requestId: 'hr-2024-0412-006', state: 'COMPLETED' });
      // A DELETED outcome now says when the removal was verified and what access the leaver had (issue #14).
      expect(view.outcomes).toEqual([
        {
          email: 'ravi.patel@example.com',
          status: 'DELETED',
          userId: expect.any(String) as unknown,
          attempts: 2,
          verifiedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/) as unknown,
          access: 'role MEMBER; bindings: none; USER keys: 0; SERVICE keys: 0',
        },
      ]);

      const approve = await cli(['approve', 'hr-2024-0412-009', '--data-dir', dataDir, '-o', 'json']);
      expect(approve.code).toBe(0);
      const approved = JSON.parse(approve.stdout) as ReportJson;
      expect(approved.requests).toEqual([expect.objectContaining({ requestId: 'hr-2024-0412-009.approved', state: 'COMPLETED' })]);
      expect(approved.totals.DELETED).toBe(6);
    },
    SLOW,
  );
});

describe('offboard run', () => {
  it('refuses a file with an invalid line, naming the line, and enqueues nothing', async () => {
    const file = join(workDir, 'leavers.txt');
    await writeFile(file, 'ann@example.com\nann(at)example.com\nbo@example.com\n');
    const run = await cli(['run', file, '--data-dir', join(workDir, 'never-created')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("line 2: not a valid email address: 'ann(at)example.com'");
    expect(run.stderr).toContain('nothing was enqueued');
    expect(run.stdout).toBe('');
  }, SLOW);

  describe('against a real Arize API (ARIZE_API_KEY set)', () => {
    let sandbox: Sandbox;
    beforeAll(async () => {
      sandbox = await startSandbox({ apiKey: 'e2e-real-key' });
    });
    afterAll(async () => {
      await sandbox.close();
    });

    it('without --confirm every request is a dry run, said loudly, and nobody is deleted', async () => {
      const file = join(workDir, 'real.csv');
      await writeFile(file, 'email,name\nann@example.com,Ann\nnobody@example.com,Nobody\n');
      const run = await cli(['run', file, '--data-dir', join(workDir, 'real'), '-o', 'json'], {
        ARIZE_API_KEY: 'e2e-real-key',
        ARIZE_API_HOST: '127.0.0.1',
        ARIZE_API_SCHEME: 'http',
        ARIZE_API_PORT: String(sandbox.port),
      });
      expect(run.stderr).not.toContain('offboard:');
      expect(run.code).toBe(0);
      expect(run.stderr).toContain('DRY RUN: this talks to the real Arize API at 127.0.0.1');
      const report = JSON.parse(run.stdout) as ReportJson;
      expect(report.outcomes.map((o) => [o.email, o.status])).toEqual([
        ['ann@example.com', 'DRY_RUN'],
        ['nobody@example.com', 'NOT_FOUND'],
      ]);
      expect(sandbox.store.find('ann@example.com')?.deleted).toBe(false);
      expect(sandbox.counters.byRoute.delete ?? 0).toBe(0);
    }, SLOW);
  });
});
