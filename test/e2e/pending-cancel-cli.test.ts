/**
 * `offboard pending` and `offboard cancel` as processes against a running `offboard serve` (its ledger on
 * dynalite): scheduled requests listed by effective time in each output format, a cancel by request id recorded
 * with the operator and the reason, a cancel by email, and the option errors.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { signWebhook } from '../../lambdas/core/webhook.js';
import { connectLocalRuntime, readRuntimeInfo } from '../../local/runtime/index.js';
import { runCli } from '../support/cli.js';
import { waitFor } from '../support/wait.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const SECRET = 'whsec_e2e_pending_0123456789';
const children: ChildProcess[] = [];
const dirs: string[] = [];

afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function terminate(url: string, eventId: string, email: string, effectiveAt: string): Promise<void> {
  const body = JSON.stringify({ eventId, type: 'employee.terminated', employee: { email }, effectiveAt });
  const response = await fetch(`${url}/hr/events`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-offboarding-signature': signWebhook(SECRET, body, Date.now() / 1000) }, body });
  expect(response.status).toBe(202);
}

describe('offboard pending / cancel', () => {
  it('lists scheduled requests by effective time and cancels by request id and by email, recording the operator', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pending-cli-'));
    dirs.push(dataDir);
    // The built-in demo sandbox scales waits by 0.001: 30 days ahead still waits ~43 minutes, far beyond this test.
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/offboard.ts', 'serve', '--port', '0', '--data-dir', dataDir], {
      cwd: ROOT,
      env: { ...process.env, OFFBOARDING_WEBHOOK_SECRET: SECRET, ARIZE_API_KEY: undefined },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const url = await waitFor(() => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1], 120_000, 'serve to listen');
    const day = 86_400_000;
    const later = new Date(Date.now() + 30 * day).toISOString();
    const sooner = new Date(Date.now() + 20 * day).toISOString();
    await terminate(url, 'pend-later', 'zara.ahmed@example.com', later);
    await terminate(url, 'pend-sooner', 'noah.wilson@example.com', sooner);
    const remote = connectLocalRuntime(readRuntimeInfo(dataDir)!);
    try {
      for (const [email, id] of [['zara.ahmed@example.com', 'hr-pend-later'], ['noah.wilson@example.com', 'hr-pend-sooner']] as const) {
        await waitFor(async () => (await remote.ledger.scheduledForEmail(email)).find((s) => s.requestId === id), 60_000, `${id} to be scheduled`);
      }
    } finally {
      await remote.close();
    }
    const at = ['--data-dir', dataDir];

    const json = await runCli(['pending', ...at, '-o', 'json']);
    expect(json.code, json.stderr).toBe(0);
    const listed = JSON.parse(json.stdout) as { requestId: string; phase: string; actsAt: string; emails: string[] }[];
    expect(listed.map((p) => [p.requestId, p.phase, p.actsAt, p.emails])).toEqual([
      ['hr-pend-sooner', 'SCHEDULED', sooner, ['noah.wilson@example.com']],
      ['hr-pend-later', 'SCHEDULED', later, ['zara.ahmed@example.com']],
    ]);
    const csv = await runCli(['pending', ...at, '-o', 'csv']);
    expect(csv.stdout.split(/\r?\n/)[0]).toBe('request_id,phase,acts_at,hr_date,emails,source,reason');
    expect(csv.stdout).toContain(`hr-pend-later,SCHEDULED,${later}`);

    const noReason = await runCli(['cancel', 'hr-pend-later', ...at]);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/--reason is required/);
    expect((await runCli(['cancel', 'no-such-request', ...at, '--reason', 'x'])).stderr).toMatch(/no request 'no-such-request'/);

    const byId = await runCli(['cancel', 'hr-pend-later', ...at, '--reason', 'offer reinstated', '--operator', 'alice']);
    expect(byId.code, byId.stderr).toBe(0);
    expect(byId.stdout).toMatch(/hr-pend-later\s+CANCELLED/);
    const status = JSON.parse((await runCli(['status', 'hr-pend-later', ...at, '-o', 'json'])).stdout) as { state: string; outcomes: { status: string; reason: string }[] };
    expect(status.state).toBe('CANCELLED');
    expect(status.outcomes).toEqual([expect.objectContaining({ status: 'CANCELLED', reason: expect.stringMatching(/cancelled by cli, operator alice .*offer reinstated/) as unknown as string })]);

    const byEmail = await runCli(['cancel', 'Noah.Wilson@example.com', ...at, '--reason', 'rehired', '-o', 'json']);
    expect(byEmail.code, byEmail.stderr).toBe(0);
    expect(JSON.parse(byEmail.stdout)).toMatchObject({ cancelledRequests: ['hr-pend-sooner'], rehiredAfterDeletion: [], operator: userInfo().username });
    const empty = await runCli(['pending', ...at]);
    expect(empty.stdout).toContain('Nothing pending.');
    child.kill('SIGTERM');
  }, 240_000);
});
