/** `offboard users update <id>`: a user's name and/or developer permission. */
import type { Command } from 'commander';
import * as z from 'zod';
import { CliError, EXIT_USAGE } from './errors.js';
import { out } from './log.js';
import { OUTPUT_OPTION } from './options.js';
import { outputOption } from './output.js';
import { createClientFromEnvironment, ENVIRONMENT_HELP, globals, guarded, renderUsers, withOptions } from './users-shared.js';

export const optionsSchema = z.strictObject({ name: z.string().optional(), developer: z.boolean().optional(), ...OUTPUT_OPTION });
type UpdateOptions = z.output<typeof optionsSchema>;

async function updateUser(userId: string, options: UpdateOptions, command: Command): Promise<void> {
  if (options.name === undefined && options.developer === undefined) {
    throw new CliError('nothing to update: give --name and/or --developer / --no-developer', EXIT_USAGE);
  }
  if (options.name !== undefined && (options.name.trim().length < 1 || options.name.length > 255)) {
    throw new CliError('invalid value for --name: 1 to 255 characters', EXIT_USAGE);
  }
  const client = createClientFromEnvironment(globals(command));
  const user = await client.update(userId, { name: options.name?.trim(), isDeveloper: options.developer });
  out(renderUsers(options.output, [user], user));
}

export function register(users: Command): void {
  users
    .command('update')
    .description("Update a user's name and/or developer permission (at least one)")
    .argument('<id>', 'user id')
    .option('--name <name>', 'new display name')
    .option('--developer', 'grant developer permission')
    .option('--no-developer', 'revoke developer permission')
    .addOption(outputOption())
    .addHelpText('after', ENVIRONMENT_HELP)
    .action(guarded(withOptions(optionsSchema, updateUser)));
}
