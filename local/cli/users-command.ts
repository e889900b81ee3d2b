/**
 * `offboard users …` — the operator CLI over the Arize users API, in the habits of Arize's own
 * `ax users`, plus what an offboarding tool needs: bulk delete from files, a confirmation that
 * cannot be skipped by accident, exit codes a script can trust.
 */
import { createInterface } from 'node:readline/promises';
import { Command, Option } from 'commander';
import {
  ArizeApiError,
  ArizeConfigError,
  ArizeError,
  ArizeOutcomeUnknownError,
  ArizeUsersClient,
  ArizeValidationError,
  type ArizeClientOptions,
  type BulkUserDeletionResult,
} from '../../lambdas/arize/index.js';
import { describeEndpoint, resolveBaseUrl, resolveEndpoint } from '../../lambdas/arize/config.js';
import {
  EMAIL_FILTER_MAX,
  INVITE_MODES,
  LIST_LIMIT_MAX,
  LIST_LIMIT_MIN,
  PREDEFINED_ROLE_NAMES,
  USER_STATUSES,
  type Role,
  type User,
} from '../../lambdas/arize/wire.js';
import { emailProblem, maskEmail, normalizeEmail } from '../../lambdas/core/email.js';
import { SETTINGS } from '../../lambdas/core/settings.js';
import { CliError, EXIT_OUTCOME_UNKNOWN, EXIT_PARTIAL_FAILURE, EXIT_USAGE } from './errors.js';
import * as z from 'zod';
import { collectList, enumValue, integerOption, parseOptions, positiveNumberOption } from './options.js';
import { OUTPUT_FORMATS, outputOption, render, type OutputFormat, type OutputRecord } from './output.js';
import { parseEmailEntries, readInputText } from './ops-input.js';
import { createProgress } from './progress.js';

export const USER_COLUMNS = ['id', 'name', 'email', 'status', 'role', 'is_developer', 'created_at'] as const;
export const DELETION_COLUMNS = ['user_id', 'email', 'status', 'error'] as const;
/** A delete result; `protected` when the pipeline's rules kept the account (users-delete-guard.ts). */
export type DeletionResult = Omit<BulkUserDeletionResult, 'status'> & { status: BulkUserDeletionResult['status'] | 'protected' };

const ENVIRONMENT_HELP = `
Connection (as in the official Arize SDK; the command prints the endpoint it uses on stderr):
  ARIZE_API_KEY       API key of an account admin (required; never printed)
  ARIZE_REGION        us-east-1b | us-central-1a | eu-west-1a | ca-central-1a ⇒ api.<region>.arize.com
  ARIZE_BASE_DOMAIN   api.<domain> (Private Connect)
  ARIZE_SINGLE_HOST, ARIZE_SINGLE_PORT   on-prem single host (one of these three at most)
  ARIZE_API_HOST      API host (default api.arize.com; not together with the three above)
  ARIZE_API_SCHEME    http | https (default https)
  ARIZE_API_PORT      port (default/0: the scheme's)
  ARIZE_PROXY_URL     http:// proxy (else HTTPS_PROXY / HTTP_PROXY, honouring NO_PROXY)
  ARIZE_SSL_CA_CERT   PEM bundle to trust instead of the default CAs
  ARIZE_REQUEST_VERIFY=false   do not verify TLS certificates (announced on stderr)

Exit codes:
  0  everything succeeded (for delete, "not_found" counts as success: the user is not in Arize)
  1  the API refused or failed at least one operation (e.g. a delete reported "failed",
     a user that does not exist for get/update)
  2  usage or configuration error (bad option, invalid email, missing ARIZE_API_KEY,
     API key rejected, delete without confirmation): nothing was changed`;

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

type Logger = NonNullable<ArizeClientOptions['logger']>;

interface GlobalOptions {
  verbose?: boolean;
}

