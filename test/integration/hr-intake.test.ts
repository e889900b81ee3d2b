/**
 * The HR intake use case against a local fake of the providers' APIs over real HTTP: thin events completed by
 * lookup, bounded retries, a failing lookup answered 503 (transient) or recorded REJECTED (permanent), 404 for a
 * disabled provider, non-terminations acknowledged and ignored, rescinds completed by lookup and handed to the
 * cancellation use case (its ledger effects are tested through the workflow in test/e2e/rescind.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestQueue } from '../../lambdas/adapters/queue.js';
import { HR_ADAPTERS } from '../../lambdas/core/hr/registry.js';
import { HR_PROVIDERS, type HrProvider } from '../../lambdas/core/hr/types.js';
import type { OffboardingRequest } from '../../lambdas/core/request.js';
import type { CancelInput } from '../../lambdas/usecases/cancel.js';
import { processHrWebhook, type HrIntakeDeps, type HrRejection } from '../../lambdas/usecases/hr-intake.js';
import { HR_SECRETS, HR_TERMINATIONS, hrFixture, matching, providerHeaders, startFakeHrApi, type FakeHrApi } from '../support/hr.js';

let api: FakeHrApi;
beforeAll(async () => {
  api = await startFakeHrApi();
});
afterAll(async () => {
  await api.close();
});

interface Harness {
  deps: HrIntakeDeps;
  sent: OffboardingRequest[];
  rejections: HrRejection[];
  cancels: CancelInput[];
  logs: string[];
  sleeps: number[];
}

function harness(options: { withApi?: boolean; withLedger?: boolean; enabled?: HrProvider[] } = {}): Harness {
  const sent: OffboardingRequest[] = [];
  const rejections: HrRejection[] = [];
  const cancels: CancelInput[] = [];
  const logs: string[] = [];
  const sleeps: number[] = [];
  const queue: RequestQueue = { send: (requests) => Promise.resolve(void sent.push(...requests)) };
  const record = (level: string) => (message: string, attributes?: Record<string, unknown>) => logs.push(`${level} ${message} ${JSON.stringify(attributes ?? {})}`);
  const enabled = new Set(options.enabled ?? HR_PROVIDERS);
  const deps: HrIntakeDeps = {
    settings: (provider) =>
      Promise.resolve(
        enabled.has(provider)
          ? { secrets: [HR_SECRETS[provider]], ...(options.withApi === false ? {} : { api: { baseUrl: api.baseUrl(provider), token: api.token(provider) } }) }
          : undefined,
      ),
    queue,
    clock: () => new Date('2026-12-02T10:00:00Z'),
    log: { info: record('info'), warn: record('warn'), error: record('error') },
    policy: { timeZone: 'Europe/Berlin', graceMinutes: 0 },
    fetch: (input, init) => fetch(input, init),
    sleep: (ms) => Promise.resolve(void sleeps.push(ms)),
    random: () => 0.5,
    lookup: { timeoutMs: 2000, attempts: 3, budgetMs: 8000 },
    ...(options.withLedger === false
      ? {}
      : {
          reject: (rejection) => Promise.resolve(`rejected-${rejections.push(rejection)}`),
          cancel: (input) => Promise.resolve({ recordId: input.recordId, duplicate: cancels.push(input) > 1, cancelledRequests: ['gusto:earlier'], rehiredAfterDeletion: [] }),
        }),
  };
  return { deps, sent, rejections, cancels, logs, sleeps };
}

async function deliver(provider: HrProvider, fixture: string, h: Harness, secret = HR_SECRETS[provider]) {
  const body = hrFixture(fixture);
  const headers = providerHeaders(provider, secret, body, Date.parse('2026-12-02T10:00:00Z') / 1000);
  const response = await processHrWebhook(HR_ADAPTERS[provider], { method: 'POST', headers, body: Buffer.from(body) }, h.deps);
  return { status: response.status, body: JSON.parse(response.body) as Record<string, unknown>, headers: response.headers };
}

describe('processHrWebhook', () => {
  it.each(HR_PROVIDERS)('%s: a termination becomes one request with the looked-up work email and the HR date kept', async (provider) => {
    const h = harness();
    const { status, body } = await deliver(provider, HR_TERMINATIONS[provider].fixture, h);
    expect(status).toBe(202);
    expect(h.sent).toHaveLength(1);
    const request = h.sent[0]!;
    expect(body.requestIds).toEqual([request.requestId]);
    expect(request.requestId.startsWith(`${provider}:`)).toBe(true);
    expect(request.emails).toEqual([HR_TERMINATIONS[provider].email]);
    if (provider === 'okta' || provider === 'rippling') expect(request.effectiveAt).toBeUndefined();
    else {
      // Every dated fixture means "2026-11-30": the end of that day in Berlin is 23:00Z.
      expect(request).toMatchObject({ effectiveAt: '2026-11-30T23:00:00.000Z', effectiveAtOriginal: '2026-11-30' });
    }
    expect(h.logs.join('\n')).not.toMatch(/@example\.com/);
    // A redelivery maps onto the same request id.
    await deliver(provider, HR_TERMINATIONS[provider].fixture, h);
    expect(h.sent[1]?.requestId).toBe(request.requestId);
  });

  it('BambooHR keys the request by (employee, termination date) from the lookup', async () => {
    const h = harness();
    await deliver('bamboohr', 'bamboohr-employee-updated-status.json', h);
    expect(h.sent[0]?.requestId).toBe('bamboohr:12345-4101:employee.terminated:2026-11-30');
  });

  it('retries a transient lookup failure with backoff, then succeeds', async () => {
    const h = harness();
    api.failNext('gusto', 503, 2);
    const { status } = await deliver('gusto', 'gusto-employee-terminated.json', h);
    expect(status).toBe(202);
    expect(h.sleeps).toHaveLength(2);
    expect(h.sent[0]?.emails).toEqual(['noah.wilson@example.com']);
  });

  it('answers 503 (the provider redelivers) when the lookup keeps failing transiently; nothing is enqueued', async () => {
    const h = harness();
    api.failNext('personio', 503, 3);
    const { status, headers } = await deliver('personio', 'personio-employment-terminated.json', h);
    expect(status).toBe(503);
    expect(headers['retry-after']).toBe('60');
    expect(h.sent).toEqual([]);
    expect(h.sleeps).toHaveLength(2);
  });

  it('a Retry-After longer than the provider can wait is answered 503 at once', async () => {
    const h = harness();
    api.failNext('deel', 429, 1, { 'retry-after': '120' });
    const { status } = await deliver('deel', 'deel-contract-terminated.json', h);
    expect(status).toBe(503);
    expect(h.sleeps).toEqual([]);
    api.failNext('deel', 429, 0);
  });

  it('records REJECTED (422) when the person is not found, and when no API credentials are configured', async () => {
    const h = harness();
    api.failNext('rippling', 404, 1);
    const missing = await deliver('rippling', 'rippling-employee-deleted.txt', h);
    expect(missing.status).toBe(422);
    expect(h.rejections).toEqual([expect.objectContaining({ provider: 'rippling', requestId: 'rippling:5f1c2a3b4d5e6f708192a3b4-60a1f2e3d4c5b6a798877665:EmployeeDeleted', reason: matching(/not found/) })]);

    const noApi = harness({ withApi: false });
    const unconfigured = await deliver('hibob', 'hibob-employee-left.json', noApi);
    expect(unconfigured.status).toBe(422);
    expect(noApi.rejections[0]?.reason).toMatch(/no hibob API credentials/);
    expect(noApi.sent).toEqual([]);
  });

  it('without a ledger to record in, a permanent failure is answered 503 so the provider keeps the event', async () => {
    const h = harness({ withApi: false, withLedger: false });
    expect((await deliver('gusto', 'gusto-employee-terminated.json', h)).status).toBe(503);
  });

  it('acknowledges and ignores authentic non-terminations, with the reason logged', async () => {
    const h = harness();
    const { status, body } = await deliver('deel', 'deel-contract-created.json', h);
    expect(status).toBe(200);
    expect(body).toEqual({ provider: 'deel', requestIds: [], ignored: ['event type contract.created is not about a termination'] });
    expect(h.logs.join('\n')).toMatch(/hr event ignored .*contract.created/);
  });

  it('a rescind sending only an id is completed by lookup and cancels by the person\'s email (nothing enqueued)', async () => {
    const h = harness();
    const { status, body } = await deliver('gusto', 'gusto-termination-cancelled.json', h);
    expect(status).toBe(200);
    expect(body.rescinds).toEqual([{ requestId: 'gusto:03ffbf0c-48a9-4f1c-932a-546413a26ad1', status: 'recorded', cancelledRequests: ['gusto:earlier'], rehiredAfterDeletion: 0 }]);
    expect(h.cancels).toEqual([
      {
        recordId: 'gusto:03ffbf0c-48a9-4f1c-932a-546413a26ad1',
        target: { emails: [HR_TERMINATIONS.gusto.email] },
        source: 'gusto',
        eventId: '03ffbf0c-48a9-4f1c-932a-546413a26ad1',
        reason: 'gusto employee.termination_cancelled',
      },
    ]);
    expect(h.rejections).toEqual([]);
    expect(h.sent).toEqual([]);
  });

  it('a rescind whose person cannot be looked up is recorded REJECTED for a human, never dropped', async () => {
    const h = harness({ withApi: false });
    const { status } = await deliver('gusto', 'gusto-termination-cancelled.json', h);
    expect(status).toBe(422);
    expect(h.rejections[0]?.reason).toMatch(/termination_cancelled: only an employee id was sent .*cancel the person's pending request by hand/);
    expect(h.cancels).toEqual([]);
  });

  it('404 for a disabled provider, 401 for a bad signature, 405 for GET without a challenge', async () => {
    const disabled = harness({ enabled: ['okta'] });
    expect((await deliver('bamboohr', 'bamboohr-employee-updated-status.json', disabled)).status).toBe(404);
    const h = harness();
    expect((await deliver('deel', 'deel-contract-terminated.json', h, 'not-the-deel-signing-key')).status).toBe(401);
    const get = await processHrWebhook(HR_ADAPTERS.deel, { method: 'GET', headers: {}, body: new Uint8Array() }, h.deps);
    expect(get.status).toBe(405);
    const okta = await processHrWebhook(HR_ADAPTERS.okta, { method: 'GET', headers: { 'x-okta-verification-challenge': 'abc123' }, body: new Uint8Array() }, h.deps);
    expect(okta).toMatchObject({ status: 200, body: '{"verification":"abc123"}' });
    expect(h.sent).toEqual([]);
  });
});

describe('request identity', () => {
  it('answers 409 and enqueues nothing when the key already holds a different request (as /hr/events does)', async () => {
    const h = harness();
    const stored = { requestId: 'okta:4a0a2b3c-74e5-11ee-8a5a-69d62fcd0f8b', type: 'employee.terminated', emails: ['someone.else@example.com'], source: 'webhook', dryRun: false };
    h.deps.ledger = { getRequestState: (id) => Promise.resolve(id === stored.requestId ? ({ requestId: id, status: 'COMPLETED', createdAt: '', updatedAt: '', request: stored } as never) : undefined) };
    const { status } = await deliver('okta', 'okta-user-deactivated.json', h);
    expect(status).toBe(409);
    expect(h.sent).toEqual([]);
  });
});
