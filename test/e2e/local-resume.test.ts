/**
 * A local runtime that dies mid-request loses its in-memory executions and queue; the ledger (persisted
 * dynalite) still says RUNNING. The next runtime on the same data dir must finish such requests from the
 * request stored with their state. One sandbox outlives both runtimes, as real Arize outlives the process,
 * so the resumed run sees the deletion the interrupted one already made.
 */
import { describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../local/sandbox/server.js';
import { startLocalRuntime, type LocalRuntime, type LocalRuntimeOptions } from '../../local/runtime/index.js';
import { useLocalRuntimeHarness } from '../support/local-runtime.js';

const harness = useLocalRuntimeHarness();

async function runtimeOn(dataDir: string, sandbox: Sandbox, options: Partial<LocalRuntimeOptions> = {}): Promise<LocalRuntime> {
  const runtime = await startLocalRuntime({
    dataDir,
    definition: harness.definition(),
    // An external Arize always gets real-time waits (the intake's 5 s batching window included).
    arize: { mode: 'external', apiKey: sandbox.apiKey, host: '127.0.0.1', scheme: 'http', port: sandbox.port },
    ...options,
  });
  return harness.track(runtime);
}

describe('local runtime restart', () => {
  it('finishes a request interrupted after a deletion, keeping DELETED, and reports one it cannot resume', async () => {
    const sandbox = harness.track(await startSandbox());
    const dataDir = harness.tempDir('offboard-resume-');

    // The process "dies" right after DeleteChunk deleted and recorded: the task never returns.
    let chunkDone!: () => void;
    const chunkDeleted = new Promise<void>((resolve) => (chunkDone = resolve));
    const first = await runtimeOn(dataDir, sandbox, {
      seams: {
        wrapTaskHandlers: (handlers) => ({
          ...handlers,
          DeleteChunk: async (input) => {
            const deleteChunk = handlers.DeleteChunk;
            if (!deleteChunk) throw new Error('no DeleteChunk handler');
            await deleteChunk(input);
            chunkDone();
            return new Promise<never>(() => undefined);
          },
        }),
      },
    });
    expect(first.resumed).toEqual([]);
    await first.submit({ requestId: 'hr-crash', type: 'employee.terminated', emails: ['ann@example.com', 'nobody@example.com'], source: 'cli' });
    await chunkDeleted;
    // Written the way a version without stored requests wrote its state items.
    await first.ledger.createRequestState({ requestId: 'old-1', status: 'RECEIVED', at: new Date().toISOString(), emailCount: 1, source: 'cli' });
    expect(await first.ledger.getRequestState('hr-crash')).toMatchObject({
      status: 'RUNNING',
      request: { requestId: 'hr-crash', emails: ['ann@example.com', 'nobody@example.com'], source: 'cli', dryRun: false },
    });
    await first.close();
    expect(sandbox.store.find('ann@example.com')?.deleted).toBe(true);

    const lines: string[] = [];
    const second = await runtimeOn(dataDir, sandbox, { log: (line) => lines.push(line) });
    expect(second.resumed).toEqual(['hr-crash']);
    expect(second.unresumable).toEqual(['old-1']);
    expect(lines.filter((line) => line.includes('hr-crash') && line.startsWith('resume:'))).toHaveLength(1);
    expect(lines.filter((line) => line.includes('old-1') && line.startsWith('warn:'))).toHaveLength(1);
    expect(lines.filter((line) => line.includes('ann@example.com') || line.includes('nobody@example.com'))).toEqual([]);
    await second.drain();

    // The resumed run no longer finds ann (NOT_FOUND, attempt 0); the deletion of attempt 1 stays her outcome.
    const state = await second.ledger.getRequestState('hr-crash');
    expect(state).toMatchObject({ status: 'COMPLETED', counts: { DELETED: 1, NOT_FOUND: 1, FAILED: 0 } });
    const outcomes = Object.fromEntries((await second.ledger.outcomesOfRequest('hr-crash')).map((o) => [o.email, [o.status, o.attempt]]));
    expect(outcomes).toEqual({ 'ann@example.com': ['DELETED', 1], 'nobody@example.com': ['NOT_FOUND', 0] });
    const annHistory = (await second.ledger.historyOfEmail('ann@example.com')).map((o) => [o.status, o.attempt]);
    expect(annHistory).toEqual(expect.arrayContaining([['DELETED', 1]]));
    expect(await second.ledger.getRequestState('old-1')).toMatchObject({ status: 'RECEIVED' });

    // Exactly one account deleted; the near-duplicates of ann are untouched.
    expect(sandbox.store.users().filter((user) => user.deleted).map((user) => user.email)).toEqual(['ann@example.com']);
    for (const email of ['joann@example.com', 'ann@example.com.au', 'leann@example.com']) {
      expect(sandbox.store.find(email)?.deleted, email).toBe(false);
    }
  }, 120_000);

  it('masks a request id that holds an email in its resume line', async () => {
    const sandbox = harness.track(await startSandbox());
    const dataDir = harness.tempDir('offboard-resume-mask-');
    const first = await runtimeOn(dataDir, sandbox);
    const request = { requestId: 'hr-ann@example.com', type: 'employee.terminated' as const, emails: ['nobody@example.com'], source: 'webhook' as const, dryRun: false };
    await first.ledger.createRequestState({ requestId: request.requestId, status: 'RECEIVED', at: new Date().toISOString(), emailCount: 1, source: 'webhook', request });
    await first.close();

    const lines: string[] = [];
    const second = await runtimeOn(dataDir, sandbox, { log: (line) => lines.push(line) });
    expect(second.resumed).toEqual(['hr-ann@example.com']);
    expect(lines.filter((line) => line.startsWith('resume: request h***n@example.com was RECEIVED'))).toHaveLength(1);
    expect(lines.join('\n')).not.toContain('ann@example.com');
    await second.drain();
  }, 120_000);
});
