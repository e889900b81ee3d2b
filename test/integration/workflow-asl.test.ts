/**
 * The state machine synthesised from ArizeOffboardingStack, executed by the local engine with the real task
 * handlers, a dynalite ledger and the Arize sandbox over HTTP. Waits and retry intervals are scaled to 0.
 * State transitions are counted from the engine's event log and printed at the end.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ArizeUsersClient } from '../../lambdas/arize/index.js';
import { executionStarterFrom } from '../../lambdas/adapters/execution-starter.js';
import { DynamoLedger } from '../../lambdas/adapters/ledger.js';
import { executionNameFor } from '../../lambdas/core/execution-name.js';
import { parseRequest, type OffboardingRequestInput } from '../../lambdas/core/request.js';
import { startRequests } from '../../lambdas/usecases/start.js';
import type { PublishedAlert } from '../../lambdas/usecases/task-handlers.js';
import type { ExecutionResult, LocalStepFunctions } from '../../local/engines/stepfunctions.js';
import { loadLocalConfig, workflowRuntimeConfig, type LocalConfigOverrides } from '../../local/runtime/config.js';
import { synthesizeWorkflowDefinition, type SynthesizedWorkflow } from '../../local/runtime/definition.js';
import { createLocalWorkflow, localWorkflowDeps, type TaskHandlerMap } from '../../local/runtime/workflow.js';
import { demoDirectory, generateDirectory, startSandbox, type Sandbox, type SeedUser } from '../../local/sandbox/server.js';
import { startLedgerTestBed, type LedgerTestBed } from '../support/dynalite.js';
import { requestInput, silentLog, sqsEvent } from '../support/records.js';

let synthesized: SynthesizedWorkflow;
let ledgerBed: LedgerTestBed;
const cleanups: (() => Promise<void>)[] = [];
const transitionTable: { scenario: string; emails: number; transitions: number; perUser: string }[] = [];

beforeAll(async () => {
  [synthesized, ledgerBed] = await Promise.all([synthesizeWorkflowDefinition(loadLocalConfig({})), startLedgerTestBed()]);
}, 180_000);

afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

afterAll(async () => {
  await ledgerBed.close();
  if (transitionTable.length > 0) {
    console.log('\nState transitions per execution (engine event log):');
    console.table(transitionTable);
  }
});

interface Bed {
  sandbox: Sandbox;
  ledger: DynamoLedger;
  executions: LocalStepFunctions;
  alerts: PublishedAlert[];
  run(request: OffboardingRequestInput): Promise<ExecutionResult>;
}

interface BedOptions {
  seed?: SeedUser[];
  config?: LocalConfigOverrides;
  wrapTaskHandlers?: (handlers: TaskHandlerMap, sandbox: Sandbox) => TaskHandlerMap;
}

async function bed(options: BedOptions = {}): Promise<Bed> {
  const seed = options.seed ?? demoDirectory();
  const sandbox = await startSandbox({ seed });
  cleanups.push(() => sandbox.close());
  const { ledger, tableName } = await ledgerBed.freshLedger();
  const config = workflowRuntimeConfig(loadLocalConfig({ ...options.config, arize: { maxConcurrency: 16, maxRequestsPerSecond: 1000, ...options.config?.arize } }), {
    tableName,
    arize: { apiKey: sandbox.apiKey, host: '127.0.0.1', scheme: 'http', port: sandbox.port },
    apiKeyOwnerEmail: seed[0]?.email ?? '',
  });
  // One client-level retry, without sleeping: workflow-level retries are what these scenarios exercise.
  const directory = new ArizeUsersClient({
    baseUrl: sandbox.url,
    apiKey: sandbox.apiKey,
    maxRetries: 1,
    maxConcurrency: 16,
    maxRequestsPerSecond: 1000,
    sleep: () => Promise.resolve(),
    env: {},
  });
  const alerts: PublishedAlert[] = [];
  const executions = createLocalWorkflow({
    definition: synthesized.definition,
    deps: localWorkflowDeps({ config, ledger, directory, log: silentLog }),
    waitTimeScale: 0,
    onAlert: (alert) => {
      alerts.push(alert);
    },
    ...(options.wrapTaskHandlers ? { wrapTaskHandlers: (handlers: TaskHandlerMap) => options.wrapTaskHandlers!(handlers, sandbox) } : {}),
  });
  return {
    sandbox,
    ledger,
    executions,
    alerts,
    async run(input) {
      const parsed = parseRequest(input);
      if (!parsed.ok) throw new Error(parsed.reason);
      const { executionArn } = await executions.startExecution({ name: executionNameFor(parsed.value.requestId), input: parsed.value });
      return executions.waitForExecution(executionArn);
    },
  };
}

const request = requestInput;

function record(scenario: string, emails: number, result: ExecutionResult): void {
  transitionTable.push({ scenario, emails, transitions: result.transitions, perUser: (result.transitions / emails).toFixed(3) });
}

async function outcomesByEmail(ledger: DynamoLedger, requestId: string) {
  const outcomes = await ledger.outcomesOfRequest(requestId);
  return Object.fromEntries(outcomes.map((outcome) => [outcome.email, outcome]));
}

/**
 * Makes the sandbox fail the next `times` calls for `email` with `status`, armed when the first DeleteChunk
 * starts: resolution has then already succeeded, so only the delete path sees the faults.
 */
