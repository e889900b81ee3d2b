/**
 * Sandbox fidelity (ids with + / =, upper-case enums, CUSTOM roles, admin vs member keys) and the
 * access endpoints (API keys, role bindings, roles, spaces, organizations, audit logs), exercised
 * through our client over real HTTP, plus the pure access inventory built on them.
 */
import { describe, expect, it } from 'vitest';
import { ArizeApiError, ArizeUsersClient, ArizeValidationError } from '../../lambdas/arize/index.js';
import { collectAccessInventory, findActivityAfter } from '../../lambdas/core/access-inventory.js';
import { SANDBOX_SPACES, demoDirectory, parseSeed, withDemoAccess, type Sandbox, type SandboxOptions, type SeedUser } from '../../local/sandbox/server.js';
import { call, expectProblem, sandboxesClosedAfterEach } from './sandbox-http.js';

const sandboxWith = sandboxesClosedAfterEach();
const MEMBER_KEY = 'member-key';

const LEAVER = 'leaver@example.com';
const seed: SeedUser[] = [
  { ...demoDirectory()[0]! },
  {
    ...demoDirectory()[1]!,
    email: LEAVER,
    id: 'VXNlcjpsZWF2ZXI+Pz8/Pg==',
    api_keys: [
      { name: 'laptop', key_type: 'USER', last_used_at: '2025-06-01T10:00:00Z' },
      { name: 'old laptop', key_type: 'USER', status: 'REVOKED' },
      { name: 'ingest', key_type: 'SERVICE', space: 'Research' },
      { name: 'export', key_type: 'SERVICE', space: 'Production' },
    ],
    role_bindings: [
      { role: 'MEMBER', resource: 'Production' },
      { role: 'Auditor', resource: 'Research' },
      { role: 'ANNOTATOR', resource_type: 'PROJECT', resource: 'project-7' },
    ],
    activity: [
      { at: '2025-06-01T08:00:00Z', operation_type: 'QUERY', operation_name: 'before' },
      { at: '2025-06-02T09:00:00Z', operation_type: 'MUTATION', operation_name: 'after-1' },
      { at: '2025-06-02T12:00:00Z', operation_type: 'QUERY', operation_name: 'after-2' },
    ],
  },
  { ...demoDirectory()[2]!, api_keys: [{ name: 'colleague service', key_type: 'SERVICE', space: 'Research' }] },
  { ...demoDirectory()[4]! },
];

