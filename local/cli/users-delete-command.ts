/**
 * `offboard users delete`: bulk soft-delete by id and/or email, under the pipeline's protection rules
 * (users-delete-guard.ts), with a confirmation that cannot be skipped by accident.
 */
import { createInterface } from 'node:readline/promises';
import { Option, type Command } from 'commander';
import * as z from 'zod';
import type { BulkUserDeletionResult } from '../../lambdas/arize/index.js';
import { resolveBaseUrl } from '../../lambdas/arize/config.js';
import { emailProblem, maskEmail, normalizeEmail } from '../../lambdas/core/email.js';
import { SETTINGS } from '../../lambdas/core/settings.js';
import { CliError, EXIT_PARTIAL_FAILURE, EXIT_USAGE } from './errors.js';
import { note, out } from './log.js';
import { collectList, integerOption, OUTPUT_OPTION, positiveNumberOption } from './options.js';
import { outputOption, render, type OutputFormat } from './output.js';
import { parseEmailEntries, readInputText } from './ops-input.js';
import { createProgress } from './progress.js';
import { createClientFromEnvironment, ENVIRONMENT_HELP, globals, guarded, withOptions } from './users-shared.js';

export const DELETION_COLUMNS = ['user_id', 'email', 'status', 'error'] as const;
/** A delete result; `protected` when the pipeline's rules kept the account (users-delete-guard.ts). */
export type DeletionResult = Omit<BulkUserDeletionResult, 'status'> & { status: BulkUserDeletionResult['status'] | 'protected' };

const DELETE_HELP = `
Targets: --id and --email are repeatable and accept comma-separated values; --ids-file and
--emails-file hold one value per line (blank lines and lines starting with # are ignored); --emails-file also
takes what offboard run takes for emails: a CSV with a header row naming an "email" column, or a JSON array.
Repeated targets are deleted once. Every email is validated before any API call; an email matches
only an account whose address is equal up to ASCII case (ann@x.com never matches joann@x.com, and
an address with invisible, bidi-control or compatibility characters such as U+212A is refused).

Protection: the pipeline's rules apply, from the same configuration (cdk.json "offboarding"):
protectedEmails, protectedPatterns, protectedRoles and arize.apiKeyOwnerEmail. A protected account is
reported "protected" and skipped; --include-protected deletes it anyway (loudly; never the API key's
owner). More deletes than maxDeletesPerRequest: the command refuses (exit 2, nothing deleted) unless
--max-deletes N allows them.

Confirmation: on a terminal the command shows how many users it will delete and asks; --yes skips
the question. When stdin is not a terminal it refuses to run without --yes (exit 2).

--output json prints one object per target: {"user_id", "status", "email"?, "error"?} with status
"deleted" | "not_found" | "failed" | "protected"; "email" is present when the target was given by email, "error"
when there is an explanation (always for "failed").
${ENVIRONMENT_HELP}`;

/**
 * `--ids-file`: one id per line. `--emails-file`: the email formats `offboard run` reads (ops-input.ts), so an HR
 * CSV export with its header works in both. Blank and `#` lines are skipped; each value keeps its line for errors.
 */
async function readListFile(flag: '--ids-file' | '--emails-file', path: string): Promise<{ value: string; source: string }[]> {
  const text = await readInputText(path, flag);
  if (flag === '--emails-file') {
    const read = parseEmailEntries(text);
    if (read.problems.length > 0) throw new CliError(`${flag} ${path}: ${read.problems.map((p) => `${p.location}: ${p.message}`).join('; ')}`, EXIT_USAGE);
    return read.entries.map((entry) => ({ value: entry.value.trim(), source: `${flag} ${path} ${entry.location}` }));
  }
  return text.split(/\r?\n/).flatMap((line, index) => {
    const value = line.trim();
    if (value === '' || value.startsWith('#')) return [];
    return [{ value, source: `${flag} ${path} line ${index + 1}` }];
  });
}

export const optionsSchema = z.strictObject({
  id: z.array(z.string()).default([]),
  email: z.array(z.string()).default([]),
  idsFile: z.string().optional(),
  emailsFile: z.string().optional(),
  yes: z.boolean().optional(),
  includeProtected: z.boolean().optional(),
  maxDeletes: z.number().int().min(0).optional(),
  concurrency: z.number().int().min(SETTINGS.arizeMaxConcurrency.min).max(SETTINGS.arizeMaxConcurrency.max).optional(),
  rate: z.number().positive().max(SETTINGS.arizeMaxRequestsPerSecond.max).optional(),
  rateControl: z.enum(['adaptive', 'fixed']).optional(),
  ...OUTPUT_OPTION,
});
type DeleteOptions = z.output<typeof optionsSchema>;

