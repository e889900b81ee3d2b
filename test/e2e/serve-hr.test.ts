/**
 * Every native HR route through a real `offboard serve` process: the provider-signed fixture in, the thin event
 * completed from a local fake of the provider's API (real HTTP), the request run to DELETED in the ledger, the
 * interpreted effective date and the HR original stored; Okta's verification GET; a failed lookup recorded
 * REJECTED; an unconfigured provider 404.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HR_PROVIDERS, type HrProvider } from '../../lambdas/core/hr/types.js';
import { connectLocalRuntime, readRuntimeInfo } from '../../local/runtime/index.js';
import { HR_SECRETS, HR_TERMINATIONS, hrFixture, matching, providerHeaders, startFakeHrApi, type FakeHrApi } from '../support/hr.js';
import { serveUrl, useCliProcesses } from '../support/serve.js';
import { waitFor } from '../support/wait.js';

const processes = useCliProcesses();
let api: FakeHrApi;

beforeAll(async () => {
  api = await startFakeHrApi();
});

afterAll(async () => {
  await api.close();
});


function providerEnv(providers: readonly HrProvider[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const provider of providers) {
    const prefix = `OFFBOARDING_${provider.toUpperCase()}`;
    // Two values: the route must accept a delivery signed with either while the provider's key is rotated.
    env[`${prefix}_SECRET`] = `${provider}-retired-secret-0123456789,${HR_SECRETS[provider]}`;
    if (provider !== 'okta') {
      env[`${prefix}_API_TOKEN`] = api.token(provider);
      env[`${prefix}_API_URL`] = api.baseUrl(provider);
    }
  }
  return env;
}

describe('offboard serve: native HR routes', () => {
  it('runs each provider\'s termination to DELETED, answers Okta\'s challenge, records a failed lookup REJECTED', async () => {
    const dataDir = processes.tempDir('serve-hr-');
    const serve = processes.serve(dataDir, { OFFBOARDING_WEBHOOK_SECRET: 'whsec_e2e_serve_hr_0123456789', ARIZE_API_KEY: undefined, OFFBOARDING_HR_TIME_ZONE: 'America/Los_Angeles', ...providerEnv(HR_PROVIDERS) });
    const { child, exited } = serve;
    const url = await serveUrl(serve);
    for (const provider of HR_PROVIDERS) expect(serve.output()).toContain(`POST /hr/${provider}`);

    const challenge = await fetch(`${url}/hr/okta`, { headers: { 'x-okta-verification-challenge': 'okta-challenge-42' } });
    expect(await challenge.json()).toEqual({ verification: 'okta-challenge-42' });
    expect((await fetch(`${url}/hr/workday`, { method: 'POST', body: '{}' })).status).toBe(404);

    const requestIds = new Map<HrProvider, string>();
    for (const provider of HR_PROVIDERS) {
      const body = hrFixture(HR_TERMINATIONS[provider].fixture);
      const unsigned = await fetch(`${url}/hr/${provider}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(unsigned.status, provider).toBe(401);
      const response = await fetch(`${url}/hr/${provider}`, { method: 'POST', headers: providerHeaders(provider, HR_SECRETS[provider], body, Date.now() / 1000), body });
      expect(response.status, `${provider}: ${await response.clone().text()}`).toBe(202);
      const answer = (await response.json()) as { requestIds: string[] };
      requestIds.set(provider, answer.requestIds[0]!);
    }

    // A person the provider no longer knows: recorded REJECTED with the reason, answered 422.
    api.forget('deel');
    const unknown = hrFixture('deel-contract-terminated.json').replace('d5e2f0a4c3b2', 'e6f3a1b5d4c3');
    const rejected = await fetch(`${url}/hr/deel`, { method: 'POST', headers: providerHeaders('deel', HR_SECRETS.deel, unknown, Date.now() / 1000), body: unknown });
    expect(rejected.status).toBe(422);
    const rejectionId = /→ (rejected-[0-9a-f]+)/.exec(((await rejected.json()) as { detail: string }).detail)?.[1];

    const remote = connectLocalRuntime(readRuntimeInfo(dataDir)!);
    try {
      for (const provider of HR_PROVIDERS) {
        const requestId = requestIds.get(provider)!;
        const state = await waitFor(async () => {
          const current = await remote.ledger.getRequestState(requestId);
          return current && !['RECEIVED', 'RUNNING'].includes(current.status) ? current : undefined;
        }, 90_000, `${provider} request to finish`);
        expect(state, provider).toMatchObject({ status: 'COMPLETED', source: 'webhook' });
        expect(await remote.ledger.outcomesOfRequest(requestId), provider).toEqual([expect.objectContaining({ email: HR_TERMINATIONS[provider].email, status: 'DELETED' })]);
        if (provider !== 'okta' && provider !== 'rippling') {
          // "2026-11-30" in Los Angeles ends at 08:00Z on 12-01; the HR value is kept beside it.
          expect(state.request, provider).toMatchObject({ effectiveAt: '2026-12-01T08:00:00.000Z', effectiveAtOriginal: '2026-11-30' });
        }
      }
      expect(rejectionId).toBeDefined();
      expect(await remote.ledger.getRequestState(rejectionId!)).toMatchObject({ status: 'REJECTED', reason: matching(/not found in deel/) });
    } finally {
      await remote.close();
    }
    expect(serve.output()).not.toMatch(/@example\.com/i);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 240_000);
});