async function setUp(options: SandboxOptions = {}): Promise<{ sandbox: Sandbox; admin: ArizeUsersClient; member: ArizeUsersClient; leaverId: string }> {
  const sandbox = await sandboxWith({ seed, keys: [{ key: MEMBER_KEY, admin: false, owner: seed[2]!.email }], ...options });
  const client = (apiKey: string) => new ArizeUsersClient({ baseUrl: sandbox.url, apiKey, env: {}, maxRequestsPerSecond: 10_000, sleep: () => Promise.resolve() });
  return { sandbox, admin: client(sandbox.apiKey), member: client(MEMBER_KEY), leaverId: seed[1]!.id };
}

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe('ids in padded standard base64', () => {
  it('round-trip through get, update and delete via the client (percent-encoded)', async () => {
    const { sandbox, admin } = await setUp();
    const created = await admin.create({ name: 'Slash Plus', email: 'slash.plus@example.com', role: 'MEMBER', inviteMode: 'NONE' });
    for (const id of [created.user.id, seed[1]!.id]) {
      expect(id).toMatch(/\+/);
      expect(id).toMatch(/\//);
      expect(id).toMatch(/=$/);
      expect((await admin.get(id)).id).toBe(id);
      expect((await admin.update(id, { name: 'Renamed' })).name).toBe('Renamed');
      await admin.delete(id);
      await expect(admin.get(id)).rejects.toMatchObject({ status: 404 });
      expect(sandbox.store.find(id)?.deleted).toBe(true);
    }
  });
});

describe('enums are upper case on the wire', () => {
  it('answers 400 to lower-case enums, while the client upper-cases what it is given', async () => {
    const { sandbox, admin } = await setUp();
    expectProblem(await call(sandbox, 'GET', '/v2/users?status=active'), 400, 'upper case');
    expectProblem(await call(sandbox, 'GET', '/v2/api-keys?key_type=user'), 400, 'key_type');
    expectProblem(await call(sandbox, 'GET', '/v2/role-bindings?resource_type=space'), 400, 'resource_type');
    const body = { name: 'Low', email: 'low@example.com', role: { type: 'PREDEFINED', name: 'member' }, invite_mode: 'NONE' };
    expectProblem(await call(sandbox, 'POST', '/v2/users', { body }), 400, 'role');
    expectProblem(await call(sandbox, 'POST', '/v2/users', { body: { ...body, role: { type: 'PREDEFINED', name: 'MEMBER' }, invite_mode: 'none' } }), 400, 'invite_mode');
    expect(sandbox.store.find('low@example.com')).toBeUndefined();
    // Lower case in, upper case out: these would be 400s if the client sent them as given.
    expect((await admin.list({ status: ['active'] })).users.length).toBeGreaterThan(0);
    expect((await admin.listApiKeys({ keyType: 'user' })).api_keys).toEqual([]);
    expect((await admin.listRoleBindings({ resourceType: 'space', userId: seed[1]!.id })).role_bindings).toHaveLength(2);
  });

  it('refuses to create a user with a CUSTOM role (422, nothing created)', async () => {
    const { sandbox } = await setUp();
    const body = { name: 'Custom', email: 'custom@example.com', role: { type: 'CUSTOM', id: 'r-1' }, invite_mode: 'NONE' };
    expectProblem(await call(sandbox, 'POST', '/v2/users', { body }), 422, 'custom roles not yet supported');
    expect(sandbox.store.find('custom@example.com')).toBeUndefined();
  });
});

describe('a key without admin rights', () => {
  it('gets a typed, non-retryable 403 on delete and on is_developer, and nothing changes', async () => {
    const { sandbox, member, leaverId } = await setUp();
    const deleting = await member.delete(leaverId).catch((error: unknown) => error);
    expect(deleting).toBeInstanceOf(ArizeApiError);
    expect(deleting).toMatchObject({ status: 403, retryable: false, attempts: 1 });
    const flagging = await member.update(leaverId, { isDeveloper: false }).catch((error: unknown) => error);
    expect(flagging).toMatchObject({ status: 403, retryable: false, attempts: 1 });
    expect(member.stats.retries).toBe(0);
    expect(sandbox.store.find(leaverId)).toMatchObject({ deleted: false, is_developer: true });
    const [result] = await member.bulkDelete({ emails: [LEAVER] });
    expect(result).toMatchObject({ user_id: leaverId, status: 'failed', retryable: false, httpStatus: 403 });
    expect(sandbox.store.find(leaverId)?.deleted).toBe(false);
  });

  it('reads ACTIVE users but gets 403 for users it may not see, and may not invite', async () => {
    const { member } = await setUp();
    const invited = seed[3]!;
    expect(invited.status).toBe('INVITED');
    expect((await member.get(seed[1]!.id)).email).toBe(LEAVER);
    await expect(member.get(invited.id)).rejects.toMatchObject({ status: 403, retryable: false });
    await expect(member.create({ name: 'X', email: 'x@example.com', role: 'MEMBER', inviteMode: 'NONE' })).rejects.toMatchObject({ status: 403 });
  });

  it('gets 403 on others’ USER keys, others’ role bindings and audit logs, and may revoke only its own keys', async () => {
    const { admin, member, leaverId } = await setUp();
    await expect(member.listApiKeys({ keyType: 'USER', userId: leaverId })).rejects.toMatchObject({ status: 403 });
    await expect(member.listRoleBindings({ resourceType: 'SPACE', userId: leaverId })).rejects.toMatchObject({ status: 403 });
    await expect(member.listAuditLogs({})).rejects.toMatchObject({ status: 403 });
    const [leaverKey] = await all(admin.listAllApiKeys({ keyType: 'USER', userId: leaverId }));
    await expect(member.revokeApiKey(leaverKey!.id)).rejects.toMatchObject({ status: 403 });
    expect((await admin.listApiKeys({ keyType: 'USER', userId: leaverId })).api_keys.map((k) => k.status)).toEqual(['ACTIVE']);
  });
});

describe('access endpoints', () => {
  it('lists USER keys (ACTIVE by default) and SERVICE keys per space, never a secret', async () => {
    const { sandbox, admin, leaverId } = await setUp();
    const userKeys = await all(admin.listAllApiKeys({ keyType: 'USER', userId: leaverId }));
    expect(userKeys.map((k) => [k.name, k.status, k.key_type])).toEqual([['laptop', 'ACTIVE', 'USER']]);
    expect(userKeys[0]!.redacted_key).toMatch(/^ak-\*{4}[0-9a-f]{4}$/);
    expect((await admin.listApiKeys({ keyType: 'USER', userId: leaverId, status: 'revoked' })).api_keys.map((k) => k.name)).toEqual(['old laptop']);
    const research = SANDBOX_SPACES.find((s) => s.name === 'Research')!;
    const service = await all(admin.listAllApiKeys({ keyType: 'SERVICE', spaceId: research.id }));
    expect(service.map((k) => k.name)).toEqual(['ingest', 'colleague service']);
    expect((await admin.listApiKeys({ keyType: 'SERVICE', spaceId: research.id, userId: leaverId })).api_keys.map((k) => k.name)).toEqual(['ingest']);
    await expect(admin.listApiKeys({ keyType: 'SERVICE' })).rejects.toBeInstanceOf(ArizeValidationError);
    expectProblem(await call(sandbox, 'GET', '/v2/api-keys?key_type=SERVICE'), 400, 'space_id');
    const raw = await call(sandbox, 'GET', `/v2/api-keys?key_type=USER&user_id=${encodeURIComponent(leaverId)}`);
    expect(Object.keys((raw.json as { api_keys: Record<string, unknown>[] }).api_keys[0]!).sort()).toEqual(
      ['created_at', 'created_by_user_id', 'id', 'key_type', 'last_used_at', 'name', 'redacted_key', 'status'],
    );
  });

  it('revokes a key with 204, idempotently', async () => {
    const { sandbox, admin, leaverId } = await setUp();
    const [key] = await all(admin.listAllApiKeys({ keyType: 'USER', userId: leaverId }));
    await admin.revokeApiKey(key!.id);
    await admin.revokeApiKey(key!.id);
    expect((await admin.listApiKeys({ keyType: 'USER', userId: leaverId })).api_keys).toEqual([]);
    expect((await call(sandbox, 'PUT', `/v2/api-keys/${encodeURIComponent(key!.id)}/revoke`)).status).toBe(204);
    expectProblem(await call(sandbox, 'PUT', `/v2/api-keys/${encodeURIComponent('QXBpS2V5Ojk5OQ==')}/revoke`), 404);
    expectProblem(await call(sandbox, 'GET', `/v2/api-keys/${encodeURIComponent(key!.id)}/revoke`), 405);
  });

  it('pages every list with limit ≤ 100 and opaque, checked cursors', async () => {
    const { sandbox, admin } = await setUp({ seed: withDemoAccess(demoDirectory()) });
    const first = await admin.listRoleBindings({ resourceType: 'SPACE', limit: 2 });
    expect(first.role_bindings).toHaveLength(2);
    expect(first.pagination.has_more).toBe(true);
    const every = await all(admin.listAllRoleBindings({ resourceType: 'SPACE' }));
    const paged: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await admin.listRoleBindings({ resourceType: 'SPACE', limit: 3, ...(cursor ? { cursor } : {}) });
      paged.push(...page.role_bindings.map((b) => b.id));
      cursor = page.pagination.next_cursor;
    } while (cursor);
    expect(paged).toEqual(every.map((b) => b.id));
    expect(new Set(paged).size).toBe(demoDirectory().filter((u) => u.status === 'ACTIVE').length);
    expectProblem(await call(sandbox, 'GET', '/v2/role-bindings?resource_type=SPACE&limit=101'), 400, 'limit');
    expectProblem(await call(sandbox, 'GET', '/v2/role-bindings'), 400, 'resource_type: required');
    // A cursor of one collection is refused by another.
    expectProblem(await call(sandbox, 'GET', `/v2/api-keys?key_type=USER&cursor=${first.pagination.next_cursor}`), 400, 'cursor');
  });

  it('gets and deletes role bindings; resolves roles, spaces and organizations', async () => {
    const { sandbox, admin, member, leaverId } = await setUp();
    const bindings = await all(admin.listAllRoleBindings({ resourceType: 'SPACE', userId: leaverId }));
    const binding = bindings[0]!;
    expect((await call(sandbox, 'GET', `/v2/role-bindings/${encodeURIComponent(binding.id)}`)).json).toEqual(binding);
    expectProblem(await call(sandbox, 'DELETE', `/v2/role-bindings/${encodeURIComponent(binding.id)}`, { auth: `Bearer ${MEMBER_KEY}` }), 403);
    expect((await call(sandbox, 'DELETE', `/v2/role-bindings/${encodeURIComponent(binding.id)}`)).status).toBe(204);
    expectProblem(await call(sandbox, 'GET', `/v2/role-bindings/${encodeURIComponent(binding.id)}`), 404);
    expect((await admin.getRole(binding.role_id)).name).toBe('MEMBER');
    await expect(admin.getRole('Um9sZTpub3BlOn4+Pz8/')).rejects.toMatchObject({ status: 404 });
    const roles = await all(member.listAllRoles());
    expect(roles.map((r) => r.name)).toEqual(['ADMIN', 'MEMBER', 'READ_ONLY', 'ANNOTATOR', 'Auditor']);
    expect((await admin.listRoles({ isPredefined: false })).roles.map((r) => r.name)).toEqual(['Auditor']);
    const spaces = await all(admin.listAllSpaces());
    expect(spaces.map((s) => s.name)).toEqual(['Production', 'Research', 'Playground']);
    const orgs = await admin.listOrganizations();
    expect(orgs.organizations.map((o) => o.id)).toEqual([spaces[0]!.org_id]);
    expect((await admin.listSpaces({ orgId: orgs.organizations[0]!.id, name: 'Research' })).spaces).toHaveLength(1);
  });

  it('serves audit logs newest first within the window, and 403s when audit logging is off', async () => {
    const { admin, leaverId } = await setUp();
    const logs = await all(admin.listAllAuditLogs({ userId: leaverId, startTime: new Date('2025-06-01T00:00:00Z'), endTime: new Date('2025-06-30T00:00:00Z') }));
    expect(logs.map((l) => l.operation_name)).toEqual(['after-2', 'after-1', 'before']);
    const mutations = await admin.listAuditLogs({ userId: leaverId, operationType: 'mutation', endTime: new Date('2025-06-30T00:00:00Z') });
    expect(mutations.logs.map((l) => l.operation_name)).toEqual(['after-1']);
    // Default window: 30 days before end_time.
    expect((await admin.listAuditLogs({ userId: leaverId, endTime: new Date('2025-07-15T00:00:00Z') })).logs).toEqual([]);
    const off = await setUp({ auditLogging: false });
    await expect(off.admin.listAuditLogs({})).rejects.toMatchObject({ status: 403, retryable: false });
  });

  it('the user delete revokes USER keys and removes role bindings, but leaves SERVICE keys they created', async () => {
    const { admin, leaverId } = await setUp();
    await admin.delete(leaverId);
    expect((await admin.listApiKeys({ keyType: 'USER', userId: leaverId })).api_keys).toEqual([]);
    expect((await admin.listApiKeys({ keyType: 'USER', userId: leaverId, status: 'REVOKED' })).api_keys.map((k) => k.name).sort()).toEqual(['laptop', 'old laptop']);
    expect(await all(admin.listAllRoleBindings({ resourceType: 'SPACE', userId: leaverId }))).toEqual([]);
    expect(await all(admin.listAllRoleBindings({ resourceType: 'PROJECT', userId: leaverId }))).toEqual([]);
    const research = SANDBOX_SPACES.find((s) => s.name === 'Research')!;
    expect((await admin.listApiKeys({ keyType: 'SERVICE', spaceId: research.id, userId: leaverId })).api_keys.map((k) => [k.name, k.status])).toEqual([['ingest', 'ACTIVE']]);
  });
});

