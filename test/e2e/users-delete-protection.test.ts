/**
 * `offboard users delete` obeys the pipeline's protection (issue 8 item 4): the spawned CLI against the
 * sandbox over HTTP with the project's cdk.json (protectedRoles ["ADMIN"], maxDeletesPerRequest 50), and the
 * guard itself against the sandbox with a policy naming emails, patterns and the API key's owner.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArizeUsersClient } from '../../lambdas/arize/index.js';
import { loadLocalConfig, workflowRuntimeConfig } from '../../local/runtime/config.js';
import { pipelinePlanningPolicy, planUserDeletion } from '../../local/cli/users-delete-guard.js';
import { startSandbox, type Sandbox, type SeedUser } from '../../local/sandbox/server.js';
import { runCli, type CliRun } from '../support/cli.js';

const KEY = 'protection-key';
let sandbox: Sandbox;

const seed = (): SeedUser[] =>
  [
    { email: 'owner@corp.test', role: { type: 'PREDEFINED', name: 'ADMIN' } },
    { email: 'boss@corp.test', role: { type: 'PREDEFINED', name: 'ADMIN' } },
    { email: 'leaver@corp.test' },
    { email: 'other.leaver@corp.test' },
    { email: 'ciso@security.corp.test' },
    ...Array.from({ length: 55 }, (_, i) => ({ email: `bulk${i}@corp.test` })),
  ] as SeedUser[];

beforeEach(async () => {
  sandbox = await startSandbox({ seed: seed(), apiKey: KEY });
});
afterEach(async () => {
  await sandbox.close();
});

function cli(args: string[]): Promise<CliRun> {
  return runCli(['users', 'delete', '--yes', ...args], {
    env: { ARIZE_API_KEY: KEY, ARIZE_API_HOST: '127.0.0.1', ARIZE_API_SCHEME: 'http', ARIZE_API_PORT: String(sandbox.port) },
  });
}
const alive = (email: string) => sandbox.store.find(email)?.deleted === false;
const idOf = (email: string) => sandbox.store.find(email)?.id ?? '';

describe('offboard users delete: the pipeline protection applies (spawned CLI)', () => {
  it('reports an ADMIN (by id or email) as protected and skips it; the others are deleted', async () => {
    const run = await cli(['--id', idOf('boss@corp.test'), '--email', 'leaver@corp.test', '-o', 'json']);
    expect(run.code).toBe(0);
    const results = JSON.parse(run.stdout) as { user_id: string; email?: string; status: string; error?: string }[];
    expect(results).toEqual([
      { user_id: idOf('boss@corp.test'), status: 'protected', error: 'protected-role:ADMIN (--include-protected to delete anyway)' },
      { user_id: idOf('leaver@corp.test'), email: 'leaver@corp.test', status: 'deleted' },
    ]);
    expect(run.stderr).toContain('1 protected account will be skipped');
    expect(alive('boss@corp.test')).toBe(true);
    expect(alive('leaver@corp.test')).toBe(false);
    expect(sandbox.counters.byRoute.delete).toBe(1);
  });

  it('deletes a protected account only with --include-protected, and says so loudly', async () => {
    const run = await cli(['--email', 'boss@corp.test', '--include-protected']);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/WARNING: --include-protected: deleting PROTECTED account \S+ \(b\*\*\*s@corp\.test, protected-role:ADMIN\)/);
    expect(alive('boss@corp.test')).toBe(false);
  });

  it('refuses above the cap (exit 2, nothing deleted) unless --max-deletes allows it', async () => {
    const emails = Array.from({ length: 51 }, (_, i) => `bulk${i}@corp.test`).join(',');
    const refused = await cli(['--email', emails]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('blast radius: 51 deletes exceed the maximum of 50');
    expect(refused.stderr).toContain('--max-deletes 51');
    expect(sandbox.counters.byRoute.delete ?? 0).toBe(0);

    const lowered = await cli(['--email', 'leaver@corp.test,other.leaver@corp.test', '--max-deletes', '1']);
    expect(lowered.code).toBe(2);
    expect(lowered.stderr).toContain('blast radius: 2 deletes exceed the maximum of 1');
    expect(sandbox.counters.byRoute.delete ?? 0).toBe(0);

    const allowed = await cli(['--email', emails, '--max-deletes', '51', '-o', 'json']);
    expect(allowed.code).toBe(0);
    expect((JSON.parse(allowed.stdout) as { status: string }[]).every((r) => r.status === 'deleted')).toBe(true);
    expect(sandbox.counters.byRoute.delete).toBe(51);
  });
});

describe('the users-delete guard: same rules and configuration as the pipeline', () => {
  it('reads the policy the local runtime gives the workflow (cdk.json through the Lambda environment mapping)', () => {
    const config = loadLocalConfig({});
    const runtime = workflowRuntimeConfig(config, { tableName: 'offboarding-ledger', arize: { apiKey: 'k', host: 'h', scheme: 'https' } });
    expect(pipelinePlanningPolicy()).toEqual(runtime.planning);
  });

  it('protects emails, patterns, roles and the key owner (never overridable), by id and by email', async () => {
    const client = new ArizeUsersClient({ baseUrl: sandbox.url, apiKey: KEY, env: {} });
    const targets = {
      userIds: [idOf('owner@corp.test'), idOf('leaver@corp.test')],
      emails: ['LEAVER@corp.test', 'ciso@security.corp.test', 'other.leaver@corp.test', 'boss@corp.test', 'ghost@corp.test'],
    };
    const policy = {
      ...pipelinePlanningPolicy(),
      protectedEmails: ['Other.Leaver@corp.test'],
      protectedPatterns: ['*@security.corp.test'],
      apiKeyOwnerEmail: 'owner@corp.test',
    };
    const plan = await planUserDeletion(client, targets, policy, { includeProtected: false });
    expect(plan.deleteIds).toEqual([idOf('leaver@corp.test')]);
    const statuses = Object.fromEntries([...plan.settled].map(([key, r]) => [key, `${r.status} ${r.error ?? ''}`.trim()]));
    expect(statuses).toEqual({
      [`id:${idOf('owner@corp.test')}`]: 'protected api-key-owner',
      'email:ciso@security.corp.test': 'protected protected-pattern:*@security.corp.test (--include-protected to delete anyway)',
      'email:other.leaver@corp.test': 'protected protected-email (--include-protected to delete anyway)',
      'email:boss@corp.test': 'protected protected-role:ADMIN (--include-protected to delete anyway)',
      'email:ghost@corp.test': 'not_found no user with this email',
    });

    const overriding = await planUserDeletion(client, targets, policy, { includeProtected: true });
    expect(new Set(overriding.deleteIds)).toEqual(new Set(['leaver', 'ciso', 'other.leaver', 'boss'].map((n) => idOf(`${n}@${n === 'ciso' ? 'security.' : ''}corp.test`))));
    expect(overriding.settled.get(`id:${idOf('owner@corp.test')}`)?.status).toBe('protected');
    expect(sandbox.counters.byRoute.delete ?? 0).toBe(0);
  });
});
