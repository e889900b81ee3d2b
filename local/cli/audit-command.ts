/** `offboard audit` — the scheduled audit (re-drive old retryable failures, drift), run once against the local data dir. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import * as z from 'zod';
import { SqsRequestQueue } from '../../lambdas/adapters/queue.js';
import type { AuditReport } from '../../lambdas/core/audit.js';
import { maskEmail } from '../../lambdas/core/email.js';
import { runAudit, type ReportSink } from '../../lambdas/usecases/audit.js';
import { announceArize, arizeOptionFromEnvironment } from './arize-target.js';
import { CliError, EXIT_USAGE } from './errors.js';
import { cliLog } from './log.js';
import { OUTPUT_OPTION, parseOptions, TARGET_OPTIONS } from './options.js';
import { outputOption, renderJson } from './output.js';
import { DEFAULT_DATA_DIR } from '../runtime/runtime-file.js';

export const optionsSchema = z.strictObject({
  dataDir: TARGET_OPTIONS.dataDir,
  submit: z.boolean().default(true),
  confirm: z.boolean().optional(),
  ...OUTPUT_OPTION,
});
type AuditFlags = z.output<typeof optionsSchema>;

/** `<dataDir>/audits/<auditId>.json|.csv` */
export function fileReportSink(dataDir: string): ReportSink {
  return {
    async write(report, csv) {
      const dir = join(resolve(dataDir), 'audits');
      await mkdir(dir, { recursive: true });
      const base = join(dir, report.auditId);
      await writeFile(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`, { mode: 0o600 });
      await writeFile(`${base}.csv`, csv, { mode: 0o600 });
      return [`${base}.json`, `${base}.csv`];
    },
  };
}

function renderAuditSummary(report: AuditReport & { locations: string[] }): string {
  const lines = [
    `Audit ${report.auditId}`,
    `Re-drive: ${report.redrive.items.length} re-driven of ${report.redrive.candidates} old retryable failure(s) (${report.redrive.superseded} already handled, ${report.redrive.skippedDryRun} from dry runs)${report.redrive.requestIds.length ? ` → ${report.redrive.requestIds.join(', ')}` : ''}`,
    `Drift: ${report.drift.findings.length} terminated account(s) back in Arize (${report.drift.terminatedEmails} terminated email(s) checked against ${report.drift.directoryUsersScanned} users)${report.drift.requestIds.length ? ` → ${report.drift.requestIds.join(', ')}` : ''}`,
    ...report.drift.findings.map((f) => `  ${maskEmail(f.email)}  ${f.arizeStatus}  ${f.arizeUserId}  (deleted by ${f.deletedRequestId} at ${f.deletedAt})`),
    report.submitted ? 'Submitted the requests above.' : 'Nothing submitted.',
    `Report: ${report.locations.join(', ')}`,
  ];
  return `${lines.join('\n')}\n`;
}

async function audit(flags: AuditFlags): Promise<void> {
  const { connectOrStartLocalRuntime, loadLocalConfig } = await import('../runtime/index.js');
  const arizeOption = arizeOptionFromEnvironment(process.env);
  announceArize(arizeOption, (line) => process.stderr.write(`${line}\n`));
  const runtime = await connectOrStartLocalRuntime({
    dataDir: flags.dataDir,
    arize: arizeOption,
    forceDryRun: arizeOption.mode === 'external' && flags.confirm !== true,
    log: () => undefined,
  });
  try {
    const arize = runtime.arize;
    if (!arize) throw new CliError('the running `offboard serve` uses external Arize: set ARIZE_API_KEY to audit it', EXIT_USAGE);
    const config = runtime.mode === 'local' ? runtime.config : loadLocalConfig();
    const report = await runAudit(
      {
        ledger: runtime.ledger,
        directory: () => Promise.resolve(arize),
        queue: new SqsRequestQueue({ queueUrl: runtime.queue.queueUrl, client: runtime.queue.client }),
        clock: () => new Date(),
        log: { info: () => undefined, warn: cliLog.warn, error: cliLog.error },
        reports: fileReportSink(flags.dataDir),
      },
      { redriveOlderThanMinutes: config.audit.redriveOlderThanMinutes, driftLookbackDays: config.audit.driftLookbackDays },
      { submit: flags.submit },
    );
    // An in-process runtime's queue dies with this process: let it finish what the audit submitted.
    if (runtime.mode === 'local' && report.submitted) await runtime.drain({ timeoutMs: 120_000 });
    if (flags.output === 'json') process.stdout.write(renderJson(report));
    else if (flags.output === 'csv') {
      const { auditReportCsv } = await import('../../lambdas/core/audit.js');
      process.stdout.write(auditReportCsv(report));
    } else process.stdout.write(renderAuditSummary(report));
  } finally {
    await runtime.close();
  }
}

export function register(program: Command): void {
  program
    .command('audit')
    .description('Re-drive old retryable failures and offboard terminated people who re-appeared in Arize; writes a report')
    .option('--data-dir <dir>', 'local data directory', DEFAULT_DATA_DIR)
    .option('--no-submit', 'report only: enqueue nothing')
    .option('--confirm', 'with ARIZE_API_KEY (real Arize): what the audit submits really deletes (default: dry runs)')
    .addOption(outputOption())
    .action((raw: unknown) => audit(parseOptions(optionsSchema, raw)));
}
