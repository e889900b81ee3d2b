/**
 * `npm run bench:local -- --cli`: what a user runs — `offboard run emails.txt --confirm` as its own process
 * against `offboard sandbox` (another process, N + 20 % users, no latency), 10,000 and 100,000 emails by
 * default (`--sizes`), writing `-o csv` (`--output table|json` for another format). Prints seconds, µs per email, the `run` process's peak RSS (VmHWM; the sandbox is
 * not part of the product and is left out), what it wrote to stderr besides its own lines and its last
 * `--progress` line.
 *
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
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { splitRequest } from '../lambdas/core/request.js';
import { loadLocalConfig, loadWorkflowDefinition, startLocalRuntime, type LocalConfigOverrides } from '../local/runtime/index.js';
import { parseOutputFormat } from '../local/cli/output.js';
import { generateDirectory } from '../local/sandbox/server.js';
import { buildCli, CLI_BUNDLE } from '../scripts/build-cli.js';

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

const CLI = CLI_BUNDLE;

/** Peak resident set (VmHWM) of a live process, in MB; undefined once it has exited. */
function peakRssMb(pid: number): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

interface CliMeasurement {
  emails: number;
  seconds: number;
  peakRssMb: number;
  exitCode: number | null;
  /** stderr lines that are not the CLI's own (library warnings, stack traces). */
  noise: string[];
  lastProgress: string;
}

/** Lines `offboard run` itself writes to stderr; anything else is noise from a library. */
const OWN_STDERR = /^(\S+: (list|csv|json|ndjson), |Deleting for real|arize: |Enqueued |Requests: |Offboarding |Emails: |\[|note: |warn: |Note: |\r)/;

async function measureCli(size: number): Promise<CliMeasurement> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-local-cli-'));
  try {
    const directory = generateDirectory(Math.ceil(size * 1.2) + 1, { seed: 7 });
    writeFileSync(join(dir, 'seed.json'), JSON.stringify(directory));
    writeFileSync(join(dir, 'leavers.txt'), `${directory.slice(1, size + 1).map((user) => user.email).join('\n')}\n`);
    const sandbox = spawn(process.execPath, [CLI, 'sandbox', '--port', '0', '--seed', join(dir, 'seed.json'), '--api-key', 'bench-key'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let sandboxOut = '';
    sandbox.stdout.on('data', (chunk: Buffer) => (sandboxOut += chunk.toString()));
    try {
      const port = await new Promise<string>((resolve, reject) => {
        const timer = setInterval(() => {
          const found = /^http:\/\/127\.0\.0\.1:(\d+)/m.exec(sandboxOut)?.[1];
          if (found !== undefined) {
            clearInterval(timer);
            resolve(found);
          } else if (sandbox.exitCode !== null) {
            clearInterval(timer);
            reject(new Error(`sandbox exited ${String(sandbox.exitCode)}`));
          }
        }, 100);
      });
      const began = performance.now();
      // Executed as `offboard` is, through its shebang: the Node flags it carries are part of what ships.
      const run = spawn(CLI, ['run', join(dir, 'leavers.txt'), '--data-dir', join(dir, 'data'), '--confirm', '--timeout', '3600', '-o', CLI_OUTPUT, '--progress'], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: {
          ...process.env,
          ARIZE_API_KEY: 'bench-key',
          ARIZE_API_HOST: '127.0.0.1',
          ARIZE_API_SCHEME: 'http',
          ARIZE_API_PORT: port,
          OFFBOARDING_CONFIG: JSON.stringify(BENCH_CONFIG),
        },
      });
      let stderr = '';
      run.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2_000_000)));
      let peak = 0;
      const sampler = setInterval(() => (peak = Math.max(peak, run.pid === undefined ? 0 : (peakRssMb(run.pid) ?? 0))), 200);
      const exitCode = await new Promise<number | null>((resolve) => run.on('exit', (code) => resolve(code)));
      clearInterval(sampler);
      const lines = stderr.split(/\n/).filter((line) => line.trim() !== '');
      return {
        emails: size,
        seconds: (performance.now() - began) / 1000,
        peakRssMb: peak,
        exitCode,
        noise: lines.filter((line) => !OWN_STDERR.test(line)).slice(0, 5),
        lastProgress: (lines.filter((line) => /Requests: |Emails: |Offboarding /.test(line)).pop() ?? '').replace(/\r/g, '').slice(-120),
      };
    } finally {
      sandbox.kill('SIGTERM');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `-- --output table|json` measures another output format of `run` (csv by default). */
const CLI_OUTPUT = parseOutputFormat(process.argv.includes('--output') ? (process.argv[process.argv.indexOf('--output') + 1] ?? '') : 'csv');

async function benchCli(sizes: readonly number[]): Promise<void> {
  // What a user runs is the built bundle: built from these sources first, as `npm run build` would.
  await buildCli({ quiet: true });
  // Warm-up, not reported: the synthesised state machine (cached per config; synthesis alone peaks near 600 MB)
  // is a start-up cost, not a per-email one.
  process.stderr.write('bench:local --cli — warm-up run (state-machine cache)…\n');
  await measureCli(20);
  const rows: CliMeasurement[] = [];
  for (const size of sizes) {
    process.stderr.write(`bench:local --cli — offboard run -o ${CLI_OUTPUT} with ${size} emails (load average ${loadavg()[0]?.toFixed(1)} on ${cpus().length} cores)…\n`);
    const row = await measureCli(size);
    rows.push(row);
    // Each row as soon as it is measured: a 100,000-email run takes long, and an interrupted bench keeps the rest.
    process.stderr.write(`  ${size} emails: exit ${String(row.exitCode)}, ${row.seconds.toFixed(1)} s, peak RSS ${row.peakRssMb.toFixed(0)} MB\n`);
  }
  const base = rows[0];
  process.stdout.write('\n| emails | exit | wall s | µs/email | vs first | peak RSS MB (`run`) | stderr noise | last progress line |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n');
  for (const row of rows) {
    const perEmail = (row.seconds * 1e6) / row.emails;
    const ratio = base === undefined ? 1 : perEmail / ((base.seconds * 1e6) / base.emails);
    process.stdout.write(
      `| ${row.emails} | ${String(row.exitCode)} | ${row.seconds.toFixed(1)} | ${perEmail.toFixed(0)} | ×${ratio.toFixed(2)} | ${row.peakRssMb.toFixed(0)} | ` +
        `${row.noise.length === 0 ? 'none' : row.noise.join(' / ').slice(0, 200)} | ${row.lastProgress} |\n`,
    );
  }
  process.stdout.write(`load average at the end: ${loadavg().map((n) => n.toFixed(1)).join(' ')} on ${cpus().length} cores\n`);
}

const childSize = process.argv.indexOf('--child');
if (process.argv.includes('--cli')) {
  await benchCli(process.argv.includes('--sizes') ? parseSizes(process.argv) : [10_000, 100_000]);
} else if (childSize >= 0) {
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
