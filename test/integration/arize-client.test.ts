/**
 * The Arize users client against the sandbox over real HTTP (and, for proxy misbehaviour,
 * a tiny node:http server that answers what a broken proxy would).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ArizeApiError,
  ArizeDeadlineError,
  ArizeNetworkError,
  ArizeResponseError,
  ArizeTimeoutError,
  ArizeUsersClient,
  ArizeValidationError,
  DELETE_ABORTED,
  DELETE_NOT_ATTEMPTED,
  NOT_FOUND_BY_EMAIL,
  NOT_FOUND_BY_ID,
  type ArizeClientOptions,
  type BulkUserDeletionResult,
} from '../../lambdas/arize/index.js';
import { generateDirectory, startSandbox, type Sandbox, type SandboxOptions } from '../../local/sandbox/server.js';
import { seededRandom } from '../../local/sandbox/seed.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

interface Harness {
  sandbox: Sandbox;
  client: ArizeUsersClient;
  /** Every backoff wait the client asked for, in order (the injected sleep does not really wait). */
  waits: number[];
}

async function harness(sandboxOptions: SandboxOptions = {}, clientOptions: ArizeClientOptions = {}): Promise<Harness> {
  const sandbox = await startSandbox(sandboxOptions);
  cleanups.push(() => sandbox.close());
  const waits: number[] = [];
  const client = new ArizeUsersClient({
    baseUrl: sandbox.url,
    apiKey: sandbox.apiKey,
    maxRequestsPerSecond: 10_000,
    random: () => 0.5,
    sleep: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
    env: {},
    ...clientOptions,
  });
  return { sandbox, client, waits };
}

type Handler = (req: IncomingMessage, res: ServerResponse, hit: number) => void;

/** A stand-in for a misbehaving proxy in front of Arize. */
async function fakeUpstream(handler: Handler): Promise<{ url: string; hits: () => number }> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    handler(req, res, hits);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, hits: () => hits };
}

function idOf(sandbox: Sandbox, email: string): string {
  const user = sandbox.store.find(email);
  if (!user) throw new Error(`test setup: ${email} not in the sandbox`);
  return user.id;
}

function isDeleted(sandbox: Sandbox, email: string): boolean {
  return sandbox.store.find(email)?.deleted === true;
}

