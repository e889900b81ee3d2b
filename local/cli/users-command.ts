/**
 * `offboard users …` — the operator CLI over the Arize users API, in the habits of Arize's own
 * `ax users`, plus what an offboarding tool needs: bulk delete from files, a confirmation that
 * cannot be skipped by accident, exit codes a script can trust.
 */
import type { Command } from 'commander';
import * as z from 'zod';
import type { CommandModule } from './register.js';
import * as create from './users-create-command.js';
import * as del from './users-delete-command.js';
import * as get from './users-get-command.js';
import * as list from './users-list-command.js';
import * as resendInvitation from './users-resend-invitation-command.js';
import * as resetPassword from './users-reset-password-command.js';
import { ENVIRONMENT_HELP } from './users-shared.js';
import * as update from './users-update-command.js';

/** One module per subcommand (users-<name>-command.ts), in help order. */
const SUBCOMMANDS = {
  list,
  get,
  create,
  update,
  delete: del,
  'resend-invitation': resendInvitation,
  'reset-password': resetPassword,
} as const satisfies Record<string, { register(users: Command): void; optionsSchema: z.ZodObject }>;

const GroupOptionsSchema = z.strictObject({ verbose: z.boolean().optional() });

export function registerUsersCommand(program: Command): void {
  const users = program
    .command('users')
    .description('Manage Arize account users (list, get, create, update, delete, invitations)')
    .option('-v, --verbose', 'log API retries and throttling to stderr (emails masked)')
    .addHelpText('after', ENVIRONMENT_HELP);
  for (const sub of Object.values(SUBCOMMANDS)) sub.register(users);
}

/** The `offboard users` family for register.ts: the group's own option and one schema per subcommand. */
export const usersModule: CommandModule = {
  register: registerUsersCommand,
  optionsSchemas: {
    users: GroupOptionsSchema,
    ...Object.fromEntries(Object.entries(SUBCOMMANDS).map(([name, sub]) => [`users ${name}`, sub.optionsSchema])),
  },
};
