/**
 * `offboard pull --url <report> [--format csv|json]`: fetch an HR report (Workday RaaS, any export) over HTTPS,
 * turn its terminated rows into requests (core/hr/pull.ts) and submit them like `offboard run`. Idempotent: the
 * same leaver in the next pull is the same request id.
 */
import { Option, type Command } from 'commander';
import { requestsFromReport, rowsFromJson, type ReportRow } from '../../lambdas/core/hr/pull.js';
import { DEFAULT_HR_LOOKUP, HrConfigError, LookupFailure, checkedBaseUrl, effectiveDatePolicyFromEnv, fetchWithRetries } from '../../lambdas/handlers/hr-intake.js';
import { CliError, EXIT_USAGE } from './errors.js';
import { splitCsvLine } from './ops-input.js';
import { addDeleteOptions, applySafety, submitAndWait, withBackend, WHERE_HELP, type DeleteFlags } from './ops-shared.js';
import { outputOption, render, type OutputFormat } from './output.js';

interface PullFlags extends DeleteFlags {
  url: string;
  format?: 'csv' | 'json';
  output: OutputFormat;
}

function rowsFromCsv(text: string): ReportRow[] {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  const [head, ...body] = lines;
  if (head === undefined) return [];
  const names = splitCsvLine(head);
  return body.map((line) => {
    const cells = splitCsvLine(line);
    return Object.fromEntries(names.map((name, i) => [name, cells[i] ?? '']));
  });
}

/** Credentials from the environment only (never a flag: shell history): basic (Workday ISU) or bearer. */
function authorization(env: NodeJS.ProcessEnv): Record<string, string> {
  const token = env.OFFBOARDING_PULL_TOKEN?.trim();
  if (token) return { authorization: `Bearer ${token}` };
  const user = env.OFFBOARDING_PULL_USER?.trim();
  if (user) return { authorization: `Basic ${Buffer.from(`${user}:${env.OFFBOARDING_PULL_PASSWORD ?? ''}`).toString('base64')}` };
  return {};
}

async function pull(flags: PullFlags): Promise<void> {
  let url: string;
  let policy;
  try {
    url = checkedBaseUrl('--url', flags.url) ?? '';
    policy = effectiveDatePolicyFromEnv(process.env);
  } catch (error) {
    if (error instanceof HrConfigError) throw new CliError(error.message, EXIT_USAGE);
    throw error;
  }
  if (!url) throw new CliError('--url is required', EXIT_USAGE);
  let text: string;
  let contentType = '';
  try {
    const response = await fetchWithRetries(
      url,
      { method: 'GET', headers: { accept: 'application/json, text/csv;q=0.9', ...authorization(process.env) } },
      { fetch: (input, init) => fetch(input, init), sleep: (ms) => new Promise((r) => setTimeout(r, ms)), random: Math.random, lookup: { ...DEFAULT_HR_LOOKUP, timeoutMs: 30_000, budgetMs: 120_000 } },
      'the report URL',
    );
    contentType = response.headers.get('content-type') ?? '';
    text = await response.text();
  } catch (error) {
    if (error instanceof LookupFailure) throw new CliError(`pull failed: ${error.message}; nothing was enqueued`, 1);
    throw error;
  }
  const format = flags.format ?? (/json/i.test(contentType) || /^\s*[[{]/.test(text) ? 'json' : 'csv');
  let rows: ReportRow[];
  if (format === 'json') {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new CliError('the report is not valid JSON (use --format csv for a CSV report); nothing was enqueued', EXIT_USAGE);
    }
    const parsed = rowsFromJson(json);
    if ('error' in parsed) throw new CliError(`${parsed.error}; nothing was enqueued`, EXIT_USAGE);
    rows = parsed;
  } else rows = rowsFromCsv(text);
  const label = new URL(url).host;
  const result = requestsFromReport(rows, policy, label);
  for (const problem of result.problems) process.stderr.write(`row ${problem.row}: ${problem.reason}\n`);
  process.stderr.write(`${label}: ${rows.length} row(s), ${result.requests.length} leaver(s), ${result.notTerminated} not terminated, ${result.problems.length} unusable.\n`);
  if (result.requests.length === 0) {
    process.stdout.write(render(flags.output, { records: [], columns: ['request_id', 'state'], emptyMessage: 'No leavers in the report.' }));
    return;
  }
  const safe = applySafety(result.requests, flags, (line) => process.stderr.write(`${line}\n`));
  await withBackend(flags, 'work', async (backend) => {
    const { states } = await submitAndWait(backend, safe, flags);
    const records = safe.map((r) => ({ request_id: r.requestId, effective_at: r.effectiveAt ?? '', state: states.get(r.requestId)?.status ?? 'ENQUEUED' }));
    process.stdout.write(render(flags.output, { records, columns: ['request_id', 'effective_at', 'state'] }));
  });
  if (result.problems.length > 0) throw new CliError(`${result.problems.length} unusable row(s): see above`, 1);
}

export function registerPullCommand(program: Command): void {
  addDeleteOptions(
    program
      .command('pull')
      .description('Fetch an HR report (Workday RaaS, CSV/JSON export) and offboard its terminated rows; idempotent across pulls')
      .requiredOption('--url <url>', 'report URL (https; credentials from OFFBOARDING_PULL_USER/_PASSWORD or OFFBOARDING_PULL_TOKEN)')
      .addOption(new Option('--format <format>', 'report format (default: from the content type)').choices(['csv', 'json'])),
  )
    .addOption(outputOption())
    .addHelpText(
      'after',
      '\nA row is a leaver when it has a termination date (Termination_Date, Last_Day_of_Work, End_Date, …) and no status\n' +
        'column saying otherwise; its email column is Work_Email / Email / Email_Address. A date-only value means the end\n' +
        'of that day in OFFBOARDING_HR_TIME_ZONE (or the row\'s Time_Zone) plus OFFBOARDING_HR_GRACE_MINUTES.\n' +
        WHERE_HELP,
    )
    .action((flags: PullFlags) => pull(flags));
}
