/**
 * `offboard demo` — what `npm start` runs until the local runtime lands: an in-process Arize
 * sandbox with the demo directory, and a bulk delete through the same client the Lambdas use.
 * The chosen emails show the two rules that matter: exact, case-insensitive matching (near
 * duplicates survive) and "not found" being an outcome, not an error.
 */
import type { Command } from 'commander';
import { ArizeUsersClient, type BulkUserDeletionResult } from '../../lambdas/arize/index.js';
import type { User } from '../../lambdas/arize/wire.js';
import { normalizeEmail } from '../../lambdas/core/email.js';
import { CliError, EXIT_PARTIAL_FAILURE } from './errors.js';
import { renderDeletions, renderUsers, summarizeDeletions } from './users-command.js';

/** Leavers: one exact match, one case variant, one EXPIRED invitation, one stranger. */
export const DEMO_LEAVERS = [
  'ann@example.com',
  'MARCUS.CHEN@example.com',
  'dan.okafor@example.com',
  'tom@example.com',
  'no.such.person@example.com',
] as const;

/** Accounts whose emails contain a leaver's email (or vice versa): they must never be touched. */
export const DEMO_NEAR_DUPLICATES = [
  'joann@example.com',
  'ann@example.com.au',
  'leann@example.com',
  'marcus.chen+test@example.com',
  'tomas@example.com',
] as const;

async function directory(client: ArizeUsersClient): Promise<User[]> {
  const users: User[] = [];
  for await (const user of client.listAll({ pageSize: 100 })) users.push(user);
  return users;
}

async function runDemo(): Promise<void> {
  // Loaded on demand: every other command would otherwise pay for the sandbox at start-up.
  const { startSandbox } = await import('../sandbox/server.js');
  const sandbox = await startSandbox();
  const out = (text: string) => process.stdout.write(text);
  try {
    const client = new ArizeUsersClient({
      baseUrl: sandbox.url,
      apiKey: sandbox.apiKey,
      maxConcurrency: 4,
      maxRequestsPerSecond: 50,
    });
    out(`Arize sandbox with the demo directory at ${sandbox.url}\n\n`);

    const before = await directory(client);
    out(`Directory before (${before.length} users):\n${renderUsers('table', before)}\n`);

    out(`Offboarding ${DEMO_LEAVERS.length} emails (exact, case-insensitive matches only):\n`);
    out(`  ${DEMO_LEAVERS.join('\n  ')}\n\n`);
    const results: BulkUserDeletionResult[] = await client.bulkDelete({ emails: [...DEMO_LEAVERS] });
    out(`${renderDeletions('table', results)}${summarizeDeletions(results)}\n\n`);

    const after = await directory(client);
    out(`Directory after (${after.length} users):\n${renderUsers('table', after)}\n`);

    const remaining = new Set(after.map((u) => normalizeEmail(u.email)));
    const touched = DEMO_NEAR_DUPLICATES.filter((email) => !remaining.has(email));
    if (touched.length > 0) {
      throw new CliError(`near-duplicates were deleted, which must never happen: ${touched.join(', ')}`, EXIT_PARTIAL_FAILURE);
    }
    out(`Near-duplicates left untouched: ${DEMO_NEAR_DUPLICATES.join(', ')}\n`);
    if (results.some((r) => r.status === 'failed')) {
      throw new CliError('some demo deletions failed', EXIT_PARTIAL_FAILURE);
    }
  } finally {
    await sandbox.close();
  }
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'Run a self-contained demo: start an Arize sandbox in-process, show its directory, offboard a few ' +
        'users by email (one unknown, near-duplicates left alone) and show the result. Needs no credentials.',
    )
    .action(runDemo);
}
