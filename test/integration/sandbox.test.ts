/**
 * The Arize sandbox over real HTTP: every rule of arize-api.md, response shapes parsed strictly
 * with the shared wire schemas (the official SDK rejects unknown fields).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CreateUserResponseSchema,
  ListUsersResponseSchema,
  UserSchema,
  type ListUsersResponse,
  type User,
} from '../../lambdas/arize/wire.js';
import {
  demoDirectory,
  generateDirectory,
  type Sandbox,
  type SeedUser,
} from '../../local/sandbox/server.js';
import { call, expectProblem, sandboxesClosedAfterEach, usersPath } from './sandbox-http.js';

const sandboxWith = sandboxesClosedAfterEach();

function idOf(sandbox: Sandbox, email: string): string {
  const user = sandbox.store.find(email);
  if (!user) throw new Error(`no ${email} in the sandbox`);
  return user.id;
}

async function listPage(sandbox: Sandbox, query: Record<string, string | string[] | number> = {}): Promise<ListUsersResponse> {
  const response = await call(sandbox, 'GET', usersPath(query));
  expect(response.status, response.text).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  return ListUsersResponseSchema.parse(response.json);
}

async function listEverything(sandbox: Sandbox, query: Record<string, string | string[] | number> = {}): Promise<User[]> {
  const users: User[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await listPage(sandbox, cursor === undefined ? query : { ...query, cursor });
    users.push(...page.users);
    if (!page.pagination.has_more) {
      expect(page.pagination.next_cursor).toBeUndefined();
      return users;
    }
    expect(page.pagination.next_cursor).toEqual(expect.any(String));
    cursor = page.pagination.next_cursor;
  }
}

const member = { type: 'PREDEFINED', name: 'MEMBER' } as const;
function createBody(email: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'New Person', email, role: member, invite_mode: 'EMAIL_LINK', ...extra };
}

describe('authentication', () => {
  it('refuses a missing, malformed or wrong bearer token with 401 problem+json', async () => {
    const sandbox = await sandboxWith({ apiKey: 'k-123' });
    for (const auth of [null, 'k-123', 'Basic k-123', 'Bearer', 'Bearer wrong', 'Bearer k-1234']) {
      const response = await call(sandbox, 'GET', '/v2/users', { auth });
      expectProblem(response, 401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    expect((await call(sandbox, 'GET', '/v2/users', { auth: 'bearer k-123' })).status).toBe(200);
  });

  it('checks the key before anything else, even on unknown routes', async () => {
    const sandbox = await sandboxWith();
    expectProblem(await call(sandbox, 'GET', '/nope', { auth: null }), 401);
    expectProblem(await call(sandbox, 'DELETE', `/v2/users/${encodeURIComponent(idOf(sandbox, 'ann@example.com'))}`, { auth: 'Bearer x' }), 401);
    expect(sandbox.store.find('ann@example.com')?.deleted).toBe(false);
  });
});

describe('routing', () => {
  it('answers 404 for unknown routes and 405 with Allow for a wrong method', async () => {
    const sandbox = await sandboxWith();
    expectProblem(await call(sandbox, 'GET', '/v1/users'), 404);
    expectProblem(await call(sandbox, 'GET', '/v2/user'), 404);
    expectProblem(await call(sandbox, 'POST', '/v2/users/abc/promote'), 404);
    expectProblem(await call(sandbox, 'GET', '/v2/users/%E0%A4%A'), 404);
    const put = await call(sandbox, 'PUT', '/v2/users');
    expectProblem(put, 405);
    expect(put.headers.get('allow')).toBe('GET, POST');
    const post = await call(sandbox, 'POST', `/v2/users/${encodeURIComponent(idOf(sandbox, 'ann@example.com'))}`, { body: {} });
    expectProblem(post, 405);
    expect(post.headers.get('allow')).toBe('GET, PATCH, DELETE');
    const getResend = await call(sandbox, 'GET', '/v2/users/abc/resend-invitation');
    expectProblem(getResend, 405);
    expect(getResend.headers.get('allow')).toBe('POST');
  });
});

describe('list users', () => {
  it('lists ACTIVE, INVITED and EXPIRED users by default, oldest first, limit 50', async () => {
    const seed = generateDirectory(120, { seed: 7 });
    const sandbox = await sandboxWith({ seed });
    const page = await listPage(sandbox);
    expect(page.users).toHaveLength(50);
    expect(page.pagination.has_more).toBe(true);
    expect(page.users.map((user) => user.id)).toEqual(seed.slice(0, 50).map((user) => user.id));
    const statuses = new Set(page.users.map((user) => user.status));
    expect(statuses).toEqual(new Set(['ACTIVE', 'INVITED', 'EXPIRED']));
  });

  it('orders by created_at even when the seed is not in creation order', async () => {
    const seed: SeedUser[] = [
      { ...demoDirectory()[0]!, created_at: '2024-05-01T00:00:00Z' },
      { ...demoDirectory()[1]!, created_at: '2023-01-01T00:00:00Z' },
      { ...demoDirectory()[2]!, created_at: '2024-02-01T00:00:00+01:00' },
    ];
    const sandbox = await sandboxWith({ seed });
    const users = await listEverything(sandbox);
    expect(users.map((user) => user.email)).toEqual(['ann@example.com', 'joann@example.com', 'priya.raman@example.com']);
    // A newly created user is always the newest, even after a seed timestamp in the future.
    await call(sandbox, 'POST', '/v2/users', { body: createBody('zed@example.com') });
    expect((await listEverything(sandbox)).at(-1)?.email).toBe('zed@example.com');
  });

  it('honours limit 1 and exactly 100, and ends with has_more false and no cursor', async () => {
    const sandbox = await sandboxWith({ seed: generateDirectory(100, { seed: 3 }).map((user) => ({ ...user, status: 'ACTIVE' as const })) });
    const one = await listPage(sandbox, { limit: 1 });
    expect(one.users).toHaveLength(1);
    expect(one.pagination.has_more).toBe(true);
    const hundred = await listPage(sandbox, { limit: 100 });
    expect(hundred.users).toHaveLength(100);
    // Exactly 100 visible users: the single page is also the last one (no trailing empty page).
    expect(hundred.pagination).toEqual({ has_more: false });
    const halves = [await listPage(sandbox, { limit: 50 })];
    halves.push(await listPage(sandbox, { limit: 50, cursor: halves[0]!.pagination.next_cursor! }));
    expect(halves[1]!.users).toHaveLength(50);
    expect(halves[1]!.pagination).toEqual({ has_more: false });
  });

  it('refuses limits outside 1..100 or not integers with 400 naming limit', async () => {
    const sandbox = await sandboxWith();
    for (const limit of ['0', '101', '-1', '1.5', 'abc', '', '1e2', '00001000']) {
      expectProblem(await call(sandbox, 'GET', usersPath({ limit })), 400, 'limit');
    }
    expectProblem(await call(sandbox, 'GET', '/v2/users?limit=5&limit=6'), 400, 'limit');
  });

  it('walks every page exactly once with opaque base64 cursors', async () => {
    const seed = generateDirectory(53, { seed: 11 });
    const sandbox = await sandboxWith({ seed });
    const all = await listEverything(sandbox, { limit: 7 });
    expect(all.map((user) => user.id)).toEqual(seed.map((user) => user.id));
    const page = await listPage(sandbox, { limit: 7 });
    expect(page.pagination.next_cursor).toMatch(/^[A-Za-z0-9_-]+={0,2}$/);
  });

  it('keeps cursors stable when users on either side of the boundary are deleted', async () => {
    const seed = generateDirectory(20, { seed: 5 }).map((user) => ({ ...user, status: 'ACTIVE' as const }));
    const sandbox = await sandboxWith({ seed });
    const first = await listPage(sandbox, { limit: 5 });
    const lastOfFirst = first.users[4]!.id;
    const firstOfSecond = seed[5]!.id;
    expect((await call(sandbox, 'DELETE', `/v2/users/${encodeURIComponent(lastOfFirst)}`)).status).toBe(204);
    expect((await call(sandbox, 'DELETE', `/v2/users/${encodeURIComponent(firstOfSecond)}`)).status).toBe(204);
    const second = await listPage(sandbox, { limit: 5, cursor: first.pagination.next_cursor! });
    expect(second.users.map((user) => user.id)).toEqual(seed.slice(6, 11).map((user) => user.id));
    const rest = await listEverything(sandbox, { limit: 5, cursor: second.pagination.next_cursor! });
    expect(rest.map((user) => user.id)).toEqual(seed.slice(11).map((user) => user.id));
  });

  it('refuses a garbage, forged or empty cursor with 400 naming cursor', async () => {
    const sandbox = await sandboxWith();
    const forged = Buffer.from('c1:3:AAAAAAAAAAAA').toString('base64url');
    const beyond = Buffer.from('c1:99999:AAAAAAAAAAAA').toString('base64url');
    for (const cursor of ['garbage!', 'Z2FyYmFnZQ', forged, beyond, '', '%%%']) {
      expectProblem(await call(sandbox, 'GET', usersPath({ cursor })), 400, 'cursor');
    }
  });

  it('filters by case-insensitive email substring, so near-duplicates come back too', async () => {
    const sandbox = await sandboxWith();
    const users = await listEverything(sandbox, { email: 'ANN@Example.COM' });
    expect(users.map((user) => user.email).sort()).toEqual(
      ['ann@example.com', 'ann@example.com.au', 'joann@example.com', 'leann@example.com'].sort(),
    );
    const marcus = await listEverything(sandbox, { email: 'marcus.chen@example.com' });
    expect(marcus.map((user) => user.email)).toEqual(['Marcus.Chen@Example.com']);
    const domain = await listEverything(sandbox, { email: '@example.org' });
    expect(domain.map((user) => user.email)).toEqual(['hannah.schmidt@example.org', 'hanna.schmid@example.org']);
    expect(await listEverything(sandbox, { email: 'nobody@nowhere.test' })).toEqual([]);
  });

  it('accepts an email filter of 255 characters and refuses 256 with 400 naming email', async () => {
    const sandbox = await sandboxWith();
    expect((await listPage(sandbox, { email: 'a'.repeat(255) })).users).toEqual([]);
    expectProblem(await call(sandbox, 'GET', usersPath({ email: 'a'.repeat(256) })), 400, 'email');
  });

  it('filters by repeatable upper-case status and refuses unknown or lower-case statuses', async () => {
    const sandbox = await sandboxWith();
    const pending = await listEverything(sandbox, { status: ['INVITED', 'EXPIRED'] });
    expect(pending.length).toBeGreaterThan(0);
    expect(new Set(pending.map((user) => user.status))).toEqual(new Set(['INVITED', 'EXPIRED']));
    const expected = demoDirectory().filter((user) => user.status !== 'ACTIVE').map((user) => user.id);
    expect(pending.map((user) => user.id)).toEqual(expected);
    const active = await listEverything(sandbox, { status: 'ACTIVE' });
    expect(active.every((user) => user.status === 'ACTIVE')).toBe(true);
    for (const status of ['DELETED', 'inactive', '', 'ACTIVE,INVITED', 'active', 'Invited']) {
      expectProblem(await call(sandbox, 'GET', usersPath({ status })), 400, 'status');
    }
  });

  it('never lists deleted users, whatever the filters', async () => {
    const sandbox = await sandboxWith();
    const annId = idOf(sandbox, 'ann@example.com');
    expect((await call(sandbox, 'DELETE', `/v2/users/${encodeURIComponent(annId)}`)).status).toBe(204);
    const everyone = await listEverything(sandbox, { status: ['ACTIVE', 'INVITED', 'EXPIRED'] });
    expect(everyone.map((user) => user.id)).not.toContain(annId);
    expect(everyone).toHaveLength(demoDirectory().length - 1);
    const filtered = await listEverything(sandbox, { email: 'ann@example.com' });
    expect(filtered.map((user) => user.email)).not.toContain('ann@example.com');
  });

  it('finds exact emails among 10,000 users with one filtered call each', async () => {
    const seed = generateDirectory(10_000, { seed: 42 });
    const sandbox = await sandboxWith({ seed });
    for (const target of [seed[1]!, seed[5_000]!, seed[9_999]!]) {
      const users = await listEverything(sandbox, { email: target.email, limit: 100 });
      expect(users.filter((user) => user.email.toLowerCase() === target.email.toLowerCase()).map((u) => u.id)).toEqual([
        target.id,
      ]);
    }
  });
});

describe('get user', () => {
  it('returns exactly the documented User fields', async () => {
    const sandbox = await sandboxWith();
    const ann = demoDirectory()[1]!;
    const response = await call(sandbox, 'GET', `/v2/users/${encodeURIComponent(ann.id)}`);
    expect(response.status).toBe(200);
    expect(UserSchema.parse(response.json)).toEqual({
      id: ann.id,
      name: ann.name,
      email: ann.email,
      created_at: ann.created_at,
      status: ann.status,
      role: ann.role,
      is_developer: ann.is_developer,
    });
  });

  it('answers 404 for an unknown or deleted user', async () => {
    const sandbox = await sandboxWith();
    expectProblem(await call(sandbox, 'GET', '/v2/users/VXNlcjo5OTk5OTk'), 404);
    const annId = idOf(sandbox, 'ann@example.com');
    await call(sandbox, 'DELETE', `/v2/users/${encodeURIComponent(annId)}`);
    expectProblem(await call(sandbox, 'GET', `/v2/users/${encodeURIComponent(annId)}`), 404);
  });

  it('issues opaque padded standard base64 ids with + / = that only work percent-encoded in a path', async () => {
    const sandbox = await sandboxWith();
    const created = await call(sandbox, 'POST', '/v2/users', { body: createBody('idcheck@example.com') });
    const createdUser = CreateUserResponseSchema.parse(created.json);
    for (const user of [...(await listEverything(sandbox)), createdUser]) {
      expect(user.id).toMatch(/^[A-Za-z0-9+/]+=*$/);
      expect(user.id).toMatch(/\+/);
      expect(user.id).toMatch(/\//);
      expect(user.id).toMatch(/=$/);
      expect(Buffer.from(user.id, 'base64').toString('utf8')).toMatch(/^User:/);
    }
    // Unencoded, the '/' splits the path: the id is never found by accident.
    expectProblem(await call(sandbox, 'GET', `/v2/users/${createdUser.id}`), 404);
    expect((await call(sandbox, 'GET', `/v2/users/${encodeURIComponent(createdUser.id)}`)).status).toBe(200);
  });
});

describe('create user', () => {
  it('adds an invited user: 201 CreateUserResponse with invite_mode and no temporary password', async () => {
    const sandbox = await sandboxWith();
    const response = await call(sandbox, 'POST', '/v2/users', { body: createBody('new.person@example.com') });
    expect(response.status).toBe(201);
    const body = CreateUserResponseSchema.parse(response.json);
    expect(body).toMatchObject({ email: 'new.person@example.com', status: 'INVITED', invite_mode: 'EMAIL_LINK', is_developer: true });
    expect(Object.keys(body).sort()).toEqual(
      ['created_at', 'email', 'id', 'invite_mode', 'is_developer', 'name', 'role', 'status'].sort(),
    );
    const fetched = await call(sandbox, 'GET', `/v2/users/${encodeURIComponent(body.id)}`);
    expect(UserSchema.parse(fetched.json).email).toBe('new.person@example.com');
  });

  it('adds an SSO user as ACTIVE at once with invite_mode NONE', async () => {
    const sandbox = await sandboxWith();
    const response = await call(sandbox, 'POST', '/v2/users', { body: createBody('sso.person@example.com', { invite_mode: 'NONE' }) });
    expect(response.status).toBe(201);
    const body = CreateUserResponseSchema.parse(response.json);
    expect(body.status).toBe('ACTIVE');
    expect(body.temporary_password).toBeUndefined();
    expect(sandbox.store.find(body.id)?.sso).toBe(true);
  });

  it('returns temporary_password only for TEMPORARY_PASSWORD, once', async () => {
    const sandbox = await sandboxWith();
    const response = await call(sandbox, 'POST', '/v2/users', {
      body: createBody('temp@example.com', { invite_mode: 'TEMPORARY_PASSWORD' }),
    });
    expect(response.status).toBe(201);
    const body = CreateUserResponseSchema.parse(response.json);
    expect(body.status).toBe('INVITED');
    expect(body.temporary_password).toMatch(/.{12,}/);
    const fetched = await call(sandbox, 'GET', `/v2/users/${encodeURIComponent(body.id)}`);
    expect(fetched.text).not.toContain(body.temporary_password);
    UserSchema.parse(fetched.json);
  });

  it('defaults is_developer by role and honours an explicit value; custom roles are refused (not yet supported)', async () => {
    const sandbox = await sandboxWith();
    const create = async (email: string, extra: Record<string, unknown>) =>
      CreateUserResponseSchema.parse((await call(sandbox, 'POST', '/v2/users', { body: createBody(email, extra) })).json);
    expect((await create('a1@example.com', { role: { type: 'PREDEFINED', name: 'ADMIN' } })).is_developer).toBe(true);
    expect((await create('a2@example.com', { role: { type: 'PREDEFINED', name: 'MEMBER' } })).is_developer).toBe(true);
    expect((await create('a3@example.com', { role: { type: 'PREDEFINED', name: 'ANNOTATOR' } })).is_developer).toBe(false);
    expect((await create('a4@example.com', { role: { type: 'PREDEFINED', name: 'ANNOTATOR' }, is_developer: true })).is_developer).toBe(true);
    expect((await create('a5@example.com', { is_developer: false })).is_developer).toBe(false);
    const custom = await call(sandbox, 'POST', '/v2/users', { body: createBody('a6@example.com', { role: { type: 'CUSTOM', id: 'role-42', name: 'Auditor' } }) });
    expectProblem(custom, 422, 'custom roles not yet supported');
    expect(sandbox.store.find('a6@example.com')).toBeUndefined();
  });

  it('returns an existing INVITED invitation as a plain User with 200 (email is the idempotency key)', async () => {
    const sandbox = await sandboxWith();
    const leann = sandbox.store.find('leann@example.com')!;
    const response = await call(sandbox, 'POST', '/v2/users', {
      body: createBody('LEANN@example.com', { name: 'Someone Else', role: { type: 'PREDEFINED', name: 'ADMIN' } }),
    });
    expect(response.status).toBe(200);
    const user = UserSchema.parse(response.json);
    expect(user).toMatchObject({ id: leann.id, name: leann.name, status: 'INVITED', role: leann.role });
    expect(sandbox.store.users()).toHaveLength(demoDirectory().length);
  });

  it('sends a new invitation (201, same id) to an EXPIRED user', async () => {
    const sandbox = await sandboxWith();
    const dan = sandbox.store.find('dan.okafor@example.com')!;
    expect(dan.status).toBe('EXPIRED');
    const response = await call(sandbox, 'POST', '/v2/users', { body: createBody('dan.okafor@example.com', { name: 'Dan Okafor' }) });
    expect(response.status).toBe(201);
    const body = CreateUserResponseSchema.parse(response.json);
    expect(body).toMatchObject({ id: dan.id, status: 'INVITED', invite_mode: 'EMAIL_LINK', created_at: dan.created_at });
    expect(sandbox.store.users()).toHaveLength(demoDirectory().length);
  });

  it('refuses an ACTIVE member or a deactivated user with 409', async () => {
    const sandbox = await sandboxWith();
    expectProblem(await call(sandbox, 'POST', '/v2/users', { body: createBody('Ann@Example.com') }), 409, 'email');
    const tomId = idOf(sandbox, 'tom@example.com');
    expect((await call(sandbox, 'DELETE', `/v2/users/${encodeURIComponent(tomId)}`)).status).toBe(204);
    expectProblem(await call(sandbox, 'POST', '/v2/users', { body: createBody('tom@example.com') }), 409, 'deactivated');
    expect(sandbox.store.find('tom@example.com')?.deleted).toBe(true);
  });

  it('refuses malformed bodies with 400 naming the field', async () => {
    const sandbox = await sandboxWith();
    const cases: [unknown, string][] = [
      [{ email: 'x@example.com', role: member, invite_mode: 'NONE' }, 'name: required'],
      [createBody('x@example.com', { name: '' }), 'name'],
      [createBody('x@example.com', { name: 'n'.repeat(256) }), 'name'],
      [createBody('x@example.com', { role: { type: 'PREDEFINED', name: 'member' } }), 'role.name'],
      [createBody('x@example.com', { role: { type: 'SUPER' } }), 'role.type'],
      [createBody('x@example.com', { role: { type: 'CUSTOM' } }), 'role.id'],
      [createBody('x@example.com', { invite_mode: 'SMS' }), 'invite_mode'],
      [createBody('x@example.com', { is_developer: 'yes' }), 'is_developer'],
      [createBody('x@example.com', { admin: true }), '"admin"'],
      [createBody('x@example.com', { email: 42 }), 'email'],
      [[], 'body'],
      ['a string', 'body'],
      [null, 'body'],
    ];
    for (const [body, field] of cases) {
      expectProblem(await call(sandbox, 'POST', '/v2/users', { body }), 400, field);
    }
    expect(sandbox.store.users()).toHaveLength(demoDirectory().length);
  });

  it('refuses a syntactically valid body with an unusable email or blank name with 422', async () => {
    const sandbox = await sandboxWith();
    for (const email of ['not-an-email', 'two@@example.com', ' padded@example.com', 'no-dot@localhost']) {
      expectProblem(await call(sandbox, 'POST', '/v2/users', { body: createBody(email) }), 422, 'email');
    }
    expectProblem(await call(sandbox, 'POST', '/v2/users', { body: createBody('blank@example.com', { name: '   ' }) }), 422, 'name');
  });

  it('answers 415 for a non-JSON content type, 400 for malformed JSON, 413 for a huge body', async () => {
    const sandbox = await sandboxWith();
    const json = JSON.stringify(createBody('ct@example.com'));
    expectProblem(await call(sandbox, 'POST', '/v2/users', { rawBody: json, contentType: 'text/plain' }), 415, 'content-type');
    expectProblem(await call(sandbox, 'POST', '/v2/users', { rawBody: json, contentType: null }), 415);
    expectProblem(await call(sandbox, 'POST', '/v2/users', { rawBody: '{"name": "x",' }), 400, 'malformed JSON');
    expectProblem(await call(sandbox, 'POST', '/v2/users', { rawBody: '' }), 400, 'body');
    expectProblem(await call(sandbox, 'POST', '/v2/users', { rawBody: `"${'x'.repeat(1_100_000)}"` }), 413);
    const ok = await call(sandbox, 'POST', '/v2/users', { rawBody: json, contentType: 'application/json; charset=utf-8' });
    expect(ok.status).toBe(201);
  });
});

describe('update user', () => {
  it('updates name and is_developer and returns the User', async () => {
    const sandbox = await sandboxWith();
    const id = idOf(sandbox, 'grace.kim@example.com');
    const renamed = await call(sandbox, 'PATCH', `/v2/users/${encodeURIComponent(id)}`, { body: { name: 'Grace K. Kim' } });
    expect(renamed.status).toBe(200);
    expect(UserSchema.parse(renamed.json)).toMatchObject({ id, name: 'Grace K. Kim', is_developer: true });
    const flagged = await call(sandbox, 'PATCH', `/v2/users/${encodeURIComponent(id)}`, { body: { is_developer: false } });
    expect(UserSchema.parse(flagged.json)).toMatchObject({ name: 'Grace K. Kim', is_developer: false });
    expect(UserSchema.parse((await call(sandbox, 'GET', `/v2/users/${encodeURIComponent(id)}`)).json).is_developer).toBe(false);
  });

  it('refuses an empty or malformed update with 400 and unknown or deleted users with 404', async () => {
    const sandbox = await sandboxWith();
    const id = idOf(sandbox, 'grace.kim@example.com');
    expectProblem(await call(sandbox, 'PATCH', `/v2/users/${encodeURIComponent(id)}`, { body: {} }), 400, 'at least one');
    expectProblem(await call(sandbox, 'PATCH', `/v2/users/${encodeURIComponent(id)}`, { body: { is_developer: 'no' } }), 400, 'is_developer');
    expectProblem(await call(sandbox, 'PATCH', `/v2/users/${encodeURIComponent(id)}`, { body: { email: 'x@example.com' } }), 400, '"email"');
    expectProblem(await call(sandbox, 'PATCH', `/v2/users/${encodeURIComponent(id)}`, { body: { name: '  ' } }), 400, 'name');
    expectProblem(await call(sandbox, 'PATCH', `/v2/users/${encodeURIComponent(id)}`, { rawBody: 'name=x', contentType: 'application/x-www-form-urlencoded' }), 415);
    expectProblem(await call(sandbox, 'PATCH', '/v2/users/VXNlcjo5OTk5OTk', { body: { name: 'X' } }), 404);
    await call(sandbox, 'DELETE', `/v2/users/${encodeURIComponent(id)}`);
    expectProblem(await call(sandbox, 'PATCH', `/v2/users/${encodeURIComponent(id)}`, { body: { name: 'X' } }), 404);
    expect(sandbox.store.find(id)?.name).toBe('Grace Kim');
  });
});

describe('delete user', () => {
  it('soft-deletes with 204, hides the user, and answers 204 again for an already deleted user', async () => {
    const sandbox = await sandboxWith();
    const id = idOf(sandbox, 'ann@example.com');
    const first = await call(sandbox, 'DELETE', `/v2/users/${encodeURIComponent(id)}`);
    expect(first.status).toBe(204);
    expect(first.text).toBe('');
    expect(sandbox.store.find(id)).toMatchObject({ deleted: true, email: 'ann@example.com' });
    expect((await call(sandbox, 'DELETE', `/v2/users/${encodeURIComponent(id)}`)).status).toBe(204);
    expectProblem(await call(sandbox, 'GET', `/v2/users/${encodeURIComponent(id)}`), 404);
    // Near-duplicates are untouched.
    for (const email of ['joann@example.com', 'ann@example.com.au', 'leann@example.com']) {
      expect(sandbox.store.find(email)?.deleted).toBe(false);
    }
  });

  it('answers 404 for an unknown user and 400 for the key owner deleting themself', async () => {
    const sandbox = await sandboxWith();
    expectProblem(await call(sandbox, 'DELETE', '/v2/users/VXNlcjo5OTk5OTk'), 404);
    const ownerId = demoDirectory()[0]!.id;
    expectProblem(await call(sandbox, 'DELETE', `/v2/users/${encodeURIComponent(ownerId)}`), 400, 'yourself');
    expect(sandbox.store.find(ownerId)?.deleted).toBe(false);
  });

  it('treats the first seed user as the key owner even when it is not the oldest', async () => {
    const [owner, other] = generateDirectory(2, { seed: 9 });
    const sandbox = await sandboxWith({ seed: [{ ...owner!, created_at: '2030-01-01T00:00:00Z' }, other!] });
    expectProblem(await call(sandbox, 'DELETE', `/v2/users/${encodeURIComponent(owner!.id)}`), 400, 'yourself');
    expect((await call(sandbox, 'DELETE', `/v2/users/${encodeURIComponent(other!.id)}`)).status).toBe(204);
  });

  it('can answer 403 through an injected fault, without deleting', async () => {
    const sandbox = await sandboxWith();
    const id = idOf(sandbox, 'ravi.patel@example.com');
    sandbox.faults.failUser(id, 1, 403);
    expectProblem(await call(sandbox, 'DELETE', `/v2/users/${encodeURIComponent(id)}`), 403);
    expect(sandbox.store.find(id)?.deleted).toBe(false);
    expect((await call(sandbox, 'DELETE', `/v2/users/${encodeURIComponent(id)}`)).status).toBe(204);
  });
});

describe('resend invitation and reset password', () => {
  it('resends only to INVITED users', async () => {
    const sandbox = await sandboxWith();
    const resend = (email: string) => call(sandbox, 'POST', `/v2/users/${encodeURIComponent(idOf(sandbox, email))}/resend-invitation`);
    const ok = await resend('olivia.brown@example.com');
    expect(ok.status).toBe(204);
    expect(ok.text).toBe('');
    expectProblem(await resend('grace.kim@example.com'), 400, 'verified');
    expectProblem(await resend('dan.okafor@example.com'), 400, 'EXPIRED');
    expectProblem(await call(sandbox, 'POST', '/v2/users/VXNlcjo5OTk5OTk/resend-invitation'), 404);
    const oliviaId = idOf(sandbox, 'olivia.brown@example.com');
    await call(sandbox, 'DELETE', `/v2/users/${encodeURIComponent(oliviaId)}`);
    expectProblem(await call(sandbox, 'POST', `/v2/users/${encodeURIComponent(oliviaId)}/resend-invitation`), 404);
  });

  it('resets passwords only for verified password users (SSO and unverified users get 400)', async () => {
    const sandbox = await sandboxWith();
    const reset = (email: string) => call(sandbox, 'POST', `/v2/users/${encodeURIComponent(idOf(sandbox, email))}/reset-password`);
    expect((await reset('grace.kim@example.com')).status).toBe(204);
    // Seeded SSO users (`sso: true`) and users created with invite_mode NONE sign in with SSO.
    expectProblem(await reset('sofia.rossi@example.com'), 400, 'SSO');
    const created = await call(sandbox, 'POST', '/v2/users', { body: createBody('sso.new@example.com', { invite_mode: 'NONE' }) });
    expect(created.status).toBe(201);
    expectProblem(await reset('sso.new@example.com'), 400, 'SSO');
    expectProblem(await reset('olivia.brown@example.com'), 400, 'not verified');
    expectProblem(await reset('dan.okafor@example.com'), 400, 'not verified');
    expectProblem(await call(sandbox, 'POST', '/v2/users/VXNlcjo5OTk5OTk/reset-password'), 404);
  });
});

describe('robustness', () => {
  it('never answers 5xx to arbitrary paths, queries and bodies', async () => {
    const sandbox = await sandboxWith();
    const ids = demoDirectory().map((user) => user.id);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PATCH', 'DELETE', 'PUT'),
        fc.oneof(
          fc.constant('/v2/users'),
          fc.constantFrom(...ids.slice(1)).map((id) => `/v2/users/${encodeURIComponent(id)}`),
          fc.string().map((s) => `/v2/users/${encodeURIComponent(s)}`),
          fc.constantFrom('/v2/users/x/reset-password', '/v2/users/x/resend-invitation', '/v2/users//'),
        ),
        fc.dictionary(fc.constantFrom('limit', 'cursor', 'email', 'status', 'x'), fc.string(), { maxKeys: 3 }),
        fc.oneof(fc.constant(undefined), fc.string(), fc.json()),
        async (method, path, query, rawBody) => {
          const search = new URLSearchParams(query).toString();
          const response = await call(sandbox, method, `${path}${search ? `?${search}` : ''}`, { rawBody: method === 'GET' ? undefined : rawBody });
          expect(response.status, `${method} ${path} ${search} ${rawBody ?? ''} -> ${response.text}`).toBeLessThan(500);
        },
      ),
      { numRuns: 150, seed: 20240601 },
    );
  });
});
