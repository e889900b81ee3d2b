/**
 * `offboard pull --url <report> [--format csv|json]`: fetch an HR report (Workday RaaS, any export) over HTTPS,
 * turn its terminated rows into requests (core/hr/pull.ts) and submit them like `offboard run`. Idempotent: the
 * same leaver in the next pull is the same request id.
 */
import { Option, type Command } from 'commander';
import { pullAuthorization, type PullCredentials } from '../../lambdas/core/hr/pull.js';
import { HrConfigError, checkedBaseUrl, effectiveDatePolicyFromEnv } from '../../lambdas/usecases/hr-intake.js';
import { PullError, fetchReportRequests } from '../../lambdas/usecases/pull-report.js';
import { CliError, EXIT_USAGE } from './errors.js';
import * as z from 'zod';
import { addDeleteOptions, applySafety, submitAndWait, withBackend, WHERE_HELP } from './ops-shared.js';
import { DELETE_OPTIONS, OUTPUT_OPTION, parseOptions } from './options.js';
import { outputOption, render } from './output.js';
import { note } from './log.js';

export const optionsSchema = z.strictObject({ ...DELETE_OPTIONS, ...OUTPUT_OPTION, url: z.string(), format: z.enum(['csv', 'json']).optional() });
type PullFlags = z.output<typeof optionsSchema>;

/** Credentials from the environment only (never a flag: shell history): basic (Workday ISU) or bearer. */
function credentialsFromEnv(env: NodeJS.ProcessEnv): PullCredentials | undefined {
  const token = env.OFFBOARDING_PULL_TOKEN?.trim();
  if (token) return { token };
  const username = env.OFFBOARDING_PULL_USER?.trim();
  if (username) return { username, password: env.OFFBOARDING_PULL_PASSWORD ?? '' };
  return undefined;
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
  let result;
  try {
    result = await fetchReportRequests(
      { url, ...(flags.format ? { format: flags.format } : {}), authorization: pullAuthorization(credentialsFromEnv(process.env)), policy },
      { fetch: (input, init) => fetch(input, init), sleep: (ms) => new Promise((r) => setTimeout(r, ms)), random: Math.random },
    );
  } catch (error) {
    if (error instanceof PullError) throw new CliError(`${error.message}; nothing was enqueued`, error.kind === 'usage' ? EXIT_USAGE : 1);
    throw error;
  }
  const { label } = result;
  for (const problem of result.problems) note(`row ${problem.row}: ${problem.reason}`);
  note(`${label}: ${result.rows} row(s), ${result.requests.length} leaver(s), ${result.notTerminated} not terminated, ${result.problems.length} unusable.`);
  if (result.requests.length === 0) {
    process.stdout.write(render(flags.output, { records: [], columns: ['request_id', 'state'], emptyMessage: 'No leavers in the report.' }));
    return;
  }
  const safe = applySafety(result.requests, flags, note);
  await withBackend(flags, 'work', async (backend) => {
    const { states } = await submitAndWait(backend, safe, flags);
    const records = safe.map((r) => ({ request_id: r.requestId, effective_at: r.effectiveAt ?? '', state: states.get(r.requestId)?.status ?? 'ENQUEUED' }));
    process.stdout.write(render(flags.output, { records, columns: ['request_id', 'effective_at', 'state'] }));
  });
  if (result.problems.length > 0) throw new CliError(`${result.problems.length} unusable row(s): see above`, 1);
}

export function register(program: Command): void {
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
    .action((raw: unknown) => pull(parseOptions(optionsSchema, raw)));
}