function stderrLogger(): Logger {
  const write = (level: string) => (message: string, attrs?: Record<string, unknown>) => {
    process.stderr.write(`[${level}] ${message}${attrs === undefined ? '' : ` ${JSON.stringify(attrs)}`}\n`);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn') };
}

const silentLogger: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined };

/** Builds the client from the SDK's environment variables; configuration problems are usage errors. */
export function createClientFromEnvironment(
  options: Pick<ArizeClientOptions, 'maxConcurrency' | 'maxRequestsPerSecond' | 'rateControl'> & GlobalOptions = {},
): ArizeUsersClient {
  if ((process.env.ARIZE_API_KEY ?? '').trim() === '') {
    throw new CliError(
      'ARIZE_API_KEY is not set: export the API key of an Arize account admin (see `offboard users --help`)',
      EXIT_USAGE,
    );
  }
  const { verbose, ...limits } = options;
  try {
    const client = new ArizeUsersClient({ ...limits, logger: verbose === true ? stderrLogger() : silentLogger });
    process.stderr.write(`${describeEndpoint(resolveEndpoint({}, process.env))}\n`);
    return client;
  } catch (error) {
    throw toCliError(error);
  }
}

function toCliError(error: unknown): unknown {
  if (error instanceof CliError) return error;
  if (error instanceof ArizeConfigError || error instanceof ArizeValidationError) {
    return new CliError(error.message, EXIT_USAGE);
  }
  if (error instanceof ArizeApiError) {
    if (error.status === 401) {
      return new CliError('Arize rejected the API key (401 Unauthorized): check ARIZE_API_KEY and ARIZE_API_HOST', EXIT_USAGE);
    }
    const explanation = error.problem?.detail ?? error.problem?.title ?? error.message;
    return new CliError(`Arize API error ${error.status}: ${explanation}`, EXIT_PARTIAL_FAILURE);
  }
  if (error instanceof ArizeOutcomeUnknownError) return new CliError(error.message, EXIT_OUTCOME_UNKNOWN);
  if (error instanceof ArizeError) return new CliError(error.message, EXIT_PARTIAL_FAILURE);
  return error;
}

/** Commander calls actions with (…args, options, command); errors become one-line CLI errors. */
function guarded<A extends unknown[]>(action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (error) {
      throw toCliError(error);
    }
  };
}

function globals(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}

function write(text: string): void {
  process.stdout.write(text);
}

// ---------------------------------------------------------------------------------------------
// Option parsing

function requireValidEmail(flag: string, value: string): string {
  const problem = emailProblem(value);
  if (problem) throw new CliError(`invalid email for ${flag}: '${value}' (${problem.reason})`, EXIT_USAGE);
  return value.trim();
}

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

// ---------------------------------------------------------------------------------------------
// Options: one schema per command (commander's parsers in options.ts have checked each value already)

const OUTPUT = { output: z.enum(OUTPUT_FORMATS).default('table') };
const GroupOptionsSchema = z.strictObject({ verbose: z.boolean().optional() });
const ListOptionsSchema = z.strictObject({
  email: z.string().optional(),
  status: z.array(z.string()).default([]),
  limit: z.number().int().min(LIST_LIMIT_MIN).max(LIST_LIMIT_MAX).optional(),
  cursor: z.string().optional(),
  all: z.boolean().optional(),
  ...OUTPUT,
});
type ListOptions = z.output<typeof ListOptionsSchema>;
const OutputOnlySchema = z.strictObject(OUTPUT);
const CreateOptionsSchema = z.strictObject({
  name: z.string(),
  email: z.string(),
  role: z.string().optional(),
  customRoleId: z.string().optional(),
  inviteMode: z.string(),
  developer: z.boolean().optional(),
  ...OUTPUT,
});
type CreateOptions = z.output<typeof CreateOptionsSchema>;
const UpdateOptionsSchema = z.strictObject({ name: z.string().optional(), developer: z.boolean().optional(), ...OUTPUT });
type UpdateOptions = z.output<typeof UpdateOptionsSchema>;
const DeleteOptionsSchema = z.strictObject({
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
  ...OUTPUT,
});
type DeleteOptions = z.output<typeof DeleteOptionsSchema>;

