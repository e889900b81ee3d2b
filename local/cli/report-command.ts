/** `offboard report`: every request in the ledger with per-request counts and totals (json/csv: every outcome). */
import type { Command } from 'commander';
import { Option } from 'commander';
import * as z from 'zod';
import { CliError, EXIT_USAGE } from './errors.js';
import { buildReport } from './ops-report.js';
import { printReport } from './ops-run.js';
import { addTargetOptions, WHERE_HELP, withBackend } from './ops-shared.js';
import { collectList, OUTPUT_OPTION, parseOptions, parseSince, TARGET_OPTIONS, validRequestId } from './options.js';
import { OUTPUT_FORMATS, outputOption } from './output.js';

export const optionsSchema = z.strictObject({
  ...TARGET_OPTIONS,
  ...OUTPUT_OPTION,
  format: z.enum(OUTPUT_FORMATS).optional(),
  since: z.string().optional(),
  request: z.array(z.string()).default([]),
});
type ReportOptions = z.output<typeof optionsSchema>;

async function showReport(options: ReportOptions): Promise<void> {
  const format = options.format ?? options.output;
  const since = options.since !== undefined ? parseSince(options.since) : undefined;
  const requestIds = options.request.map((id) => validRequestId('--request', id));
  await withBackend(options, 'read', async (backend) => {
    const report = await buildReport(backend.ledger, { ...(requestIds.length > 0 ? { requestIds } : {}), ...(since ? { since } : {}) });
    printReport(report, format, 'requests');
  });
}

export function register(program: Command): void {
  addTargetOptions(program.command('report').description('Report every request in the ledger: per-request counts and totals (json/csv: every outcome)'))
    .addOption(new Option('-f, --format <format>', 'json | csv (same as --output)').argParser((v) => {
      const format = v.trim().toLowerCase();
      if (format !== 'json' && format !== 'csv' && format !== 'table') throw new CliError(`invalid value for --format: '${v}' (expected json or csv)`, EXIT_USAGE);
      return format;
    }))
    .option('--since <when>', 'only requests updated since an ISO time or a duration ago (30m, 24h, 7d)')
    .option('--request <ids>', 'only these request ids; repeatable or comma-separated', collectList, [])
    .addOption(outputOption())
    .addHelpText('after', `\n--format json prints {"generatedAt","totals","requests":[…],"outcomes":[…]}; csv prints one row per outcome.\n${WHERE_HELP}`)
    .action((raw: unknown) => showReport(parseOptions(optionsSchema, raw)));
}
