/**
 * `npm run bench:bulk-delete` — bulk delete against a sandbox that behaves like a real,
 * distant, rate-limited Arize (40 ms per response, 200 req/s token bucket), comparing:
 *   - a sequential reference that follows the official SDK's bulk_delete algorithm
 *     (one paginated, email-filtered list call per email, exact match, then one delete per id,
 *     one request at a time, urllib3's retries on 429 with Retry-After);
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
/** Server-side limits the client is never told about (`-- --rates 200` to pick some). */
const RATES = argList('--rates', [20, 200, 1_000]);
const DIRECTORY_SIZE = 2_000;
/** The "tuned" rows: a user who knows the limit passes --rate R --concurrency 32 --rate-control fixed. */
const TUNED_CONCURRENCY = 32;
/** `-- --small-only` skips the 1,000-email runs; `-- --no-reference` skips the sequential reference. */
const SMALL_ONLY = process.argv.includes('--small-only');
const NO_REFERENCE = process.argv.includes('--no-reference');
const API_KEY = 'bench-key';
/** BENCH_CLI=<file> runs another build of the CLI (e.g. an esbuild bundle) to compare start-up costs. */
const CLI = process.env.BENCH_CLI ?? CLI_ENTRY;

function argList(name: string, fallback: number[]): number[] {
  const index = process.argv.indexOf(name);
  const value = index >= 0 ? process.argv[index + 1] : undefined;
  return value === undefined ? fallback : value.split(',').map(Number);
}

/** `protected`: an admin the CLI keeps unless --include-protected (the SDK-style reference deletes it). */
type Status = 'deleted' | 'not_found' | 'failed' | 'protected';

interface RunResult {
  scenario: string;
  limit: number;
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

function freshSandbox(rateLimit: number): Promise<Sandbox> {
  return startSandbox({ seed: directory, apiKey: API_KEY, latencyMs: LATENCY_MS, rateLimit });
}

function tally(statuses: readonly Status[]): Record<Status, number> {
  const counts: Record<Status, number> = { deleted: 0, not_found: 0, failed: 0, protected: 0 };
  for (const status of statuses) counts[status] += 1;
  return counts;
}

async function measure(
  scenario: string,
  limit: number,
  emails: string[],
  run: (sandbox: Sandbox) => Promise<Status[]>,
): Promise<RunResult> {
  const sandbox = await freshSandbox(limit);
  try {
    sandbox.counters.reset();
    const started = performance.now();
    const statuses = await run(sandbox);
    const wallMs = performance.now() - started;
    const result: RunResult = {
      scenario,
      limit,
      emails: emails.length,
      wallMs,
      requests: sandbox.counters.total,
      throttled: sandbox.counters.status['429'] ?? 0,
      statuses: tally(statuses),
    };
    process.stderr.write(`  done: R=${limit} ${scenario} (${emails.length} emails) in ${(wallMs / 1000).toFixed(2)} s\n`);
    return result;
  } finally {
    await sandbox.close();
  }
}

/**
 * The SDK's bulk_delete, faithfully slow (../shared/arize-api.md): resolve every email, then delete every id, one
 * call at a time. A lookup that still fails after urllib3's retries aborts the whole call before any delete.
 */
async function sdkReference(sandbox: Sandbox, emails: string[]): Promise<Status[]> {
  const headers = { authorization: `Bearer ${sandbox.apiKey}`, accept: 'application/json' };
  const statuses: Status[] = [];
  const resolved: string[] = [];
  for (const email of emails) {
    let cursor: string | undefined;
    let matchId: string | undefined;
    do {
      const url = new URL('/v2/users', sandbox.url);
      url.searchParams.set('email', email);
      url.searchParams.set('limit', '100');
      if (cursor !== undefined) url.searchParams.set('cursor', cursor);
      const response = await sdkRequest(url, 'GET', headers);
      if (!response.ok) {
        process.stderr.write(`    reference: a lookup raised (HTTP ${response.status} after retries): the SDK call aborts before any delete\n`);
        return emails.map(() => 'failed');
      }
      const page = ListUsersResponseSchema.parse(await response.json());
      matchId = page.users.find((user) => sameEmail(user.email, email))?.id;
      cursor = page.pagination.has_more ? page.pagination.next_cursor : undefined;
    } while (matchId === undefined && cursor !== undefined);
    if (matchId === undefined) statuses.push('not_found');
    else resolved.push(matchId);
  }
  for (const id of resolved) {
    const response = await sdkRequest(new URL(`/v2/users/${encodeURIComponent(id)}`, sandbox.url), 'DELETE', headers);
    await response.arrayBuffer();
    statuses.push(response.status === 204 ? 'deleted' : 'failed');
  }
  return statuses;
}

/** urllib3's default Retry(total=3) as the SDK gets it: GET/DELETE on 429/503/413 with Retry-After, sleeping exactly that. */
async function sdkRequest(url: URL, method: 'GET' | 'DELETE', headers: Record<string, string>): Promise<Response> {
  for (let retries = 0; ; retries++) {
    const response = await fetch(url, { method, headers });
    const retryAfter = Number(response.headers.get('retry-after') ?? Number.NaN);
    if (retries === 3 || ![429, 503, 413].includes(response.status) || !Number.isFinite(retryAfter)) return response;
    await response.arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000));
  }
}

/** The client with its defaults (adaptive), or tuned to a known limit. */
async function inProcess(sandbox: Sandbox, emails: string[], tunedTo?: number): Promise<Status[]> {
  const client = new ArizeUsersClient({
    baseUrl: sandbox.url,
    apiKey: sandbox.apiKey,
    env: {},
    ...(tunedTo === undefined ? {} : { maxConcurrency: TUNED_CONCURRENCY, maxRequestsPerSecond: tunedTo, rateControl: 'fixed' as const }),
  });
  const results = await client.bulkDelete({ emails });
  const control = client.rateControl;
  process.stderr.write(
    `    client: final rate ${control.rate.toFixed(0)} req/s, estimated limit ${control.estimatedLimit?.toFixed(0) ?? '-'}, ${client.stats.throttled} × 429\n`,
  );
  return results.map((r) => r.status);
}