/** The `offboard users` family for register.ts: the group's own option and one schema per subcommand. */
export const usersModule = {
  register: registerUsersCommand,
  optionsSchemas: {
    users: GroupOptionsSchema,
    'users list': ListOptionsSchema,
    'users get': OutputOnlySchema,
    'users create': CreateOptionsSchema,
    'users update': UpdateOptionsSchema,
    'users delete': DeleteOptionsSchema,
    'users resend-invitation': OutputOnlySchema,
    'users reset-password': OutputOnlySchema,
  },
};

/** Validates the options commander hands over with the command's schema, then runs the command. */
function withOptions<S extends z.ZodType, A extends unknown[]>(
  schema: S,
  action: (...args: [...A, z.output<S>, Command]) => Promise<void>,
): (...args: [...A, unknown, Command]) => Promise<void> {
  return (...args) => {
    const command = args[args.length - 1] as Command;
    const raw = args[args.length - 2];
    const positional = args.slice(0, -2) as A;
    return action(...positional, parseOptions(schema, raw), command);
  };
}

// ---------------------------------------------------------------------------------------------
// Records

function roleLabel(role: Role): string {
  return role.type === 'PREDEFINED' ? role.name : `CUSTOM:${role.name ?? role.id}`;
}

export function userRecord(user: User): OutputRecord {
  return {
    id: user.id,
    name: user.name,
    email: user.email,
    status: user.status,
    role: roleLabel(user.role),
    is_developer: user.is_developer,
    created_at: user.created_at,
  };
}

/** The SDK's result shape: `email` only when the target was an email, `error` only when there is one. */
export function deletionJson(result: DeletionResult): Record<string, string> {
  const shaped: Record<string, string> = { user_id: result.user_id };
  if (result.email !== undefined) shaped.email = result.email;
  shaped.status = result.status;
  if (result.error !== undefined) shaped.error = result.error;
  return shaped;
}

export function renderUsers(format: OutputFormat, users: readonly User[], json?: unknown): string {
  return render(format, {
    records: users.map(userRecord),
    columns: USER_COLUMNS,
    json: json ?? users,
    emptyMessage: 'No users.',
  });
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

// ---------------------------------------------------------------------------------------------
// Commands


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
    write(renderUsers(options.output, users, { users, pagination: { has_more: false } }));
    return;
  }
  const page = await client.list({ ...filters, limit: options.limit, cursor: options.cursor });
  write(renderUsers(options.output, page.users, page));
  if (page.pagination.has_more && page.pagination.next_cursor !== undefined && options.output !== 'json') {
    process.stderr.write(`More users: rerun with --cursor ${page.pagination.next_cursor} (or use --all)\n`);
  }
}

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
  write(renderUsers(options.output, [user], user));
}


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
    write(
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
  write(render(options.output, { records: [record], columns: columns }));
  if (options.output === 'table') {
    if (!result.created) write('An invitation for this email already existed: it was returned as-is and not re-sent.\n');
    if (result.temporaryPassword !== undefined) {
      write(`Temporary password (shown only this once; the user must change it at first login): ${result.temporaryPassword}\n`);
    }
  }
}


