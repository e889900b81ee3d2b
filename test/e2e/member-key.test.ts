/**
 * A key without admin rights, through the pipeline a user runs: local runtime (SQS, the synthesised
 * workflow, dynalite ledger) against a sandbox reached over HTTP like a real Arize. The delete's 403 is
 * permanent: recorded FAILED, not retried, and the leaver is still there (nothing half-done).
 */
import { describe, expect, it } from 'vitest';
import { startLocalRuntime } from '../../local/runtime/index.js';
import { startSandbox } from '../../local/sandbox/server.js';
import { useLocalRuntimeHarness } from '../support/local-runtime.js';

const harness = useLocalRuntimeHarness();

describe('pipeline with a member (non-admin) API key', () => {
  it('records the 403 delete as a permanent FAILED after exactly one attempt', async () => {
    const sandbox = harness.track(await startSandbox({ keys: [{ key: 'member-key', admin: false, owner: 'joann@example.com' }] }));
    const rt = harness.track(
      await startLocalRuntime({
        inMemory: true,
        definition: harness.definition(),
        arize: { mode: 'external', apiKey: 'member-key', host: '127.0.0.1', scheme: 'http', port: sandbox.port },
      }),
    );
    await rt.submit([{ requestId: 'hr-member-1', type: 'employee.terminated', emails: ['ann@example.com'], source: 'cli' }]);
    await rt.drain({ timeoutMs: 60_000 });

    const outcomes = await rt.ledger.outcomesOfRequest('hr-member-1');
    expect(outcomes).toMatchObject([{ email: 'ann@example.com', status: 'FAILED', retryable: false, httpStatus: 403 }]);
    expect(sandbox.store.find('ann@example.com')?.deleted).toBe(false);
    expect(sandbox.counters.byRoute.delete).toBe(1);
    // One 403 for the access inventory (a member key may not list another user's role bindings: recorded, not
    // blocking) and one for the DELETE itself.
    expect(sandbox.counters.status['403']).toBe(2);
  }, 120_000);
});
