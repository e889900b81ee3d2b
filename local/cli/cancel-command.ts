/**
 * `offboard cancel <requestId|email> --reason …`: the operator's rescind, with the same rules as an HR one
 * (lambdas/usecases/cancel.ts): pending deletions stop (CANCELLED, recorded with the operator), the workflow's
 * last check before deleting honours it, and an email already deleted is recorded REHIRED_AFTER_DELETION for a
 * human to re-invite. Local data dir or `--stack`.
 */
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import * as z from 'zod';
import { CancelError, applyCancellation, cliCancelRecordId, type CancelResult } from '../../lambdas/usecases/cancel.js';
import { EmailSchema, RequestIdSchema, describeZodError } from '../../lambdas/core/request.js';
import { maskEmailsInText } from '../../lambdas/core/email.js';
import { CliError, EXIT_PARTIAL_FAILURE, EXIT_USAGE } from './errors.js';
import { WHERE_HELP, addTargetOptions, withBackend } from './ops-shared.js';
import { OUTPUT_OPTION, parseOptions, TARGET_OPTIONS } from './options.js';
import { outputOption, render, renderJson } from './output.js';

function osUser(): string | undefined {
  try {
    return userInfo().username || undefined;
  } catch {
    return undefined;
  }
}

export const optionsSchema = z.strictObject({
  reason: z.string({ error: '--reason is required: say why (it is recorded with the cancellation)' }).trim().min(1, '--reason must not be empty').max(500, '--reason must be at most 500 characters'),
  operator: z.string().trim().min(1, '--operator must not be empty').max(100, '--operator must be at most 100 characters').optional(),
  ...TARGET_OPTIONS,
  ...OUTPUT_OPTION,
});

/** `<requestId|email>`: anything with `@` is a person (every pending request of theirs), else one request id. */
function target(subject: string): { requestId: string } | { emails: string[] } {
  if (subject.includes('@')) {
    const email = EmailSchema.safeParse(subject);
    if (!email.success) throw new CliError(`invalid email: '${subject}' (${describeZodError(email.error)})`, EXIT_USAGE);
    return { emails: [email.data] };
  }
  const id = RequestIdSchema.safeParse(subject);
  if (!id.success) throw new CliError(`invalid request id: ${describeZodError(id.error)}`, EXIT_USAGE);
  return { requestId: id.data };
}

async function cancel(subject: string, flags: Record<string, unknown>): Promise<void> {
  if (subject.trim() === '') throw new CliError('<requestId|email> must not be empty', EXIT_USAGE);
  const options = parseOptions(optionsSchema, flags);
  const operator = options.operator ?? osUser();
  const what = target(subject.trim());
  const log = (level: string) => (message: string, attributes?: Record<string, unknown>) =>
    level === 'info' ? undefined : process.stderr.write(`${level}: ${maskEmailsInText(message)}${attributes ? ` ${maskEmailsInText(JSON.stringify(attributes))}` : ''}\n`);
  const result = await withBackend(options, 'read', async (backend): Promise<CancelResult> => {
    const now = new Date();
    try {
      return await applyCancellation(
        { recordId: cliCancelRecordId(now), target: what, source: 'cli', ...(operator ? { operator } : {}), reason: options.reason },
        { ledger: backend.ledger, clock: () => new Date(), log: { info: log('info'), warn: log('warn'), error: log('error') } },
      );
    } catch (error) {
      if (error instanceof CancelError) throw new CliError(error.message, EXIT_PARTIAL_FAILURE);
      throw error;
    }
  });
  if (options.output === 'json') process.stdout.write(renderJson({ ...result, operator: operator ?? null }));
  else {
    const records = [
      ...result.cancelledRequests.map((requestId) => ({ request_id: requestId, result: 'CANCELLED' })),
      ...result.rehiredAfterDeletion.map((r) => ({ request_id: r.deletedBy, result: 'REHIRED_AFTER_DELETION' })),
    ];
    process.stdout.write(render(options.output, { records, columns: ['request_id', 'result'], emptyMessage: 'No pending request found.' }));
  }
  process.stderr.write(`Cancellation ${result.recordId} recorded${operator ? ` (operator ${operator})` : ''}: it also stops any request for this subject received before now that is still queued or waiting.\n`);
  if (result.rehiredAfterDeletion.length > 0) {
    throw new CliError(
      `REHIRED_AFTER_DELETION: ${result.rehiredAfterDeletion.length} email(s) were already deleted — re-invite them in Arize by hand (accounts are never re-created automatically)`,
      EXIT_PARTIAL_FAILURE,
    );
  }
}

export function register(program: Command): void {
  addTargetOptions(
    program
      .command('cancel')
      .description('Cancel pending deletions: of one request, or every pending request of a person (same rules as an HR rescind)')
      .argument('<subject>', 'a request id, or an email address (anything containing @)')
      .option('--reason <text>', 'why (required; recorded with the cancellation)')
      .option('--operator <name>', 'who cancels (default: your OS user name)'),
  )
    .addOption(outputOption())
    .addHelpText(
      'after',
      '\nRecorded in the ledger: CANCELLED outcomes naming cli, the operator and the reason. A request already past its\n' +
        'deletion cannot be undone: its emails are recorded REHIRED_AFTER_DELETION (exit 1) and must be re-invited by hand.\n' +
        WHERE_HELP,
    )
    .action((subject: string, flags: Record<string, unknown>) => cancel(subject, flags));
}
