/** `offboard users reset-password <id>`: a password-reset email. */
import type { Command } from 'commander';
import { outputOption } from './output.js';
import { ENVIRONMENT_HELP, guarded, OutputOnlySchema, userAction, withOptions } from './users-shared.js';

export const optionsSchema = OutputOnlySchema;

export function register(users: Command): void {
  users
    .command('reset-password')
    .description('Send a password-reset email (password users who verified their account; link valid 30 minutes)')
    .argument('<id>', 'user id')
    .addOption(outputOption())
    .addHelpText('after', ENVIRONMENT_HELP)
    .action(guarded(withOptions<typeof OutputOnlySchema, [string]>(OutputOnlySchema, (id, options, command) => userAction('reset_password', id, options, command))));
}
