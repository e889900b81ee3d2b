/**
 * Crash-consistency suite (`npm run test:crash`): the real `offboard run` and `offboard serve` processes are
 * killed with SIGKILL at seeded random moments while they work against an Arize sandbox with faults (latency,
 * random 503, 429 from a rate limit) that runs as its own process and so survives every kill. After each kill
 * the work is restarted the way an operator would (the same `run` again; `serve` started again), and at the
 * end the invariants are checked against the sandbox's directory (over its HTTP API) and the ledger:
 *   (a) no non-leaver deleted
 *   (b) every deleted leaver has a DELETED record (and no user still present has one)
 *   (c) every submitted leaver still in Arize has a record saying why (FAILED, PROTECTED, HELD, …)
 *   (d) every event answered 2xx is in the ledger
 *   (e) every request reaches a final state after restart
 * Prints the figures and exits 1 on any violation (2 on a harness failure).
 *
 * Options: --seed N, --kills N (stop after this many kills), --budget-seconds N (stop starting iterations after
 * this long), --limit-seconds N (hard limit on the whole suite, final checks included), --users N.
 * Defaults: 50 kills, 900 s budget, 1,800 s limit; CI=true: 150 s budget, 480 s limit.
 * Every wait is cut to what the limit leaves (the final phase keeps FINAL_RESERVE_MS of it): a restarted serve that
 * stalls is a violation naming the requests still open and their states, never a hang. Each process's output is
 * kept, time-stamped, in <work dir>/logs (the work dir is kept when the suite fails).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ArizeUsersClient } from '../../lambdas/arize/index.js';
import { DynamoLedger } from '../../lambdas/adapters/ledger.js';
import type { Outcome } from '../../lambdas/core/outcome.js';
import { REQUEST_STATES } from '../../lambdas/core/outcome.js';
import { signWebhook } from '../../lambdas/core/webhook.js';
import { connectLocalRuntime, readRuntimeInfo } from '../../local/runtime/index.js';
import { generateDirectory, seededRandom } from '../../local/sandbox/seed.js';
import { waitFor } from '../support/wait.js';

// ---- options -------------------------------------------------------------------------------------

function option(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}
const CI = process.env.CI === 'true';
const SEED = Number(option('seed') ?? process.env.CRASH_SEED ?? 20261202);
const TARGET_KILLS = Number(option('kills') ?? (CI ? 1000 : 50));
const BUDGET_MS = Number(option('budget-seconds') ?? (CI ? 150 : 900)) * 1000;
const USERS = Number(option('users') ?? 2500);
const LIMIT_MS = Number(option('limit-seconds') ?? (CI ? 480 : 1800)) * 1000;
/** Kept for the final phase: a last serve start, its drain, the invariant scans and its stop. */
const FINAL_RESERVE_MS = Math.min(150_000, LIMIT_MS / 3);
const SUITE_STARTED = Date.now();
const SUITE_DEADLINE = SUITE_STARTED + LIMIT_MS;
/** What the last iteration needs before ITERATIONS_DEADLINE: its kill cycles and a restarted serve's drain. */
const ITERATION_ROOM_MS = 150_000;
/** Iterations must end by then; the final phase uses the rest. */
const ITERATIONS_DEADLINE = SUITE_DEADLINE - FINAL_RESERVE_MS;
/** What is left of `ms` before `deadline` (at least 1 ms, so a wait past the deadline times out at once). */
const capped = (ms: number, deadline: number) => Math.max(1, Math.min(ms, deadline - Date.now()));
const ROOT = new URL('../..', import.meta.url).pathname;
const SECRET = 'whsec_crash_suite_0123456789abcdef';
const API_KEY = 'crash-suite-key';
const FINAL = new Set(['COMPLETED', 'COMPLETED_WITH_FAILURES', 'HELD', 'FAILED', 'REJECTED']);

/** The whole schedule (batches, kill moments, event shapes) follows from the seed. */
const random = seededRandom(SEED);
const between = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));

