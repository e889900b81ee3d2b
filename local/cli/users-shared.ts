/**
 * What every `offboard users …` subcommand shares: the client built from the SDK's environment variables, the
 * mapping of client errors to exit codes, option validation and the user records it prints.
 */
import type { Command } from 'commander';
import {
  ArizeApiError,
  ArizeConfigError,
  ArizeError,
  ArizeOutcomeUnknownError,
  ArizeUsersClient,
  ArizeValidationError,
  type ArizeClientOptions,
} from '../../lambdas/arize/index.js';
import { describeEndpoint, resolveEndpoint } from '../../lambdas/arize/config.js';
import type { Role, User } from '../../lambdas/arize/wire.js';
import { emailProblem, maskEmailsDeep, maskEmailsInText } from '../../lambdas/core/email.js';
import * as z from 'zod';
import { CliError, EXIT_OUTCOME_UNKNOWN, EXIT_PARTIAL_FAILURE, EXIT_USAGE } from './errors.js';
import { note, out } from './log.js';
import { OUTPUT_OPTION, parseOptions } from './options.js';
import { render, type OutputFormat, type OutputRecord } from './output.js';

export const USER_COLUMNS = ['id', 'name', 'email', 'status', 'role', 'is_developer', 'created_at'] as const;

export const ENVIRONMENT_HELP = `
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

type Logger = NonNullable<ArizeClientOptions['logger']>;

interface GlobalOptions {
  verbose?: boolean;
}

function stderrLogger(): Logger {
  // The client logs routes and error names, not emails; masked anyway, as --help promises.
  const write = (level: string) => (message: string, attrs?: Record<string, unknown>) => {
    note(`[${level}] ${maskEmailsInText(message)}${attrs === undefined ? '' : ` ${JSON.stringify(maskEmailsDeep(attrs))}`}`);
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
    note(describeEndpoint(resolveEndpoint({}, process.env)));
    return client;
  } catch (error) {
    throw toCliError(error);
  }
}

export function toCliError(error: unknown): unknown {
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
export function guarded<A extends unknown[]>(action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (error) {
      throw toCliError(error);
    }
  };
}

export function globals(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}

export function requireValidEmail(flag: string, value: string): string {
  const problem = emailProblem(value);
  if (problem) throw new CliError(`invalid email for ${flag}: '${value}' (${problem.reason})`, EXIT_USAGE);
  return value.trim();
}

/** `get`, `resend-invitation` and `reset-password` take no option but --output. */
export const OutputOnlySchema = z.strictObject(OUTPUT_OPTION);

/** Validates the options commander hands over with the command's schema, then runs the command. */
export function withOptions<S extends z.ZodType, A extends unknown[]>(
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
export function renderUsers(format: OutputFormat, users: readonly User[], json?: unknown): string {
  return render(format, {
    records: users.map(userRecord),
    columns: USER_COLUMNS,
    json: json ?? users,
    emptyMessage: 'No users.',
  });
}

export async function userAction(
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
    out(
      action === 'resend_invitation'
        ? `Invitation re-sent to user ${userId}.\n`
        : `Password-reset email sent to user ${userId} (the link is valid for 30 minutes).\n`,
    );
    return;
  }
  out(render(options.output, { records: [record], columns: ['user_id', 'action', 'result'], json: record }));
}
