/**
 * Rescinds through a real `offboard serve` (local runtime executing the synthesised ASL, ledger on dynalite) against
 * an `offboard sandbox` process over HTTP as an external Arize, so waits are real (no demo scaling):
 * - during the effective-date wait (our `termination.rescinded` on /hr/events, a real wait of a few seconds):
 *   the delete path's last check wins — CANCELLED, recorded with who/what, the Arize account untouched;
 * - after the deletion (Gusto's `employee.termination_cancelled` on /hr/gusto, thin event completed from a fake
 *   Gusto API): REHIRED_AFTER_DELETION recorded and shown by `offboard status`; nothing is re-created.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArizeUsersClient } from '../../lambdas/arize/client.js';
import { signWebhook } from '../../lambdas/core/webhook.js';
import { connectLocalRuntime, readRuntimeInfo } from '../../local/runtime/index.js';
import { runCli } from '../support/cli.js';
import { externalArizeEnv, serveUrl, startSandboxProcess, useCliProcesses } from '../support/serve.js';
import { HR_SECRETS, HR_TERMINATIONS, hrFixture, matching, providerHeaders, startFakeHrApi, type FakeHrApi } from '../support/hr.js';
import { waitFor } from '../support/wait.js';

const WEBHOOK_SECRET = 'whsec_e2e_rescind_0123456789';
const SANDBOX_KEY = 'sandbox-e2e-rescind-key-0123456789';
const processes = useCliProcesses();
let api: FakeHrApi;

beforeAll(async () => {
  api = await startFakeHrApi();
});

afterAll(async () => {
  await api.close();
});

async function postOwn(url: string, event: Record<string, unknown>): Promise<Response> {
  const body = JSON.stringify(event);
  return fetch(`${url}/hr/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-offboarding-signature': signWebhook(WEBHOOK_SECRET, body, Date.now() / 1000) },
    body,
  });
}

describe('offboard serve: rescinds', () => {
  it('a rescind during the wait cancels before the delete; one after the deletion records REHIRED_AFTER_DELETION', async () => {
    const dataDir = processes.tempDir('serve-rescind-');
    const { url: sandboxUrl } = await startSandboxProcess(processes, SANDBOX_KEY);
    const env = {
      OFFBOARDING_WEBHOOK_SECRET: WEBHOOK_SECRET,
      ...externalArizeEnv({ apiKey: SANDBOX_KEY, port: new URL(sandboxUrl).port }),
      OFFBOARDING_GUSTO_SECRET: HR_SECRETS.gusto,
      OFFBOARDING_GUSTO_API_TOKEN: api.token('gusto'),
      OFFBOARDING_GUSTO_API_URL: api.baseUrl('gusto'),
    };
    const serve = processes.serve(dataDir, env, ['--confirm']);
    const { child, exited } = serve;
    const url = await serveUrl(serve);
    const info = readRuntimeInfo(dataDir)!;
    const remote = connectLocalRuntime(info);
    const arize = new ArizeUsersClient({ baseUrl: sandboxUrl, apiKey: SANDBOX_KEY, maxRetries: 5, env: {} });
    const waiting = HR_TERMINATIONS.deel.email;
    try {
      // 1. Rescind during the wait: effective 12 s ahead is a real Wait state in the executed ASL.
      const effectiveAt = new Date(Date.now() + 12_000).toISOString();
      expect((await postOwn(url, { eventId: 'term-wait-1', type: 'employee.terminated', employee: { email: waiting }, effectiveAt })).status).toBe(202);
      await waitFor(async () => (await remote.ledger.scheduledForEmail(waiting)).find((s) => s.requestId === 'hr-term-wait-1'), 30_000, 'the wait to start');
      const rescinded = await postOwn(url, { eventId: 'rescind-wait-1', type: 'termination.rescinded', emails: [waiting], reason: 'offer reinstated' });
      expect(rescinded.status).toBe(200);
      expect(await rescinded.json()).toEqual({ requestId: 'hr-rescind-wait-1', rescind: 'recorded', cancelledRequests: ['hr-term-wait-1'], rehiredAfterDeletion: 0 });
      // The same rescind again (HR retries): acknowledged, nothing done twice.
      expect(await (await postOwn(url, { eventId: 'rescind-wait-1', type: 'termination.rescinded', emails: [waiting], reason: 'offer reinstated' })).json()).toMatchObject({ rescind: 'duplicate' });

      // The workflow wakes at the effective time, resolves the user and reaches the delete: its check wins.
      const outcome = await waitFor(async () => {
        const [current] = await remote.ledger.outcomesOfRequest('hr-term-wait-1');
        return current && current.attempt >= 1 ? current : undefined;
      }, 90_000, 'the delete step to run after the wait');
      expect(outcome).toMatchObject({ email: waiting, status: 'CANCELLED', reason: matching(/cancelled by webhook, event rescind-wait-1 .*offer reinstated/) });
      const state = await waitFor(async () => {
        const current = await remote.ledger.getRequestState('hr-term-wait-1');
        return current?.status === 'CANCELLED' && current.counts ? current : undefined;
      }, 30_000, 'the request to end CANCELLED');
      expect(state.counts).toMatchObject({ CANCELLED: 1, DELETED: 0 });
      expect(await arize.findByEmail(waiting)).toBeDefined();

      // 2. Gusto: terminated (effective in the past ⇒ now), deleted, then the termination is cancelled.
      const gustoEmail = HR_TERMINATIONS.gusto.email;
      const termination = hrFixture(HR_TERMINATIONS.gusto.fixture);
      const accepted = await fetch(`${url}/hr/gusto`, { method: 'POST', headers: providerHeaders('gusto', HR_SECRETS.gusto, termination, Date.now() / 1000), body: termination });
      expect(accepted.status).toBe(202);
      const [terminationId] = ((await accepted.json()) as { requestIds: string[] }).requestIds;
      await waitFor(async () => ((await remote.ledger.getRequestState(terminationId!))?.status === 'COMPLETED' ? true : undefined), 90_000, 'the Gusto termination to complete');
      expect(await arize.findByEmail(gustoEmail)).toBeUndefined();
      const cancel = hrFixture('gusto-termination-cancelled.json');
      const late = await fetch(`${url}/hr/gusto`, { method: 'POST', headers: providerHeaders('gusto', HR_SECRETS.gusto, cancel, Date.now() / 1000), body: cancel });
      expect(late.status).toBe(200);
      const recordId = 'gusto:03ffbf0c-48a9-4f1c-932a-546413a26ad1';
      expect(await late.json()).toMatchObject({ rescinds: [{ requestId: recordId, status: 'recorded', cancelledRequests: [], rehiredAfterDeletion: 1 }] });
      expect(await remote.ledger.getRequestState(recordId)).toMatchObject({ status: 'COMPLETED_WITH_FAILURES', source: 'gusto' });
      // REHIRED_AFTER_DELETION supersedes DELETED as the termination's current outcome (history keeps both), so the
      // drift audit will not delete the account a human re-invites.
      expect(await remote.ledger.outcomesOfRequest(terminationId!)).toEqual([
        expect.objectContaining({ email: gustoEmail, status: 'REHIRED_AFTER_DELETION', attempt: 2, reason: matching(/cancelled by gusto, event 03ffbf0c.*re-invite the person in Arize by hand/) }),
      ]);
      expect(await remote.ledger.getRequestState(terminationId!)).toMatchObject({ status: 'COMPLETED_WITH_FAILURES' });
      expect((await remote.ledger.historyOfEmail(gustoEmail)).map((o) => o.status)).toEqual(['DELETED', 'REHIRED_AFTER_DELETION']);
      expect(await remote.ledger.outcomesByStatus('DELETED')).not.toContainEqual(expect.objectContaining({ email: gustoEmail }));
      expect(await arize.findByEmail(gustoEmail)).toBeUndefined();

      const status = await runCli(['status', gustoEmail, '--data-dir', dataDir]);
      expect(status.stdout).toContain('REHIRED_AFTER_DELETION');
      expect(status.stderr).toMatch(/REHIRED_AFTER_DELETION: .*re-invite them in Arize by hand/);
    } finally {
      await remote.close();
    }
    expect(serve.output()).not.toMatch(/@example\.com/i);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 300_000);
});