// ---- processes -----------------------------------------------------------------------------------

interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}
const live = new Set<ChildProcess>();

let spawned = 0;
function spawnCli(args: string[], env: Record<string, string | undefined>): Proc {
  spawned += 1;
  const logFile = join(workDir, 'logs', `${String(spawned).padStart(3, '0')}-${args[0] ?? 'cli'}.log`);
  const t0 = Date.now();
  const stamp = (chunk: Buffer) => chunk.toString().split('\n').filter((l) => l !== '').map((l) => `+${((Date.now() - t0) / 1000).toFixed(1)}s ${l}\n`).join('');
  const child = spawn(process.execPath, [join(ROOT, 'dist/offboard.js'), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => { text = (text + chunk.toString()).slice(-20_000); appendFileSync(logFile, stamp(chunk)); });
  child.stderr?.on('data', (chunk: Buffer) => { text = (text + chunk.toString()).slice(-20_000); appendFileSync(logFile, stamp(chunk)); });
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      live.delete(child);
      resolve(code);
    }),
  );
  return { child, output: () => text, exited };
}


async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([promise, new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)))]);
  clearTimeout(timer);
  return result;
}

// ---- the world -----------------------------------------------------------------------------------

const figures = {
  iterations: 0,
  kills: 0,
  runKills: 0,
  serveKills: 0,
  runs: 0,
  eventsSent: 0,
  eventsAccepted: 0,
  leaversSubmitted: 0,
  /** Slowest time from a serve restart to every accepted event final, and from the last start to all final. */
  slowestRestartDrainMs: 0,
  finalDrainMs: 0,
};
const problems: string[] = [];
const workDir = mkdtempSync(join(tmpdir(), 'offboard-crash-'));
const dataDir = join(workDir, 'data');
mkdirSync(join(workDir, 'logs'));
const seed = generateDirectory(USERS, { seed: SEED % 100_000 });
writeFileSync(join(workDir, 'seed.json'), JSON.stringify(seed));
const seededEmails = seed.map((u) => u.email.toLowerCase());
// Every third user (and the key owner) is never asked for: deleting any of them is violation (a).
const nonLeavers = new Set(seededEmails.filter((_, index) => index % 3 === 1));
const pool = seededEmails.filter((email) => !nonLeavers.has(email));
for (let i = pool.length - 1; i > 0; i -= 1) {
  const j = Math.floor(random() * (i + 1));
  [pool[i], pool[j]] = [pool[j] as string, pool[i] as string];
}
let ghostCounter = 0;
/** Leavers whose request the system acknowledged (a finished `run`, a 2xx event): (c) applies to them. */
const submitted = new Set<string>();
/** Everyone ever sent, acknowledged or not: (a) excludes them from "non-leaver". */
const sent = new Set<string>();
const acceptedEvents = new Set<string>();

function takeLeavers(count: number): string[] {
  const emails: string[] = [];
  while (emails.length < count && pool.length > 0) emails.push(pool.pop() as string);
  // An address no one has: it must end NOT_FOUND, never touch anyone else.
  if (random() < 0.5) emails.push(`ghost-${SEED}-${(ghostCounter += 1)}@nowhere.example`);
  for (const email of emails) sent.add(email);
  return emails;
}

let sandbox: Proc;
let sandboxUrl = '';
let arizeEnv: Record<string, string> = {};

