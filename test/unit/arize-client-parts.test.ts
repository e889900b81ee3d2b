import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  ArizeApiError,
  ArizeConfigError,
  ArizeUsersClient,
  LOOKUP_ONLY_BELOW,
  TokenBucket,
  fullJitterBackoffMs,
  parseRetryAfterMs,
  parseRole,
  resolveConfig,
  retryDelayMs,
  type ListUsersResponse,
  type User,
} from '../../lambdas/arize/index.js';
import { TIME_AWARE_BELOW, initialStrategy, resolveEmailMatches, shouldKeepScanning } from '../../lambdas/arize/resolve.js';
import { maskEmailsIn } from '../../lambdas/arize/errors.js';
import { normalizeEmail } from '../../lambdas/core/email.js';

describe('full-jitter backoff', () => {
  it('draws uniformly below base·2^attempt', () => {
    expect(fullJitterBackoffMs(0, () => 0)).toBe(0);
    expect(fullJitterBackoffMs(0, () => 0.5)).toBe(100);
    expect(fullJitterBackoffMs(3, () => 0.5)).toBe(800);
    expect(fullJitterBackoffMs(3, () => 0.999)).toBeLessThan(1600);
  });

  it('is capped however many attempts were made', () => {
    expect(fullJitterBackoffMs(40, () => 0.999_999)).toBeLessThan(20_000);
    expect(fullJitterBackoffMs(40, () => 0.5)).toBe(10_000);
  });

  it('treats a broken random source as 0 rather than waiting forever or negatively', () => {
    expect(fullJitterBackoffMs(2, () => Number.NaN)).toBe(0);
    expect(fullJitterBackoffMs(2, () => -1)).toBe(0);
    expect(fullJitterBackoffMs(2, () => 7)).toBeLessThan(800);
  });

  it('waits at least the Retry-After, with jitter on top', () => {
    expect(retryDelayMs(0, () => 0, 2000)).toBe(2000);
    expect(retryDelayMs(1, () => 0.5, 2000)).toBe(2200);
    expect(retryDelayMs(1, () => 0.5)).toBe(200);
  });
});

