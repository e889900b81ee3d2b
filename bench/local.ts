/**
 * `npm run bench:local`: N emails through the whole local pipeline (local SQS → start handler → state
 * machine → task handlers → dynalite ledger), against a sandbox of N + 20 % users without latency.
 * Each size runs in its own process so its peak RSS is its own; the parent prints the table.
 *
 *   npm run bench:local                 # 2,500 / 5,000 / 10,000
 *   npm run bench:local -- --sizes 1000  # other sizes
 *
 * The stack's Arize limits (4 in flight, 10 requests/s) would make 10,000 deletes take ~17 minutes by
 * design; the bench raises them (ARIZE limits below) so it measures the pipeline, not the throttle.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { splitRequest } from '../lambdas/core/request.js';
import { loadLocalConfig, loadWorkflowDefinition, startLocalRuntime, type LocalConfigOverrides } from '../local/runtime/index.js';
import { generateDirectory } from '../local/sandbox/server.js';

const DEFAULT_SIZES = [2_500, 5_000, 10_000];
const ARIZE_MAX_CONCURRENCY = 32;
const ARIZE_MAX_REQUESTS_PER_SECOND = 1_000;

const BENCH_CONFIG: LocalConfigOverrides = {
  maxDeletesPerRequest: 1000,
  arize: { maxConcurrency: ARIZE_MAX_CONCURRENCY, maxRequestsPerSecond: ARIZE_MAX_REQUESTS_PER_SECOND },
};

interface Measurement {
  emails: number;
  startupMs: number;
  pipelineMs: number;
  maxRssMb: number;
  requests: number;
  counts: Record<string, number>;
}

async function measure(size: number): Promise<Measurement> {
  const directory = generateDirectory(Math.ceil(size * 1.2) + 1, { seed: 7 });
  // Skip the key owner (first user): every other email is a real leaver.
  const emails = directory.slice(1, size + 1).map((user) => user.email);
  const began = performance.now();
  const runtime = await startLocalRuntime({
    inMemory: true,
    arize: { mode: 'sandbox', seed: directory, latencyMs: 0 },
    config: BENCH_CONFIG,
    retainEvents: false,
  });
  const startupMs = performance.now() - began;
  try {
    const split = splitRequest({ requestId: `bench-${size}`, type: 'employee.terminated', emails, source: 'cli' });
    if (!split.ok) throw new Error(split.reason);
    const pipelineBegan = performance.now();
    await runtime.submit(split.value);
    await runtime.drain({ timeoutMs: 600_000 });
    const pipelineMs = performance.now() - pipelineBegan;
    const counts: Record<string, number> = {};
    for (const request of split.value) {
      const state = await runtime.ledger.getRequestState(request.requestId);
      for (const [status, n] of Object.entries(state?.counts ?? {})) counts[status] = (counts[status] ?? 0) + n;
    }
    return {
      emails: size,
      startupMs,
      pipelineMs,
      maxRssMb: process.resourceUsage().maxRSS / 1024,
      requests: split.value.length,
      counts,
    };
  } finally {
    await runtime.close();
  }
}

function parseSizes(argv: readonly string[]): number[] {
  const index = argv.indexOf('--sizes');
  if (index < 0) return DEFAULT_SIZES;
  const sizes = (argv[index + 1] ?? '').split(',').map(Number);
  if (sizes.length === 0 || sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('--sizes: comma-separated positive integers');
  return sizes;
}

const childSize = process.argv.indexOf('--child');
if (childSize >= 0) {
  const result = await measure(Number(process.argv[childSize + 1]));
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  const sizes = parseSizes(process.argv);
  // Synthesis (aws-cdk-lib) happens once, here, and is cached: the sizes measure the pipeline, not the synth.
  await loadWorkflowDefinition({ config: loadLocalConfig(BENCH_CONFIG) });
  const self = fileURLToPath(import.meta.url);
  const rows: Measurement[] = [];
  for (const size of sizes) {
    process.stderr.write(`bench:local — ${size} emails…\n`);
    const child = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', String(size)], {
      encoding: 'utf8',
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
      maxBuffer: 16 * 1024 * 1024,
    });
    if (child.status !== 0) {
      process.stderr.write(child.stderr);
      throw new Error(`bench for ${size} emails failed (exit ${String(child.status)})`);
    }
    const line = child.stdout.trim().split('\n').pop() ?? '';
    rows.push(JSON.parse(line) as Measurement);
  }
  const first = rows[0];
  process.stdout.write('\nemails  requests  startup_s  pipeline_s  ms_per_email  peak_rss_mb  outcomes\n');
  for (const row of rows) {
    const perEmail = row.pipelineMs / row.emails;
    const outcomes = Object.entries(row.counts).filter(([, n]) => n > 0).map(([s, n]) => `${s}=${n}`).join(' ');
    process.stdout.write(
      `${String(row.emails).padEnd(7)} ${String(row.requests).padEnd(9)} ${(row.startupMs / 1000).toFixed(1).padEnd(10)} ` +
        `${(row.pipelineMs / 1000).toFixed(1).padEnd(11)} ${perEmail.toFixed(2).padEnd(13)} ${row.maxRssMb.toFixed(0).padEnd(12)} ${outcomes}\n`,
    );
  }
  const last = rows[rows.length - 1];
  if (first !== undefined && last !== undefined && rows.length > 1) {
    const growth = last.pipelineMs / last.emails / (first.pipelineMs / first.emails);
    process.stdout.write(`\nper-email cost at ${last.emails} vs ${first.emails}: ×${growth.toFixed(2)} (≈1 means linear)\n`);
  }
  if (last !== undefined) {
    const total = (last.startupMs + last.pipelineMs) / 1000;
    process.stdout.write(`targets for ${last.emails}: wall ${total.toFixed(1)} s (≤ 90), peak RSS ${last.maxRssMb.toFixed(0)} MB (≤ 600)\n`);
  }
}
