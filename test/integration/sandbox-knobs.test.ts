/**
 * The sandbox's knobs over real HTTP: latency, token-bucket rate limit, random 5xx, targeted
 * faults, dropped connections, counters and direct store access. Clocks and RNG are injected,
 * so nothing here depends on how fast the machine is.
 */
import { describe, expect, it } from 'vitest';
import { ListUsersResponseSchema, UserSchema } from '../../lambdas/arize/wire.js';
import { demoDirectory, startSandbox } from '../../local/sandbox/server.js';
import { call, expectProblem, sandboxesClosedAfterEach, usersPath } from './sandbox-http.js';

const sandboxWith = sandboxesClosedAfterEach();

function sequence(...values: number[]): () => number {
  let index = 0;
  return () => values[index++ % values.length] ?? 0;
}

describe('latency', () => {
  it('delays every response by at least latencyMs', async () => {
    const sandbox = await sandboxWith({ latencyMs: 80 });
    const started = performance.now();
    expect((await call(sandbox, 'GET', '/v2/users?limit=1')).status).toBe(200);
    expectProblem(await call(sandbox, 'GET', '/v2/users', { auth: null }), 401);
    // A lower bound only: a slow machine can add time, never remove it.
    expect(performance.now() - started).toBeGreaterThanOrEqual(150);
  });
});

describe('rate limit', () => {
  it('answers 429 problem+json with an integer Retry-After once the bucket is empty, and refills with time', async () => {
    let clock = 1_000_000;
    const sandbox = await sandboxWith({ rateLimit: 2, now: () => clock });
    expect((await call(sandbox, 'GET', '/v2/users?limit=1')).status).toBe(200);
    expect((await call(sandbox, 'GET', '/v2/users?limit=1')).status).toBe(200);
    const limited = await call(sandbox, 'GET', '/v2/users?limit=1');
    expectProblem(limited, 429);
    expect(limited.headers.get('retry-after')).toBe('1');
    clock += 400;
    expectProblem(await call(sandbox, 'GET', '/v2/users?limit=1'), 429);
    clock += 200;
    expect((await call(sandbox, 'GET', '/v2/users?limit=1')).status).toBe(200);
    clock += 10_000;
    // The burst is capped at one second's worth (2), however long the pause.
    expect((await call(sandbox, 'GET', '/v2/users?limit=1')).status).toBe(200);
    expect((await call(sandbox, 'GET', '/v2/users?limit=1')).status).toBe(200);
    expectProblem(await call(sandbox, 'GET', '/v2/users?limit=1'), 429);
    expect(sandbox.counters.status['429']).toBe(3);
  });

  it('rounds Retry-After up to whole seconds for slow rates, and a 429 changes nothing', async () => {
    const clock = 5_000;
    const sandbox = await sandboxWith({ rateLimit: 0.25, now: () => clock });
    const annId = sandbox.store.find('ann@example.com')!.id;
    expect((await call(sandbox, 'GET', '/v2/users?limit=1')).status).toBe(200);
    const limited = await call(sandbox, 'DELETE', `/v2/users/${encodeURIComponent(annId)}`);
    expectProblem(limited, 429);
    expect(limited.headers.get('retry-after')).toBe('4');
    expect(sandbox.store.find(annId)?.deleted).toBe(false);
  });
});

describe('random errors', () => {
  it('answers 503 problem+json for the drawn fraction of requests without touching state', async () => {
    const sandbox = await sandboxWith({ errorRate: 0.5, random: sequence(0.2, 0.7) });
    const annId = sandbox.store.find('ann@example.com')!.id;
    expectProblem(await call(sandbox, 'DELETE', `/v2/users/${encodeURIComponent(annId)}`), 503);
    expect(sandbox.store.find(annId)?.deleted).toBe(false);
    expect((await call(sandbox, 'DELETE', `/v2/users/${encodeURIComponent(annId)}`)).status).toBe(204);
    expect(sandbox.store.find(annId)?.deleted).toBe(true);
  });

  it('never fails with errorRate 0 and always with errorRate 1', async () => {
    const never = await sandboxWith({ errorRate: 0, random: () => 0 });
    expect((await call(never, 'GET', '/v2/users?limit=1')).status).toBe(200);
    const always = await sandboxWith({ errorRate: 1, random: () => 0.999_999 });
    expectProblem(await call(always, 'GET', '/v2/users?limit=1'), 503);
  });
});