/** The whole `offboard users delete` command as a process: no flags, or tuned to a known limit. */
async function wholeCommand(sandbox: Sandbox, emailsFile: string, tunedTo?: number): Promise<Status[]> {
  const tuning =
    tunedTo === undefined ? [] : ['--rate', String(tunedTo), '--concurrency', String(TUNED_CONCURRENCY), '--rate-control', 'fixed'];
  // --max-deletes is the blast-radius cap (a safety setting, not a tuning flag).
  const run = await runCli(['users', 'delete', '--emails-file', emailsFile, '--yes', '--max-deletes', '1000000', ...tuning, '--output', 'json'], {
    entry: CLI,
    env: { ARIZE_API_KEY: sandbox.apiKey, ARIZE_API_HOST: '127.0.0.1', ARIZE_API_SCHEME: 'http', ARIZE_API_PORT: String(sandbox.port) },
  });
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
  const rate = result.requests / seconds;
  return [
    String(result.limit),
    result.scenario,
    String(result.emails),
    `${seconds.toFixed(2)} s`,
    String(result.requests),
    `${rate.toFixed(0)} (${(rate / result.limit).toFixed(2)} R)`,
    (result.requests / result.emails).toFixed(2),
    `${result.throttled} (${((100 * result.throttled) / result.requests).toFixed(1)} %)`,
    `${result.statuses.deleted}/${result.statuses.protected}/${result.statuses.not_found}/${result.statuses.failed}`,
    reference === undefined ? 'n/a' : reference === result ? '1.0×' : `${(reference.wallMs / result.wallMs).toFixed(1)}×`,
  ];
}

function markdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

const TABLE_HEADER = ['R', 'scenario', 'emails', 'wall', 'requests', 'req/s', 'calls/email', '429s', 'deleted/protected/not_found/failed', 'speed-up'];

function verdict(met: boolean): string {
  return met ? 'MET' : 'MISSED';
}

async function main(): Promise<void> {
  const workDir = await mkdtemp(join(tmpdir(), 'bench-bulk-delete-'));
  try {
    process.stderr.write(`Sandbox: ${DIRECTORY_SIZE} users, ${LATENCY_MS} ms latency, limits ${RATES.join(', ')} req/s (unknown to the client)\n`);
    const startup = await startupMs();
    const rows: string[][] = [];
    const checks: string[] = [];
    const small = pickEmails(170);
    const smallFile = join(workDir, 'emails-170.txt');
    await writeFile(smallFile, `# bench leavers\n${small.join('\n')}\n`);
    const large = pickEmails(1_000);
    const largeFile = join(workDir, 'emails-1000.txt');
    await writeFile(largeFile, `${large.join('\n')}\n`);

    for (const limit of RATES) {
      const smallReference = NO_REFERENCE ? undefined : await measure('SDK-style sequential reference', limit, small, (s) => sdkReference(s, small));
      const smallCli = await measure('`offboard users delete`, no flags', limit, small, (s) => wholeCommand(s, smallFile));
      const smallTuned = await measure('`offboard users delete`, tuned', limit, small, (s) => wholeCommand(s, smallFile, limit));
      if (smallReference) rows.push(row(smallReference, smallReference));
      rows.push(row(smallCli, smallReference), row(smallTuned, smallReference));
      if (smallReference) {
        const speedUp = smallReference.wallMs / smallCli.wallMs;
        checks.push(`R=${limit}: 170 emails, whole command with no flags vs reference: ${speedUp.toFixed(1)}× (target ≥ 8×) ${verdict(speedUp >= 8)}`);
      }
      if (SMALL_ONLY) continue;

      const largeReference = NO_REFERENCE ? undefined : await measure('SDK-style sequential reference', limit, large, (s) => sdkReference(s, large));
      const largeClient = await measure('client bulkDelete, defaults (in-process)', limit, large, (s) => inProcess(s, large));
      const largeCli = await measure('`offboard users delete`, no flags', limit, large, (s) => wholeCommand(s, largeFile));
      const largeTuned = await measure('`offboard users delete`, tuned', limit, large, (s) => wholeCommand(s, largeFile, limit));
      if (largeReference) rows.push(row(largeReference, largeReference));
      rows.push(row(largeClient, largeReference), row(largeCli, largeReference), row(largeTuned, largeReference));
      for (const [label, result] of [['in-process client', largeClient], ['whole command', largeCli]] as const) {
        const achieved = result.requests / (result.wallMs / 1000);
        const share = result.throttled / result.requests;
        const lost = result.statuses.failed + result.statuses.not_found;
        checks.push(
          `R=${limit}: 1,000 emails, ${label}, no flags: ${achieved.toFixed(0)} req/s = ${(achieved / limit).toFixed(2)} R (target ≥ 0.9) ${verdict(achieved >= 0.9 * limit)}; ` +
            `429s ${(100 * share).toFixed(1)} % (target ≤ 3 %) ${verdict(share <= 0.03)}; lost ${lost} ${verdict(lost === 0)}`,
        );
      }
    }

    process.stdout.write(`\n${markdownTable(TABLE_HEADER, rows)}\n\n`);
    process.stdout.write(`CLI start-up (\`node ${CLI} --help\`, median of 3): ${startup.toFixed(0)} ms\n`);
    for (const check of checks) process.stdout.write(`${check}\n`);
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

await main();