describe('list and listAll', () => {
  it('filters by email substring and by statuses given in any case', async () => {
    const { client } = await harness();
    const ann = await client.list({ email: 'ANN@example.com' });
    expect(ann.users.map((u) => u.email).sort()).toEqual(['ann@example.com', 'ann@example.com.au', 'joann@example.com', 'leann@example.com']);

    const invited = await client.list({ status: ['invited'] });
    expect(invited.users.length).toBeGreaterThan(0);
    expect(invited.users.every((u) => u.status === 'INVITED')).toBe(true);

    const some = await client.list({ status: ['Expired', 'INVITED'] });
    expect(new Set(some.users.map((u) => u.status))).toEqual(new Set(['EXPIRED', 'INVITED']));
  });

  it('pages with limit and cursor, oldest first, and listAll walks every page', async () => {
    const { client, sandbox } = await harness({ seed: generateDirectory(250, { seed: 3 }) });
    const first = await client.list({ limit: 100 });
    expect(first.users).toHaveLength(100);
    expect(first.pagination.has_more).toBe(true);
    const second = await client.list({ limit: 100, cursor: first.pagination.next_cursor });
    expect(second.users[0]?.created_at.localeCompare(first.users[99]?.created_at ?? '')).toBeGreaterThan(0);

    sandbox.counters.reset();
    const all: string[] = [];
    for await (const user of client.listAll({ pageSize: 100 })) all.push(user.id);
    expect(all).toHaveLength(250);
    expect(new Set(all).size).toBe(250);
    expect(sandbox.counters.byRoute.list).toBe(3);
  });

  it('rejects bad parameters before any call, naming the field', async () => {
    const { client, sandbox } = await harness();
    await expect(client.list({ limit: 0 })).rejects.toThrow(/limit/);
    await expect(client.list({ limit: 101 })).rejects.toBeInstanceOf(ArizeValidationError);
    await expect(client.list({ status: ['deleted'] })).rejects.toThrow(/status/);
    await expect(client.list({ email: 'x'.repeat(256) })).rejects.toThrow(/email/);
    expect(sandbox.counters.total).toBe(0);
  });

  it('turns a bad cursor into a typed 400, not retried', async () => {
    const { client, sandbox } = await harness();
    const error = await client.list({ cursor: 'forged' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArizeApiError);
    expect((error as ArizeApiError).status).toBe(400);
    expect((error as ArizeApiError).retryable).toBe(false);
    expect(sandbox.counters.total).toBe(1);
  });
});

describe('get and findByEmail', () => {
  it('gets a user by id and answers 404 for an unknown one without retrying', async () => {
    const { client, sandbox } = await harness();
    const id = idOf(sandbox, 'ann@example.com');
    expect((await client.get(id)).email).toBe('ann@example.com');
    const error = await client.get('no-such-user').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArizeApiError);
    expect((error as ArizeApiError).status).toBe(404);
    expect((error as ArizeApiError).problem?.title).toBeTruthy();
    expect(sandbox.counters.byRoute.get).toBe(2);
  });

  it('finds exact case-insensitive matches only, never a substring hit', async () => {
    const { client } = await harness();
    expect((await client.findByEmail('ANN@Example.com'))?.email).toBe('ann@example.com');
    expect((await client.findByEmail('marcus.chen@example.com'))?.email).toBe('Marcus.Chen@Example.com');
    expect(await client.findByEmail('nn@example.com')).toBeUndefined();
    expect(await client.findByEmail('oann@example.com')).toBeUndefined();
    await expect(client.findByEmail('not-an-email')).rejects.toBeInstanceOf(ArizeValidationError);
  });

  it('paginates the filtered list when substring hits fill more than one page', async () => {
    const { client, sandbox } = await harness();
    for (let i = 0; i < 120; i++) sandbox.store.add({ email: `x${i}.kim@example.com` });
    sandbox.store.add({ email: 'Kim@Example.com' });
    sandbox.counters.reset();
    expect((await client.findByEmail('kim@example.com'))?.email).toBe('Kim@Example.com');
    expect(sandbox.counters.byRoute.list).toBe(2);
  });
});

