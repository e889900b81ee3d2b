/**
 * `offboard sandbox` — runs the Arize users API sandbox in the foreground until SIGINT/SIGTERM.
 * The first stdout line is the URL (scripts read it); the second tells how to point a client at it.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { maskEmail } from '../../lambdas/core/email.js';
// Types only: the server (and its seed parsing) is loaded when the command runs, not at CLI start-up.
import type { Sandbox, SandboxOptions, SeedUser } from '../sandbox/server.js';
import * as z from 'zod';
import { CliError } from './errors.js';
import { parseOptions } from './options.js';

/** Mirrors the server's DEFAULT_SANDBOX_API_KEY for the help text, which must not load the server. */
const HELP_DEFAULT_API_KEY = 'sandbox-demo-key';

/** Every value stays text here: sandboxOptionsFromCli checks each with a message naming its option. */
export const optionsSchema = z.strictObject({
  port: z.string(),
  seed: z.string().optional(),
  apiKey: z.string().optional(),
  latencyMs: z.string().optional(),
  rateLimit: z.string().optional(),
  errorRate: z.string().optional(),
});
type SandboxCommandOptions = z.output<typeof optionsSchema>;

function parseNumberOption(
  name: string,
  raw: string,
  check: (value: number) => boolean,
  expectation: string,
  integer = false,
): number {
  const pattern = integer ? /^\d+$/ : /^(\d+(\.\d*)?|\.\d+)$/;
  const value = Number(raw);
  if (!pattern.test(raw.trim()) || !Number.isFinite(value) || !check(value)) {
    throw new CliError(`${name}: expected ${expectation}, got "${raw}"`);
  }
  return value;
}

async function loadSeed(path: string): Promise<SeedUser[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new CliError(`--seed ${path}: cannot read the file (${code})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CliError(`--seed ${path}: not valid JSON (${error instanceof Error ? error.message : 'parse error'})`);
  }
  const { parseSeed, SeedError } = await import('../sandbox/server.js');
  try {
    return parseSeed(json);
  } catch (error) {
    if (error instanceof SeedError) throw new CliError(`--seed ${path}: ${error.message}`);
    throw error;
  }
}

export async function sandboxOptionsFromCli(options: SandboxCommandOptions): Promise<SandboxOptions> {
  const result: SandboxOptions = {
    port: parseNumberOption('--port', options.port, (n) => n <= 65_535, 'an integer 0..65535 (0 = any free port)', true),
  };
  if (options.apiKey !== undefined) {
    if (options.apiKey.length === 0 || /\s/.test(options.apiKey)) {
      throw new CliError('--api-key: expected a non-empty value without whitespace');
    }
    result.apiKey = options.apiKey;
  }
  if (options.latencyMs !== undefined) {
    result.latencyMs = parseNumberOption('--latency-ms', options.latencyMs, (n) => n <= 600_000, 'an integer number of milliseconds 0..600000', true);
  }
  if (options.rateLimit !== undefined) {
    result.rateLimit = parseNumberOption('--rate-limit', options.rateLimit, (n) => n > 0, 'a number of requests per second > 0');
  }
  if (options.errorRate !== undefined) {
    result.errorRate = parseNumberOption('--error-rate', options.errorRate, (n) => n >= 0 && n <= 1, 'a fraction between 0 and 1');
  }
  if (options.seed !== undefined) result.seed = await loadSeed(options.seed);
  return result;
}

async function start(options: SandboxOptions): Promise<Sandbox> {
  const { startSandbox } = await import('../sandbox/server.js');
  try {
    return await startSandbox(options);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new CliError(`--port ${options.port ?? 0}: address already in use`);
    if (code === 'EACCES') throw new CliError(`--port ${options.port ?? 0}: permission denied`);
    throw error;
  }
}

async function runSandbox(options: SandboxCommandOptions): Promise<void> {
  const sandboxOptions = await sandboxOptionsFromCli(options);
  const sandbox = await start(sandboxOptions);
  const { DEFAULT_SANDBOX_API_KEY, demoDirectory } = await import('../sandbox/server.js');
  // A user-supplied key may be a habit-copied real one: only the built-in demo key is echoed.
  const keyForExport = sandboxOptions.apiKey === undefined ? DEFAULT_SANDBOX_API_KEY : "'<your --api-key>'";
  process.stdout.write(`${sandbox.url}\n`);
  process.stdout.write(
    `export ARIZE_API_HOST=127.0.0.1 ARIZE_API_SCHEME=http ARIZE_API_PORT=${sandbox.port} ARIZE_API_KEY=${keyForExport}\n`,
  );
  const seed = sandboxOptions.seed ?? demoDirectory();
  const owner = seed[0];
  process.stderr.write(
    `Arize sandbox: ${seed.length} users from ${options.seed ?? 'the built-in demo directory'}` +
      `${owner ? `; the API key belongs to ${maskEmail(owner.email)}` : ''}. Ctrl-C to stop.\n`,
  );

  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      sandbox.close().then(resolve, (error: unknown) => {
        process.stderr.write(`offboard sandbox: close failed: ${error instanceof Error ? error.message : String(error)}\n`);
        resolve();
      });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  process.stderr.write('Arize sandbox stopped.\n');
}

export function register(program: Command): void {
  program
    .command('sandbox')
    .description(
      'Run a local Arize users API (REST v2) sandbox in the foreground until Ctrl-C. Prints its URL first, ' +
        'then the ARIZE_API_* exports that point clients at it.',
    )
    .option('--port <n>', 'port on 127.0.0.1 (0 = any free port)', '0')
    .option('--seed <users.json>', 'JSON array of wire-shaped users; the API key belongs to the first (default: built-in demo directory)')
    .option('--api-key <key>', `bearer token the sandbox accepts (default: ${HELP_DEFAULT_API_KEY})`)
    .option('--latency-ms <n>', 'latency added to every response, in milliseconds')
    .option('--rate-limit <req/s>', 'token-bucket rate limit; excess requests get 429 with Retry-After')
    .option('--error-rate <0..1>', 'fraction of requests answered 503')
    .action(async (raw: unknown) => {
      await runSandbox(parseOptions(optionsSchema, raw));
    });
}