describe('targeted faults', () => {
  it('fails list calls filtering on exactly that email and GET/DELETE of its id, sharing the budget', async () => {
    const sandbox = await sandboxWith();
    const ann = sandbox.store.find('ann@example.com')!;
    sandbox.faults.failUser('ANN@example.com', 3);
    expectProblem(await call(sandbox, 'GET', usersPath({ email: 'ann@example.com' })), 503);
    // A different filter (a substring of it) is not the target.
    expect((await call(sandbox, 'GET', usersPath({ email: 'ann@' }))).status).toBe(200);
    expect((await call(sandbox, 'GET', `/v2/users/${encodeURIComponent(demoDirectory()[2]!.id)}`)).status).toBe(200);
    expectProblem(await call(sandbox, 'GET', `/v2/users/${encodeURIComponent(ann.id)}`), 503);
    expectProblem(await call(sandbox, 'DELETE', `/v2/users/${encodeURIComponent(ann.id)}`), 503);
    expect(sandbox.store.find(ann.id)?.deleted).toBe(false);
    const page = ListUsersResponseSchema.parse((await call(sandbox, 'GET', usersPath({ email: 'Ann@Example.com' }))).json);
    expect(page.users.map((user) => user.id)).toContain(ann.id);
    expect((await call(sandbox, 'DELETE', `/v2/users/${encodeURIComponent(ann.id)}`)).status).toBe(204);
  });

  it('targets by id too, with a chosen status and Retry-After', async () => {
    const sandbox = await sandboxWith();
    const grace = sandbox.store.find('grace.kim@example.com')!;
    sandbox.faults.failUser(grace.id, 1, 429, { retryAfterSeconds: 3 });
    const limited = await call(sandbox, 'GET', usersPath({ email: 'grace.kim@example.com' }));
    expectProblem(limited, 429);
    expect(limited.headers.get('retry-after')).toBe('3');
    expect(UserSchema.parse((await call(sandbox, 'GET', `/v2/users/${encodeURIComponent(grace.id)}`)).json).id).toBe(grace.id);
    sandbox.faults.failUser(grace.id, 1, 502);
    expectProblem(await call(sandbox, 'DELETE', `/v2/users/${encodeURIComponent(grace.id)}`), 502);
  });

  it('defaults Retry-After to 1 for an injected 429 and can be cleared', async () => {
    const sandbox = await sandboxWith();
    const grace = sandbox.store.find('grace.kim@example.com')!;
    sandbox.faults.failUser(grace.email, 5, 429);
    const limited = await call(sandbox, 'DELETE', `/v2/users/${encodeURIComponent(grace.id)}`);
    expect(limited.headers.get('retry-after')).toBe('1');
    sandbox.faults.clear();
    expect((await call(sandbox, 'DELETE', `/v2/users/${encodeURIComponent(grace.id)}`)).status).toBe(204);
  });

  it('drops connections without a response, then serves again', async () => {
    const sandbox = await sandboxWith();
    sandbox.faults.dropConnections(2);
    await expect(fetch(`${sandbox.url}/v2/users`, { headers: { authorization: `Bearer ${sandbox.apiKey}` } })).rejects.toThrow();
    await expect(call(sandbox, 'GET', '/v2/users')).rejects.toThrow();
    expect((await call(sandbox, 'GET', '/v2/users?limit=1')).status).toBe(200);
    expect(sandbox.counters.status.dropped).toBe(2);
  });

  it('rejects nonsensical fault settings', async () => {
    const sandbox = await sandboxWith();
    expect(() => sandbox.faults.failUser('x', -1)).toThrow(/times/);
    expect(() => sandbox.faults.failUser('x', 1, 200)).toThrow(/status/);
    expect(() => sandbox.faults.dropConnections(1.5)).toThrow(/times/);
  });
});