describe('create, update and the invitation/password operations', () => {
  it('creates with a predefined role in any case; 201 is created, 200 an existing invitation', async () => {
    const { client } = await harness();
    const first = await client.create({ name: 'Ada Lovelace', email: 'ada@example.com', role: 'member', inviteMode: 'email_link' });
    expect(first).toMatchObject({ created: true, inviteMode: 'EMAIL_LINK', user: { status: 'INVITED', is_developer: true } });
    expect(first.user.role).toEqual({ type: 'PREDEFINED', name: 'MEMBER' });
    expect(first.temporaryPassword).toBeUndefined();
    expect(first.user).not.toHaveProperty('invite_mode');

    const again = await client.create({ name: 'Ada Lovelace', email: 'ADA@example.com', role: 'MEMBER', inviteMode: 'EMAIL_LINK' });
    expect(again.created).toBe(false);
    expect(again.user.id).toBe(first.user.id);
  });

  it('returns the temporary password once, and honours is_developer and custom roles', async () => {
    const { client } = await harness();
    const temp = await client.create({
      name: 'Bot',
      email: 'bot@example.com',
      role: { type: 'PREDEFINED', name: 'annotator' },
      inviteMode: 'Temporary_Password',
      isDeveloper: true,
    });
    expect(temp.temporaryPassword).toEqual(expect.any(String));
    expect(temp.user.is_developer).toBe(true);

    const none = await client.create({ name: 'SSO Person', email: 'sso@example.com', role: 'member', inviteMode: 'none' });
    expect(none.user.status).toBe('ACTIVE');
    // Arize refuses custom roles on create for now: a typed, permanent 422 that creates nothing.
    const custom = await client
      .create({ name: 'Custom Person', email: 'custom@example.com', role: { id: 'custom-role-1' }, inviteMode: 'none' })
      .catch((error: unknown) => error);
    expect(custom).toBeInstanceOf(ArizeApiError);
    expect(custom).toMatchObject({ status: 422, retryable: false });
    expect(String((custom as Error).message)).toContain('custom roles not yet supported');
  });

  it('surfaces 409 for an active member as a non-retryable typed error', async () => {
    const { client, sandbox } = await harness();
    const error = await client
      .create({ name: 'Ann', email: 'ann@example.com', role: 'member', inviteMode: 'email_link' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArizeApiError);
    expect((error as ArizeApiError).status).toBe(409);
    expect((error as ArizeApiError).retryable).toBe(false);
    expect((error as Error).message).not.toContain('ann@example.com');
    expect(sandbox.counters.byRoute.create).toBe(1);
  });

  it('rejects bad create input before any call', async () => {
    const { client, sandbox } = await harness();
    await expect(client.create({ name: 'A', email: 'nope', role: 'member', inviteMode: 'none' })).rejects.toThrow(/email/);
    await expect(client.create({ name: 'A', email: 'a@x.com', role: 'owner', inviteMode: 'none' })).rejects.toThrow(/role/);
    await expect(client.create({ name: 'A', email: 'a@x.com', role: 'member', inviteMode: 'sms' })).rejects.toThrow(/inviteMode/);
    await expect(client.create({ name: ' ', email: 'a@x.com', role: 'member', inviteMode: 'none' })).rejects.toThrow(/name/);
    expect(sandbox.counters.total).toBe(0);
  });

  it('updates name and developer flag, and refuses an empty update without calling', async () => {
    const { client, sandbox } = await harness();
    const id = idOf(sandbox, 'tom@example.com');
    const updated = await client.update(id, { name: 'Thomas Becker', isDeveloper: false });
    expect(updated).toMatchObject({ name: 'Thomas Becker', is_developer: false });
    sandbox.counters.reset();
    await expect(client.update(id, {})).rejects.toBeInstanceOf(ArizeValidationError);
    expect(sandbox.counters.total).toBe(0);
    await expect(client.update('missing', { name: 'X' })).rejects.toMatchObject({ status: 404 });
  });

  it('resends invitations to invited users only and resets passwords of verified users only', async () => {
    const { client, sandbox } = await harness();
    await client.resendInvitation(idOf(sandbox, 'leann@example.com'));
    await expect(client.resendInvitation(idOf(sandbox, 'tom@example.com'))).rejects.toMatchObject({ status: 400, retryable: false });
    await client.resetPassword(idOf(sandbox, 'tom@example.com'));
    await expect(client.resetPassword(idOf(sandbox, 'leann@example.com'))).rejects.toMatchObject({ status: 400 });
    await expect(client.resetPassword(idOf(sandbox, 'sofia.rossi@example.com'))).rejects.toMatchObject({ status: 400 });
    expect(sandbox.counters.byRoute.resend).toBe(2);
    expect(sandbox.counters.byRoute.reset).toBe(3);
  });

  it('deletes idempotently, hides the user afterwards and refuses to delete the key owner', async () => {
    const { client, sandbox } = await harness();
    const id = idOf(sandbox, 'grace.kim@example.com');
    await client.delete(id);
    await client.delete(id);
    expect(isDeleted(sandbox, 'grace.kim@example.com')).toBe(true);
    await expect(client.get(id)).rejects.toMatchObject({ status: 404 });
    expect(await client.findByEmail('grace.kim@example.com')).toBeUndefined();
    await expect(client.delete(idOf(sandbox, 'priya.raman@example.com'))).rejects.toMatchObject({ status: 400, retryable: false });
  });

  it('answers a wrong key with a 401 that is not retried and does not echo the key', async () => {
    const { sandbox } = await harness();
    const client = new ArizeUsersClient({ baseUrl: sandbox.url, apiKey: 'wrong-key-xyz', env: {}, sleep: () => Promise.resolve() });
    const error = await client.list().catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 401, retryable: false });
    expect(JSON.stringify(error)).not.toContain('wrong-key-xyz');
    expect(String(error)).not.toContain('wrong-key-xyz');
    expect(sandbox.counters.total).toBe(1);
  });
});