describe('Retry-After parsing', () => {
  const now = Date.parse('2025-03-01T10:00:00Z');

  it('reads delay-seconds', () => {
    expect(parseRetryAfterMs('2', now)).toBe(2000);
    expect(parseRetryAfterMs(' 0 ', now)).toBe(0);
  });

  it('reads an HTTP date relative to now, never negative', () => {
    expect(parseRetryAfterMs('Sat, 01 Mar 2025 10:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfterMs('Sat, 01 Mar 2025 09:59:00 GMT', now)).toBe(0);
  });

  it.each([null, undefined, '', 'soon', '1.5', '-3', '2s'])('ignores %j', (header) => {
    expect(parseRetryAfterMs(header, now)).toBeUndefined();
  });
});

describe('token bucket (burst = rate, continuous refill)', () => {
  function fakeClock() {
    const clock = { now: 0, waits: [] as number[] };
    const sleep = (ms: number) => {
      clock.waits.push(ms);
      clock.now += ms;
      return Promise.resolve();
    };
    return { clock, bucket: (rate: number) => new TokenBucket(rate, () => clock.now, sleep) };
  }

  it('lets a full second of burst through, then paces at the rate', async () => {
    const { clock, bucket } = fakeClock();
    const limiter = bucket(5);
    for (let i = 0; i < 5; i++) await limiter.take();
    expect(clock.waits).toEqual([]);
    await limiter.take();
    expect(clock.waits).toEqual([200]);
    await limiter.take();
    expect(clock.waits).toEqual([200, 200]);
  });

  it('refills continuously, not by whole windows', async () => {
    const { clock, bucket } = fakeClock();
    const limiter = bucket(10);
    for (let i = 0; i < 10; i++) await limiter.take();
    clock.now += 250; // 2.5 tokens' worth
    await limiter.take();
    await limiter.take();
    expect(clock.waits).toEqual([]);
    expect(limiter.peekWaitMs()).toBeCloseTo(50, 5);
  });

  it('never lets more than rate + rate·t requests start within t seconds', async () => {
    const { clock, bucket } = fakeClock();
    const limiter = bucket(20);
    const starts: number[] = [];
    for (let i = 0; i < 100; i++) {
      await limiter.take();
      starts.push(clock.now);
    }
    for (let i = 0; i < starts.length; i++) {
      for (let j = i; j < starts.length; j++) {
        const windowSeconds = ((starts[j] ?? 0) - (starts[i] ?? 0)) / 1000;
        expect(j - i + 1).toBeLessThanOrEqual(20 + 20 * windowSeconds + 1e-9);
      }
    }
  });

  it('does not save up more than one burst while idle', async () => {
    const { clock, bucket } = fakeClock();
    const limiter = bucket(4);
    clock.now += 60_000;
    for (let i = 0; i < 4; i++) await limiter.take();
    await limiter.take();
    expect(clock.waits).toEqual([250]);
  });
});

function user(email: string, index: number): User {
  return {
    id: `id-${index}`,
    name: `User ${index}`,
    email,
    created_at: new Date(Date.UTC(2024, 0, 1) + index * 1000).toISOString(),
    status: 'ACTIVE',
    role: { type: 'PREDEFINED', name: 'MEMBER' },
    is_developer: true,
  };
}

/** An in-memory directory behind the resolver's two primitives, counting calls. */
function directoryDeps(users: User[], opts: { failScanAtPage?: number } = {}) {
  const calls = { pages: 0, lookups: 0 };
  return {
    calls,
    deps: {
      scanPage(cursor: string | undefined): Promise<ListUsersResponse> {
        calls.pages++;
        if (opts.failScanAtPage === calls.pages) return Promise.reject(new Error('page failed'));
        const start = cursor === undefined ? 0 : Number(cursor);
        const slice = users.slice(start, start + 100);
        const hasMore = start + 100 < users.length;
        return Promise.resolve({
          users: slice,
          pagination: hasMore ? { has_more: true, next_cursor: String(start + 100) } : { has_more: false },
        });
      },
      lookup(email: string): Promise<User[]> {
        calls.lookups++;
        return Promise.resolve(users.filter((u) => normalizeEmail(u.email) === email));
      },
    },
  };
}

describe('email resolution strategy', () => {
  const directory = Array.from({ length: 2000 }, (_, i) => user(`Person.${i}@Example.com`, i));

  it('picks lookups for small batches and scanning for big ones', () => {
    expect(initialStrategy(1)).toBe('lookup');
    expect(initialStrategy(LOOKUP_ONLY_BELOW - 1)).toBe('lookup');
    expect(initialStrategy(LOOKUP_ONLY_BELOW)).toBe('scan');
    expect(shouldKeepScanning(3, 10)).toBe(true);
    expect(shouldKeepScanning(10, 10)).toBe(false);
    expect(shouldKeepScanning(1, 0)).toBe(false);
  });

  it('looks mid-size batches up when that is quicker at the caller\'s pace, never big ones', () => {
    const fast = { concurrency: 32, requestsPerSecond: 200 };
    expect(initialStrategy(60, fast)).toBe('lookup');
    // 170 lookups plus 170 deletes are rate-bound at 200 req/s; 20 pages then 170 concurrent deletes are not.
    expect(initialStrategy(170, fast)).toBe('scan');
    expect(initialStrategy(170, { concurrency: 64, requestsPerSecond: 1_000 })).toBe('lookup');
    expect(initialStrategy(60, { concurrency: 8, requestsPerSecond: 10 })).toBe('scan');
    expect(initialStrategy(170, { concurrency: 2, requestsPerSecond: 10_000 })).toBe('scan');
    expect(initialStrategy(TIME_AWARE_BELOW - 1, { concurrency: 1_000, requestsPerSecond: 100_000 })).toBe('lookup');
    expect(initialStrategy(TIME_AWARE_BELOW, { concurrency: 1_000, requestsPerSecond: 100_000 })).toBe('scan');
  });

  it('reports lookups as soon as they match, but nothing from a scan until its last page (opaque cursors)', async () => {
    const reported: string[] = [];
    const onFound = (email: string) => reported.push(email);
    const scanned = await resolveEmailMatches(['person.5@example.com', 'person.150@example.com', ...Array.from({ length: 60 }, (_, i) => `gone${i}@example.com`)], directoryDeps(directory).deps, { onFound });
    expect(reported).toEqual([]);
    expect(scanned.get('person.150@example.com')).toEqual({ status: 'found', users: [directory[150]] });
    reported.length = 0;
    await resolveEmailMatches(['person.9@example.com', 'gone@example.com'], directoryDeps(directory).deps, { onFound });
    expect(reported).toEqual(['person.9@example.com']);
  });

  it('resolves 3 emails in a 2,000-user directory with 3 lookups', async () => {
    const { calls, deps } = directoryDeps(directory);
    const result = await resolveEmailMatches(['person.7@example.com', 'person.1999@example.com', 'gone@example.com'], deps);
    expect(calls).toEqual({ pages: 0, lookups: 3 });
    expect(result.get('person.7@example.com')).toEqual({ status: 'found', users: [directory[7]] });
    expect(result.get('gone@example.com')).toEqual({ status: 'not_found' });
  });

  it('resolves 1,000 emails in a 2,000-user directory with one 20-page scan', async () => {
    const { calls, deps } = directoryDeps(directory);
    const wanted = Array.from({ length: 1000 }, (_, i) => `person.${i * 2}@example.com`);
    const result = await resolveEmailMatches(wanted, deps);
    expect(calls).toEqual({ pages: 20, lookups: 0 });
    expect([...result.values()].every((r) => r.status === 'found')).toBe(true);
  });

  it('stops scanning a huge directory once lookups are cheaper, within 2× the better strategy', async () => {
    const huge = Array.from({ length: 30_000 }, (_, i) => user(`p${i}@example.com`, i));
    const { calls, deps } = directoryDeps(huge);
    const wanted = Array.from({ length: 60 }, (_, i) => `absent${i}@example.com`);
    const result = await resolveEmailMatches(wanted, deps);
    expect(calls.pages).toBe(60);
    expect(calls.lookups).toBe(60);
    expect([...result.values()].every((r) => r.status === 'not_found')).toBe(true);
  });

  it('keeps the matches found before a scan failure and fails only the unseen emails', async () => {
    const { deps } = directoryDeps(directory, { failScanAtPage: 2 });
    const wanted = Array.from({ length: 60 }, (_, i) => `person.${i * 30}@example.com`);
    const result = await resolveEmailMatches(wanted, deps);
    expect(result.get('person.0@example.com')?.status).toBe('found');
    expect(result.get('person.90@example.com')?.status).toBe('found');
    expect(result.get('person.120@example.com')?.status).toBe('failed');
    expect(result.size).toBe(60);
  });

  it('never treats a substring hit as a match', async () => {
    const near = [user('joann@x.com', 1), user('ann@x.com.au', 2), user('ANN+ops@x.com', 3), user('Ann@X.com', 4)];
    const { deps } = directoryDeps(near);
    const emails = Array.from({ length: 60 }, (_, i) => `filler${i}@x.com`).concat(['ann@x.com', 'nn@x.com']);
    const scanned = await resolveEmailMatches(emails, deps);
    expect(scanned.get('ann@x.com')).toEqual({ status: 'found', users: [near[3]] });
    expect(scanned.get('nn@x.com')).toEqual({ status: 'not_found' });
  });
});

describe('configuration', () => {
  // Issue 12 changed the defaults: adaptive rate control, with the limits as ceilings.
  it('defaults to https://api.arize.com, adaptive rate control and the documented ceilings', () => {
    const config = resolveConfig({}, {});
    expect(config).toMatchObject({ baseUrl: 'https://api.arize.com', rateControl: 'adaptive', maxConcurrency: 32, maxRequestsPerSecond: 5000, maxRetries: 5 });
  });

  it('fixed rate control keeps the old fixed default rate; a bad mode names ARIZE_RATE_CONTROL', () => {
    expect(resolveConfig({}, { ARIZE_RATE_CONTROL: 'Fixed' })).toMatchObject({ rateControl: 'fixed', maxRequestsPerSecond: 10 });
    expect(resolveConfig({ rateControl: 'fixed', maxRequestsPerSecond: 40 }, {})).toMatchObject({ maxRequestsPerSecond: 40 });
    expect(() => resolveConfig({}, { ARIZE_RATE_CONTROL: 'turbo' })).toThrow(/ARIZE_RATE_CONTROL must be adaptive or fixed/);
  });

  it('reads host, scheme, port and limits from ARIZE_* variables', () => {
    const config = resolveConfig(
      {},
      {
        ARIZE_API_HOST: 'arize.internal',
        ARIZE_API_SCHEME: 'HTTP',
        ARIZE_API_PORT: '8080',
        ARIZE_MAX_CONCURRENCY: '3',
        ARIZE_MAX_REQUESTS_PER_SECOND: '2.5',
      },
    );
    expect(config).toMatchObject({ baseUrl: 'http://arize.internal:8080', maxConcurrency: 3, maxRequestsPerSecond: 2.5 });
  });

  it('prefers explicit options over the environment', () => {
    const config = resolveConfig({ baseUrl: 'http://127.0.0.1:9999/prefix/', maxConcurrency: 2 }, { ARIZE_MAX_CONCURRENCY: '30' });
    expect(config).toMatchObject({ baseUrl: 'http://127.0.0.1:9999/prefix', maxConcurrency: 2 });
  });

  it.each([
    [{ ARIZE_API_PORT: '70000' }, {}, 'ARIZE_API_PORT'],
    [{ ARIZE_API_SCHEME: 'ftp' }, {}, 'ARIZE_API_SCHEME'],
    [{ ARIZE_API_HOST: 'https://api.arize.com' }, {}, 'ARIZE_API_HOST'],
    [{ ARIZE_MAX_CONCURRENCY: 'lots' }, {}, 'ARIZE_MAX_CONCURRENCY'],
    [{ ARIZE_MAX_REQUESTS_PER_SECOND: '0' }, {}, 'ARIZE_MAX_REQUESTS_PER_SECOND'],
    [{}, { maxConcurrency: 0 }, 'maxConcurrency'],
    [{}, { baseUrl: 'not a url' }, 'baseUrl'],
  ])('names the faulty setting (%j %j)', (env, options, variable) => {
    const attempt = () => resolveConfig(options, env);
    expect(attempt).toThrow(ArizeConfigError);
    expect(attempt).toThrow(variable);
  });

  it('refuses to build a client without an API key, naming ARIZE_API_KEY', () => {
    expect(() => new ArizeUsersClient({ env: {} })).toThrow(/ARIZE_API_KEY/);
    expect(() => new ArizeUsersClient({ env: { ARIZE_API_KEY: '  ' } })).toThrow(ArizeConfigError);
  });

  it('never shows the API key when the client is printed, serialised or inspected', () => {
    const secret = 'ak-very-secret-123';
    const client = new ArizeUsersClient({ env: { ARIZE_API_KEY: secret } });
    expect(String(client)).not.toContain(secret);
    expect(JSON.stringify(client)).not.toContain(secret);
    expect(inspect(client, { depth: 10, showHidden: true })).not.toContain(secret);
    expect(JSON.stringify(client)).toContain('https://api.arize.com');
  });
});

describe('role input', () => {
  it('accepts predefined names in any case and custom roles by id', () => {
    expect(parseRole('member')).toEqual({ type: 'PREDEFINED', name: 'MEMBER' });
    expect(parseRole({ type: 'PREDEFINED', name: 'annotator' })).toEqual({ type: 'PREDEFINED', name: 'ANNOTATOR' });
    expect(parseRole({ id: 'role-1' })).toEqual({ type: 'CUSTOM', id: 'role-1' });
    expect(parseRole({ type: 'custom', id: 'role-2', name: 'Reviewer' })).toEqual({ type: 'CUSTOM', id: 'role-2', name: 'Reviewer' });
  });

  it.each(['owner', '', { type: 'CUSTOM' }, { type: 'ROBOT', id: 'x' }, 42])('rejects %j naming the field', (role) => {
    expect(() => parseRole(role)).toThrow(/role/);
  });
});

describe('error messages', () => {
  it('mask addresses quoted in problem details', () => {
    expect(maskEmailsIn('user Jane.Doe@Example.com is already active')).toBe('user j***e@example.com is already active');
    const error = new ArizeApiError({
      status: 409,
      method: 'POST',
      route: '/v2/users',
      problem: { title: 'Conflict', status: 409, detail: 'jane.doe@example.com is already active' },
    });
    expect(error.message).not.toContain('jane.doe@');
    expect(error.retryable).toBe(false);
  });
});