describe('seed access fields', () => {
  it('names the entry and field of a bad access seed, and keeps plain seeds valid', async () => {
    const bad = async (extra: Record<string, unknown>) => sandboxWith({ seed: parseSeed([{ email: 'a@example.com' }, { email: 'b@example.com', ...extra }]) });
    await expect(bad({ api_keys: [{ name: 'svc', key_type: 'SERVICE' }] })).rejects.toThrow('seed[1].api_keys[0].space: required for a SERVICE key');
    await expect(bad({ api_keys: [{ name: 'k', space: 'Mars' }] })).rejects.toThrow('seed[1].api_keys[0].space: no space "Mars"');
    await expect(bad({ role_bindings: [{ role: 'OWNER', resource: 'Production' }] })).rejects.toThrow('seed[1].role_bindings[0].role: no role "OWNER"');
    await expect(bad({ api_keys: [{ name: 'k', key_type: 'ROBOT' }] })).rejects.toThrow(/seed\[1\]\.api_keys\[0\]\.key_type/);
    await expect(bad({ activity: [{ at: 'yesterday' }] })).rejects.toThrow(/seed\[1\]\.activity\[0\]\.at/);
    // Seed files stay lenient about case (an operator convenience); the wire is not.
    const sandbox = await sandboxWith({ seed: parseSeed([{ email: 'a@example.com' }, { email: 'b@example.com', api_keys: [{ name: 'k', key_type: 'service', space: 'research' }] }]) });
    expect(sandbox.access.keys.map((r) => r.key.key_type)).toEqual(['SERVICE']);
  });
});