describe('responses that are not the API', () => {
  it('turns HTML from a proxy into a typed, retryable error with the status, retried then given up', async () => {
    const upstream = await fakeUpstream((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html><body><h1>502 Bad Gateway</h1></body></html>');
    });
    const waits: number[] = [];
    const client = new ArizeUsersClient({
      baseUrl: upstream.url,
      apiKey: 'k',
      env: {},
      maxRetries: 2,
      random: () => 0,
      sleep: (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
    });
    const error = await client.get('abc').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArizeResponseError);
    expect(error).toMatchObject({ status: 502, retryable: true, attempts: 3 });
    expect((error as Error).message).toContain('text/html');
    expect(upstream.hits()).toBe(3);
    expect(waits).toHaveLength(2);
  });

  it('rejects garbage and schema drift in a 200 without retrying', async () => {
    const upstream = await fakeUpstream((req, res) => {
      if (req.url?.startsWith('/v2/users/garbage')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"id": "abc", "na');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'abc',
          name: 'A',
          email: 'a@x.com',
          created_at: '2024-01-01T00:00:00Z',
          status: 'ACTIVE',
          role: { type: 'PREDEFINED', name: 'MEMBER' },
          is_developer: true,
          surprise: 1,
        }),
      );
    });
    const client = new ArizeUsersClient({ baseUrl: upstream.url, apiKey: 'k', env: {}, sleep: () => Promise.resolve() });
    await expect(client.get('garbage')).rejects.toMatchObject({ name: 'ArizeResponseError', status: 200, retryable: false });
    await expect(client.get('drift')).rejects.toThrow(/surprise/);
    expect(upstream.hits()).toBe(2);
  });

  it('never reads an HTML 404 from a wrong base URL as "user not found"', async () => {
    const upstream = await fakeUpstream((_req, res) => {
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end('<html>Not Found</html>');
    });
    const client = new ArizeUsersClient({ baseUrl: upstream.url, apiKey: 'k', env: {}, sleep: () => Promise.resolve() });
    const [result] = await client.bulkDelete({ userIds: ['abc'] });
    expect(result).toMatchObject({ user_id: 'abc', status: 'failed', retryable: false, httpStatus: 404 });
  });

  it('waits out a Retry-After given as an HTTP date', async () => {
    const upstream = await fakeUpstream((_req, res, hit) => {
      if (hit === 1) {
        res.writeHead(429, {
          'content-type': 'application/problem+json',
          'retry-after': new Date(Date.now() + 10_000).toUTCString(),
        });
        res.end(JSON.stringify({ title: 'Too Many Requests', status: 429 }));
        return;
      }
      res.writeHead(204);
      res.end();
    });
    const waits: number[] = [];
    const client = new ArizeUsersClient({
      baseUrl: upstream.url,
      apiKey: 'k',
      env: {},
      random: () => 0,
      sleep: (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
    });
    await client.delete('abc');
    expect(waits).toHaveLength(1);
    // HTTP dates have one-second resolution: at least 8 s of the 10 s remain.
    expect(waits[0]).toBeGreaterThanOrEqual(8000);
    expect(waits[0]).toBeLessThanOrEqual(10_000);
    expect(client.stats).toMatchObject({ requests: 2, retries: 1, throttled: 1 });
  });

  it('refuses to loop on a page that says has_more without a cursor', async () => {
    const upstream = await fakeUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ users: [], pagination: { has_more: true } }));
    });
    const client = new ArizeUsersClient({ baseUrl: upstream.url, apiKey: 'k', env: {}, sleep: () => Promise.resolve() });
    const drain = async () => {
      for await (const _user of client.listAll()) {
        // draining
      }
    };
    await expect(drain()).rejects.toThrow(/next_cursor/);
    expect(upstream.hits()).toBe(1);
  });

  it('times out a request that never answers, as a retryable timeout', async () => {
    const upstream = await fakeUpstream(() => {
      // never answers
    });
    const client = new ArizeUsersClient({
      baseUrl: upstream.url,
      apiKey: 'k',
      env: {},
      requestTimeoutMs: 150,
      maxRetries: 1,
      sleep: () => Promise.resolve(),
    });
    const error = await client.get('abc').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArizeTimeoutError);
    expect(error).toMatchObject({ retryable: true, attempts: 2 });
    expect(upstream.hits()).toBe(2);
  });

  it('reports a refused connection as a retryable network error', async () => {
    const upstream = await fakeUpstream(() => undefined);
    await cleanups.pop()?.();
    const client = new ArizeUsersClient({ baseUrl: upstream.url, apiKey: 'k', env: {}, maxRetries: 1, sleep: () => Promise.resolve() });
    const error = await client.get('abc').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArizeNetworkError);
    expect(error).toMatchObject({ retryable: true, attempts: 2 });
  });
});

