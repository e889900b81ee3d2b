/**
 * Every CSV the CLI writes goes through the one writer with the formula guard (lambdas/core/csv.ts): an address
 * such as `=1+1@x.com` or `@sum(a1)@x.com` passes validation and must reach a spreadsheet as text.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitCsvLine } from '../../lambdas/core/csv.js';
import { startSandbox, type Sandbox, type SeedUser } from '../../local/sandbox/server.js';
import { runCli } from '../support/cli.js';

const SLOW = 240_000;
const FORMULA = '=1+1@x.com';
const AT_FORMULA = '+sum(a1)@x.com';
let workDir: string;

const rows = (csv: string) => csv.split('\r\n').filter((line) => line !== '').map(splitCsvLine);

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'offboard-csv-'));
});
afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

describe('CSV output is formula-safe everywhere', () => {
  it('submit/status/report --output csv and report --format csv prefix formula cells', async () => {
    const dataDir = join(workDir, 'pipeline');
    const submit = await runCli(['submit', '--email', FORMULA, '--email', '+cmd@x.com', '--data-dir', dataDir, '-o', 'csv']);
    expect(submit.code).toBe(0);
    const submitted = rows(submit.stdout).flat();
    expect(submitted).toContain(`'${FORMULA}`);
    expect(submitted).toContain("'+cmd@x.com");
    expect(submitted.some((cell) => /^[=+\-@]/.test(cell))).toBe(false);

    const status = await runCli(['status', FORMULA, '--data-dir', dataDir, '-o', 'csv']);
    expect(status.code).toBe(0);
    expect(rows(status.stdout).flat()).toContain(`'${FORMULA}`);

    const report = await runCli(['report', '--format', 'csv', '--data-dir', dataDir]);
    expect(report.code).toBe(0);
    const cells = rows(report.stdout).flat();
    expect(cells).toContain(`'${FORMULA}`);
    expect(cells.some((cell) => /^[=+\-@\t\r]/.test(cell))).toBe(false);
  }, SLOW);

  it('report.csv of the demo and users list -o csv go through the same writer', async () => {
    const sandbox: Sandbox = await startSandbox({ apiKey: 'csv-key', seed: [{ email: 'owner@x.com' }, { email: AT_FORMULA }, { email: '-2+3@x.com' }] as SeedUser[] });
    try {
      const list = await runCli(['users', 'list', '-o', 'csv'], {
        env: { ARIZE_API_KEY: 'csv-key', ARIZE_API_HOST: '127.0.0.1', ARIZE_API_SCHEME: 'http', ARIZE_API_PORT: String(sandbox.port) },
      });
      expect(list.code).toBe(0);
      const emails = rows(list.stdout).slice(1).map((row) => row[2]);
      expect(emails).toEqual(['owner@x.com', `'${AT_FORMULA}`, "'-2+3@x.com"]);
    } finally {
      await sandbox.close();
    }
    const demoDir = join(workDir, 'demo');
    const start = await runCli(['start', '--data-dir', demoDir]);
    expect(start.code).toBe(0);
    const csv = await readFile(join(demoDir, 'report.csv'), 'utf8');
    expect(rows(csv)[0]).toContain('email');
    expect(rows(csv).flat().some((cell) => /^[=+\-@\t\r]/.test(cell))).toBe(false);
  }, SLOW);
});
