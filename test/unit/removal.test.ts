/**
 * The verified-removal core (lambdas/core/removal.ts) against a scripted directory: the read-back rules, the
 * SERVICE-key policy, and which failures are retried. The same rules run over HTTP in the integration and e2e tests.
 */
import { describe, expect, it } from 'vitest';
import { LIST_LIMIT_MAX, type ApiKey, type EmailResolution, type RoleBinding, type User } from '../../lambdas/arize/index.js';
import { BINDINGS_LISTED_FROM, bindingPageBudget, boundAccess, type AvailableAccess, type InventoryKey } from '../../lambdas/core/access-inventory.js';
import { DEFAULT_RETRY_POLICY } from '../../lambdas/core/retry-policy.js';
import { applyServiceKeyPolicy, inventoryBeforeDelete, inventoryDeadline, settleRemoval, verifyRemoval, type RemovalDirectory, type RemovalSettings } from '../../lambdas/core/removal.js';

const NOW = new Date('2026-12-02T10:00:00.000Z');
const clock = () => NOW;
const target = { userId: 'VXNlcjox+/=', email: 'ann@example.com' };
const httpError = (status: number) => Object.assign(new Error(`GET /v2/users/{user_id} failed with ${status}`), { name: 'ArizeApiError', status });

async function* listed<T>(...items: T[]): AsyncGenerator<T> {
  for (const item of items) yield await Promise.resolve(item);
}
const none = <T,>(): AsyncGenerator<T> => listed<T>();

function directory(overrides: Partial<RemovalDirectory> & { calls?: string[] } = {}): RemovalDirectory & { calls: string[] } {
  const calls = overrides.calls ?? [];
  return {
    calls,
    get: (id) => {
      calls.push(`get ${id}`);
      return Promise.reject(httpError(404));
    },
    delete: () => Promise.resolve(),
    resolveEmailMatches: (emails) => {
      calls.push(`lookup ${emails.join(',')}`);
      return Promise.resolve(new Map<string, EmailResolution>(emails.map((e) => [e, { status: 'not_found' }])));
    },
    revokeApiKey: () => Promise.resolve(),
    listAllApiKeys: () => none<ApiKey>(),
    listAllRoleBindings: () => none(),
    listAllRoles: () => none(),
    getRole: () => Promise.reject(httpError(404)),
    listAllSpaces: () => none(),
    listAllAuditLogs: () => none(),
    ...overrides,
  };
}

const user = (): User => ({ id: target.userId, name: 'Ann', email: target.email, created_at: NOW.toISOString(), status: 'ACTIVE', role: { type: 'PREDEFINED', name: 'MEMBER' }, is_developer: true });

describe('verifyRemoval', () => {
  it('verifies only when the id answers 404 and the exact-email lookup finds nobody, at the clock’s time', async () => {
    const d = directory();
    expect(await verifyRemoval(d, target, clock)).toEqual({ verified: true, at: NOW.toISOString() });
    expect(d.calls).toEqual([`get ${target.userId}`, 'lookup ann@example.com']);
  });

  it('is not verified while the user reads back, when the read-back fails, or when the email still lists an account', async () => {
    expect(await verifyRemoval(directory({ get: () => Promise.resolve(user()) }), target, clock)).toMatchObject({ verified: false, reason: expect.stringMatching(/still returns the user/) as unknown });
    expect(await verifyRemoval(directory({ get: () => Promise.reject(httpError(503)) }), target, clock)).toMatchObject({ verified: false, reason: expect.stringMatching(/^read-back by id failed: .*503/) as unknown });
    const stillListed = directory({ resolveEmailMatches: () => Promise.resolve(new Map([['ann@example.com', { status: 'found', users: [{ ...user(), id: 'other' }] }]])) });
    expect(await verifyRemoval(stillListed, target, clock)).toMatchObject({ verified: false, reason: 'the email lookup still lists 1 account(s) with this address' });
    const lookupFailed = directory({ resolveEmailMatches: () => Promise.resolve(new Map<string, EmailResolution>([['ann@example.com', { status: 'failed', error: Object.assign(httpError(429), { retryable: true }) as never }]])) });
    expect(await verifyRemoval(lookupFailed, target, clock)).toMatchObject({ verified: false, reason: expect.stringMatching(/^read-back by email failed/) as unknown });
  });
});

