import { maskEmailsDeep, maskEmailsInText } from '../../lambdas/core/email.js';

/**
 * Where the CLI writes: data on stdout (`out`), everything for people — notes, warnings, progress — on stderr
 * (`note`), so `-o json` / `-o csv` stay parseable whatever else happens.
 */
export const out = (text: string): void => void process.stdout.write(text);
export const note = (line: string): void => void process.stderr.write(`${line}\n`);

function stderrLog(level: string) {
  return (message: string, attributes?: Record<string, unknown>) => {
    process.stderr.write(`${level} ${maskEmailsInText(message)}${attributes ? ` ${JSON.stringify(maskEmailsDeep(attributes))}` : ''}\n`);
  };
}

/** The logger handed to use cases run by the CLI (serve, audit): leveled lines on stderr, emails masked. */
export const cliLog = { info: stderrLog('info'), warn: stderrLog('warn'), error: stderrLog('error') };
