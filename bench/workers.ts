/**
 * `npm run bench:workers` — one Arize rate limit shared by N concurrent workers (as N Lambda
 * invocations of the delete Map would be), through the token bucket item in the ledger table on
 * dynalite, against a sandbox limited to R req/s (40 ms latency) that no worker is told about.
 * For comparison, the same workers each on their own adaptive limiter (no sharing).
 * Prints figures; asserts nothing.  `-- --rates 200 --users 1000`
 */
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
      for (const shared of [true, false]) {
        const directory = generateDirectory(USERS + 1, { seed: workers });
        const sandbox = await startSandbox({ seed: directory, rateLimit: limit, latencyMs: LATENCY_MS });
        try {
          const { tableName } = await bed.freshLedger();
          const run: WorkersRun = await runWorkers({
            sandbox,
            workers,
            userIds: directory.slice(1).map((u) => u.id),
            ...(shared ? { shared: { tableName, doc: bed.doc } } : {}),
          });
          const seconds = run.wallMs / 1000;
          const achieved = run.requests / seconds;
          rows.push([
            String(limit),
            String(workers),
            shared ? 'shared bucket (ledger item)' : 'each on its own',
            `${seconds.toFixed(2)} s`,
            String(run.requests),
            `${achieved.toFixed(0)} (${(achieved / limit).toFixed(2)} R)`,
            `${run.throttled} (${((100 * run.throttled) / run.requests).toFixed(1)} %)`,
            `${run.deleted}/${run.failed}`,
          ]);
          process.stderr.write(`  done: R=${limit} N=${workers} ${shared ? 'shared' : 'independent'} in ${seconds.toFixed(2)} s\n`);
        } finally {
          await sandbox.close();
        }
      }
    }
  }
} finally {
  await bed.close();
}
const header = ['R', 'workers', 'limiter', 'wall', 'requests', 'aggregate req/s', '429s', 'deleted/failed'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
process.stdout.write(`\n${[line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n')}\n`);
process.stdout.write(`${USERS} deletes split evenly over the workers; sandbox latency ${LATENCY_MS} ms; dynalite on this machine.\n`);