describe('settleRemoval', () => {
  const settings = (over: Partial<RemovalSettings> = {}): RemovalSettings => ({
    requestId: 'r1',
    attempt: 1,
    retry: DEFAULT_RETRY_POLICY,
    serviceKeys: 'report',
    clock,
    callOptions: {},
    hadEarlierIntent: () => false,
    ...over,
  });

  it('an unverified delete is FAILED DeleteNotVerified, retried until the last attempt', async () => {
    const d = directory({ get: () => Promise.resolve(user()) });
    const first = await settleRemoval(d, target, { ok: true }, undefined, settings());
    expect(first).toMatchObject({ outcome: { status: 'FAILED', errorClass: 'DeleteNotVerified', retryable: true }, retry: true });
    const last = await settleRemoval(d, target, { ok: true }, undefined, settings({ attempt: DEFAULT_RETRY_POLICY.maxAttempts }));
    expect(last).toMatchObject({ outcome: { status: 'FAILED', errorClass: 'DeleteNotVerified' }, retry: false });
  });

  it('a 404 on the DELETE is a permanent failure without an earlier intent (no read-back), and DELETED once verified with one', async () => {
    const d = directory();
    expect(await settleRemoval(d, target, { ok: false, error: httpError(404) }, undefined, settings())).toMatchObject({
      outcome: { status: 'FAILED', errorClass: 'HTTP_404', retryable: false, httpStatus: 404 },
      retry: false,
    });
    expect(d.calls).toEqual([]);
    expect(await settleRemoval(d, target, { ok: false, error: httpError(404) }, undefined, settings({ hadEarlierIntent: () => true }))).toMatchObject({
      outcome: { status: 'DELETED', verifiedAt: NOW.toISOString() },
    });
  });
});

describe('applyServiceKeyPolicy and boundAccess', () => {
  const key = (id: string, status: InventoryKey['status'] = 'ACTIVE'): InventoryKey => ({ id, name: id, keyType: 'SERVICE', status, redactedKey: 'ak-****abcd', createdAt: NOW.toISOString(), spaceId: 'space-1', spaceName: 'Research' });
  const access = (serviceKeys: InventoryKey[]): AvailableAccess => ({
    status: 'available',
    userId: target.userId,
    role: { type: 'PREDEFINED', name: 'MEMBER' },
    roleBindings: [],
    userKeys: [],
    serviceKeys,
    spacesChecked: [{ id: 'space-1', name: 'Research' }],
    counts: { roleBindings: 0, userKeys: 0, serviceKeys: serviceKeys.length, spacesChecked: 1 },
  });

  it('report counts the ACTIVE keys and revokes nothing', async () => {
    const revoked: string[] = [];
    const d = directory({ revokeApiKey: (id) => (revoked.push(id), Promise.resolve()) });
    const result = await applyServiceKeyPolicy(d, access([key('a'), key('b', 'REVOKED')]), 'report', clock);
    expect(result).toMatchObject({ serviceKeyPolicy: 'report', orphanedServiceKeys: 1 });
    expect(revoked).toEqual([]);
  });

  it('revoke marks a key REVOKED only when it no longer lists ACTIVE; an acknowledged but unapplied or failed revoke stays orphaned', async () => {
    const stillActive: ApiKey = { id: 'stuck', name: 'stuck', key_type: 'SERVICE', status: 'ACTIVE', redacted_key: 'ak-****abcd', created_at: NOW.toISOString(), created_by_user_id: target.userId };
    const d = directory({
      revokeApiKey: (id) => (id === 'broken' ? Promise.reject(httpError(503)) : Promise.resolve()),
      listAllApiKeys: () => listed(stillActive),
    });
    const result = await applyServiceKeyPolicy(d, access([key('ok'), key('stuck'), key('broken')]), 'revoke', clock);
    expect(result.orphanedServiceKeys).toBe(2);
    expect(Object.fromEntries(result.serviceKeys.map((k) => [k.id, [k.status, k.revocation?.status, k.revocation?.error]]))).toEqual({
      ok: ['REVOKED', 'REVOKED', undefined],
      stuck: ['ACTIVE', 'FAILED', 'revoke was acknowledged but the key is still listed ACTIVE'],
      broken: ['ACTIVE', 'FAILED', expect.stringMatching(/503/) as unknown],
    });
  });

  it('boundAccess keeps the first entries of each list and leaves the totals in counts', () => {
    const many = access(Array.from({ length: 7 }, (_, i) => key(`k${i}`)));
    const bounded = boundAccess(many, 3);
    if (bounded.status !== 'available') throw new Error('expected available access');
    expect(bounded.serviceKeys.map((k) => k.id)).toEqual(['k0', 'k1', 'k2']);
    expect(bounded.counts.serviceKeys).toBe(7);
  });
});

describe('inventoryBeforeDelete', () => {
  it('records a failed inventory as unavailable with its reason, and leaves half the time budget to the deletes', async () => {
    const d = directory({ listAllSpaces: () => { throw httpError(403); } });
    const inventories = await inventoryBeforeDelete(d, [target]);
    expect(inventories.get(target.userId)).toMatchObject({ status: 'unavailable', httpStatus: 403, reason: expect.stringMatching(/^listing spaces, roles and SERVICE keys: .*403/) as unknown });
    expect(inventoryDeadline(undefined, 1_000)).toBeUndefined();
    expect(inventoryDeadline(61_000, 1_000)).toBe(31_000);
    expect(inventoryDeadline(500, 1_000)).toBe(1_000);
  });
});

