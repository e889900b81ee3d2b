/**
 * `npm run bench:workers` — one Arize rate limit shared by N concurrent workers (as N Lambda
 * invocations of the delete Map would be), through the token bucket item in the ledger table on
 * dynalite, against a sandbox limited to R req/s (40 ms latency) that no worker is told about.
 * For comparison, the same workers each on their own adaptive limiter (no sharing).
 * Prints figures; asserts nothing.  `-- --rates 200 --users 1000`
 */
import { loadavg } from 'node:os';
import { generateDirectory, startSandbox } from '../local/sandbox/server.js';
import { startLedgerTestBed } from '../test/support/dynalite.js';
import { runWorkers, type WorkersRun } from '../test/support/workers.js';

function arg(name: string, fallback: string): string {
  const index = process.argv.indexOf(name);
  return (index >= 0 ? process.argv[index + 1] : undefined) ?? fallback;
}

const RATES = arg('--rates', '200').split(',').map(Number);
const USERS = Number(arg('--users', '1000'));
const WORKERS = arg('--workers', '4,16').split(',').map(Number);
const LATENCY_MS = 40;

const bed = await startLedgerTestBed();
const rows: string[][] = [];
try {
  for (const limit of RATES) {
    for (const workers of WORKERS) {
      // Shared: a first run on a fresh bucket item (the limit unknown), then the next run on the same
      // item (the limit it learned kept, as it is between invocations and runs in AWS). Then each worker
      // on its own limiter, for comparison.
      const { tableName } = await bed.freshLedger();
      for (const [label, shared] of [
        ['shared bucket, first run (fresh item)', true],
        ['shared bucket, next run (limit kept)', true],
        ['each on its own', false],
      ] as const) {
        const directory = generateDirectory(USERS + 1, { seed: workers + rows.length });
        const sandbox = await startSandbox({ seed: directory, rateLimit: limit, latencyMs: LATENCY_MS });
        try {
          const run: WorkersRun = await runWorkers({
            sandbox,
            workers,
            userIds: directory.slice(1).map((u) => u.id),
            ...(shared ? { shared: { tableName, doc: bed.doc } } : {}),
          });
          const seconds = run.wallMs / 1000;
          const achieved = run.requests / seconds;
          const accepted = (run.requests - run.throttled) / seconds;
          rows.push([
            String(limit),
            String(workers),
            label,
            `${seconds.toFixed(2)} s`,
            String(run.requests),
            `${achieved.toFixed(0)} (${(achieved / limit).toFixed(2)} R)`,
            `${accepted.toFixed(0)} (${(accepted / limit).toFixed(2)} R)`,
            `${run.throttled} (${((100 * run.throttled) / run.requests).toFixed(1)} %)`,
            `${run.deleted}/${run.failed}`,
          ]);
          process.stderr.write(`  done: R=${limit} N=${workers} ${label} in ${seconds.toFixed(2)} s\n`);
        } finally {
          await sandbox.close();
        }
      }
    }
  }
} finally {
  await bed.close();
}
const header = ['R', 'workers', 'limiter', 'wall', 'requests', 'aggregate req/s', 'accepted req/s', '429s', 'deleted/failed'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
process.stdout.write(`\n${[line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n')}\n`);
process.stdout.write(`${USERS} deletes split evenly over the workers; sandbox latency ${LATENCY_MS} ms, burst one second's worth; dynalite on this machine (load ${loadavg()[0]?.toFixed(1)}).\n`);
