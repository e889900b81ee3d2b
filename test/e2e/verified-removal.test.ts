/**
 * Verified removal and the access inventory through the pipeline an operator runs: the real `offboard run` CLI
 * as a process → local runtime (SQS, the synthesised workflow, ledger on dynalite) → an Arize sandbox over HTTP
 * in this process (so the test can seed access and inject a delete Arize acknowledges but does not apply).
 * What the ledger recorded is read back through `offboard status -o json`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoDirectory, SANDBOX_ROLES, SANDBOX_SPACES, startSandbox, type Sandbox } from '../../local/sandbox/server.js';
import { runCli } from '../support/cli.js';

const SLOW = 180_000;
let workDir: string;
let sandbox: Sandbox;

interface StatusJson {
  state: string;
  outcomes: {
    email: string;
    status: string;
    attempts: number;
    error?: string;
    verifiedAt?: string;
    access?: string;
    orphanedServiceKeys?: { id: string; name: string; space?: string; redactedKey: string }[];
  }[];
}

function env(config: object): Record<string, string> {
  return {
    NODE_NO_WARNINGS: '1',
    ARIZE_API_KEY: sandbox.apiKey,
    ARIZE_API_HOST: '127.0.0.1',
    ARIZE_API_SCHEME: 'http',
    ARIZE_API_PORT: String(sandbox.port),
    // No 60 s backoff between attempts against a local sandbox.
    OFFBOARDING_CONFIG: JSON.stringify({ retry: { maxAttempts: 2, backoffSeconds: 0 }, ...config }),
  };
}

async function runRequest(name: string, emails: string[], config: object): Promise<StatusJson> {
  const dataDir = join(workDir, name);
  const input = join(workDir, `${name}.json`);
  await writeFile(input, JSON.stringify([{ requestId: name, type: 'employee.terminated', emails }]));
  const run = await runCli(['run', input, '--data-dir', dataDir, '--confirm'], { env: env(config) });
  expect(run.stderr).not.toMatch(/Error:/);
  const status = await runCli(['status', name, '--data-dir', dataDir, '-o', 'json'], { env: env(config) });
  expect(status.code).toBe(0);
  return JSON.parse(status.stdout) as StatusJson;
}

const idOf = (email: string) => sandbox.store.find(email)?.id ?? '';
const space = (name: string) => SANDBOX_SPACES.find((s) => s.name === name)?.id ?? '';
const role = (name: string) => SANDBOX_ROLES.find((r) => r.name === name)?.id ?? '';

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'offboard-verified-'));
  sandbox = await startSandbox({ seed: demoDirectory() });
});

afterAll(async () => {
  await sandbox.close();
  await rm(workDir, { recursive: true, force: true });
});

describe('offboard run: verified removal with the leaver’s access recorded', () => {
  it(
    'records role, bindings and keys on a verified DELETED, reports the orphaned SERVICE key, and an unapplied delete is FAILED',
    async () => {
      const zara = idOf('zara.ahmed@example.com');
      sandbox.access.addBinding({ userId: zara, roleId: role('MEMBER'), resourceType: 'SPACE', resourceId: space('Production') });
      sandbox.access.addBinding({ userId: zara, roleId: role('ANNOTATOR'), resourceType: 'PROJECT', resourceId: 'project-7' });
      const userKey = sandbox.access.addKey({ userId: zara, name: 'laptop', type: 'USER' });
      const serviceKey = sandbox.access.addKey({ userId: zara, name: 'ingest', type: 'SERVICE', spaceId: space('Research') });
      // Someone else's SERVICE key in the same space: never attributed to the leaver.
      sandbox.access.addKey({ userId: idOf('tom@example.com'), name: 'tom-export', type: 'SERVICE', spaceId: space('Research') });
      // Arize answers 204 to both attempts' DELETE for Ingrid but keeps the account.
      sandbox.faults.ignoreDeletes('ingrid.nilsen@example.com', 2);

      const status = await runRequest('verified-1', ['zara.ahmed@example.com', 'ingrid.nilsen@example.com'], {});
      expect(status.state).toBe('COMPLETED_WITH_FAILURES');
      const byEmail = new Map(status.outcomes.map((o) => [o.email, o]));

      const deleted = byEmail.get('zara.ahmed@example.com');
      expect(deleted).toMatchObject({ status: 'DELETED', attempts: 1 });
      expect(Date.parse(deleted?.verifiedAt ?? '')).not.toBeNaN();
      expect(deleted?.access).toBe(
        'role MEMBER; bindings: MEMBER on space Production, ANNOTATOR on project project-7; USER keys: 1; SERVICE keys: 1, 1 still ACTIVE',
      );
      expect(deleted?.orphanedServiceKeys).toEqual([{ id: serviceKey.id, name: 'ingest', space: 'Research', redactedKey: serviceKey.redacted_key }]);
      // The cascade revoked the USER key; the SERVICE key is left to the alert (serviceKeys: report, the default).
      expect(sandbox.access.keys.find((r) => r.key.id === userKey.id)?.key.status).toBe('REVOKED');
      expect(sandbox.access.keys.find((r) => r.key.id === serviceKey.id)?.key.status).toBe('ACTIVE');
      expect(sandbox.store.find('zara.ahmed@example.com')?.deleted).toBe(true);

      const unapplied = byEmail.get('ingrid.nilsen@example.com');
      expect(unapplied).toMatchObject({ status: 'FAILED', attempts: 2 });
      expect(unapplied?.error).toMatch(/^DeleteNotVerified: the delete was acknowledged but GET \/v2\/users\/\{id\} still returns the user/);
      expect(unapplied?.verifiedAt).toBeUndefined();
      expect(sandbox.store.find('ingrid.nilsen@example.com')?.deleted).toBe(false);
    },
    SLOW,
  );

  it(
    'serviceKeys: revoke revokes the leaver’s SERVICE keys after the verified delete and verifies the revocation',
    async () => {
      const grace = idOf('grace.kim@example.com');
      const serviceKey = sandbox.access.addKey({ userId: grace, name: 'nightly-eval', type: 'SERVICE', spaceId: space('Playground') });
      const others = sandbox.access.addKey({ userId: idOf('tom@example.com'), name: 'tom-playground', type: 'SERVICE', spaceId: space('Playground') });

      const status = await runRequest('verified-2', ['grace.kim@example.com'], { serviceKeys: 'revoke' });
      expect(status.state).toBe('COMPLETED');
      const [outcome] = status.outcomes;
      expect(outcome).toMatchObject({ email: 'grace.kim@example.com', status: 'DELETED' });
      expect(outcome?.access).toMatch(/SERVICE keys: 1, 1 revoked by us$/);
      expect(outcome?.orphanedServiceKeys).toBeUndefined();
      expect(sandbox.access.keys.find((r) => r.key.id === serviceKey.id)?.key.status).toBe('REVOKED');
      expect(sandbox.access.keys.find((r) => r.key.id === others.id)?.key.status).toBe('ACTIVE');
    },
    SLOW,
  );
});