describe('inventoryBeforeDelete with what resolution returned (issue 12: calls per leaver)', () => {
  const binding = (id: string, userId: string, resourceType: 'SPACE' | 'PROJECT'): RoleBinding => ({
    id,
    role_id: 'r-member',
    user_id: userId,
    resource_type: resourceType,
    resource_id: 's-1',
    created_at: NOW.toISOString(),
    updated_at: NOW.toISOString(),
  });

  it('records the role the target carries from resolution, marked as such, without reading the user — even if Arize now says otherwise', async () => {
    // Arize would now answer ADMIN: the record must say MEMBER *as resolved* (what protection was checked against), not pretend a later read.
    const d = directory({ get: (id) => (d.calls.push(`get ${id}`), Promise.resolve({ ...user(), role: { type: 'PREDEFINED', name: 'ADMIN' } })) });
    const carried = { ...target, role: { type: 'PREDEFINED', name: 'MEMBER' } as const };
    const access = (await inventoryBeforeDelete(d, [carried])).get(target.userId);
    expect(access).toMatchObject({ status: 'available', role: { type: 'PREDEFINED', name: 'MEMBER' }, roleSource: 'resolution' });
    expect(d.calls.filter((c) => c.startsWith('get '))).toEqual([]);
  });

  it('reads the user when the target carries no role (a payload from before, or a role too long to carry) and says so', async () => {
    const d = directory({ get: (id) => (d.calls.push(`get ${id}`), Promise.resolve(user())) });
    const access = (await inventoryBeforeDelete(d, [target])).get(target.userId);
    expect(access).toMatchObject({ status: 'available', role: { type: 'PREDEFINED', name: 'MEMBER' }, roleSource: 'user-read' });
    expect(d.calls).toEqual([`get ${target.userId}`]);
  });

  it(`from ${BINDINGS_LISTED_FROM} targets lists bindings once per resource type for the chunk, attributing only each target's own`, async () => {
    const targets = Array.from({ length: BINDINGS_LISTED_FROM }, (_, i) => ({ userId: `u${i}`, email: `u${i}@example.com`, role: { type: 'PREDEFINED', name: 'MEMBER' } as const }));
    const listings: string[] = [];
    const d = directory({
      listAllRoles: () => listed({ id: 'r-member', name: 'MEMBER', is_predefined: true }),
      listAllRoleBindings: (params) => {
        listings.push(`${params.resourceType} ${params.userId ?? 'all'}`);
        return params.resourceType === 'SPACE' ? listed(binding('b0', 'u0', 'SPACE'), binding('bx', 'someone-else', 'SPACE'), binding('b3', 'u3', 'SPACE')) : listed(binding('p3', 'u3', 'PROJECT'));
      },
    });
    const inventories = await inventoryBeforeDelete(d, targets);
    expect(listings).toEqual(['SPACE all', 'PROJECT all']);
    const ids = (userId: string) => {
      const access = inventories.get(userId);
      return access?.status === 'available' ? access.roleBindings.map((b) => b.id) : undefined;
    };
    expect(ids('u0')).toEqual(['b0']);
    expect(ids('u3')).toEqual(['b3', 'p3']);
    expect(ids('u1')).toEqual([]);
    expect([...inventories.values()].flatMap((a) => (a.status === 'available' ? a.roleBindings.map((b) => b.id) : []))).not.toContain('bx');
  });

  it('falls back to per-user listings for a type whose account-wide listing outgrows its page budget', async () => {
    const targets = Array.from({ length: BINDINGS_LISTED_FROM }, (_, i) => ({ userId: `u${i}`, email: `u${i}@example.com`, role: { type: 'PREDEFINED', name: 'MEMBER' } as const }));
    const tooMany = bindingPageBudget(targets.length) * LIST_LIMIT_MAX + 1;
    let read = 0;
    const listings: string[] = [];
    const d = directory({
      listAllRoles: () => listed({ id: 'r-member', name: 'MEMBER', is_predefined: true }),
      listAllRoleBindings: (params) => {
        listings.push(`${params.resourceType} ${params.userId ?? 'all'}`);
        if (params.userId !== undefined) return params.userId === 'u7' && params.resourceType === 'SPACE' ? listed(binding('b7', 'u7', 'SPACE')) : none();
        if (params.resourceType === 'PROJECT') return none();
        return (async function* () {
          for (let i = 0; i < tooMany; i += 1) {
            read += 1;
            yield await Promise.resolve(binding(`x${i}`, i === 0 ? 'u7' : 'other', 'SPACE'));
          }
        })();
      },
    });
    const inventories = await inventoryBeforeDelete(d, targets);
    // The listing stopped at the budget's last entry (no further page asked for), then each target was listed.
    expect(read).toBe(tooMany - 1);
    expect(listings.filter((l) => l === 'SPACE all')).toHaveLength(1);
    expect(listings.filter((l) => l.startsWith('SPACE u'))).toHaveLength(targets.length);
    expect(listings.filter((l) => l.startsWith('PROJECT u'))).toHaveLength(0);
    const u7 = inventories.get('u7');
    expect(u7?.status === 'available' ? u7.roleBindings.map((b) => b.id) : undefined).toEqual(['b7']);
  });
});
