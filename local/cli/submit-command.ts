/** `offboard submit -e <emails>`: the given emails as one request (id derived from the set), then the outcomes. */
import { createHash } from 'node:crypto';
import type { Command } from 'commander';
import * as z from 'zod';
import { emailProblem, normalizeEmail } from '../../lambdas/core/email.js';
import { splitRequest, TERMINATION_TYPE } from '../../lambdas/core/request.js';
import { CliError, EXIT_USAGE } from './errors.js';
import { addRequestOptions, enqueueAndReport } from './ops-run.js';
import { SAFETY_HELP, WHERE_HELP } from './ops-shared.js';
import { collectList, parseOptions, REQUEST_OPTIONS } from './options.js';

export const optionsSchema = z.strictObject({ ...REQUEST_OPTIONS, email: z.array(z.string()).default([]) });
type SubmitOptions = z.output<typeof optionsSchema>;

/** Same addresses ⇒ same id: submitting twice is one execution, not two deletions. */
export function submitRequestId(emails: readonly string[]): string {
  const digest = createHash('sha256').update([...new Set(emails.map(normalizeEmail))].sort().join('\n'), 'utf8').digest('hex');
  return `cli-submit-${digest.slice(0, 16)}`;
}

async function submitEmails(options: SubmitOptions): Promise<void> {
  const invalid = options.email.flatMap((email) => {
    const problem = emailProblem(email);
    return problem ? [`'${email}' (${problem.reason})`] : [];
  });
  if (invalid.length > 0) throw new CliError(`invalid email for --email: ${invalid.join(', ')}; nothing was enqueued`, EXIT_USAGE);
  if (options.email.length === 0) throw new CliError('give at least one --email', EXIT_USAGE);
  const split = splitRequest({
    requestId: options.requestId ?? submitRequestId(options.email),
    type: TERMINATION_TYPE,
    emails: options.email,
    source: 'cli',
    dryRun: options.dryRun === true,
    ...(options.reason !== undefined ? { reason: options.reason } : {}),
    ...(options.effectiveAt !== undefined ? { effectiveAt: options.effectiveAt } : {}),
  });
  if (!split.ok) throw new CliError(split.reason, EXIT_USAGE);
  await enqueueAndReport(split.value, options);
}

export function register(program: Command): void {
  addRequestOptions(
    program
      .command('submit')
      .description('Offboard the given emails as one request and wait for the outcomes')
      .option('-e, --email <emails>', 'email to offboard; repeatable or comma-separated', collectList, []),
  )
    .addHelpText('after', `\nThe request id is derived from the set of emails: submitting the same emails twice is one request.\n${SAFETY_HELP}\n${WHERE_HELP}`)
    .action((raw: unknown) => submitEmails(parseOptions(optionsSchema, raw)));
}