function failDeletesOnceResolved(email: string, times: number, status: number): NonNullable<BedOptions['wrapTaskHandlers']> {
  let armed = false;
  return (handlers, sandbox) => ({
    ...handlers,
    DeleteChunk: async (input) => {
      if (!armed) {
        armed = true;
        sandbox.faults.failUser(email, times, status, { route: 'delete' });
      }
      return handlers.DeleteChunk!(input);
    },
  });
}

const isDeleted = (sandbox: Sandbox, email: string): boolean | undefined => sandbox.store.find(email)?.deleted;
const enteredStates = (result: ExecutionResult): string[] =>
  result.events.flatMap((event) => (event.type === 'StateEntered' ? [event.state.name] : []));
const demoId = (email: string): string => {
  const user = demoDirectory().find((u) => u.email.toLowerCase() === email.toLowerCase());
  if (!user) throw new Error(`no demo user ${email}`);
  return user.id;
};
const NEAR_DUPLICATES = ['joann@example.com', 'ann@example.com.au', 'leann@example.com', 'marcus.chen+test@example.com', 'tomas@example.com'];

describe('synthesised workflow, executed locally', () => {
  it('deletes every resolved user exactly, leaves near-duplicates alone, and stays within 20 transitions for one user', async () => {
    const b = await bed();
    const single = await b.run(request('single-1', ['tom@example.com']));
    expect(single.status).toBe('SUCCEEDED');
    record('single user, deleted', 1, single);
    expect(single.transitions).toBeLessThanOrEqual(20);

    const result = await b.run(request('all-1', ['ann@example.com', 'grace.kim@example.com', 'Zara.Ahmed@Example.com']));
    expect(result.status).toBe('SUCCEEDED');
    record('3 users, all deleted', 3, result);
    const outcomes = await outcomesByEmail(b.ledger, 'all-1');
    expect(Object.keys(outcomes).sort()).toEqual(['ann@example.com', 'grace.kim@example.com', 'zara.ahmed@example.com']);
    for (const [email, outcome] of Object.entries(outcomes)) {
      expect(outcome, email).toMatchObject({ status: 'DELETED', attempt: 1, userId: demoId(email) });
      expect(isDeleted(b.sandbox, email), email).toBe(true);
    }
    for (const email of NEAR_DUPLICATES) expect(isDeleted(b.sandbox, email), email).toBe(false);
    expect(await b.ledger.getRequestState('all-1')).toMatchObject({ status: 'COMPLETED', counts: expect.objectContaining({ DELETED: 3 }) as unknown });
  }, 120_000);

  it('records NOT_FOUND for unknown addresses and matches case-insensitively, never by substring', async () => {
    const b = await bed();
    const result = await b.run(request('nf-1', ['nobody@example.com', 'MARCUS.CHEN@example.com', 'ann@example.co']));
    expect(result.status).toBe('SUCCEEDED');
    record('some NOT_FOUND', 3, result);
    const outcomes = await outcomesByEmail(b.ledger, 'nf-1');
    expect(outcomes['nobody@example.com']).toMatchObject({ status: 'NOT_FOUND', attempt: 0 });
    expect(outcomes['nobody@example.com']?.userId).toBeUndefined();
    expect(outcomes['ann@example.co']).toMatchObject({ status: 'NOT_FOUND' });
    expect(outcomes['marcus.chen@example.com']).toMatchObject({ status: 'DELETED', userId: demoId('Marcus.Chen@Example.com') });
    expect(isDeleted(b.sandbox, 'ann@example.com')).toBe(false);
    expect(isDeleted(b.sandbox, 'marcus.chen+test@example.com')).toBe(false);
  }, 120_000);

  it('retries a transient delete failure by id after a (scaled) backoff, then succeeds', async () => {
    // Armed once resolution is over: both calls of the first attempt (call + client retry) get 503.
    const b = await bed({ wrapTaskHandlers: failDeletesOnceResolved('tom@example.com', 2, 503) });
    const result = await b.run(request('transient-1', ['tom@example.com', 'ann@example.com']));
    expect(result.status).toBe('SUCCEEDED');
    record('transient 503 then success', 2, result);
    expect(enteredStates(result)).toContain('BackoffWait');
    const outcomes = await outcomesByEmail(b.ledger, 'transient-1');
    expect(outcomes['tom@example.com']).toMatchObject({ status: 'DELETED', attempt: 2, userId: demoId('tom@example.com') });
    expect(outcomes['ann@example.com']).toMatchObject({ status: 'DELETED', attempt: 1 });
    const history = await b.ledger.historyOfEmail('tom@example.com');
    expect(history.map((h) => [h.status, h.attempt])).toEqual([
      ['FAILED', 1],
      ['DELETED', 2],
    ]);
    expect(isDeleted(b.sandbox, 'tom@example.com')).toBe(true);
    expect(await b.ledger.getRequestState('transient-1')).toMatchObject({ status: 'COMPLETED' });
  }, 120_000);

  it('fails a permanent 403 at once: one attempt, no retry round', async () => {
    const b = await bed({ wrapTaskHandlers: failDeletesOnceResolved('tom@example.com', 5, 403) });
    const result = await b.run(request('forbidden-1', ['tom@example.com']));
    expect(result.status).toBe('SUCCEEDED');
    record('permanent 403', 1, result);
    expect(enteredStates(result)).not.toContain('BackoffWait');
    const outcomes = await outcomesByEmail(b.ledger, 'forbidden-1');
    expect(outcomes['tom@example.com']).toMatchObject({ status: 'FAILED', attempt: 1, retryable: false, httpStatus: 403, userId: demoId('tom@example.com') });
    expect(await b.ledger.historyOfEmail('tom@example.com')).toHaveLength(1);
    expect(isDeleted(b.sandbox, 'tom@example.com')).toBe(false);
    expect(await b.ledger.getRequestState('forbidden-1')).toMatchObject({ status: 'COMPLETED_WITH_FAILURES' });
  }, 120_000);

  it('skips protected accounts (email, pattern, role) and deletes the rest', async () => {
    const b = await bed({
      config: { protectedEmails: ['kenji.watanabe@example.com'], protectedPatterns: ['*@example.net'], protectedRoles: ['ADMIN'] },
    });
    const emails = ['kenji.watanabe@example.com', 'aisha.bello@example.net', 'sofia.rossi@example.com', 'chloe.dubois@example.com'];
    const result = await b.run(request('protected-1', emails));
    expect(result.status).toBe('SUCCEEDED');
    const outcomes = await outcomesByEmail(b.ledger, 'protected-1');
    expect(outcomes['kenji.watanabe@example.com']).toMatchObject({ status: 'PROTECTED', reason: 'protected-email' });
    expect(outcomes['aisha.bello@example.net']).toMatchObject({ status: 'PROTECTED', reason: 'protected-pattern:*@example.net' });
    expect(outcomes['sofia.rossi@example.com']).toMatchObject({ status: 'PROTECTED', reason: 'protected-role:ADMIN' });
    expect(outcomes['chloe.dubois@example.com']).toMatchObject({ status: 'DELETED' });
    for (const email of emails.slice(0, 3)) expect(isDeleted(b.sandbox, email), email).toBe(false);
    expect(isDeleted(b.sandbox, 'chloe.dubois@example.com')).toBe(true);
  }, 120_000);

  it("protects the API key's own user even when no other rule would", async () => {
    const b = await bed({ config: { protectedRoles: [] } });
    const owner = demoDirectory()[0]!.email;
    const result = await b.run(request('owner-1', [owner, 'mateo.garcia@example.com']));
    expect(result.status).toBe('SUCCEEDED');
    const outcomes = await outcomesByEmail(b.ledger, 'owner-1');
    expect(outcomes[owner]).toMatchObject({ status: 'PROTECTED', reason: 'api-key-owner', userId: demoId(owner) });
    // Another admin is deleted: roles are not protected in this configuration, only the owner is.
    expect(outcomes['mateo.garcia@example.com']).toMatchObject({ status: 'DELETED' });
    expect(isDeleted(b.sandbox, owner)).toBe(false);
  }, 120_000);

  it('holds a request above the blast radius: HELD records, an alert, nothing deleted', async () => {
    const b = await bed({ config: { maxDeletesPerRequest: 2 } });
    const emails = ['ann@example.com', 'tom@example.com', 'grace.kim@example.com'];
    const result = await b.run(request('held-1', emails));
    expect(result.status).toBe('SUCCEEDED');
    record('blast radius HELD', 3, result);
    const outcomes = await outcomesByEmail(b.ledger, 'held-1');
    for (const email of emails) {
      expect(outcomes[email], email).toMatchObject({ status: 'HELD', userId: demoId(email) });
      expect(isDeleted(b.sandbox, email), email).toBe(false);
    }
    expect(b.sandbox.counters.byRoute.delete ?? 0).toBe(0);
    expect(b.alerts).toHaveLength(1);
    expect(b.alerts[0]?.Message).toContain('held-1');
    expect(b.alerts[0]?.Message).not.toContain('@');
    expect(await b.ledger.getRequestState('held-1')).toMatchObject({ status: 'HELD' });
  }, 120_000);

  it('records DRY_RUN and deletes nothing, for the request flag and for the dryRun setting', async () => {
    const b = await bed();
    const result = await b.run(request('dry-1', ['ann@example.com', 'nobody@example.com'], { dryRun: true }));
    expect(result.status).toBe('SUCCEEDED');
    record('dry run', 2, result);
    const outcomes = await outcomesByEmail(b.ledger, 'dry-1');
    expect(outcomes['ann@example.com']).toMatchObject({ status: 'DRY_RUN', userId: demoId('ann@example.com') });
    expect(outcomes['nobody@example.com']).toMatchObject({ status: 'NOT_FOUND' });

    const forced = await bed({ config: { dryRun: true } });
    expect((await forced.run(request('dry-2', ['tom@example.com']))).status).toBe('SUCCEEDED');
    expect(await outcomesByEmail(forced.ledger, 'dry-2')).toMatchObject({ 'tom@example.com': { status: 'DRY_RUN' } });
    expect(b.sandbox.counters.byRoute.delete ?? 0).toBe(0);
    expect(forced.sandbox.counters.byRoute.delete ?? 0).toBe(0);
  }, 120_000);

  it('waits until a future effective date (scaled), then proceeds', async () => {
    const b = await bed();
    const effectiveAt = new Date(Date.now() + 3 * 24 * 3600 * 1000).toISOString();
    const result = await b.run(request('future-1', ['tom@example.com'], { effectiveAt }));
    expect(result.status).toBe('SUCCEEDED');
    record('effective date in the future', 1, result);
    const states = enteredStates(result);
    expect(states.indexOf('WaitUntilEffective')).toBeGreaterThan(-1);
    expect(states.indexOf('WaitUntilEffective')).toBeLessThan(states.indexOf('ResolveEmails'));
    expect(await outcomesByEmail(b.ledger, 'future-1')).toMatchObject({ 'tom@example.com': { status: 'DELETED' } });

    const now = await b.run(request('now-1', ['ann@example.com']));
    expect(enteredStates(now)).not.toContain('WaitUntilEffective');
  }, 120_000);

  it('starts one execution for a duplicated request id, through the start handler use case', async () => {
    const b = await bed();
    const starter = executionStarterFrom((input) => b.executions.startExecution(input));
    const body = JSON.stringify(request('dup-1', ['tom@example.com']));
    const event = (ids: string[]) => sqsEvent(ids.map(() => body), ids);
    const deps = { ledger: b.ledger, starter, clock: () => new Date(), log: silentLog };
    const first = await startRequests(event(['m1', 'm2']), deps);
    expect(first.response.batchItemFailures).toEqual([]);
    await b.executions.waitForIdle();
    const again = await startRequests(event(['m3']), deps);
    expect(again.results[0]).toMatchObject({ status: 'duplicate' });
    expect(b.executions.listExecutions()).toHaveLength(1);
    expect(b.sandbox.counters.byRoute.delete).toBe(1);
    expect(await outcomesByEmail(b.ledger, 'dup-1')).toMatchObject({ 'tom@example.com': { status: 'DELETED', attempt: 1 } });
  }, 120_000);

  it('retries a Task on a Lambda service error', async () => {
    let failures = 0;
    const b = await bed({
      wrapTaskHandlers: (handlers) => ({
        ...handlers,
        ResolveEmails: async (input) => {
          if (failures < 2) {
            failures += 1;
            const error = new Error('Rate exceeded');
            error.name = 'Lambda.TooManyRequestsException';
            throw error;
          }
          return handlers.ResolveEmails!(input);
        },
      }),
    });
    const result = await b.run(request('svc-1', ['tom@example.com']));
    expect(result.status).toBe('SUCCEEDED');
    record('Lambda service error ×2, retried', 1, result);
    expect(result.events.filter((event) => event.type === 'StateRetried')).toHaveLength(2);
    expect(await outcomesByEmail(b.ledger, 'svc-1')).toMatchObject({ 'tom@example.com': { status: 'DELETED' } });
  }, 120_000);

  it('still records FAILED for every email when a handler crashes unexpectedly (Catch path)', async () => {
    const b = await bed({
      wrapTaskHandlers: (handlers) => ({
        ...handlers,
        ResolveEmails: () => Promise.reject(new TypeError("Cannot read properties of undefined (reading 'id')")),
      }),
    });
    const emails = ['tom@example.com', 'nobody@example.com'];
    const result = await b.run(request('crash-1', emails));
    expect(result.status).toBe('FAILED');
    record('handler crash → Catch', 2, result);
    expect(enteredStates(result)).toContain('RecordFailure');
    const outcomes = await outcomesByEmail(b.ledger, 'crash-1');
    for (const email of emails) expect(outcomes[email], email).toMatchObject({ status: 'FAILED', errorClass: expect.stringContaining('TypeError') as unknown });
    expect(await b.ledger.getRequestState('crash-1')).toMatchObject({ status: 'FAILED' });
    expect(isDeleted(b.sandbox, 'tom@example.com')).toBe(false);
  }, 120_000);

  it('deletes 1,000 users in one request within 100 transitions', async () => {
    const seed = generateDirectory(1001, { seed: 7 });
    const b = await bed({ seed, config: { maxDeletesPerRequest: 1000, protectedRoles: [] } });
    const emails = seed.slice(1).map((user) => user.email);
    const result = await b.run(request('bulk-1000', emails));
    expect(result.status).toBe('SUCCEEDED');
    record('1,000 users, all deleted', emails.length, result);
    expect(result.transitions).toBeLessThanOrEqual(100);
    const outcomes = await b.ledger.outcomesOfRequest('bulk-1000');
    expect(outcomes).toHaveLength(1000);
    expect(outcomes.every((outcome) => outcome.status === 'DELETED' && outcome.attempt === 1)).toBe(true);
    expect(b.sandbox.store.users().filter((user) => user.deleted)).toHaveLength(1000);
    expect(isDeleted(b.sandbox, seed[0]!.email)).toBe(false);
    // Verified removal and the access inventory make ~4× the Arize calls of a bare delete: more room on a loaded machine.
  }, 360_000);
});