async function startSandboxProcess(): Promise<void> {
  sandbox = spawnCli(
    ['sandbox', '--port', '0', '--seed', join(workDir, 'seed.json'), '--api-key', API_KEY, '--latency-ms', '15', '--error-rate', '0.15', '--rate-limit', '60'],
    {},
  );
  sandboxUrl = await waitFor(() => /^(http:\/\/127\.0\.0\.1:\d+)/m.exec(sandbox.output())?.[1], 60_000, 'the sandbox URL');
  const port = new URL(sandboxUrl).port;
  arizeEnv = {
    ARIZE_API_KEY: API_KEY,
    ARIZE_API_HOST: '127.0.0.1',
    ARIZE_API_SCHEME: 'http',
    ARIZE_API_PORT: port,
    OFFBOARDING_WEBHOOK_SECRET: SECRET,
    // Real waits against an external API: keep the workflow's retry backoff short through config, not a clock.
    OFFBOARDING_CONFIG: JSON.stringify({
      retry: { maxAttempts: 3, backoffSeconds: 1, backoffRate: 1 },
      arize: { maxConcurrency: 8, maxRequestsPerSecond: 80 },
      maxDeletesPerRequest: 100,
    }),
  };
}

function kill(proc: Proc, label: string): Promise<number | null> {
  if (proc.child.exitCode === null && proc.child.pid !== undefined) {
    process.kill(proc.child.pid, 'SIGKILL');
    figures.kills += 1;
    if (label === 'run') figures.runKills += 1;
    else figures.serveKills += 1;
  }
  return proc.exited;
}

// ---- iterations ----------------------------------------------------------------------------------

async function runIteration(iteration: number): Promise<void> {
  const emails = takeLeavers(between(8, 30));
  if (emails.length === 0) return;
  const requestId = `crash-${SEED}-run-${iteration}`;
  const file = join(workDir, `${requestId}.json`);
  writeFileSync(file, JSON.stringify([{ requestId, type: 'employee.terminated', emails }]));
  const args = ['run', file, '--data-dir', dataDir, '--confirm', '--timeout', String(Math.ceil(capped(240_000, ITERATIONS_DEADLINE) / 1000)), '-o', 'json'];
  // Kill it once, sometimes twice (the second kill lands in the resumed run), then let it finish.
  const kills = random() < 0.3 ? 2 : 1;
  for (let k = 0; k < kills; k += 1) {
    const proc = spawnCli(args, arizeEnv);
    const delay = between(300, 9_000);
    const early = await withTimeout(proc.exited, delay);
    if (early !== 'timeout') {
      if (early !== 0 && early !== 1) problems.push(`run ${requestId} exited ${String(early)} before its kill: ${proc.output().slice(-600)}`);
      break;
    }
    await kill(proc, 'run');
  }
  const last = spawnCli(args, arizeEnv);
  const allowedMs = capped(300_000, ITERATIONS_DEADLINE);
  const code = await withTimeout(last.exited, allowedMs);
  figures.runs += 1;
  if (code === 'timeout') {
    await kill(last, 'run');
    figures.kills -= 1;
    figures.runKills -= 1;
    problems.push(
      `(e) run ${requestId} did not finish within ${Math.round(allowedMs / 1000)} s after restart; its last output: ` +
        `${JSON.stringify(last.output().slice(-300))}; see ${workDir}/logs`,
    );
    return;
  }
  if (code !== 0 && code !== 1) {
    problems.push(`run ${requestId} exited ${String(code)} after restart: ${last.output().slice(-600)}`);
    return;
  }
  for (const email of emails) submitted.add(email);
}

async function startServe(deadline: number): Promise<{ proc: Proc; url: string }> {
  const proc = spawnCli(['serve', '--port', '0', '--data-dir', dataDir, '--confirm'], arizeEnv);
  const url = await waitFor(
    () => {
      if (proc.child.exitCode !== null) throw new Error(`serve exited ${proc.child.exitCode}: ${proc.output().slice(-800)}`);
      return /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(proc.output())?.[1];
    },
    capped(90_000, deadline),
    'offboard serve to listen',
  );
  return { proc, url };
}

