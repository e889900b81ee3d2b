/** `offboard users list`: one page of users, or every page with --all. */
import type { Command } from 'commander';
import * as z from 'zod';
import { EMAIL_FILTER_MAX, LIST_LIMIT_MAX, LIST_LIMIT_MIN, USER_STATUSES, type User } from '../../lambdas/arize/wire.js';
import { CliError, EXIT_USAGE } from './errors.js';
import { note, out } from './log.js';
import { collectList, enumValue, integerOption, OUTPUT_OPTION } from './options.js';
import { outputOption } from './output.js';
import { createClientFromEnvironment, ENVIRONMENT_HELP, globals, guarded, renderUsers, withOptions } from './users-shared.js';

export const optionsSchema = z.strictObject({
  email: z.string().optional(),
  status: z.array(z.string()).default([]),
  limit: z.number().int().min(LIST_LIMIT_MIN).max(LIST_LIMIT_MAX).optional(),
  cursor: z.string().optional(),
  all: z.boolean().optional(),
  ...OUTPUT_OPTION,
});
type ListOptions = z.output<typeof optionsSchema>;

async function listUsers(options: ListOptions, command: Command): Promise<void> {
  if (options.email !== undefined && options.email.length > EMAIL_FILTER_MAX) {
    throw new CliError(`invalid value for --email: longer than ${EMAIL_FILTER_MAX} characters`, EXIT_USAGE);
  }
  if (options.all === true && options.cursor !== undefined) {
    throw new CliError('--all and --cursor cannot be combined: --all starts at the first page', EXIT_USAGE);
  }
  const status = options.status.map((s) => enumValue('--status', USER_STATUSES, s));
  const filters = { email: options.email, status: status.length > 0 ? status : undefined };
  const client = createClientFromEnvironment(globals(command));

  if (options.all === true) {
    const users: User[] = [];
    for await (const user of client.listAll({ ...filters, pageSize: options.limit ?? LIST_LIMIT_MAX })) users.push(user);
    out(renderUsers(options.output, users, { users, pagination: { has_more: false } }));
    return;
  }
  const page = await client.list({ ...filters, limit: options.limit, cursor: options.cursor });
  out(renderUsers(options.output, page.users, page));
  if (page.pagination.has_more && page.pagination.next_cursor !== undefined && options.output !== 'json') {
    note(`More users: rerun with --cursor ${page.pagination.next_cursor} (or use --all)`);
  }
}

export function register(users: Command): void {
  users
    .command('list')
    .description('List users (one page unless --all)')
    .option('-e, --email <substring>', 'case-insensitive substring filter on the email')
    .option('-s, --status <status>', 'active | invited | expired; repeatable or comma-separated', collectList, [])
    .option(
      '-l, --limit <n>',
      `page size ${LIST_LIMIT_MIN}-${LIST_LIMIT_MAX} (default 50; with --all, 100)`,
      integerOption('--limit', LIST_LIMIT_MIN, LIST_LIMIT_MAX),
    )
    .option('-c, --cursor <cursor>', 'continue from a previous page')
    .option('--all', 'follow every page')
    .addOption(outputOption())
    .addHelpText(
      'after',
      '\n--output json prints the API page shape {"users": [...], "pagination": {"has_more", "next_cursor"?}};\n' +
        'table and csv print the users, and the next cursor (if any) goes to stderr.\n' +
        ENVIRONMENT_HELP,
    )
    .action(guarded(withOptions(optionsSchema, listUsers)));
}