describe('collectAccessInventory / findActivityAfter', () => {
  it('records role, bindings with role names, USER keys and the SERVICE keys the leaver created per space', async () => {
    const { admin, leaverId } = await setUp();
    const leaver = await admin.get(leaverId);
    const inventory = await collectAccessInventory(admin, leaver);
    expect(inventory.role).toEqual({ type: 'PREDEFINED', name: 'MEMBER' });
    expect(inventory.roleBindings.map((b) => [b.resourceType, b.roleName, b.resourceName ?? b.resourceId])).toEqual([
      ['SPACE', 'MEMBER', 'Production'],
      ['SPACE', 'Auditor', 'Research'],
      ['PROJECT', 'ANNOTATOR', 'project-7'],
    ]);
    expect(inventory.userKeys.map((k) => [k.name, k.status, k.lastUsedAt])).toEqual([['laptop', 'ACTIVE', '2025-06-01T10:00:00Z']]);
    expect(inventory.serviceKeys.map((k) => [k.name, k.spaceName])).toEqual([['export', 'Production'], ['ingest', 'Research']]);
    expect(inventory.spacesChecked.map((s) => s.name)).toEqual(['Production', 'Research', 'Playground']);
    const onlyResearch = await collectAccessInventory(admin, leaver, { spaces: ['Research'] });
    expect(onlyResearch.serviceKeys.map((k) => k.name)).toEqual(['ingest']);
    await expect(collectAccessInventory(admin, leaver, { spaces: ['Nowhere'] })).rejects.toThrow(/spaces: unknown space "Nowhere"/);
    // Redacted keys only: nothing secret-looking in what would be stored.
    expect(JSON.stringify(inventory)).not.toMatch(/secret|token|ak-[^*]/i);
  });

  it('fails loudly (typed 403) when the key cannot read the leaver’s keys', async () => {
    const { admin, member, leaverId } = await setUp();
    const leaver = await admin.get(leaverId);
    await expect(collectAccessInventory(member, leaver)).rejects.toMatchObject({ status: 403, retryable: false });
  });

  it('finds activity after termination, and reports audit logs as unavailable on 403', async () => {
    const { admin, member, leaverId } = await setUp();
    const found = await findActivityAfter(admin, leaverId, new Date('2025-06-02T00:00:00Z'), new Date('2025-06-03T00:00:00Z'));
    expect(found).toMatchObject({ status: 'available', entries: [{ operationName: 'after-2' }, { operationName: 'after-1', operationType: 'MUTATION' }] });
    const none = await findActivityAfter(admin, leaverId, new Date('2025-06-03T00:00:00Z'), new Date('2025-06-04T00:00:00Z'));
    expect(none).toMatchObject({ status: 'available', entries: [] });
    expect(await findActivityAfter(member, leaverId, new Date('2025-06-02T00:00:00Z'), new Date('2025-06-03T00:00:00Z'))).toMatchObject({ status: 'unavailable', httpStatus: 403 });
    const off = await setUp({ auditLogging: false });
    const unavailable = await findActivityAfter(off.admin, leaverId, new Date('2025-06-02T00:00:00Z'), new Date('2025-06-03T00:00:00Z'));
    expect(unavailable).toMatchObject({ status: 'unavailable', reason: 'forbidden', httpStatus: 403 });
    await expect(findActivityAfter(admin, leaverId, new Date('2025-06-03T00:00:00Z'), new Date('2025-06-02T00:00:00Z'))).rejects.toThrow(/from/);
  });
});
