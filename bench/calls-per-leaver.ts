/**
 * `npx tsx bench/calls-per-leaver.ts [-- --leavers 100 --chunk 100 --fast]` — how many Arize calls the workflow's
 * ResolveEmails + DeleteChunk tasks make per leaver (the throughput cost of verification and the access
 * inventory), against the sandbox with demo access (bindings, USER and SERVICE keys) over HTTP and a dynalite
 * ledger. Prints figures; asserts nothing.
 *
 * The client is configured as the deployed functions' is (the client's defaults: adaptive rate under its
 * ceilings), because resolution chooses between per-email lookups and a directory scan by the pace it expects
 * (lambdas/arize/resolve.ts). `--fast` gives it 8 in flight and 10,000 req/s instead: quicker to run, and a pace
 * at which a batch of 100 is resolved by lookups (one call per email).
 */
import { ArizeUsersClient } from '../lambdas/arize/index.js';
import { loadRuntimeConfig } from '../lambdas/core/runtime-config.js';
import { deleteChunk } from '../lambdas/usecases/delete.js';
import { resolveEmails } from '../lambdas/usecases/resolve.js';
import { noopMetrics, type WorkflowDeps } from '../lambdas/usecases/ports.js';
import { generateDirectory, startSandbox, withDemoAccess } from '../local/sandbox/server.js';
import { startLedgerTestBed } from '../test/support/dynalite.js';

function arg(name: string, fallback: number): number {
  const index = process.argv.indexOf(name);
  const value = index >= 0 ? Number(process.argv[index + 1]) : Number.NaN;
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

const LEAVERS = arg('--leavers', 100);
const CHUNK = arg('--chunk', 100);
const FAST = process.argv.includes('--fast');
const directory = withDemoAccess(generateDirectory(Math.max(1_000, LEAVERS * 2), { seed: 7 }));
const bed = await startLedgerTestBed();
const sandbox = await startSandbox({ seed: directory });
try {
  const { ledger, tableName } = await bed.freshLedger();
  const client = new ArizeUsersClient({ baseUrl: sandbox.url, apiKey: sandbox.apiKey, ...(FAST ? { maxConcurrency: 8, maxRequestsPerSecond: 10_000 } : {}), env: {} });
  const deps: WorkflowDeps = {
    config: loadRuntimeConfig({ LEDGER_TABLE_NAME: tableName, PROTECTED_ROLES: 'ADMIN', MAX_DELETES_PER_REQUEST: '1000', DELETE_CHUNK_SIZE: String(CHUNK) }),
    ledger,
    directory: () => Promise.resolve(client),
    clock: () => new Date(),
    metrics: noopMetrics,
    log: { info: () => undefined, warn: () => undefined, error: () => undefined },
  };
  // Leavers: ACTIVE, non-admin users after the key owner.
  const emails = directory.filter((u, i) => i > 0 && (u.status ?? 'ACTIVE') === 'ACTIVE' && !u.deleted && u.role?.name !== 'ADMIN').slice(0, LEAVERS).map((u) => u.email.toLowerCase());
  sandbox.counters.reset();
  const resolved = await resolveEmails({ request: { requestId: 'bench', type: 'employee.terminated', emails, source: 'cli', dryRun: false } }, deps);
  const afterResolve = sandbox.counters.total;
  const started = Date.now();
  for (const chunk of resolved.plan.chunks) await deleteChunk({ requestId: 'bench', attempt: 1, targets: chunk.targets }, deps);
  const deleteMs = Date.now() - started;
  const outcomes = await ledger.outcomesOfRequest('bench');
  const deleted = outcomes.filter((o) => o.status === 'DELETED').length;
  const perLeaver = (n: number) => (n / Math.max(1, emails.length)).toFixed(2);
  console.log(`leavers ${emails.length}, chunk size ${CHUNK}, client ${FAST ? '--fast (8 in flight, 10,000 req/s)' : 'defaults (as deployed)'}, DELETED ${deleted}`);
  console.log(`resolve calls ${afterResolve} (${perLeaver(afterResolve)}/leaver)`);
  console.log(`delete-step calls ${sandbox.counters.total - afterResolve} (${perLeaver(sandbox.counters.total - afterResolve)}/leaver) in ${deleteMs} ms`);
  console.log(`total ${sandbox.counters.total} (${perLeaver(sandbox.counters.total)}/leaver); users routes ${JSON.stringify(sandbox.counters.byRoute)}`);
} finally {
  await sandbox.close();
  await bed.close();
}