describe('retries', () => {
  it('waits out 429 + Retry-After, then succeeds', async () => {
    const { client, sandbox, waits } = await harness();
    const id = idOf(sandbox, 'tom@example.com');
    sandbox.faults.failUser(id, 2, 429, { retryAfterSeconds: 2 });
    await client.delete(id);
    expect(waits).toHaveLength(2);
    expect(waits.every((ms) => ms >= 2000)).toBe(true);
    expect(sandbox.counters.byRoute.delete).toBe(3);
    expect(sandbox.counters.status['429']).toBe(2);
    expect(client.stats).toMatchObject({ throttled: 2, retries: 2, requests: 3 });
    expect(isDeleted(sandbox, 'tom@example.com')).toBe(true);
  });

  it('retries 5xx to success with growing full-jitter waits', async () => {
    const { client, sandbox, waits } = await harness();
    const id = idOf(sandbox, 'tom@example.com');
    sandbox.faults.failUser(id, 3, 503);
    await client.delete(id);
    expect(sandbox.counters.byRoute.delete).toBe(4);
    expect(waits).toEqual([100, 200, 400]);
  });

  it('logs retries without the key or the email being looked up', async () => {
    const lines: string[] = [];
    const record = (message: string, attributes?: Record<string, unknown>) => lines.push(`${message} ${JSON.stringify(attributes)}`);
    const { client, sandbox } = await harness({}, { logger: { debug: record, info: record, warn: record } });
    sandbox.faults.failUser('tom@example.com', 2, 503);
    expect((await client.findByEmail('tom@example.com'))?.email).toBe('tom@example.com');
    expect(lines).toHaveLength(2);
    expect(lines.join('\n')).toContain('/v2/users');
    expect(lines.join('\n')).not.toContain('tom@');
    expect(lines.join('\n')).not.toContain(sandbox.apiKey);
  });

  it('gives up after maxRetries with the last error, still marked retryable', async () => {
    const { client, sandbox } = await harness({}, { maxRetries: 2 });
    const id = idOf(sandbox, 'tom@example.com');
    sandbox.faults.failUser(id, 10, 500);
    await expect(client.delete(id)).rejects.toMatchObject({ status: 500, retryable: true, attempts: 3 });
    expect(sandbox.counters.byRoute.delete).toBe(3);
  });

  it.each([400, 401, 403, 404, 409, 422])('never retries %i', async (status) => {
    const { client, sandbox, waits } = await harness();
    const id = idOf(sandbox, 'tom@example.com');
    sandbox.faults.failUser(id, 5, status);
    await expect(client.delete(id)).rejects.toMatchObject({ status, retryable: false });
    expect(sandbox.counters.byRoute.delete).toBe(1);
    expect(waits).toEqual([]);
    expect(client.stats.retries).toBe(0);
  });

  it('retries a dropped connection', async () => {
    const { client, sandbox } = await harness();
    const id = idOf(sandbox, 'tom@example.com');
    sandbox.faults.dropConnections(2);
    await client.delete(id);
    expect(isDeleted(sandbox, 'tom@example.com')).toBe(true);
    expect(client.stats.retries).toBe(2);
  });

  it('stays under the client-side rate so the server never throttles', async () => {
    const { client, sandbox } = await harness({ rateLimit: 20 }, { maxRequestsPerSecond: 15, maxConcurrency: 8 });
    const ids = generateDirectory(30, { seed: 9 }).map((u) => u.id);
    await Promise.all(ids.map((id) => client.get(id).catch(() => undefined)));
    expect(sandbox.counters.byRoute.get).toBe(30);
    expect(sandbox.counters.status['429']).toBeUndefined();
    expect(client.stats.throttled).toBe(0);
  });

  it('keeps its rate against a flaky server (15 % random 503s): the retries absorb them', async () => {
    const seed = generateDirectory(200, { seed: 11 });
    const { client, sandbox } = await harness(
      { seed, errorRate: 0.15, random: seededRandom(11) },
      { maxRequestsPerSecond: 80, maxConcurrency: 8, rateControl: 'adaptive' },
    );
    const found = await Promise.all(seed.map((user) => client.findByEmail(user.email)));
    expect(found.every((user, index) => user?.id === seed[index]?.id)).toBe(true);
    expect(sandbox.counters.status['503']).toBeGreaterThan(10);
    // Cutting ×0.7 per failure left ~1.5 req/s of the 80 allowed: a restarted serve could not finish its backlog.
    expect(client.rateControl.rate).toBeGreaterThanOrEqual(40);
  });
});

