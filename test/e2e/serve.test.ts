/**
 * `offboard serve` as a real process: signed event in, 202 out, the outcome in the ledger (read through the
 * running runtime's endpoints, as other CLI commands do), clean stop on SIGTERM.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { signWebhook } from '../../lambdas/core/webhook.js';
import { connectLocalRuntime, readRuntimeInfo } from '../../local/runtime/index.js';
import { startSandbox, type SeedUser } from '../../local/sandbox/server.js';
import { serveUrl, useCliProcesses } from '../support/serve.js';
import { waitFor } from '../support/wait.js';

const SECRET = 'whsec_e2e_serve_0123456789';
const processes = useCliProcesses();
const startServe = (env: Record<string, string | undefined>, dataDir: string, extraArgs: string[] = []) => processes.serve(dataDir, env, extraArgs);

describe('offboard serve', () => {
  it('refuses to start without OFFBOARDING_WEBHOOK_SECRET (exit 2, nothing started)', async () => {
    const dataDir = processes.tempDir('serve-nosecret-');
    const serve = startServe({ OFFBOARDING_WEBHOOK_SECRET: undefined }, dataDir);
    expect(await serve.exited).toBe(2);
    expect(serve.output()).toMatch(/OFFBOARDING_WEBHOOK_SECRET/);
    expect(existsSync(join(dataDir, 'runtime.json'))).toBe(false);
  }, 60_000);

  it('accepts a signed event (202), runs it to a DELETED outcome, rejects unsigned (401), stops on SIGTERM', async () => {
    const dataDir = processes.tempDir('serve-e2e-');
    const serve = startServe({ OFFBOARDING_WEBHOOK_SECRET: SECRET, ARIZE_API_KEY: undefined }, dataDir);
    const url = await serveUrl(serve);

    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);

    // ann@example.com is in the sandbox's demo directory; joann@example.com (a near-duplicate) must survive.
    const body = JSON.stringify({ eventId: 'e2e-1', type: 'employee.terminated', employee: { email: 'Ann@Example.com' } });
    const unsigned = await fetch(`${url}/hr/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(unsigned.status).toBe(401);
    const accepted = await fetch(`${url}/hr/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-offboarding-signature': signWebhook(SECRET, body, Date.now() / 1000) },
      body,
    });
    expect(accepted.status).toBe(202);
    expect(await accepted.json()).toEqual({ requestId: 'hr-e2e-1', emails: 1, requestIds: ['hr-e2e-1'] });

    const info = readRuntimeInfo(dataDir);
    expect(info?.controlUrl).toBe(url);
    const remote = connectLocalRuntime(info!);
    try {
      const state = await waitFor(async () => {
        const current = await remote.ledger.getRequestState('hr-e2e-1');
        return current && !['RECEIVED', 'RUNNING'].includes(current.status) ? current : undefined;
      }, 60_000, 'the request to finish');
      expect(state).toMatchObject({ status: 'COMPLETED', source: 'webhook' });
      expect(await remote.ledger.outcomesOfRequest('hr-e2e-1')).toEqual([expect.objectContaining({ email: 'ann@example.com', status: 'DELETED' })]);

      // The same eventId again: same content (other case, a reason) is a duplicate (202); other content is refused.
      const post = (event: object) => {
        const text = JSON.stringify(event);
        return fetch(`${url}/hr/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-offboarding-signature': signWebhook(SECRET, text, Date.now() / 1000) },
          body: text,
        });
      };
      expect((await post({ eventId: 'e2e-1', type: 'employee.terminated', emails: ['ANN@example.com'], reason: 'resent' })).status).toBe(202);
      const conflict = await post({ eventId: 'e2e-1', type: 'employee.terminated', emails: ['bob.smith@example.com'] });
      expect(conflict.status).toBe(409);
      expect(conflict.headers.get('content-type')).toBe('application/problem+json');
      const problem = (await conflict.json()) as { status: number; eventId: string; detail: string };
      expect(problem).toMatchObject({ status: 409, eventId: 'e2e-1', detail: expect.stringContaining("eventId 'e2e-1'") as unknown });
      // Nothing was merged into the first request, and the replay of the duplicate left it as it was.
      expect((await remote.ledger.outcomesOfRequest('hr-e2e-1')).map((o) => o.email)).toEqual(['ann@example.com']);
      expect(await remote.ledger.getRequestState('hr-e2e-1')).toMatchObject({ status: 'COMPLETED', request: { emails: ['ann@example.com'] } });
    } finally {
      await remote.close();
    }
    expect(serve.output()).not.toMatch(/ann@example\.com/i);

    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    expect(existsSync(join(dataDir, 'runtime.json'))).toBe(false);
  }, 180_000);

  it('reaches the Arize the settings name (not api.arize.com), says which, and masks request ids holding an email', async () => {
    const sandbox = await startSandbox({ apiKey: 'serve-endpoint-key', seed: [{ email: 'owner@corp.test' }, { email: 'ann@example.com' }, { email: 'joann@example.com' }] as SeedUser[] });
    const dataDir = processes.tempDir('serve-endpoint-');
    try {
      const serve = startServe(
        { OFFBOARDING_WEBHOOK_SECRET: SECRET, ARIZE_API_KEY: 'serve-endpoint-key', ARIZE_API_HOST: '127.0.0.1', ARIZE_API_SCHEME: 'http', ARIZE_API_PORT: String(sandbox.port) },
        dataDir,
        ['--confirm'],
      );
      const url = await serveUrl(serve);
      expect(serve.output()).toContain(`arize: http://127.0.0.1:${sandbox.port} (from ARIZE_API_HOST)`);
      // An HR system that uses the address as its event id: the request id becomes hr-ann@example.com.
      const body = JSON.stringify({ eventId: 'ann@example.com', type: 'employee.terminated', emails: ['ann@example.com'] });
      const accepted = await fetch(`${url}/hr/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-offboarding-signature': signWebhook(SECRET, body, Date.now() / 1000) },
        body,
      });
      expect(accepted.status).toBe(202);
      await waitFor(() => (sandbox.store.find('ann@example.com')?.deleted ? true : undefined), 60_000, 'ann to be deleted in the sandbox');
      await waitFor(() => (/finished h\*\*\*n@example\.com COMPLETED/.test(serve.output()) ? true : undefined), 30_000, 'the masked progress line');
      expect(sandbox.store.find('joann@example.com')?.deleted).toBe(false);
      expect(serve.output()).not.toMatch(/ann@example\.com/i);
      serve.child.kill('SIGTERM');
      expect(await serve.exited).toBe(0);
    } finally {
      await sandbox.close();
    }
  }, 180_000);
});

