/** Seed validation and the built-in / generated directories of the Arize sandbox. */
import { describe, expect, it } from 'vitest';
import { UserSchema } from '../../lambdas/arize/wire.js';
import { demoDirectory, generateDirectory, parseSeed, SeedError } from '../../local/sandbox/seed.js';

const valid = { id: 'VXNlcjox', name: 'Ada', email: 'ada@example.com', created_at: '2024-01-01T00:00:00Z', status: 'ACTIVE', role: { type: 'PREDEFINED', name: 'ADMIN' }, is_developer: true };

function seedError(json: unknown): string {
  try {
    parseSeed(json);
  } catch (error) {
    expect(error).toBeInstanceOf(SeedError);
    return (error as Error).message;
  }
  throw new Error('expected parseSeed to throw');
}

describe('parseSeed', () => {
  it('accepts wire-shaped users unchanged', () => {
    expect(parseSeed([valid])).toEqual([valid]);
  });

  it('fills defaults so that only the email is required, and accepts enums in any case', () => {
    const [owner, annotator, custom] = parseSeed([
      { email: 'jo.ann+x@example.com' },
      { email: 'b@example.com', status: 'invited', role: { type: 'PREDEFINED', name: 'annotator' }, sso: true },
      { email: 'c@example.com', role: { type: 'CUSTOM', id: 'r1' } },
    ]);
    expect(owner).toMatchObject({ name: 'Jo Ann', status: 'ACTIVE', role: { type: 'PREDEFINED', name: 'MEMBER' }, is_developer: true });
    expect(owner!.id).toMatch(/^[A-Za-z0-9+/]+={1,2}$/);
    expect(Date.parse(owner!.created_at)).toBeLessThan(Date.parse(annotator!.created_at));
    expect(annotator).toMatchObject({ status: 'INVITED', role: { name: 'ANNOTATOR' }, is_developer: false, sso: true });
    expect(custom).toMatchObject({ role: { type: 'CUSTOM', id: 'r1' }, is_developer: false });
  });

  it('names the entry index and field of the first problem', () => {
    const entries = (bad: Record<string, unknown>, index = 3) => {
      const list: unknown[] = Array.from({ length: index }, (_, i) => ({ email: `u${i}@example.com` }));
      list.push({ ...valid, id: 'bad-one', email: 'bad.one@example.com', ...bad });
      return list;
    };
    expect(seedError(entries({ status: 'deleted' }))).toBe('seed[3].status: expected one of ACTIVE|INVITED|EXPIRED');
    expect(seedError(entries({ status: 7 }))).toBe('seed[3].status: expected one of ACTIVE|INVITED|EXPIRED');
    expect(seedError(entries({ email: 'nope' }, 0))).toBe('seed[0].email: not a valid email address');
    expect(seedError(entries({ email: undefined }, 1))).toMatch(/^seed\[1\]\.email: required/);
    expect(seedError(entries({ created_at: 'yesterday' }))).toMatch(/^seed\[3\]\.created_at: expected an ISO-8601/);
    expect(seedError(entries({ role: { type: 'PREDEFINED', name: 'owner' } }))).toBe(
      'seed[3].role.name: expected one of ADMIN|MEMBER|ANNOTATOR',
    );
    expect(seedError(entries({ role: { type: 'GROUP' } }))).toMatch(/^seed\[3\]\.role\.type: /);
    expect(seedError(entries({ is_developer: 'yes' }))).toBe('seed[3].is_developer: expected true or false');
    expect(seedError(entries({ password: 'x' }))).toBe('seed[3]: unknown field "password"');
    expect(seedError(entries({ id: '' }))).toBe('seed[3].id: expected a non-empty string');
  });

  it('refuses duplicate ids and case-insensitively duplicate emails', () => {
    expect(seedError([valid, { ...valid, email: 'other@example.com' }])).toBe('seed[1].id: duplicate of seed[0].id "VXNlcjox"');
    expect(seedError([valid, { email: 'x@example.com' }, { ...valid, id: 'other', email: 'ADA@Example.com' }])).toBe(
      'seed[2].email: duplicate of seed[0].email (emails are case-insensitive)',
    );
  });

  it('refuses anything but an array of objects', () => {
    expect(seedError({ users: [] })).toBe('seed: expected a JSON array of users');
    expect(seedError([valid, 'x@example.com'])).toBe('seed[1]: expected a user object');
    expect(seedError([null])).toBe('seed[0]: expected a user object');
  });
});

describe('demoDirectory', () => {
  const demo = demoDirectory();

  it('is deterministic, valid, and about 30 users with an ACTIVE admin first', () => {
    expect(demoDirectory()).toEqual(demo);
    expect(parseSeed(demo)).toEqual(demo);
    expect(demo.length).toBeGreaterThanOrEqual(25);
    expect(demo[0]).toMatchObject({ status: 'ACTIVE', role: { type: 'PREDEFINED', name: 'ADMIN' } });
    for (const { sso: _sso, deleted: _deleted, ...user } of demo) UserSchema.parse(user);
    expect(new Set(demo.map((user) => user.status))).toEqual(new Set(['ACTIVE', 'INVITED', 'EXPIRED']));
  });

  it('contains the near-duplicates that make substring matching dangerous', () => {
    const emails = demo.map((user) => user.email);
    expect(emails).toEqual(expect.arrayContaining(['ann@example.com', 'joann@example.com', 'ann@example.com.au']));
    expect(emails.some((email) => email.includes('+'))).toBe(true);
    expect(emails.some((email) => email !== email.toLowerCase())).toBe(true);
    expect(demo.some((user) => user.sso === true)).toBe(true);
  });
});

describe('generateDirectory', () => {
  it('is deterministic per seed and varies across seeds', () => {
    expect(generateDirectory(200, { seed: 3 })).toEqual(generateDirectory(200, { seed: 3 }));
    expect(generateDirectory(200, { seed: 3 })).not.toEqual(generateDirectory(200, { seed: 4 }));
  });

  it('produces a valid directory of the requested size at the requested domain, key owner first', () => {
    const users = generateDirectory(2_000, { domain: 'corp.example.org', seed: 1 });
    expect(users).toHaveLength(2_000);
    expect(parseSeed(users)).toEqual(users);
    expect(users.every((user) => user.email.endsWith('@corp.example.org'))).toBe(true);
    expect(users[0]).toMatchObject({ status: 'ACTIVE', role: { name: 'ADMIN' } });
    const statuses = users.map((user) => user.status);
    expect(statuses.filter((s) => s === 'ACTIVE').length).toBeGreaterThan(1_400);
    expect(statuses).toContain('INVITED');
    expect(statuses).toContain('EXPIRED');
    const times = users.map((user) => Date.parse(user.created_at));
    expect(times.every((time, index) => index === 0 || time > times[index - 1]!)).toBe(true);
    expect(generateDirectory(0)).toEqual([]);
    expect(() => generateDirectory(-1)).toThrow(RangeError);
  });
});