describe('bulkDelete', () => {
  it('validates before any call', async () => {
    const { client, sandbox } = await harness();
    await expect(client.bulkDelete({})).rejects.toBeInstanceOf(ArizeValidationError);
    await expect(client.bulkDelete({ userIds: [], emails: [] })).rejects.toBeInstanceOf(ArizeValidationError);
    await expect(client.bulkDelete({ emails: ['ann@example.com', 'not an email'] })).rejects.toThrow(/emails\[1\]/);
    await expect(client.bulkDelete({ userIds: ['  '] })).rejects.toThrow(/userIds\[0\]/);
    expect(sandbox.counters.total).toBe(0);
  });

  it('returns the SDK shape per distinct input, in input order', async () => {
    const { client, sandbox } = await harness();
    const tomId = idOf(sandbox, 'tom@example.com');
    const seen: BulkUserDeletionResult[] = [];
    const results = await client.bulkDelete(
      { userIds: [tomId, 'no-such-id', tomId], emails: ['ann@example.com', 'nobody@example.com', 'Marcus.Chen@example.COM'] },
      { onResult: (r) => seen.push(r) },
    );
    expect(results).toEqual([
      { user_id: tomId, status: 'deleted' },
      { user_id: 'no-such-id', status: 'not_found', error: NOT_FOUND_BY_ID, retryable: false, httpStatus: 404 },
      { user_id: idOf(sandbox, 'ann@example.com'), email: 'ann@example.com', status: 'deleted' },
      { user_id: '', email: 'nobody@example.com', status: 'not_found', error: NOT_FOUND_BY_EMAIL },
      { user_id: idOf(sandbox, 'marcus.chen@example.com'), email: 'Marcus.Chen@example.COM', status: 'deleted' },
    ]);
    expect(seen).toHaveLength(5);
    expect(new Set(seen)).toEqual(new Set(results));
    expect(isDeleted(sandbox, 'joann@example.com')).toBe(false);
    expect(isDeleted(sandbox, 'ann@example.com.au')).toBe(false);
    expect(isDeleted(sandbox, 'marcus.chen+test@example.com')).toBe(false);
  });

  it('deletes a user named several times (case variants, and by id too) exactly once', async () => {
    const { client, sandbox } = await harness();
    const annId = idOf(sandbox, 'ann@example.com');
    const results = await client.bulkDelete({ userIds: [annId], emails: ['ann@example.com', 'ANN@EXAMPLE.COM', ' Ann@Example.com '] });
    expect(sandbox.counters.byRoute.delete).toBe(1);
    expect(results).toEqual([
      { user_id: annId, status: 'deleted' },
      { user_id: annId, email: 'ann@example.com', status: 'deleted' },
    ]);
  });

  it('reports failures per item with the error, retryability and status, and goes on with the rest', async () => {
    const { client, sandbox } = await harness({}, { maxRetries: 1 });
    sandbox.faults.failUser('tom@example.com', 10, 503);
    sandbox.faults.failUser(idOf(sandbox, 'ann@example.com'), 10, 403);
    const owner = idOf(sandbox, 'priya.raman@example.com');
    const results = await client.bulkDelete({ userIds: [owner], emails: ['tom@example.com', 'ann@example.com', 'zara.ahmed@example.com'] });
    expect(results[0]).toMatchObject({ user_id: owner, status: 'failed', retryable: false, httpStatus: 400 });
    expect(results[1]).toMatchObject({ user_id: '', email: 'tom@example.com', status: 'failed', retryable: true, httpStatus: 503 });
    expect(results[2]).toMatchObject({ email: 'ann@example.com', status: 'failed', retryable: false, httpStatus: 403 });
    expect(results[3]).toMatchObject({ email: 'zara.ahmed@example.com', status: 'deleted' });
    expect(results.every((r) => r.status !== 'failed' || (r.error ?? '').length > 0)).toBe(true);
    expect(isDeleted(sandbox, 'tom@example.com')).toBe(false);
    expect(isDeleted(sandbox, 'zara.ahmed@example.com')).toBe(true);
  });

  it('never has more requests in flight than maxConcurrency', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const countingFetch: typeof fetch = async (...args) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        return await fetch(...args);
      } finally {
        inFlight--;
      }
    };
    const seed = generateDirectory(40, { seed: 5 });
    const { client, sandbox } = await harness({ seed, latencyMs: 15 }, { maxConcurrency: 3, fetch: countingFetch });
    const results = await client.bulkDelete({ userIds: seed.slice(1).map((u) => u.id) });
    expect(results.every((r) => r.status === 'deleted')).toBe(true);
    expect(sandbox.counters.byRoute.delete).toBe(39);
    expect(maxInFlight).toBe(3);
  });

  it('stops at the deadline: unattempted items fail as retryable, nothing deleted behind the results', async () => {
    const seed = generateDirectory(30, { seed: 6 });
    const { client, sandbox } = await harness({ seed, latencyMs: 100 }, { maxConcurrency: 1 });
    const ids = seed.slice(1).map((u) => u.id);
    const results = await client.bulkDelete({ userIds: ids }, { deadline: Date.now() + 1000 });
    const deleted = results.filter((r) => r.status === 'deleted');
    const notAttempted = results.filter((r) => r.error === DELETE_NOT_ATTEMPTED);
    expect(deleted.length).toBeGreaterThan(0);
    expect(notAttempted.length).toBeGreaterThan(0);
    expect(notAttempted.every((r) => r.status === 'failed' && r.retryable === true)).toBe(true);
    const deletedInStore = new Set(sandbox.store.users().filter((u) => u.deleted).map((u) => u.id));
    for (const result of results) {
      if (result.status === 'deleted') expect(deletedInStore.has(result.user_id)).toBe(true);
      if (result.error === DELETE_NOT_ATTEMPTED) expect(deletedInStore.has(result.user_id)).toBe(false);
    }
    expect(sandbox.counters.byRoute.delete).toBeLessThan(ids.length);
  });

  it('does not start a Retry-After wait that would end after the deadline', async () => {
    const { client, sandbox, waits } = await harness();
    const id = idOf(sandbox, 'tom@example.com');
    sandbox.faults.failUser(id, 3, 429, { retryAfterSeconds: 30 });
    const [result] = await client.bulkDelete({ userIds: [id] }, { deadline: Date.now() + 5_000 });
    expect(result).toMatchObject({ status: 'failed', retryable: true, httpStatus: 429 });
    expect(waits).toEqual([]);
    expect(sandbox.counters.byRoute.delete).toBe(1);
  });

  it('honours an AbortSignal: nothing is attempted once aborted', async () => {
    const { client, sandbox } = await harness();
    const controller = new AbortController();
    controller.abort();
    const results = await client.bulkDelete({ userIds: [idOf(sandbox, 'tom@example.com'), idOf(sandbox, 'ann@example.com')] }, { signal: controller.signal });
    expect(results.map((r) => [r.status, r.error, r.retryable])).toEqual([
      ['failed', DELETE_ABORTED, true],
      ['failed', DELETE_ABORTED, true],
    ]);
    expect(sandbox.counters.total).toBe(0);
    await expect(client.get('x', { signal: controller.signal })).rejects.toBeInstanceOf(ArizeDeadlineError);
  });
});

