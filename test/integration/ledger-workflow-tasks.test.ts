/**
 * The workflow's tasks against real components: dynalite for the ledger, the Arize sandbox over HTTP.
 * The end-to-end runs of the synthesised ASL live elsewhere; this covers each task's ledger contract,
 * in particular the catch paths, which a happy end-to-end run never takes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArizeUsersClient } from '../../lambdas/arize/index.js';
import { loadRuntimeConfig } from '../../lambdas/core/runtime-config.js';
import type { PlanState } from '../../lambdas/core/workflow-state.js';
import { deleteChunk } from '../../lambdas/usecases/delete.js';
import { recordAction } from '../../lambdas/usecases/record.js';
import { resolveEmails } from '../../lambdas/usecases/resolve.js';
import { noopMetrics, type WorkflowDeps } from '../../lambdas/usecases/ports.js';
import { summarize } from '../../lambdas/usecases/summarize.js';
import { validateRequest } from '../../lambdas/usecases/validate.js';
import { emailStatus } from '../../local/cli/ops-report.js';
import { rejectionIdFor } from '../../lambdas/core/rejection.js';
import { selectRedrive } from '../../lambdas/core/audit.js';
import { demoDirectory, SANDBOX_ROLES, SANDBOX_SPACES, startSandbox, type Sandbox } from '../../local/sandbox/server.js';
import { MAX_LISTED_PER_KIND } from '../../lambdas/core/access-inventory.js';
import { startLedgerTestBed, type LedgerTestBed } from '../support/dynalite.js';
import { silentLog, validRequest } from '../support/records.js';

let bed: LedgerTestBed;
let sandbox: Sandbox;
const NOW = new Date('2026-11-27T12:00:00.000Z');
const demo = demoDirectory();
const user = (email: string) => {
  const found = demo.find((u) => u.email.toLowerCase() === email);
  if (!found) throw new Error(`no demo user ${email}`);
  return { userId: found.id, email };
};

beforeAll(async () => {
  bed = await startLedgerTestBed();
  sandbox = await startSandbox({ seed: demo });
});
afterAll(async () => {
  await sandbox.close();
  await bed.close();
});

async function makeDeps(env: Record<string, string> = {}): Promise<WorkflowDeps> {
  sandbox.faults.clear();
  const { ledger, tableName } = await bed.freshLedger();
  const client = new ArizeUsersClient({ baseUrl: sandbox.url, apiKey: sandbox.apiKey, maxRetries: 1, sleep: () => Promise.resolve() });
  return {
    config: loadRuntimeConfig({ LEDGER_TABLE_NAME: tableName, PROTECTED_ROLES: 'ADMIN', RETRY_MAX_ATTEMPTS: '3', ...env }),
    ledger,
    directory: () => Promise.resolve(client),
    clock: () => NOW,
    metrics: noopMetrics,
    log: silentLog,
  };
}

describe('Validate', () => {
  it('marks the request RUNNING and waits only for a future effectiveAt (as a UTC timestamp)', async () => {
    const deps = await makeDeps();
    const future = await validateRequest({ requestId: 'v1', type: 'employee.terminated', emails: ['A@x.io'], effectiveAt: '2026-11-28T09:00:00+01:00' }, deps);
    expect(future.schedule).toEqual({ shouldWait: true, waitUntil: '2026-11-28T08:00:00.000Z' });
    expect(future.request.emails).toEqual(['a@x.io']);
    const past = await validateRequest({ requestId: 'v2', type: 'employee.terminated', emails: ['a@x.io'], effectiveAt: '2026-01-01T00:00:00Z' }, deps);
    expect(past.schedule).toEqual({ shouldWait: false, waitUntil: NOW.toISOString() });
    expect(await deps.ledger.getRequestState('v1')).toMatchObject({ status: 'RUNNING', emailCount: 1 });
  });

  it('records every email of a waiting request as scheduled; status shows SCHEDULED until the request records an outcome', async () => {
    const deps = await makeDeps();
    const input = { requestId: 'v3', type: 'employee.terminated', emails: ['Ann@Example.com', 'bo@example.com'], effectiveAt: '2026-11-28T09:00:00+01:00' };
    await deps.ledger.createRequestState({ requestId: 'v3', status: 'RECEIVED', at: NOW.toISOString() });
    await validateRequest(input, deps);
    // Run again (a resumed wait): the same items, not a second schedule.
    await validateRequest(input, deps);
    expect(await deps.ledger.scheduledForEmail('ann@example.com')).toEqual([
      { requestId: 'v3', email: 'ann@example.com', effectiveAt: '2026-11-28T08:00:00.000Z', recordedAt: NOW.toISOString() },
    ]);
    expect(await deps.ledger.historyOfEmail('ann@example.com')).toEqual([]);
    expect(await emailStatus(deps.ledger, 'ann@example.com')).toMatchObject({
      latest: 'SCHEDULED',
      scheduled: [{ requestId: 'v3', effectiveAt: '2026-11-28T08:00:00.000Z' }],
      history: [],
    });
    // A request not waiting records nothing of the kind.
    await validateRequest({ requestId: 'v4', type: 'employee.terminated', emails: ['cy@example.com'] }, deps);
    expect(await deps.ledger.scheduledForEmail('cy@example.com')).toEqual([]);

    // Once the request decides for the email, the outcome is what status shows.
    await deps.ledger.recordOutcomes([{ requestId: 'v3', email: 'ann@example.com', status: 'NOT_FOUND', attempt: 0, recordedAt: NOW.toISOString() }]);
    expect(await emailStatus(deps.ledger, 'ann@example.com')).toMatchObject({ latest: 'NOT_FOUND' });
    // A request that ended without an outcome for an email (e.g. stopped) no longer shows it scheduled.
    await deps.ledger.updateRequestState('v3', { status: 'FAILED', at: NOW.toISOString() });
    expect((await emailStatus(deps.ledger, 'bo@example.com')).latest).toBe('NONE');
  });

  it('records an invalid execution input as REJECTED and throws InvalidRequestError', async () => {
    const deps = await makeDeps();
    const input = { requestId: 'v3', type: 'employee.terminated', emails: ['ok@x.io', 'bad'] };
    const error = await validateRequest(input, deps).then(
      () => undefined,
      (caught: unknown) => caught as Error,
    );
    expect(error?.name).toBe('InvalidRequestError');
    expect(error?.message).toContain('emails.1');
    const tooFar = { requestId: 'v4', type: 'employee.terminated', emails: ['ok@x.io'], effectiveAt: '2028-01-01T00:00:00Z' };
    await expect(validateRequest(tooFar, deps)).rejects.toThrow(/effectiveAt: more than 360 days ahead/);
    expect(await deps.ledger.getRequestState(rejectionIdFor(JSON.stringify(tooFar)))).toMatchObject({ status: 'REJECTED' });
    expect(await deps.ledger.getRequestState('v4')).toMatchObject({ status: 'REJECTED', detail: expect.stringMatching(/^effectiveAt: .* \(see rejected-/) as unknown });
    expect(await deps.ledger.getRequestState(rejectionIdFor(JSON.stringify(input)))).toMatchObject({ status: 'REJECTED' });
  });
});

describe('ResolveEmails and DeleteChunk', () => {
  it('records NOT_FOUND / PROTECTED, returns a slim request reference and chunks of ids', async () => {
    const deps = await makeDeps({ DELETE_CHUNK_SIZE: '1' });
    const out = await resolveEmails(
      { request: { requestId: 'q1', type: 'employee.terminated', emails: ['tom@example.com', 'ghost@example.com', 'mateo.garcia@example.com', 'ravi.patel@example.com'], source: 'cli', dryRun: false } },
      deps,
    );
    expect(out.request).toEqual({ requestId: 'q1', source: 'cli', dryRun: false, emailCount: 4 });
    expect(out.plan).toMatchObject({ decision: 'DELETE', attempt: 1, counts: { requested: 4, targets: 2, notFound: 1, protected: 1 } });
    // Each target carries the role resolution returned (issue 12), so DeleteChunk need not read the user again.
    const member = { role: { type: 'PREDEFINED', name: 'MEMBER' } };
    expect(out.plan.chunks).toEqual([{ targets: [{ ...user('tom@example.com'), ...member }] }, { targets: [{ ...user('ravi.patel@example.com'), ...member }] }]);
    const recorded = Object.fromEntries((await deps.ledger.outcomesOfRequest('q1')).map((o) => [o.email, o.status]));
    expect(recorded).toEqual({ 'ghost@example.com': 'NOT_FOUND', 'mateo.garcia@example.com': 'PROTECTED' });
  });

  it('a transient resolution failure records nothing and throws for the Task Retry', async () => {
    const deps = await makeDeps();
    sandbox.faults.failUser('tom@example.com', 10, 503);
    await expect(
      resolveEmails({ request: { requestId: 'q2', type: 'employee.terminated', emails: ['tom@example.com'], source: 'cli', dryRun: false } }, deps),
    ).rejects.toMatchObject({ name: 'TransientArizeError' });
    expect(await deps.ledger.outcomesOfRequest('q2')).toEqual([]);
  });

  it('deletes by id: success DELETED, 403 FAILED and not retried, 503 FAILED and offered for retry', async () => {
    const deps = await makeDeps();
    const [ok, forbidden, unavailable] = [user('zara.ahmed@example.com'), user('grace.kim@example.com'), user('ingrid.nilsen@example.com')];
    sandbox.faults.failUser(forbidden.userId, 1, 403, { route: 'delete' });
    sandbox.faults.failUser(unavailable.userId, 10, 503, { route: 'delete' });
    const result = await deleteChunk({ requestId: 'd1', attempt: 1, targets: [ok, forbidden, unavailable] }, deps);
    expect(result).toEqual({ deleted: 1, notFound: 0, failed: 2, retry: [unavailable] });
    const outcomes = Object.fromEntries((await deps.ledger.outcomesOfRequest('d1')).map((o) => [o.email, o]));
    expect(outcomes[ok.email]).toMatchObject({ status: 'DELETED', attempt: 1, userId: ok.userId });
    expect(outcomes[forbidden.email]).toMatchObject({ status: 'FAILED', errorClass: 'HTTP_403', retryable: false, httpStatus: 403 });
    expect(outcomes[unavailable.email]).toMatchObject({ status: 'FAILED', errorClass: 'HTTP_503', retryable: true });
    // Last attempt: still FAILED, no longer offered.
    const last = await deleteChunk({ requestId: 'd1', attempt: 3, targets: [unavailable] }, deps);
    expect(last.retry).toEqual([]);
    expect(sandbox.store.users().find((u) => u.id === ok.userId)?.deleted).toBe(true);
    expect(sandbox.store.users().find((u) => u.id === forbidden.userId)?.deleted).toBe(false);
  });
});

describe('DeleteChunk: verified removal and the access inventory', () => {
  it('stores the inventory on the DELETED outcome (bounded lists, no secret) and counts the orphaned SERVICE keys', async () => {
    const deps = await makeDeps();
    const orphaned: number[] = [];
    deps.metrics = { countOutcomes: () => undefined, countOrphanedServiceKeys: (n) => orphaned.push(n) };
    const target = user('hannah.schmidt@example.org');
    const production = SANDBOX_SPACES[0]!.id;
    for (let i = 0; i < MAX_LISTED_PER_KIND + 5; i += 1) sandbox.access.addKey({ userId: target.userId, name: `svc-${i}`, type: 'SERVICE', spaceId: production });
    sandbox.access.addBinding({ userId: target.userId, roleId: SANDBOX_ROLES[1]!.id, resourceType: 'SPACE', resourceId: production });
    sandbox.counters.reset();
    const result = await deleteChunk({ requestId: 'inv-1', attempt: 1, targets: [target] }, deps);
    expect(result).toMatchObject({ deleted: 1, failed: 0 });
    const [outcome] = await deps.ledger.outcomesOfRequest('inv-1');
    if (outcome?.status !== 'DELETED' || outcome.access?.status !== 'available') throw new Error(`expected a DELETED outcome with access, got ${JSON.stringify(outcome)}`);
    expect(outcome.verifiedAt).toBe(NOW.toISOString());
    expect(outcome.access.role).toEqual({ type: 'PREDEFINED', name: 'MEMBER' });
    expect(outcome.access.roleBindings).toMatchObject([{ resourceType: 'SPACE', resourceName: 'Production', roleName: 'MEMBER' }]);
    expect(outcome.access.serviceKeys).toHaveLength(MAX_LISTED_PER_KIND);
    expect(outcome.access.counts).toMatchObject({ serviceKeys: MAX_LISTED_PER_KIND + 5, roleBindings: 1 });
    expect(outcome.access).toMatchObject({ serviceKeyPolicy: 'report', orphanedServiceKeys: MAX_LISTED_PER_KIND + 5 });
    expect(orphaned).toEqual([MAX_LISTED_PER_KIND + 5]);
    expect(JSON.stringify(outcome)).not.toMatch(/ak-[^*]/);
    // Calls for one leaver: spaces, roles, one SERVICE-key listing per space (3), GET, 2 binding lists, USER keys,
    // DELETE, read-back GET and email lookup.
    expect(sandbox.counters.total).toBe(2 + SANDBOX_SPACES.length + 4 + 3);
  });

  it('an inventory that cannot be read (403) is recorded as unavailable and the delete still happens and verifies', async () => {
    const deps = await makeDeps();
    const target = user('olivia.brown@example.com');
    sandbox.faults.failUser(target.userId, 1, 403, { route: 'get' });
    const result = await deleteChunk({ requestId: 'inv-2', attempt: 1, targets: [target] }, deps);
    expect(result).toMatchObject({ deleted: 1, failed: 0 });
    expect(await deps.ledger.outcomesOfRequest('inv-2')).toMatchObject([
      { status: 'DELETED', verifiedAt: NOW.toISOString(), access: { status: 'unavailable', httpStatus: 403, reason: expect.stringMatching(/^reading the leaver’s access: GET .* 403/) as unknown } },
    ]);
    expect(sandbox.store.find(target.email)?.deleted).toBe(true);
  });

  it('a delete Arize acknowledges without applying is FAILED DeleteNotVerified, offered for retry, then verified on the retry', async () => {
    const deps = await makeDeps();
    const target = user('lucas.martin@example.com');
    sandbox.faults.ignoreDeletes(target.userId, 1);
    const first = await deleteChunk({ requestId: 'inv-3', attempt: 1, targets: [target] }, deps);
    expect(first).toEqual({ deleted: 0, notFound: 0, failed: 1, retry: [target] });
    expect(await deps.ledger.outcomesOfRequest('inv-3')).toMatchObject([{ status: 'FAILED', errorClass: 'DeleteNotVerified', retryable: true }]);
    const second = await deleteChunk({ requestId: 'inv-3', attempt: 2, targets: [target] }, deps);
    expect(second).toMatchObject({ deleted: 1, failed: 0 });
    expect(await deps.ledger.outcomesOfRequest('inv-3')).toMatchObject([{ status: 'DELETED', attempt: 2, verifiedAt: NOW.toISOString() }]);
  });
});

describe('write-ahead delete intents (a crash between a DELETE and its record)', () => {
  const arizeOf = () => new ArizeUsersClient({ baseUrl: sandbox.url, apiKey: sandbox.apiKey, maxRetries: 1, sleep: () => Promise.resolve() });
  const request = (requestId: string, emails: string[]) => ({ request: validRequest(requestId, emails) });

  it('stores every intent of the chunk before the first DELETE is sent, and keeps them as history', async () => {
    const deps = await makeDeps();
    const targets = [user('kenji.watanabe@example.com'), user('aisha.bello@example.net')];
    const client = arizeOf();
    let first: Promise<string[]> | undefined;
    // The real client with only its delete wrapped (the prototype keeps every other call real).
    const directory = Object.assign(Object.create(client) as ArizeUsersClient, {
      async delete(userId: string) {
        first ??= deps.ledger.deleteIntentsOfRequest('w1').then((intents) => intents.map((i) => i.email).sort());
        return client.delete(userId);
      },
    });
    const result = await deleteChunk({ requestId: 'w1', attempt: 1, targets }, { ...deps, directory: () => Promise.resolve(directory) });
    expect(result.deleted).toBe(2);
    expect(await first).toEqual(['aisha.bello@example.net', 'kenji.watanabe@example.com']);
    const intents = await deps.ledger.deleteIntentsOfRequest('w1');
    expect(intents.map((i) => [i.email, i.userId, i.attempt])).toEqual(
      expect.arrayContaining(targets.map((t) => [t.email, t.userId, 1])),
    );
  });

  it('records each outcome as it settles, not after the whole chunk', async () => {
    const deps = await makeDeps();
    const [fast, slow] = [user('chloe.dubois@example.com'), user('noah.wilson@example.com')];
    const client = arizeOf();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolveGate) => (release = resolveGate));
    let recordedBeforeSlow: string[] | undefined;
    // The real client with only its delete wrapped (the prototype keeps every other call real).
    const directory = Object.assign(Object.create(client) as ArizeUsersClient, {
      async delete(userId: string) {
        if (userId === slow.userId) {
          await gate;
          return client.delete(userId);
        }
        await client.delete(userId);
        // Look while the slow DELETE is still held: poll (up to 10 s, however loaded the machine) for the fast
        // outcome; a recorder that wrote only after the whole chunk would leave nothing to see, and fail below.
        void (async () => {
          const deadline = Date.now() + 10_000;
          let seen: string[] = [];
          while (Date.now() < deadline) {
            seen = (await deps.ledger.outcomesOfRequest('w2')).map((o) => `${o.email}:${o.status}`);
            if (seen.length > 0) break;
            await new Promise((resolveWait) => setTimeout(resolveWait, 25));
          }
          recordedBeforeSlow = seen;
          release();
        })();
      },
    });
    await deleteChunk({ requestId: 'w2', attempt: 1, targets: [fast, slow] }, { ...deps, directory: () => Promise.resolve(directory) });
    expect(recordedBeforeSlow).toEqual([`${fast.email}:DELETED`]);
    expect((await deps.ledger.outcomesOfRequest('w2')).map((o) => o.status)).toEqual(['DELETED', 'DELETED']);
  });

  it('after a crash, resolution turns a leaver gone under an intended id into DELETED (not NOT_FOUND at attempt 0)', async () => {
    const deps = await makeDeps();
    const target = user('emma.johansson@example.com');
    // The crashed run: intent stored, DELETE arrived, the outcome never recorded.
    await deps.ledger.recordDeleteIntents([{ requestId: 'w3', email: target.email, userId: target.userId, attempt: 1, recordedAt: NOW.toISOString() }]);
    await arizeOf().delete(target.userId);
    const out = await resolveEmails(request('w3', [target.email, 'ghost@example.com']), deps);
    expect(out.plan.counts).toMatchObject({ targets: 0, notFound: 1 });
    const outcomes = Object.fromEntries((await deps.ledger.outcomesOfRequest('w3')).map((o) => [o.email, o]));
    expect(outcomes[target.email]).toMatchObject({ status: 'DELETED', attempt: 1, userId: target.userId });
    expect(outcomes['ghost@example.com']).toMatchObject({ status: 'NOT_FOUND', attempt: 0 });
  });

  it('a retried chunk whose DELETE answers 404 after an earlier intent of its request records DELETED', async () => {
    const deps = await makeDeps();
    const target = user('sofia.rossi@example.com');
    await deps.ledger.recordDeleteIntents([{ requestId: 'w4', email: target.email, userId: target.userId, attempt: 1, recordedAt: NOW.toISOString() }]);
    // Arize answers 204 for an already deleted user; an id it no longer knows at all answers 404.
    // The 404 alone proves nothing: while the account still reads back, the outcome is FAILED (not verified)…
    sandbox.faults.failUser(target.userId, 1, 404, { route: 'delete' });
    const unverified = await deleteChunk({ requestId: 'w4', attempt: 2, targets: [target] }, deps);
    expect(unverified).toEqual({ deleted: 0, notFound: 0, failed: 1, retry: [target] });
    expect(await deps.ledger.outcomesOfRequest('w4')).toMatchObject([{ status: 'FAILED', errorClass: 'DeleteNotVerified', retryable: true, attempt: 2 }]);
    // …and once the earlier DELETE has really applied, the 404 reads back as gone: DELETED, with the verification time.
    await arizeOf().delete(target.userId);
    sandbox.faults.failUser(target.userId, 1, 404, { route: 'delete' });
    const result = await deleteChunk({ requestId: 'w4', attempt: 3, targets: [target] }, deps);
    expect(result).toEqual({ deleted: 1, notFound: 0, failed: 0, retry: [] });
    expect(await deps.ledger.outcomesOfRequest('w4')).toMatchObject([{ status: 'DELETED', attempt: 3, verifiedAt: NOW.toISOString() }]);
    // Without an intent of this request, a 404 stays a failure: nobody here is known to have deleted it.
    sandbox.faults.failUser(target.userId, 1, 404, { route: 'delete' });
    const other = await deleteChunk({ requestId: 'w5', attempt: 1, targets: [target] }, deps);
    expect(other).toMatchObject({ deleted: 0, failed: 1 });
  });
});

describe('approval of a HELD request (approvesHeldRequest)', () => {
  const emails = ['tom@example.com', 'ravi.patel@example.com'];
  const approval = (requestId: string, approves: string) => ({
    request: { requestId, type: 'employee.terminated', emails, source: 'cli', dryRun: false, approvesHeldRequest: approves },
  });

  it('lifts the cap only for a request the ledger holds as HELD with exactly these emails held', async () => {
    const deps = await makeDeps({ MAX_DELETES_PER_REQUEST: '1' });
    // No such held request: a forged or mistyped approval must not lift the cap.
    expect((await resolveEmails(approval('forged', 'nothing-held'), deps)).plan.decision).toBe('HELD');
    // A request that exists but is not HELD.
    await deps.ledger.createRequestState({ requestId: 'done-1', status: 'COMPLETED', at: NOW.toISOString() });
    expect((await resolveEmails(approval('forged-2', 'done-1'), deps)).plan.decision).toBe('HELD');
    // HELD, but only one of the two emails was held: the other was never reviewed by anyone.
    const held = (requestId: string, targets: { userId: string; email: string }[]) =>
      recordAction({
        action: 'HELD',
        request: { requestId, source: 'cli', dryRun: false, emailCount: targets.length },
        plan: { decision: 'HELD', attempt: 1, chunks: [{ targets }], counts: { requested: targets.length, targets: targets.length, notFound: 0, protected: 0 }, waitSeconds: 0, heldReason: 'blast radius' },
      }, deps);
    await held('held-partial', [user('tom@example.com')]);
    expect((await resolveEmails(approval('widened', 'held-partial'), deps)).plan.decision).toBe('HELD');
    await held('held-all', [user('tom@example.com'), user('ravi.patel@example.com')]);
    const approved = await resolveEmails(approval('held-all.approved', 'held-all'), deps);
    expect(approved.plan.decision).toBe('DELETE');
    expect(approved.plan.counts.targets).toBe(2);
  });
});

describe('catch paths', () => {
  const plan = (targets: { userId: string; email: string }[], attempt: number): PlanState => ({
    decision: 'DELETE',
    attempt,
    chunks: [{ targets }],
    counts: { requested: targets.length, targets: targets.length, notFound: 0, protected: 0 },
    waitSeconds: 0,
  });

  it('CHUNK_FAILURE records FAILED only where the crashed task recorded nothing, and offers the chunk again', async () => {
    const deps = await makeDeps();
    const a = { userId: 'ua', email: 'a@x.io' };
    const b = { userId: 'ub', email: 'b@x.io' };
    await deps.ledger.recordOutcomes([{ requestId: 'c1', email: a.email, userId: a.userId, status: 'DELETED', attempt: 1, recordedAt: NOW.toISOString() }]);
    const error = { Error: 'States.Timeout', Cause: JSON.stringify({ errorMessage: 'Task timed out for b@x.io' }) };
    const result = await recordAction({ action: 'CHUNK_FAILURE', requestId: 'c1', attempt: 1, targets: [a, b], error }, deps);
    expect(result).toEqual({ deleted: 0, notFound: 0, failed: 2, retry: [a, b] });
    const outcomes = Object.fromEntries((await deps.ledger.outcomesOfRequest('c1')).map((o) => [o.email, o]));
    expect(outcomes[a.email]).toMatchObject({ status: 'DELETED' });
    expect(outcomes[b.email]).toMatchObject({ status: 'FAILED', errorClass: 'States.Timeout', error: 'Task timed out for b***@x.io' });
    const atLimit = await recordAction({ action: 'CHUNK_FAILURE', requestId: 'c1', attempt: 3, targets: [b] }, deps);
    expect(atLimit).toMatchObject({ retry: [] });
  });

  it('FAILURE on the raw execution input records FAILED for every email and marks the request FAILED', async () => {
    const deps = await makeDeps();
    const state = { requestId: 'f1', type: 'employee.terminated', emails: ['A@x.io', 'b@x.io'], error: { Error: 'Lambda.Unknown', Cause: 'boom' } };
    const out = await recordAction({ action: 'FAILURE', state, error: state.error }, deps);
    expect(out).toEqual({ requestId: 'f1', failed: 2, error: 'Lambda.Unknown' });
    expect((await deps.ledger.outcomesOfRequest('f1')).map((o) => [o.email, o.status]).sort()).toEqual([['a@x.io', 'FAILED'], ['b@x.io', 'FAILED']]);
    expect(await deps.ledger.getRequestState('f1')).toMatchObject({ status: 'FAILED', detail: 'Lambda.Unknown: boom' });
  });

  it('FAILURE after resolution fills in the plan targets and keeps what was recorded', async () => {
    const deps = await makeDeps();
    const done = { userId: 'u1', email: 'done@x.io' };
    const pending = { userId: 'u2', email: 'pending@x.io' };
    const at = NOW.toISOString();
    await deps.ledger.recordOutcomes([
      { requestId: 'f2', email: 'ghost@x.io', status: 'NOT_FOUND', attempt: 0, recordedAt: at },
      { requestId: 'f2', email: done.email, userId: done.userId, status: 'DELETED', attempt: 1, recordedAt: at },
      { requestId: 'f2', email: pending.email, userId: pending.userId, status: 'FAILED', errorClass: 'HTTP_503', retryable: true, attempt: 1, recordedAt: at },
    ]);
    const state = { request: { requestId: 'f2', source: 'cli', dryRun: false, emailCount: 3 }, plan: plan([pending], 2), error: { Error: 'States.TaskFailed' } };
    await recordAction({ action: 'FAILURE', state, error: state.error }, deps);
    const outcomes = Object.fromEntries((await deps.ledger.outcomesOfRequest('f2')).map((o) => [o.email, o]));
    expect(outcomes['ghost@x.io']).toMatchObject({ status: 'NOT_FOUND' });
    expect(outcomes[done.email]).toMatchObject({ status: 'DELETED' });
    expect(outcomes[pending.email]).toMatchObject({ status: 'FAILED', errorClass: 'States.TaskFailed', attempt: 2, userId: 'u2' });
    expect(await deps.ledger.getRequestState('f2')).toMatchObject({ status: 'FAILED', counts: { DELETED: 1, NOT_FOUND: 1, FAILED: 1 } });
  });

  it('FAILURE of a dry run or of a HELD plan is recorded but never offered to the re-drive (which would delete)', async () => {
    const deps = await makeDeps();
    const target = { userId: 'u9', email: 'nine@x.io' };
    const error = { Error: 'States.TaskFailed', Cause: 'boom' };
    // A dry run failing before any DRY_RUN record exists: raw input, and after resolution (RecordDryRun failed).
    const raw = { requestId: 'dry-raw', type: 'employee.terminated', emails: ['raw@x.io'], dryRun: true, error };
    await recordAction({ action: 'FAILURE', state: raw, error }, deps);
    const dryRef = { requestId: 'dry-plan', source: 'cli', dryRun: true, emailCount: 1 };
    await recordAction({ action: 'FAILURE', state: { request: dryRef, plan: { ...plan([target], 1), decision: 'DRY_RUN' }, error }, error }, deps);
    // A forced dry run (configuration): the request says dryRun false, the plan says DRY_RUN.
    const forcedRef = { requestId: 'dry-forced', source: 'cli', dryRun: false, emailCount: 1 };
    await recordAction({ action: 'FAILURE', state: { request: forcedRef, plan: { ...plan([{ userId: 'u8', email: 'eight@x.io' }], 1), decision: 'DRY_RUN' }, error }, error }, deps);
    // RecordHeld failed: the targets wait for a human, not for a re-drive under the cap.
    const heldRef = { requestId: 'held-crash', source: 'cli', dryRun: false, emailCount: 1 };
    await recordAction({ action: 'FAILURE', state: { request: heldRef, plan: { ...plan([{ userId: 'u7', email: 'seven@x.io' }], 1), decision: 'HELD' }, error }, error }, deps);
    for (const requestId of ['dry-raw', 'dry-plan', 'dry-forced', 'held-crash']) {
      const outcomes = await deps.ledger.outcomesOfRequest(requestId);
      expect(outcomes).toHaveLength(1);
      expect(outcomes[0]).toMatchObject({ status: 'FAILED', retryable: false });
      expect(await deps.ledger.getRequestState(requestId)).toMatchObject({ status: 'FAILED' });
    }
    const selection = await selectRedrive(deps.ledger, { now: new Date(NOW.getTime() + 3_600_000), olderThanMinutes: 0 });
    expect(selection.items).toEqual([]);
    expect(selection.permanent).toBe(4);
  });

  it('a retryable failure of a request stored as a dry run is never re-driven, even without a DRY_RUN record', async () => {
    const deps = await makeDeps();
    const at = NOW.toISOString();
    for (const [requestId, dryRun] of [['stored-dry', true], ['stored-real', false]] as const) {
      const request = { requestId, type: 'employee.terminated' as const, emails: [`${requestId}@x.io`], source: 'cli' as const, dryRun };
      await deps.ledger.createRequestState({ requestId, status: 'RUNNING', at, emailCount: 1, source: 'cli', request });
      await deps.ledger.recordOutcomes([
        { requestId, email: `${requestId}@x.io`, userId: `u-${requestId}`, status: 'FAILED', attempt: 1, recordedAt: at, errorClass: 'HTTP_503', retryable: true },
      ]);
    }
    const selection = await selectRedrive(deps.ledger, { now: new Date(NOW.getTime() + 3_600_000), olderThanMinutes: 0 });
    expect(selection.items.map((item) => item.failedRequestId)).toEqual(['stored-real']);
    expect(selection.skippedDryRun).toBe(1);
  });

  it('HELD records every target, marks the request HELD, and builds an alert without personal data; Summarize keeps it HELD', async () => {
    const deps = await makeDeps();
    const targets = [{ userId: 'u1', email: 'one@x.io' }, { userId: 'u2', email: 'two@x.io' }];
    const request = { requestId: 'h1', source: 'cli', dryRun: false, emailCount: 2 };
    const out = await recordAction({ action: 'HELD', request, plan: { ...plan(targets, 1), decision: 'HELD', heldReason: 'blast radius: 2 deletes exceed the maximum of 1 per request' } }, deps);
    expect(out).toMatchObject({ requestId: 'h1', held: 2 });
    expect((out as { message: string }).message).not.toMatch(/@/);
    const summary = await summarize({ requestId: 'h1' }, deps);
    expect(summary).toMatchObject({ status: 'HELD', counts: { HELD: 2 } });
    expect((await deps.ledger.requestsByStatus('HELD')).map((r) => r.requestId)).toEqual(['h1']);
  });
});