describe('counters', () => {
  it('counts requests by route and by status, and resets', async () => {
    const sandbox = await sandboxWith();
    const annId = sandbox.store.find('ann@example.com')!.id;
    await call(sandbox, 'GET', '/v2/users');
    await call(sandbox, 'GET', '/v2/users?limit=0');
    await call(sandbox, 'GET', `/v2/users/${encodeURIComponent(annId)}`);
    await call(sandbox, 'DELETE', `/v2/users/${encodeURIComponent(annId)}`);
    await call(sandbox, 'POST', '/v2/users', { body: { name: 'C', email: 'c@example.com', role: { type: 'PREDEFINED', name: 'MEMBER' }, invite_mode: 'NONE' } });
    await call(sandbox, 'PATCH', `/v2/users/${encodeURIComponent(annId)}`, { body: { name: 'x' } });
    await call(sandbox, 'POST', `/v2/users/${encodeURIComponent(annId)}/resend-invitation`);
    await call(sandbox, 'POST', `/v2/users/${encodeURIComponent(annId)}/reset-password`);
    await call(sandbox, 'GET', '/elsewhere');
    expect(sandbox.counters.total).toBe(9);
    expect(sandbox.counters.byRoute).toEqual({ list: 2, get: 1, delete: 1, create: 1, update: 1, resend: 1, reset: 1 });
    expect(sandbox.counters.status).toEqual({ '200': 2, '400': 1, '204': 1, '201': 1, '404': 4 });
    const byRoute = sandbox.counters.byRoute;
    sandbox.counters.reset();
    expect(sandbox.counters.total).toBe(0);
    expect(byRoute).toEqual({});
    expect(sandbox.counters.status).toEqual({});
    await call(sandbox, 'GET', '/v2/users');
    expect(sandbox.counters.byRoute).toEqual({ list: 1 });
  });
});

describe('store access and lifecycle', () => {
  it('adds users directly, as the newest, and exposes snapshots including deleted users', async () => {
    const sandbox = await sandboxWith();
    const added = sandbox.store.add({ email: 'direct@example.com', status: 'INVITED' });
    expect(UserSchema.parse(added)).toMatchObject({ email: 'direct@example.com', name: 'Direct', status: 'INVITED' });
    expect(() => sandbox.store.add({ email: 'DIRECT@example.com' })).toThrow(/already exists/);
    expect(() => sandbox.store.add({ email: 'bad' })).toThrow(/email/);
    const page = ListUsersResponseSchema.parse((await call(sandbox, 'GET', '/v2/users?limit=100')).json);
    expect(page.users.at(-1)?.id).toBe(added.id);
    await call(sandbox, 'DELETE', `/v2/users/${encodeURIComponent(added.id)}`);
    const snapshot = sandbox.store.users();
    expect(snapshot.at(-1)).toMatchObject({ id: added.id, deleted: true, sso: false });
    snapshot.at(-1)!.deleted = false;
    expect(sandbox.store.find(added.id)?.deleted).toBe(true);
  });

  it('validates its options and seed, naming what is wrong', async () => {
    await expect(startSandbox({ errorRate: 2 })).rejects.toThrow(/errorRate/);
    await expect(startSandbox({ rateLimit: 0 })).rejects.toThrow(/rateLimit/);
    await expect(startSandbox({ latencyMs: -5 })).rejects.toThrow(/latencyMs/);
    await expect(startSandbox({ port: 70_000 })).rejects.toThrow(/port/);
    await expect(startSandbox({ apiKey: '' })).rejects.toThrow(/apiKey/);
    const seed = demoDirectory();
    seed.push({ ...seed[1]!, id: 'another-id' });
    await expect(startSandbox({ seed })).rejects.toThrow(/seed\[30\]\.email: duplicate of seed\[1\]/);
  });

  it('starts empty when given an empty seed, and create works there', async () => {
    const sandbox = await sandboxWith({ seed: [] });
    const page = ListUsersResponseSchema.parse((await call(sandbox, 'GET', '/v2/users')).json);
    expect(page).toEqual({ users: [], pagination: { has_more: false } });
    const created = await call(sandbox, 'POST', '/v2/users', {
      body: { name: 'First', email: 'first@example.com', role: { type: 'PREDEFINED', name: 'ADMIN' }, invite_mode: 'NONE' },
    });
    expect(created.status).toBe(201);
  });

  it('closes idempotently and refuses connections afterwards', async () => {
    const sandbox = await startSandbox();
    await Promise.all([sandbox.close(), sandbox.close()]);
    await expect(fetch(`${sandbox.url}/v2/users`)).rejects.toThrow();
  });

  it('runs several sandboxes side by side on distinct ports with independent state', async () => {
    const [a, b] = await Promise.all([sandboxWith({ apiKey: 'key-a' }), sandboxWith({ apiKey: 'key-b' })]);
    expect(a.port).not.toBe(b.port);
    expect(a.url).toBe(`http://127.0.0.1:${a.port}`);
    const annId = a.store.find('ann@example.com')!.id;
    expect((await call(a, 'DELETE', `/v2/users/${encodeURIComponent(annId)}`)).status).toBe(204);
    expect(b.store.find(annId)?.deleted).toBe(false);
    expectProblem(await call(b, 'GET', '/v2/users', { auth: 'Bearer key-a' }), 401);
  });
});
