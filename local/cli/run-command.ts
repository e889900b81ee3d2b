/**
 * `offboard run <file>`: everyone in a file (requests as JSON/NDJSON, or a CSV/list of emails), enqueued the way
 * the HR webhook does, then the outcomes once they are final.
 */
import type { Command } from 'commander';
import * as z from 'zod';
import { CliError, EXIT_USAGE } from './errors.js';
import { note } from './log.js';
import { parseRequestsFile, readInputText, type InputDefaults } from './ops-input.js';
import { addRequestOptions, enqueueAndReport } from './ops-run.js';
import { SAFETY_HELP, WHERE_HELP } from './ops-shared.js';
import { parseOptions, REQUEST_OPTIONS } from './options.js';

export const optionsSchema = z.strictObject({ ...REQUEST_OPTIONS, skipInvalid: z.boolean().optional() });
type RunOptions = z.output<typeof optionsSchema>;

async function runFile(file: string, options: RunOptions): Promise<void> {
  const text = await readInputText(file);
  const defaults: InputDefaults = {
    ...(options.requestId !== undefined ? { requestId: options.requestId } : {}),
    ...(options.dryRun === true ? { dryRun: true } : {}),
    ...(options.reason !== undefined ? { reason: options.reason } : {}),
    ...(options.effectiveAt !== undefined ? { effectiveAt: options.effectiveAt } : {}),
  };
  const parsed = parseRequestsFile(text, file, defaults);
  for (const problem of parsed.problems) note(`${file}: ${problem.location}: ${problem.message}`);
  const conflicts = parsed.problems.filter((problem) => problem.conflict === true).map((problem) => problem.location);
  if (parsed.problems.length > 0 && options.skipInvalid !== true) {
    const what = conflicts.length > 0 ? `${conflicts.length} conflicting request id(s) (${conflicts.join(', ')})` : '';
    const invalid = parsed.problems.length - conflicts.length;
    throw new CliError(
      `${[invalid > 0 ? `${invalid} invalid entr${invalid === 1 ? 'y' : 'ies'}` : '', what].filter(Boolean).join(' and ')} in ${file}; nothing was enqueued (--skip-invalid enqueues the valid ones)`,
      EXIT_USAGE,
    );
  }
  if (parsed.requests.length === 0) throw new CliError(`nothing to enqueue from ${file}`, EXIT_USAGE);
  const emails = parsed.requests.reduce((n, r) => n + r.emails.length, 0);
  note(`${file}: ${parsed.format}, ${parsed.requests.length} request(s), ${emails} email(s)${parsed.problems.length > 0 ? `, ${parsed.problems.length} invalid entr${parsed.problems.length === 1 ? 'y' : 'ies'} skipped` : ''}.`);
  await enqueueAndReport(parsed.requests, options, parsed.locations, conflicts);
}

const RUN_HELP = `
Input formats (detected from the content):
  JSON        an offboarding request {"requestId","type":"employee.terminated","emails":[…],…}, an array of
              them, or an array of email strings
  NDJSON      one request per line (blank lines ignored)
  CSV         a header row with an "email" column; other columns are ignored
  plain list  one email per line; blank lines and lines starting with # are ignored
Emails from a CSV or list become one request (split into parts of at most 1,000 emails) whose id is derived
from the file name and the set of addresses: running the same file again is the same request, not a second
deletion. --request-id sets it explicitly.

Every entry is validated first; any invalid entry is reported with its line (or JSON item) and nothing is
enqueued, unless --skip-invalid. A requestId is one request: repeated with the same content (emails in any
order or case, effectiveAt, dryRun) it is sent once; with other content — in the file or already in the ledger —
the entry is refused as a conflicting request id, named by its line (with --skip-invalid the rest runs and the
command exits 1). The command waits for the requests to finish and prints every outcome.
${SAFETY_HELP}
${WHERE_HELP}`;


export function register(program: Command): void {
  addRequestOptions(
    program
      .command('run')
      .description('Offboard everyone in a file (requests as JSON/NDJSON, or a CSV/list of emails) and wait for the outcomes')
      .argument('<file>', 'input file'),
  )
    .option('--skip-invalid', 'enqueue the valid entries even if some are invalid')
    .addHelpText('after', RUN_HELP)
    .action((file: string, raw: unknown) => runFile(file, parseOptions(optionsSchema, raw)));
}