/** The SDK's result shape: `email` only when the target was an email, `error` only when there is one. */
export function deletionJson(result: DeletionResult): Record<string, string> {
  const shaped: Record<string, string> = { user_id: result.user_id };
  if (result.email !== undefined) shaped.email = result.email;
  shaped.status = result.status;
  if (result.error !== undefined) shaped.error = result.error;
  return shaped;
}

export function renderDeletions(format: OutputFormat, results: readonly DeletionResult[]): string {
  return render(format, {
    records: results.map((r) => ({ user_id: r.user_id, email: r.email, status: r.status, error: r.error })),
    columns: DELETION_COLUMNS,
    json: results.map(deletionJson),
    emptyMessage: 'Nothing to delete.',
  });
}

export function summarizeDeletions(results: readonly DeletionResult[]): string {
  const count = (status: DeletionResult['status']) => results.filter((r) => r.status === status).length;
  const kept = count('protected');
  return `${count('deleted')} deleted, ${count('not_found')} not found, ${count('failed')} failed${kept > 0 ? `, ${kept} protected` : ''} (of ${results.length})`;
}

interface DeleteTargets {
  userIds: string[];
  emails: string[];
}

/** Collects, validates (all emails, before any call) and de-duplicates the delete targets. */
export async function collectDeleteTargets(options: DeleteOptions): Promise<DeleteTargets> {
  const ids = options.id.map((value) => ({ value, source: '--id' }));
  const emails = options.email.map((value) => ({ value, source: '--email' }));
  if (options.idsFile !== undefined) ids.push(...(await readListFile('--ids-file', options.idsFile)));
  if (options.emailsFile !== undefined) emails.push(...(await readListFile('--emails-file', options.emailsFile)));

  const invalid = emails.flatMap((e) => {
    const problem = emailProblem(e.value);
    return problem ? [{ ...e, reason: problem.reason }] : [];
  });
  if (invalid.length > 0) {
    const lines = invalid.map((e) => `  '${e.value}' (${e.source}): ${e.reason}`).join('\n');
    throw new CliError(`invalid email address${invalid.length === 1 ? '' : 'es'}; nothing was deleted:\n${lines}`, EXIT_USAGE);
  }
  const userIds = [...new Set(ids.map((i) => i.value))];
  const seen = new Set<string>();
  const uniqueEmails: string[] = [];
  for (const { value } of emails) {
    const key = normalizeEmail(value);
    if (seen.has(key)) continue;
    seen.add(key);
    uniqueEmails.push(value.trim());
  }
  if (userIds.length === 0 && uniqueEmails.length === 0) {
    throw new CliError('nothing to delete: give --id, --email, --ids-file or --emails-file', EXIT_USAGE);
  }
  return { userIds, emails: uniqueEmails };
}

/** The API the prompt names, so an operator notices a production host before saying yes. */
function describeTarget(): string {
  try {
    return resolveBaseUrl({}, process.env);
  } catch {
    return 'the configured Arize API';
  }
}

async function confirmDeletion(targets: DeleteTargets, protectedIncluded = 0): Promise<boolean> {
  const total = targets.userIds.length + targets.emails.length;
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  // Ctrl-C (or Ctrl-D) at the prompt is a "no"; without this readline would just pause and exit 0.
  const cancelled = new AbortController();
  prompt.on('SIGINT', () => cancelled.abort());
  prompt.on('close', () => cancelled.abort());
  try {
    const answer = await prompt.question(
      `About to delete ${total} Arize user${total === 1 ? '' : 's'} (${targets.userIds.length} by id, ` +
        `${targets.emails.length} by email) at ${describeTarget()}. This cannot be undone.\n` +
        (protectedIncluded > 0 ? `${protectedIncluded} of them PROTECTED (--include-protected).\n` : '') +
        'Type "yes" to continue: ',
      { signal: cancelled.signal },
    );
    return ['y', 'yes'].includes(answer.trim().toLowerCase());
  } catch (error) {
    if (cancelled.signal.aborted) return false;
    throw error;
  } finally {
    prompt.close();
  }
}

/** Counts by result next to the shared progress line (on a terminal only: pipes and tests stay clean). */
function deletionProgress(total: number): { onResult(result: BulkUserDeletionResult): void; done(): void } {
  const counts = { deleted: 0, not_found: 0, failed: 0 };
  const progress = createProgress(total, {
    label: 'Deleting…',
    unit: 'users',
    detail: () => `${counts.deleted} deleted, ${counts.not_found} not found, ${counts.failed} failed`,
  });
  return {
    onResult(result) {
      counts[result.status] += 1;
      progress.set(counts.deleted + counts.not_found + counts.failed);
    },
    done: () => progress.finish(),
  };
}

