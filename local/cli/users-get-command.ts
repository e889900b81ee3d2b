/** `offboard users get <user>`: one user by id, or by email (exact, case-insensitive match). */
import type { Command } from 'commander';
import { ArizeApiError, type ArizeUsersClient } from '../../lambdas/arize/index.js';
import type { User } from '../../lambdas/arize/wire.js';
import { CliError, EXIT_PARTIAL_FAILURE } from './errors.js';
import { out } from './log.js';
import { outputOption, type OutputFormat } from './output.js';
import { createClientFromEnvironment, ENVIRONMENT_HELP, globals, guarded, OutputOnlySchema, renderUsers, requireValidEmail, withOptions } from './users-shared.js';

export const optionsSchema = OutputOnlySchema;

/** A 404 here means "no such user" (missing, other account or no permission): an answer, not an error. */
async function getById(client: ArizeUsersClient, userId: string): Promise<User | undefined> {
  try {
    return await client.get(userId);
  } catch (error) {
    if (error instanceof ArizeApiError && error.status === 404) return undefined;
    throw error;
  }
}

async function getUser(idOrEmail: string, options: { output: OutputFormat }, command: Command): Promise<void> {
  const byEmail = idOrEmail.includes('@');
  if (byEmail) requireValidEmail('<user>', idOrEmail);
  const client = createClientFromEnvironment(globals(command));
  const user = byEmail ? await client.findByEmail(idOrEmail) : await getById(client, idOrEmail);
  if (user === undefined) {
    throw new CliError(`no user with ${byEmail ? 'email' : 'id'} '${idOrEmail}'${byEmail ? ' (exact match)' : ''}`, EXIT_PARTIAL_FAILURE);
  }
  out(renderUsers(options.output, [user], user));
}

export function register(users: Command): void {
  users
    .command('get')
    .description('Show one user by id, or by email (exact, case-insensitive match)')
    .argument('<user>', 'user id, or an email address (anything containing @)')
    .addOption(outputOption())
    .addHelpText('after', ENVIRONMENT_HELP)
    .action(guarded(withOptions(OutputOnlySchema, getUser)));
}
