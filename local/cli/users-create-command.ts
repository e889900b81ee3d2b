/** `offboard users create`: invites a user; the email is the idempotency key. */
import type { Command } from 'commander';
import * as z from 'zod';
import { ArizeOutcomeUnknownError } from '../../lambdas/arize/index.js';
import { INVITE_MODES, PREDEFINED_ROLE_NAMES, type Role } from '../../lambdas/arize/wire.js';
import { maskEmail } from '../../lambdas/core/email.js';
import { CliError, EXIT_OUTCOME_UNKNOWN, EXIT_USAGE } from './errors.js';
import { out } from './log.js';
import { enumValue, OUTPUT_OPTION } from './options.js';
import { outputOption, render, type OutputRecord } from './output.js';
import { createClientFromEnvironment, ENVIRONMENT_HELP, globals, guarded, requireValidEmail, USER_COLUMNS, userRecord, withOptions } from './users-shared.js';

export const optionsSchema = z.strictObject({
  name: z.string(),
  email: z.string(),
  role: z.string().optional(),
  customRoleId: z.string().optional(),
  inviteMode: z.string(),
  developer: z.boolean().optional(),
  ...OUTPUT_OPTION,
});
type CreateOptions = z.output<typeof optionsSchema>;

async function createUser(options: CreateOptions, command: Command): Promise<void> {
  const name = options.name.trim();
  if (name.length < 1 || name.length > 255) throw new CliError('invalid value for --name: 1 to 255 characters', EXIT_USAGE);
  const email = requireValidEmail('--email', options.email);
  if ((options.role === undefined) === (options.customRoleId === undefined)) {
    throw new CliError('give exactly one of --role (admin | member | annotator) or --custom-role-id', EXIT_USAGE);
  }
  const role: Role =
    options.customRoleId !== undefined
      ? { type: 'CUSTOM', id: options.customRoleId }
      : { type: 'PREDEFINED', name: enumValue('--role', PREDEFINED_ROLE_NAMES, options.role ?? '') };
  const inviteMode = enumValue('--invite-mode', INVITE_MODES, options.inviteMode);
  const client = createClientFromEnvironment(globals(command));
  const result = await client.create({ name, email, role, inviteMode, isDeveloper: options.developer }).catch((error: unknown) => {
    if (!(error instanceof ArizeOutcomeUnknownError)) throw error;
    // Running create again would answer "already exists" without the temporary password, so say
    // exactly what to do instead of letting a script loop on it.
    throw new CliError(
      `create: outcome unknown — the request reached Arize but its answer was lost, so the user ${maskEmail(email)} may or may not have been created. ` +
        'It was not retried. Check with `offboard users get <email>` before running create again' +
        (inviteMode === 'TEMPORARY_PASSWORD' ? '; if it exists, run `offboard users reset-password <id>` to get a new temporary password.' : '.'),
      EXIT_OUTCOME_UNKNOWN,
    );
  });

  const record: OutputRecord = { ...userRecord(result.user), invite_mode: result.inviteMode, created: result.created };
  const columns: string[] = [...USER_COLUMNS, 'invite_mode', 'created'];
  // The temporary password exists once, in this response: it goes to stdout only, never to a log.
  if (result.temporaryPassword !== undefined) {
    record.temporary_password = result.temporaryPassword;
    if (options.output === 'csv') columns.push('temporary_password');
  }
  if (options.output === 'json') {
    out(
      render('json', {
        records: [],
        columns,
        json: {
          ...result.user,
          ...(result.inviteMode !== undefined ? { invite_mode: result.inviteMode } : {}),
          ...(result.temporaryPassword !== undefined ? { temporary_password: result.temporaryPassword } : {}),
          created: result.created,
        },
      }),
    );
    return;
  }
  out(render(options.output, { records: [record], columns: columns }));
  if (options.output === 'table') {
    if (!result.created) out('An invitation for this email already existed: it was returned as-is and not re-sent.\n');
    if (result.temporaryPassword !== undefined) {
      out(`Temporary password (shown only this once; the user must change it at first login): ${result.temporaryPassword}\n`);
    }
  }
}

export function register(users: Command): void {
  users
    .command('create')
    .description('Create (invite) a user; the email is the idempotency key')
    .requiredOption('--name <name>', 'display name (1-255 characters)')
    .requiredOption('--email <email>', 'email address')
    .option('--role <role>', 'admin | member | annotator (any case)')
    .option('--custom-role-id <id>', 'assign a custom RBAC role instead of --role')
    .requiredOption('--invite-mode <mode>', 'none | email_link | temporary_password (any case)')
    .option('--developer', 'grant developer permission (default for admin and member)')
    .option('--no-developer', 'withhold developer permission (default for annotator)')
    .addOption(outputOption())
    .addHelpText(
      'after',
      '\nWith --invite-mode temporary_password the temporary password is printed once, on stdout only.\n' +
        ENVIRONMENT_HELP,
    )
    .action(guarded(withOptions(optionsSchema, createUser)));
}
