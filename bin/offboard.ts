/**
 * `offboard` — the operator CLI. Each command family lives in `local/cli/` and registers itself here.
 */
import { Command, CommanderError } from 'commander';
import { CliError, EXIT_USAGE } from '../local/cli/errors.js';
import { registerCommands } from '../local/cli/register.js';
// Inlined by the build: `--version` is the version this bundle was built from.
import packageJson from '../package.json' with { type: 'json' };

// `offboard users list --all | head` closes the pipe early: that is the reader being done, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

const program = new Command('offboard')
  .description('Offboard people who left the company from Arize, and inspect what happened.')
  .version(packageJson.version)
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

await registerCommands(program, process.argv);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // --help and --version exit 0; any other commander complaint is a usage error.
    process.exitCode = error.exitCode === 0 ? 0 : EXIT_USAGE;
  } else if (error instanceof CliError) {
    process.stderr.write(`offboard: ${error.message}\n`);
    process.exitCode = error.exitCode;
  } else if (error instanceof Error && (error.name === 'DataDirError' || error.name === 'RuntimeInUseError')) {
    // The data dir cannot be used or is held by another process: nothing was attempted (names, not classes,
    // so this entry point does not load the runtime).
    process.stderr.write(`offboard: ${error.message}\n`);
    process.exitCode = EXIT_USAGE;
  } else {
    process.stderr.write(`offboard: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
