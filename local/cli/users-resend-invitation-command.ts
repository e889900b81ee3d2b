/** `offboard users resend-invitation <id>`: the invitation email of an invited user, again. */
import type { Command } from 'commander';
import { outputOption } from './output.js';
import { ENVIRONMENT_HELP, guarded, OutputOnlySchema, userAction, withOptions } from './users-shared.js';

export const optionsSchema = OutputOnlySchema;

export function register(users: Command): void {
  users
    .command('resend-invitation')
    .description('Resend the invitation email of an invited user')
    .argument('<id>', 'user id')
    .addOption(outputOption())
    .addHelpText('after', ENVIRONMENT_HELP)
    .action(guarded(withOptions<typeof OutputOnlySchema, [string]>(OutputOnlySchema, (id, options, command) => userAction('resend_invitation', id, options, command))));
}