async function updateUser(userId: string, options: UpdateOptions, command: Command): Promise<void> {
  if (options.name === undefined && options.developer === undefined) {
    throw new CliError('nothing to update: give --name and/or --developer / --no-developer', EXIT_USAGE);
  }
  if (options.name !== undefined && (options.name.trim().length < 1 || options.name.length > 255)) {
    throw new CliError('invalid value for --name: 1 to 255 characters', EXIT_USAGE);
  }
  const client = createClientFromEnvironment(globals(command));
  const user = await client.update(userId, { name: options.name?.trim(), isDeveloper: options.developer });
  write(renderUsers(options.output, [user], user));
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
    process.stderr.write(`${plan.protectedCount} protected account${plan.protectedCount === 1 ? '' : 's'} will be skipped (protected emails, patterns, roles or the API key's owner; see the status column).\n`);
  }
  for (const account of plan.overridden) {
    process.stderr.write(`WARNING: --include-protected: deleting PROTECTED account ${account.userId} (${maskEmail(account.email)}, ${account.reason})\n`);
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

  write(renderDeletions(options.output, results));
  const summary = summarizeDeletions(results);
  if (options.output === 'table') write(`\n${summary}\n`);
  else process.stderr.write(`${summary}\n`);
  const failed = results.filter((r) => r.status === 'failed').length;
  if (failed > 0) throw new CliError(`${failed} deletion${failed === 1 ? '' : 's'} failed`, EXIT_PARTIAL_FAILURE);
}

async function userAction(
  action: 'resend_invitation' | 'reset_password',
  userId: string,
  options: { output: OutputFormat },
  command: Command,
): Promise<void> {
  const client = createClientFromEnvironment(globals(command));
  if (action === 'resend_invitation') await client.resendInvitation(userId);
  else await client.resetPassword(userId);
  const record = { user_id: userId, action, result: 'sent' };
  if (options.output === 'table') {
    write(
      action === 'resend_invitation'
        ? `Invitation re-sent to user ${userId}.\n`
        : `Password-reset email sent to user ${userId} (the link is valid for 30 minutes).\n`,
    );
    return;
  }
  write(render(options.output, { records: [record], columns: ['user_id', 'action', 'result'], json: record }));
}

export function registerUsersCommand(program: Command): void {
  const users = program
    .command('users')
    .description('Manage Arize account users (list, get, create, update, delete, invitations)')
    .option('-v, --verbose', 'log API retries and throttling to stderr (emails masked)')
    .addHelpText('after', ENVIRONMENT_HELP);

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
    .action(guarded(withOptions(ListOptionsSchema, listUsers)));

  users
    .command('get')
    .description('Show one user by id, or by email (exact, case-insensitive match)')
    .argument('<user>', 'user id, or an email address (anything containing @)')
    .addOption(outputOption())
    .addHelpText('after', ENVIRONMENT_HELP)
    .action(guarded(withOptions(OutputOnlySchema, getUser)));

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
    .action(guarded(withOptions(CreateOptionsSchema, createUser)));

  users
    .command('update')
    .description("Update a user's name and/or developer permission (at least one)")
    .argument('<id>', 'user id')
    .option('--name <name>', 'new display name')
    .option('--developer', 'grant developer permission')
    .option('--no-developer', 'revoke developer permission')
    .addOption(outputOption())
    .addHelpText('after', ENVIRONMENT_HELP)
    .action(guarded(withOptions(UpdateOptionsSchema, updateUser)));

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
    .action(guarded(withOptions(DeleteOptionsSchema, deleteUsers)));

  users
    .command('resend-invitation')
    .description('Resend the invitation email of an invited user')
    .argument('<id>', 'user id')
    .addOption(outputOption())
    .addHelpText('after', ENVIRONMENT_HELP)
    .action(guarded(withOptions<typeof OutputOnlySchema, [string]>(OutputOnlySchema, (id, options, command) => userAction('resend_invitation', id, options, command))));

  users
    .command('reset-password')
    .description('Send a password-reset email (password users who verified their account; link valid 30 minutes)')
    .argument('<id>', 'user id')
    .addOption(outputOption())
    .addHelpText('after', ENVIRONMENT_HELP)
    .action(guarded(withOptions<typeof OutputOnlySchema, [string]>(OutputOnlySchema, (id, options, command) => userAction('reset_password', id, options, command))));
}