/** Waits until every request id is final; otherwise lists the open ones with their states (capped at 20). */
async function waitForFinal(ledger: DynamoLedger, requestIds: () => Promise<string[]>, timeoutMs: number): Promise<{ open: string[]; ms: number }> {
  const began = Date.now();
  let open: string[] = [];
  try {
    await waitFor(
      async () => {
        const ids = await requestIds();
        const states = await Promise.all(ids.map(async (id) => [id, (await ledger.getRequestState(id))?.status ?? 'absent'] as const));
        open = states.filter(([, status]) => !FINAL.has(status)).map(([id, status]) => `${id}: ${status}`);
        return open.length === 0 ? true : undefined;
      },
      timeoutMs,
      'requests to be final',
      1_000,
    );
  } catch {
    // `open` holds the last poll's answer.
  }
  return { open, ms: Date.now() - began };
}

function describeOpen(open: string[]): string {
  return `${open.slice(0, 20).join(', ')}${open.length > 20 ? `, … (${open.length - 20} more)` : ''}`;
}

async function postEvent(url: string, eventId: string, emails: string[]): Promise<number | 'error'> {
  const event = emails.length === 1 && random() < 0.5
    ? { eventId, type: 'employee.terminated', employee: { email: emails[0] } }
    : { eventId, type: 'employee.terminated', emails };
  const body = JSON.stringify(event);
  try {
    const response = await fetch(`${url}/hr/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-offboarding-signature': signWebhook(SECRET, body, Date.now() / 1000) },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 'error';
  }
}

async function serveIteration(iteration: number): Promise<void> {
  let counter = 0;
  // One to three kill cycles: start, the HR poster sends events one after another, SIGKILL at a random moment.
  const cycles = between(1, 3);
  for (let cycle = 0; cycle < cycles; cycle += 1) {
    const started = await startServe(ITERATIONS_DEADLINE);
    // Two HR posters send events one after another; the kill lands at a random moment, often mid-request.
    let stop = false;
    const poster = async () => {
      while (!stop) {
        const emails = takeLeavers(between(1, 4));
        if (emails.length === 0) return;
        const eventId = `crash-${SEED}-${iteration}-${(counter += 1)}`;
        figures.eventsSent += 1;
        const status = await postEvent(started.url, eventId, emails);
        // Only a 2xx answer counts as accepted; a connection cut by the kill does not.
        if (typeof status === 'number' && status >= 200 && status < 300) {
          acceptedEvents.add(eventId);
          figures.eventsAccepted += 1;
          for (const email of emails) submitted.add(email);
        } else if (typeof status === 'number') {
          problems.push(`event ${eventId} answered ${status}`);
        } else if (!stop) {
          return;
        }
        await sleep(between(0, 120));
      }
    };
    const posters = [poster(), poster()];
    await sleep(between(200, 5_000));
    await kill(started.proc, 'serve');
    stop = true;
    await Promise.all(posters);
  }
  // Restart: it must pick up every accepted event and resume every started request.
  const again = await startServe(ITERATIONS_DEADLINE);
  const info = await waitFor(() => readRuntimeInfo(dataDir), capped(30_000, ITERATIONS_DEADLINE), 'runtime.json');
  const remote = connectLocalRuntime(info);
  try {
    const allowedMs = capped(240_000, ITERATIONS_DEADLINE);
    const { open, ms } = await waitForFinal(remote.ledger, () => Promise.resolve([...acceptedEvents].map((id) => `hr-${id}`)), allowedMs);
    figures.slowestRestartDrainMs = Math.max(figures.slowestRestartDrainMs, ms);
    if (open.length > 0) {
      problems.push(
        `(e) iteration ${iteration}: ${open.length} accepted event(s) not final ${Math.round(allowedMs / 1000)} s after the serve restart: ` +
          `${describeOpen(open)}; see ${workDir}/logs`,
      );
    }
  } finally {
    await remote.close();
  }
  await stopServe(again.proc, SUITE_DEADLINE - FINAL_RESERVE_MS / 2);
}

/** SIGTERM, then SIGKILL (a violation) if it has not exited within 30 s or by `deadline`. */
async function stopServe(proc: Proc, deadline: number): Promise<void> {
  proc.child.kill('SIGTERM');
  const allowedMs = capped(30_000, deadline);
  if ((await withTimeout(proc.exited, allowedMs)) === 'timeout') {
    problems.push(`serve (pid ${proc.child.pid ?? '?'}) did not stop within ${Math.round(allowedMs / 1000)} s of SIGTERM; see ${workDir}/logs`);
    await kill(proc, 'serve');
  }
}

// ---- checks --------------------------------------------------------------------------------------

async function checkInvariants(): Promise<Record<string, number>> {
  // A last restart: everything unfinished must resume and finish.
  const { proc } = await startServe(SUITE_DEADLINE);
  const info = await waitFor(() => readRuntimeInfo(dataDir), capped(30_000, SUITE_DEADLINE), 'runtime.json');
  const remote = connectLocalRuntime(info);
  const ledger: DynamoLedger = remote.ledger;
  const counts = { a: 0, b: 0, bStale: 0, c: 0, d: 0, e: 0 };
  try {
    // The scans and the stop below need about half a minute of what is left.
    const allowedMs = capped(240_000, SUITE_DEADLINE - 40_000);
    const { open, ms } = await waitForFinal(
      ledger,
      async () => [...new Set([...(await ledger.scanRequestStates(['RECEIVED', 'RUNNING'])).map((s) => s.requestId), ...[...acceptedEvents].map((id) => `hr-${id}`)])],
      allowedMs,
    );
    figures.finalDrainMs = ms;
    counts.e = open.length;
    if (open.length > 0) problems.push(`(e) ${open.length} request(s) not final ${Math.round(allowedMs / 1000)} s after the last serve start: ${describeOpen(open)}`);

    const states = await ledger.scanRequestStates(REQUEST_STATES);
    const byEmail = new Map<string, Outcome[]>();
    for (const state of states) {
      for (const outcome of await ledger.outcomesOfRequest(state.requestId)) {
        const list = byEmail.get(outcome.email) ?? [];
        list.push(outcome);
        byEmail.set(outcome.email, list);
      }
    }
    for (const eventId of acceptedEvents) {
      if (!states.some((state) => state.requestId === `hr-${eventId}`)) {
        counts.d += 1;
        problems.push(`(d) accepted event ${eventId} is not in the ledger`);
      }
    }
    const arize = new ArizeUsersClient({ baseUrl: sandboxUrl, apiKey: API_KEY, maxRetries: 10, env: {} });
    const present = new Set<string>();
    for await (const user of arize.listAll({ pageSize: 100 })) present.add(user.email.toLowerCase());
    for (const email of seededEmails) {
      const outcomes = byEmail.get(email) ?? [];
      const deletedRecord = outcomes.some((o) => o.status === 'DELETED');
      if (!present.has(email)) {
        if (!sent.has(email)) {
          counts.a += 1;
          problems.push(`(a) a non-leaver was deleted (${email.replace(/^(.).*@/, '$1***@')})`);
        } else if (!deletedRecord) {
          counts.b += 1;
          problems.push(`(b) deleted leaver without DELETED record: ${outcomes.map((o) => `${o.requestId}:${o.status}@${o.attempt}`).join(', ') || 'no record'}`);
        }
      } else {
        if (deletedRecord) {
          counts.bStale += 1;
          problems.push(`(b) DELETED recorded for a user still in Arize (${email.replace(/^(.).*@/, '$1***@')})`);
        }
        if (submitted.has(email) && !outcomes.some((o) => ['FAILED', 'PROTECTED', 'HELD', 'DRY_RUN', 'REJECTED'].includes(o.status))) {
          counts.c += 1;
          problems.push(`(c) leaver still in Arize without a reason: ${outcomes.map((o) => `${o.requestId}:${o.status}`).join(', ') || 'no record'}`);
        }
      }
    }
    figures.leaversSubmitted = submitted.size;
    return { ...counts, deletedUsers: seededEmails.filter((e) => !present.has(e)).length, requests: states.length };
  } finally {
    await remote.close();
    await stopServe(proc, SUITE_DEADLINE);
  }
}

// ---- main ----------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const started = SUITE_STARTED;
  console.log(
    `crash suite: seed ${SEED}, ${USERS} users, target ${TARGET_KILLS} kills, budget ${BUDGET_MS / 1000} s, limit ${LIMIT_MS / 1000} s, work dir ${workDir}`,
  );
  await startSandboxProcess();
  let iteration = 0;
  // An iteration started late could not drain before the final phase. A restarted serve's drain is every
  // accepted leaver's delete, verification and access inventory (about 8 Arize calls each) under the sandbox's
  // 60 req/s limit and 15 % errors: 80 s for ~350 leavers on a loaded 2-core CI machine. So the last iteration
  // must start with 150 s to spare, or a slow machine's drain is cut by the deadline and reads as a stall.
  while (figures.kills < TARGET_KILLS && Date.now() - started < BUDGET_MS && Date.now() < ITERATIONS_DEADLINE - ITERATION_ROOM_MS && pool.length > 0) {
    iteration += 1;
    const mode = random() < 0.5 ? 'run' : 'serve';
    const before = figures.kills;
    if (mode === 'run') await runIteration(iteration);
    else await serveIteration(iteration);
    figures.iterations += 1;
    console.log(`iteration ${iteration} (${mode}): ${figures.kills - before} kill(s); totals ${figures.kills} kills, ${figures.eventsAccepted}/${figures.eventsSent} events accepted, ${Math.round((Date.now() - started) / 1000)} s`);
  }
  const invariants = await checkInvariants();
  const elapsed = Math.round((Date.now() - started) / 1000);
  console.log('');
  console.log(`seed ${SEED}: ${figures.iterations} iterations, ${figures.kills} SIGKILLs (run ${figures.runKills}, serve ${figures.serveKills}), ${figures.runs} runs, ${figures.eventsAccepted} of ${figures.eventsSent} events accepted, ${figures.leaversSubmitted} leavers acknowledged, ${invariants.deletedUsers} users deleted, ${invariants.requests} requests, ${elapsed} s`);
  console.log(`(a) non-leavers deleted: ${invariants.a}`);
  console.log(`(b) deleted leavers without DELETED: ${invariants.b}; DELETED but still present: ${invariants.bStale}`);
  console.log(`(c) leavers still in Arize without a reason: ${invariants.c}`);
  console.log(`(d) accepted events missing from the ledger: ${invariants.d}`);
  console.log(`(e) requests not final after restart: ${invariants.e}`);
  console.log(
    `slowest drain after a serve restart: ${(figures.slowestRestartDrainMs / 1000).toFixed(1)} s; final drain: ${(figures.finalDrainMs / 1000).toFixed(1)} s`,
  );
  for (const problem of problems) console.log(`violation: ${problem}`);
  const violations = problems.length;
  console.log(`crash suite: ${violations === 0 ? 'OK' : 'FAILED'} — ${violations} violation(s) over ${figures.kills} kills`);
  return violations === 0 && figures.kills > 0 ? 0 : 1;
}

// Last resort: every wait above is capped by the limit, so this fires only if something ignores it.
const watchdog = setTimeout(() => {
  console.error(`crash suite: harness error: still running ${Math.round((LIMIT_MS + 60_000) / 1000)} s after the start (limit ${LIMIT_MS / 1000} s); work dir ${workDir}`);
  for (const child of live) if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  process.exit(2);
}, LIMIT_MS + 60_000);
watchdog.unref();

main()
  .then((code) => (process.exitCode = code))
  .catch((error: unknown) => {
    console.error(`crash suite: harness error: ${error instanceof Error ? error.stack : String(error)}`);
    process.exitCode = 2;
  })
  .finally(() => {
    for (const child of live) if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    if (process.exitCode === 0) rmSync(workDir, { recursive: true, force: true });
  });
