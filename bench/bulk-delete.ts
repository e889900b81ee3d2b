/**
 * `npm run bench:bulk-delete` — bulk delete against a sandbox that behaves like a real,
 * distant, rate-limited Arize (40 ms per response, 200 req/s token bucket), comparing:
 *   - a sequential reference that follows the official SDK's bulk_delete algorithm
 *     (one paginated, email-filtered list call per email, exact match, then one delete per id,
 *     one request at a time, no retry);
 *   - our path: the whole `offboard users delete` command as a process (start-up included),
 *     and the client's bulkDelete in-process.
 * A fresh sandbox per run, so every run deletes from the same 2,000-user directory.
 * Prints figures; it asserts nothing (speed is not a test).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArizeUsersClient } from '../lambdas/arize/index.js';
import { ListUsersResponseSchema } from '../lambdas/arize/wire.js';
import { sameEmail } from '../lambdas/core/email.js';
import { generateDirectory, startSandbox, type Sandbox, type SeedUser } from '../local/sandbox/server.js';
import { CLI_ENTRY, runCli } from '../test/support/cli.js';

const LATENCY_MS = 40;
const RATE_LIMIT = 200;
const DIRECTORY_SIZE = 2_000;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
/** `-- --small-only` skips the 1,000-email runs (the sequential reference alone takes ~90 s). */
const SMALL_ONLY = process.argv.includes('--small-only');
const API_KEY = 'bench-key';
/** BENCH_CLI=<file> runs another build of the CLI (e.g. an esbuild bundle) to compare start-up costs. */
const CLI = process.env.BENCH_CLI ?? CLI_ENTRY;

type Status = 'deleted' | 'not_found' | 'failed';

interface RunResult {
  scenario: string;
  emails: number;
  wallMs: number;
  requests: number;
  throttled: number;
  statuses: Record<Status, number>;
}

const directory: SeedUser[] = generateDirectory(DIRECTORY_SIZE, { seed: 7 });

/** Spread over the directory (never the key owner), every third one upper-cased like a sloppy HR export. */
function pickEmails(count: number): string[] {
  const candidates = directory.slice(1);
  const step = candidates.length / count;
  return Array.from({ length: count }, (_, i) => {
    const email = candidates[Math.floor(i * step)]?.email ?? '';
    return i % 3 === 0 ? email.toUpperCase() : email;
  });
}

function freshSandbox(): Promise<Sandbox> {
  return startSandbox({ seed: directory, apiKey: API_KEY, latencyMs: LATENCY_MS, rateLimit: RATE_LIMIT });
}

function tally(statuses: readonly Status[]): Record<Status, number> {
  const counts: Record<Status, number> = { deleted: 0, not_found: 0, failed: 0 };
  for (const status of statuses) counts[status] += 1;
  return counts;
}

async function measure(
  scenario: string,
  emails: string[],
  run: (sandbox: Sandbox) => Promise<Status[]>,
): Promise<RunResult> {
  const sandbox = await freshSandbox();
  try {
    sandbox.counters.reset();
    const started = performance.now();
    const statuses = await run(sandbox);
    const wallMs = performance.now() - started;
    const result: RunResult = {
      scenario,
      emails: emails.length,
      wallMs,
      requests: sandbox.counters.total,
      throttled: sandbox.counters.status['429'] ?? 0,
      statuses: tally(statuses),
    };
    process.stderr.write(`  done: ${scenario} (${emails.length} emails) in ${(wallMs / 1000).toFixed(2)} s\n`);
    return result;
  } finally {
    await sandbox.close();
  }
}

/** The SDK's bulk_delete, faithfully slow: resolve every email, then delete every id, one call at a time. */
async function sdkReference(sandbox: Sandbox, emails: string[]): Promise<Status[]> {
  const headers = { authorization: `Bearer ${sandbox.apiKey}`, accept: 'application/json' };
  const statuses: Status[] = [];
  const resolved: string[] = [];
  for (const email of emails) {
    try {
      let cursor: string | undefined;
      let matchId: string | undefined;
      do {
        const url = new URL('/v2/users', sandbox.url);
        url.searchParams.set('email', email);
        if (cursor !== undefined) url.searchParams.set('cursor', cursor);
        const response = await fetch(url, { headers });
        if (!response.ok) throw new Error(`list failed with ${response.status}`);
        const page = ListUsersResponseSchema.parse(await response.json());
        matchId = page.users.find((user) => sameEmail(user.email, email))?.id;
        cursor = page.pagination.has_more ? page.pagination.next_cursor : undefined;
      } while (matchId === undefined && cursor !== undefined);
      if (matchId === undefined) statuses.push('not_found');
      else resolved.push(matchId);
    } catch {
      statuses.push('failed');
    }
  }
  for (const id of resolved) {
    const response = await fetch(new URL(`/v2/users/${encodeURIComponent(id)}`, sandbox.url), { method: 'DELETE', headers });
    await response.arrayBuffer();
    statuses.push(response.status === 204 ? 'deleted' : 'failed');
  }
  return statuses;
}

async function inProcess(sandbox: Sandbox, emails: string[]): Promise<Status[]> {
  const client = new ArizeUsersClient({
    baseUrl: sandbox.url,
    apiKey: sandbox.apiKey,
    maxConcurrency: CONCURRENCY,
    maxRequestsPerSecond: RATE_LIMIT,
  });
  const results = await client.bulkDelete({ emails });
  return results.map((r) => r.status);
}