async function deleteUsers(options: DeleteOptions, command: Command): Promise<void> {
  const targets = await collectDeleteTargets(options);
  const client = createClientFromEnvironment({
    ...globals(command),
    maxConcurrency: options.concurrency,
    maxRequestsPerSecond: options.rate,
    rateControl: options.rateControl,
  });
  if (options.yes !== true && process.stdin.isTTY !== true) {
    throw new CliError('refusing to delete without confirmation: stdin is not a terminal; re-run with --yes', EXIT_USAGE);
  }
  const { assembleResults, pipelinePlanningPolicy, planUserDeletion } = await import('./users-delete-guard.js');
  let policy;
  try {
    policy = pipelinePlanningPolicy();
  } catch (error) {
    throw new CliError(`invalid offboarding configuration (cdk.json): ${error instanceof Error ? error.message : String(error)}`, EXIT_USAGE);
  }
  const plan = await planUserDeletion(client, targets, policy, {
    includeProtected: options.includeProtected === true,
    ...(options.maxDeletes !== undefined ? { maxDeletes: options.maxDeletes } : {}),
  });
  if (plan.protectedCount > 0) {
    note(`${plan.protectedCount} protected account${plan.protectedCount === 1 ? '' : 's'} will be skipped (protected emails, patterns, roles or the API key's owner; see the status column).`);
  }
  for (const account of plan.overridden) {
    note(`WARNING: --include-protected: deleting PROTECTED account ${account.userId} (${maskEmail(account.email)}, ${account.reason})`);
  }
  if (plan.refusal !== undefined) throw new CliError(plan.refusal, EXIT_USAGE);
  const toDelete = [...plan.deleteIds, ...plan.unknownIds];
  if (options.yes !== true && toDelete.length > 0) {
    if (!(await confirmDeletion(targets, plan.overridden.length))) throw new CliError('not confirmed; nothing was deleted', EXIT_USAGE);
  }

  const progress = deletionProgress(toDelete.length);
  // Ctrl-C stops starting new deletions; what already happened is still reported.
  const abort = new AbortController();
  const onInterrupt = () => abort.abort(new Error('interrupted by the operator'));
  process.once('SIGINT', onInterrupt);
  const byId = new Map<string, BulkUserDeletionResult>();
  try {
    if (toDelete.length > 0) {
      const deleted = await client.bulkDelete({ userIds: toDelete }, { signal: abort.signal, onResult: (r) => progress.onResult(r) });
      for (const result of deleted) byId.set(result.user_id, result);
    }
  } finally {
    process.removeListener('SIGINT', onInterrupt);
    progress.done();
  }
  const results = assembleResults(targets, plan, byId);

  out(renderDeletions(options.output, results));
  const summary = summarizeDeletions(results);
  if (options.output === 'table') out(`\n${summary}\n`);
  else note(summary);
  const failed = results.filter((r) => r.status === 'failed').length;
  if (failed > 0) throw new CliError(`${failed} deletion${failed === 1 ? '' : 's'} failed`, EXIT_PARTIAL_FAILURE);
}

export function register(users: Command): void {
  users
    .command('delete')
    .description('Soft-delete users by id and/or email (cascades to memberships, API keys and role bindings)')
    .option('--id <ids>', 'user id; repeatable or comma-separated', collectList, [])
    .option('--email <emails>', 'email (exact, case-insensitive); repeatable or comma-separated', collectList, [])
    .option('--ids-file <file>', 'file with one user id per line')
    .option('--emails-file <file>', 'file of emails: one per line, a CSV with an "email" column, or a JSON array')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--include-protected', 'ALSO delete protected accounts (protected emails, patterns, roles); never the API key\'s owner')
    .addOption(
      new Option('--max-deletes <n>', 'blast-radius cap for this run (default: offboarding.maxDeletesPerRequest in cdk.json)').argParser(
        integerOption('--max-deletes', 0, 1_000_000),
      ),
    )
    .addOption(
      new Option('--concurrency <n>', `ceiling on requests in flight (default ${SETTINGS.arizeMaxConcurrency.default}, env ARIZE_MAX_CONCURRENCY)`).argParser(
        integerOption('--concurrency', SETTINGS.arizeMaxConcurrency.min, SETTINGS.arizeMaxConcurrency.max),
      ),
    )
    .addOption(
      new Option(
        '--rate <req/s>',
        `ceiling on requests per second; the client finds the server's limit below it (default ${SETTINGS.arizeMaxRequestsPerSecond.default}, env ARIZE_MAX_REQUESTS_PER_SECOND)`,
      ).argParser(positiveNumberOption('--rate', SETTINGS.arizeMaxRequestsPerSecond.max)),
    )
    .addOption(
      new Option(
        '--rate-control <mode>',
        'adaptive: start at 10 req/s and probe for the server\'s limit, backing off on 429/5xx/slow answers; fixed: always --rate (env ARIZE_RATE_CONTROL)',
      ).choices(['adaptive', 'fixed']),
    )
    .addOption(outputOption())
    .addHelpText('after', DELETE_HELP)
    .action(guarded(withOptions(optionsSchema, deleteUsers)));
}
