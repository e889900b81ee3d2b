/**
 * Evidence for auditors through the path a user runs: `offboard start` offboards the example population (deleted,
 * not found, protected, held then approved, dry run, rejected, a retried delete) through the local runtime, the
 * ledger on dynalite and the sandbox over HTTP; then `offboard evidence` exports it as JSON, CSV and HTML, and the
 * HTML page is rendered in headless Chromium (Debian's, driven by playwright-core) with a screenshot kept.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { EvidenceExport } from '../../lambdas/core/evidence-export.js';
import { startDynamo } from '../../local/engines/dynamo.js';
import { LOCAL_LEDGER_TABLE_NAME } from '../../local/runtime/config.js';
import { REPO_ROOT, runCli, type CliRun } from '../support/cli.js';

const SLOW = 240_000;
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');

let workDir: string;
let dataDir: string;
const from = new Date(Date.now() - 86_400_000).toISOString();
const to = new Date(Date.now() + 86_400_000).toISOString();

function cli(args: string[]): Promise<CliRun> {
  return runCli(args, { cwd: workDir, env: { NODE_NO_WARNINGS: '1' } });
}

interface ReportJson {
  outcomes: { requestId: string; email: string; status: string }[];
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'offboard-evidence-'));
  dataDir = join(workDir, 'data');
  const start = await cli(['start', '--data-dir', dataDir]);
  expect(start.code, start.stderr).toBe(0);
  const approve = await cli(['approve', 'hr-2024-0412-009', '--data-dir', dataDir, '-o', 'json']);
  expect(approve.code, approve.stderr).toBe(0);
}, SLOW);

afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

describe('offboard evidence', () => {
  it('exports every leaver of every event received, with the outcome and SLA status; the counts add up', async () => {
    const run = await cli(['evidence', '--from', from, '--to', to, '--format', 'json', '--data-dir', dataDir]);
    expect(run.code, run.stderr).toBe(0);
    const doc = JSON.parse(run.stdout) as EvidenceExport;
    expect(doc.query).toEqual({ from, to, slaHours: 24 });
    expect(doc.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    // The export names the chain heads (daily digests) it was read against.
    expect(doc.chain).toEqual([{ day: new Date().toISOString().slice(0, 10), count: expect.any(Number) as unknown, headHash: expect.stringMatching(/^sha256:/) as unknown }]);

    // Reconciled against what the pipeline recorded: every outcome of every event is a row (the approval folds
    // into the HELD event's rows instead of adding its own).
    const report = JSON.parse(await readFile(join(dataDir, 'report.json'), 'utf8')) as ReportJson;
    const recorded = report.outcomes.filter((o) => !o.requestId.endsWith('.approved')).map((o) => `${o.requestId}|${o.email}`).sort();
    expect(doc.rows.map((r) => `${r.hrEventId}|${r.email}`).sort()).toEqual(recorded);
    expect(doc.summary.byOutcome).toEqual({ DELETED: 12, NOT_FOUND: 1, FAILED: 0, PROTECTED: 2, HELD: 0, DRY_RUN: 1, REJECTED: 1, PENDING: 0 });
    expect(doc.summary.leavers).toBe(17);
    expect(Object.values(doc.summary.byOutcome).reduce((a, b) => a + b, 0)).toBe(doc.rows.length);

    const byEmail = new Map(doc.rows.map((r) => [r.email, r]));
    // HR sent 2024-04-12 as the effective date: removed years later, the SLA is missed.
    expect(byEmail.get('ann@example.com')).toMatchObject({ outcome: 'DELETED', terminationAsSent: '2024-04-12T17:00:00Z', sla: 'missed' });
    // No date: effective on receipt, removed within seconds.
    expect(byEmail.get('marcus.chen@example.com')).toMatchObject({ outcome: 'DELETED', terminationAsSent: '', sla: 'met', source: 'webhook', attempts: 1 });
    expect(byEmail.get('ravi.patel@example.com')).toMatchObject({ outcome: 'DELETED', attempts: 2, sla: 'met' });
    expect(byEmail.get('tom@example.com')).toMatchObject({ hrEventId: 'hr-2024-0412-009', outcome: 'DELETED', outcomeRequestId: 'hr-2024-0412-009.approved', sla: 'met' });
    expect(byEmail.get('priya.raman@example.com')).toMatchObject({ outcome: 'PROTECTED', sla: 'not_applicable' });
    // The rejected message (not a termination type) cannot be judged removed: pending until its deadline, then missed.
    expect(byEmail.get('lucas.martin@example.com')).toMatchObject({ outcome: 'REJECTED', sla: 'pending' });
    expect(doc.summary.sla).toEqual({ met: 11, missed: 1, pending: 1, not_applicable: 4 });
    // The pipeline reads the removal back and records the access the leaver had before the delete.
    expect(byEmail.get('marcus.chen@example.com')).toMatchObject({ accessRemoved: 'role MEMBER; bindings: none; USER keys: 0; SERVICE keys: 0' });
    expect(Date.parse(String(byEmail.get('marcus.chen@example.com')?.verifiedAt))).not.toBeNaN();
    // Counts only on stderr, never an address.
    expect(run.stderr).toMatch(/10 event\(s\), 17 leaver\(s\); SLA 24 h: 11 met, 1 missed, 1 pending; digest sha256:/);
    expect(run.stderr).not.toMatch(/@example\./);

    // The same query over the unchanged ledger gives the same digest.
    const again = JSON.parse((await cli(['evidence', '--from', from, '--to', to, '--data-dir', dataDir])).stdout) as EvidenceExport;
    expect(again.digest).toBe(doc.digest);
  }, SLOW);

  it('CSV goes through the guarded writer and gets a manifest with the query, totals, digest and its own hash', async () => {
    const out = join(workDir, 'evidence.csv');
    const run = await cli(['evidence', '--from', from, '--to', to, '--format', 'csv', '--out', out, '--data-dir', dataDir]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('');
    const lines = (await readFile(out, 'utf8')).split('\r\n').filter((l) => l !== '');
    expect(lines[0]).toBe('email,hr_event_id,source,termination_as_sent,termination_at,received_at,outcome,outcome_request_id,deleted_at,verified_at,time_to_removal_hours,sla_hours,sla_deadline,sla,attempts,access_removed,activity_after_termination,detail');
    expect(lines).toHaveLength(1 + 17);
    expect(lines.find((l) => l.startsWith('marcus.chen@example.com,'))).toMatch(/,DELETED,hr-2024-0412-002,[^,]+,\d{4}-[^,]+Z,[\d.]+,24,[^,]+,met,1,role MEMBER; bindings: none; USER keys: 0; SERVICE keys: 0,not recorded,$/);
    const manifest = JSON.parse(await readFile(`${out}.manifest.json`, 'utf8')) as { digest: string; summary: { leavers: number }; file: { name: string; sha256: string } };
    expect(manifest).toMatchObject({ summary: { leavers: 17 }, file: { name: 'evidence.csv' } });
    const { createHash } = await import('node:crypto');
    expect(manifest.file.sha256).toBe(createHash('sha256').update(await readFile(out)).digest('hex'));
  }, SLOW);

  it('HTML: one self-contained page that headless Chromium renders with every row and one bar per removal', async () => {
    const out = join(workDir, 'evidence.html');
    const run = await cli(['evidence', '--from', from, '--to', to, '--format', 'html', '--out', out, '--data-dir', dataDir]);
    expect(run.code, run.stderr).toBe(0);
    const html = await readFile(out, 'utf8');
    expect(html).not.toMatch(/<script|<link|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`).toBe(true);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const requests: string[] = [];
      page.on('request', (request) => void requests.push(request.url()));
      await page.goto(`file://${out}`);
      expect(await page.locator('#leavers tr.leaver').count()).toBe(17);
      expect(await page.locator('#time-to-removal rect.bar').count()).toBe(12);
      expect(await page.locator('#time-to-removal rect.bar[data-sla="missed"]').count()).toBe(1);
      expect(await page.locator('#outcomes td[data-outcome="DELETED"]').textContent()).toBe('12');
      expect(await page.locator('#sla-compliance').textContent()).toMatch(/^91\.7 % within 24 h: 11 met, 1 missed/);
      expect(await page.locator('#digest').textContent()).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(await page.locator('tr.leaver', { hasText: 'priya.raman@example.com' }).locator('td').nth(6).textContent()).toBe('PROTECTED');
      // Nothing but the page itself was loaded.
      expect(requests).toEqual([`file://${out}`]);
      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'evidence.png'), fullPage: true });
      expect(existsSync(join(ARTIFACTS, 'evidence.png'))).toBe(true);
    } finally {
      await browser.close();
    }
  }, SLOW);

  it('refuses a bad period naming the option, before touching the ledger', async () => {
    const run = await cli(['evidence', '--from', 'last week', '--to', to, '--data-dir', dataDir]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('offboard: --from: expected an ISO-8601 date (2026-12-01) or date-time with a zone (2026-12-01T00:00:00Z)\n');
    const rolled = await cli(['evidence', '--from', '2026-01-01', '--to', '2026-02-30', '--data-dir', dataDir]);
    expect(rolled.code).toBe(2);
    expect(rolled.stderr).toBe('offboard: --to: not a real calendar date\n');
  });

  it('evidence verify: intact after the pipeline; an outcome edited directly in the ledger (UpdateItem) is named', async () => {
    const intact = await cli(['evidence', 'verify', '--data-dir', dataDir]);
    expect(intact.code, intact.stderr).toBe(0);
    const today = new Date().toISOString().slice(0, 10);
    expect(intact.stdout).toMatch(new RegExp(`^${today}\\s+\\d+ record\\(s\\)\\s+sha256:[0-9a-f]{64}$`, 'm'));
    expect(intact.stderr).toMatch(/^evidence chain intact: \d+ day\(s\)/m);

    // Nobody runs on the data dir now: open its dynalite store and backdate a deletion, as a tamperer would.
    const dynamo = await startDynamo({ path: join(dataDir, 'ledger') });
    try {
      await dynamo.doc.send(
        new UpdateCommand({
          TableName: LOCAL_LEDGER_TABLE_NAME,
          Key: { pk: 'REQ#hr-2024-0412-001', sk: 'OUT#ann@example.com' },
          UpdateExpression: 'SET recordedAt = :t',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':t': '2024-04-12T18:00:00.000Z' },
        }),
      );
    } finally {
      await dynamo.close();
    }
    const broken = await cli(['evidence', 'verify', '--data-dir', dataDir]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/^offboard: evidence chain broken: first broken record: \d{4}-\d{2}-\d{2} #\d+ \(REQ#hr-2024-0412-001 \/ OUT#ann@example\.com\): the ledger item was edited after it was recorded/m);
  }, SLOW);
});
