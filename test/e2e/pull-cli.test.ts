/**
 * `offboard pull` as a real process against a local fake Workday RaaS endpoint (basic auth, real HTTP): leavers
 * run to DELETED, a second pull of the same report starts nothing new, a CSV export works the same way.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullRequestId } from '../../lambdas/core/hr/pull.js';
import { runCli } from '../support/cli.js';
import { hrFixture } from '../support/hr.js';

const USER = 'ISU_Offboarding';
const PASSWORD = 'isu-password-0123456789';
let server: Server;
let url = '';
const dirs: string[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    if (request.headers.authorization !== `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`) return response.writeHead(401).end();
    if (request.url === '/ccx/service/customreport2/acme/ISU/Terminations?format=json') {
      return response.writeHead(200, { 'content-type': 'application/json' }).end(hrFixture('workday-raas-terminations.json'));
    }
    if (request.url === '/export.csv') return response.writeHead(200, { 'content-type': 'text/csv' }).end(hrFixture('hr-export-terminations.csv'));
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const env = { OFFBOARDING_PULL_USER: USER, OFFBOARDING_PULL_PASSWORD: PASSWORD, OFFBOARDING_HR_TIME_ZONE: 'UTC' };

describe('offboard pull', () => {
  it('offboards the report\'s past leavers, is idempotent across pulls, and reads CSV exports', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pull-e2e-'));
    dirs.push(dataDir);
    const report = `${url}/ccx/service/customreport2/acme/ISU/Terminations?format=json`;
    const emmaId = pullRequestId('emma.johansson@example.com', '2026-11-30');

    // Zara's date is in 2030: waiting for it would block, so this run only waits briefly and reports it pending.
    const first = await runCli(['pull', '--url', report, '--data-dir', dataDir, '--output', 'json', '--timeout', '20'], { env });
    expect(first.stderr).toMatch(/4 row\(s\), 2 leaver\(s\), 1 not terminated, 1 unusable/);
    expect(first.stderr).toMatch(/row 4: email: missing/);
    const firstRows = JSON.parse(first.stdout) as { request_id: string; state: string }[];
    expect(firstRows).toContainEqual(expect.objectContaining({ request_id: emmaId, state: 'COMPLETED' }));
    expect(first.stdout + first.stderr).not.toMatch(/emma\.johansson/);

    const second = await runCli(['pull', '--url', report, '--data-dir', dataDir, '--output', 'json', '--timeout', '20'], { env });
    const secondRows = JSON.parse(second.stdout) as { request_id: string; state: string }[];
    expect(secondRows.map((r) => r.request_id).sort()).toEqual(firstRows.map((r) => r.request_id).sort());
    const status = await runCli(['status', emmaId, '--data-dir', dataDir, '--output', 'json'], { env });
    const outcomes = (JSON.parse(status.stdout) as { outcomes: { email: string; status: string }[] }).outcomes;
    // One deletion, not two: the second pull mapped onto the same request.
    expect(outcomes).toEqual([expect.objectContaining({ email: 'emma.johansson@example.com', status: 'DELETED' })]);

    const csv = await runCli(['pull', '--url', `${url}/export.csv`, '--data-dir', dataDir, '--output', 'json'], { env });
    expect(csv.stderr).toMatch(/3 row\(s\), 2 leaver\(s\), 1 not terminated, 0 unusable/);
    expect(csv.code).toBe(0);

    const unauthorized = await runCli(['pull', '--url', report, '--data-dir', dataDir], { env: { ...env, OFFBOARDING_PULL_PASSWORD: 'wrong-password' } });
    expect(unauthorized.code).toBe(1);
    expect(unauthorized.stderr).toMatch(/refused the configured credentials \(401\); nothing was enqueued/);
  }, 300_000);
});