async function wholeCommand(sandbox: Sandbox, emailsFile: string): Promise<Status[]> {
  const run = await runCli(
    ['users', 'delete', '--emails-file', emailsFile, '--yes', '--max-deletes', '1000000', '--rate', String(RATE_LIMIT), '--concurrency', String(CONCURRENCY), '--output', 'json'],
    { entry: CLI, env: { ARIZE_API_KEY: sandbox.apiKey, ARIZE_API_HOST: '127.0.0.1', ARIZE_API_SCHEME: 'http', ARIZE_API_PORT: String(sandbox.port) } },
  );
  if (run.code === 2 || run.stdout.trim() === '') throw new Error(`offboard users delete exited ${run.code}: ${run.stderr.trim()}`);
  return (JSON.parse(run.stdout) as { status: Status }[]).map((r) => r.status);
}

async function startupMs(): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 3; i += 1) {
    const started = performance.now();
    await runCli(['--help'], { entry: CLI });
    samples.push(performance.now() - started);
  }
  return samples.sort((a, b) => a - b)[1] ?? 0;
}

function row(result: RunResult, reference: RunResult | undefined): string[] {
  const seconds = result.wallMs / 1000;
  return [
    result.scenario,
    String(result.emails),
    `${seconds.toFixed(2)} s`,
    String(result.requests),
    (result.requests / seconds).toFixed(0),
    (result.requests / result.emails).toFixed(2),
    String(result.throttled),
    `${result.statuses.deleted}/${result.statuses.not_found}/${result.statuses.failed}`,
    reference === undefined ? 'n/a' : reference === result ? '1.0×' : `${(reference.wallMs / result.wallMs).toFixed(1)}×`,
  ];
}

function markdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

const TABLE_HEADER = ['scenario', 'emails', 'wall', 'requests', 'req/s', 'calls/email', '429s', 'deleted/not_found/failed', 'speed-up'];

async function main(): Promise<void> {
  const workDir = await mkdtemp(join(tmpdir(), 'bench-bulk-delete-'));
  try {
    process.stderr.write(
      `Sandbox: ${DIRECTORY_SIZE} users, ${LATENCY_MS} ms latency, ${RATE_LIMIT} req/s limit; our concurrency ${CONCURRENCY}, rate ${RATE_LIMIT} req/s\n`,
    );
    const startup = await startupMs();
    const rows: string[][] = [];
    const checks: string[] = [];

    const small = pickEmails(170);
    const smallFile = join(workDir, 'emails-170.txt');
    await writeFile(smallFile, `# bench leavers\n${small.join('\n')}\n`);
    const smallReference = await measure('SDK-style sequential reference', small, (s) => sdkReference(s, small));
    const smallCli = await measure('offboard users delete (process)', small, (s) => wholeCommand(s, smallFile));
    const smallClient = await measure('client bulkDelete (in-process)', small, (s) => inProcess(s, small));
    rows.push(row(smallReference, smallReference), row(smallCli, smallReference), row(smallClient, smallReference));
    const speedUp = smallReference.wallMs / smallCli.wallMs;
    checks.push(`170 emails, whole command vs reference: ${speedUp.toFixed(1)}× (target ≥ 8×) ${speedUp >= 8 ? 'MET' : 'MISSED'}`);

    if (SMALL_ONLY) {
      process.stdout.write(`\n${markdownTable(TABLE_HEADER, rows)}\n\nCLI start-up (\`node ${CLI} --help\`, median of 3): ${startup.toFixed(0)} ms\n${checks.join('\n')}\n`);
      return;
    }
    const large = pickEmails(1_000);
    const largeFile = join(workDir, 'emails-1000.txt');
    await writeFile(largeFile, `${large.join('\n')}\n`);
    const largeReference =
      process.env.BENCH_SKIP_LARGE_REFERENCE === '1'
        ? undefined
        : await measure('SDK-style sequential reference', large, (s) => sdkReference(s, large));
    const largeClient = await measure('client bulkDelete (in-process)', large, (s) => inProcess(s, large));
    const largeCli = await measure('offboard users delete (process)', large, (s) => wholeCommand(s, largeFile));
    if (largeReference !== undefined) rows.push(row(largeReference, largeReference));
    rows.push(row(largeClient, largeReference), row(largeCli, largeReference));
    const achieved = largeClient.requests / (largeClient.wallMs / 1000);
    checks.push(
      `1,000 emails, in-process client: ${achieved.toFixed(0)} req/s = ${(achieved / RATE_LIMIT).toFixed(2)} of the limit (target ≥ 0.9) ${achieved >= 0.9 * RATE_LIMIT ? 'MET' : 'MISSED'}`,
    );
    const cliAchieved = largeCli.requests / (largeCli.wallMs / 1000);
    checks.push(`1,000 emails, whole command (start-up included): ${cliAchieved.toFixed(0)} req/s = ${(cliAchieved / RATE_LIMIT).toFixed(2)} of the limit`);

    process.stdout.write(
      `\n${markdownTable(TABLE_HEADER, rows)}\n\n`,
    );
    process.stdout.write(`CLI start-up (\`node ${CLI} --help\`, median of 3): ${startup.toFixed(0)} ms\n`);
    for (const check of checks) process.stdout.write(`${check}\n`);
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

await main();