describe('resolving many emails cheaply', () => {
  const directory = generateDirectory(2000, { seed: 11 });

  it('resolves 500+ emails with at most 1.1 calls per email', async () => {
    const { client, sandbox } = await harness({ seed: directory });
    const wanted = directory.slice(1, 501).map((u, i) => (i % 2 === 0 ? u.email.toUpperCase() : u.email));
    wanted.push(...Array.from({ length: 20 }, (_, i) => `left.already${i}@example.com`));
    const resolved = await client.resolveEmails(wanted);
    expect(resolved.size).toBe(520);
    expect(resolved.get(directory[1]?.email.toLowerCase() ?? '')?.id).toBe(directory[1]?.id);
    expect(resolved.get('left.already0@example.com')).toBeUndefined();
    expect(sandbox.counters.total / wanted.length).toBeLessThanOrEqual(1.1);
    expect(sandbox.counters.byRoute.list).toBe(20);
  });

  it('deletes 1,000 emails in a 2,000-user account with about 20 pages + 1,000 deletes', async () => {
    const { client, sandbox } = await harness({ seed: directory }, { maxConcurrency: 16 });
    const targets = directory.filter((_, i) => i % 2 === 1);
    const results = await client.bulkDelete({ emails: targets.map((u) => u.email) });
    expect(results.every((r) => r.status === 'deleted')).toBe(true);
    expect(sandbox.counters.byRoute.list).toBe(20);
    expect(sandbox.counters.byRoute.delete).toBe(1000);
    expect(sandbox.counters.total / targets.length).toBeLessThanOrEqual(1.1);
    expect(sandbox.store.users().filter((u) => u.deleted)).toHaveLength(1000);
  });

  it('plans 170 emails with the rate it has validated: one scan while the limit is unknown, lookups once a fast one is known', async () => {
    const targets = directory.filter((_, i) => i % 11 === 5).slice(0, 170).map((u) => u.email);
    // A fresh adaptive client has validated only its starting rate: lookups (2 calls per email) would bet on a
    // limit nobody has seen, and each 429 costs a whole-second Retry-After.
    const fresh = await harness({ seed: directory });
    await fresh.client.bulkDelete({ emails: targets });
    // Pages until fewer emails are left than pages read (the ski-rental rule), then those few are looked up.
    expect(fresh.sandbox.counters.byRoute.list).toBeLessThanOrEqual(40);
    expect(fresh.sandbox.counters.byRoute.delete).toBe(170);
    // A rate the caller vouches for (a fixed one here) plans with that rate: lookups are quicker at 1,000 req/s.
    const known = await harness({ seed: directory }, { rateControl: 'fixed', maxRequestsPerSecond: 1_000 });
    await known.client.bulkDelete({ emails: targets });
    expect(known.sandbox.counters.byRoute.list).toBe(170);
    expect(known.sandbox.counters.byRoute.delete).toBe(170);
  });

  it('resolves 3 emails in a 2,000-user directory with about 3 calls', async () => {
    const { client, sandbox } = await harness({ seed: directory });
    const resolved = await client.resolveEmails([directory[10]?.email ?? '', directory[1500]?.email ?? '', 'gone@example.com']);
    expect(resolved.get(directory[1500]?.email.toLowerCase() ?? '')?.id).toBe(directory[1500]?.id);
    expect(resolved.get('gone@example.com')).toBeUndefined();
    expect(sandbox.counters.total).toBe(3);
  });
});
