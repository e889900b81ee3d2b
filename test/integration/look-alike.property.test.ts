/**
 * Property, over real HTTP against the sandbox (whose list filter folds Unicode like the most permissive
 * server would, so `kate@` brings back `\u212Aate@` as a candidate): the client deletes and finds only accounts
 * whose stored email equals the requested one after ASCII-only case folding. Stored look-alikes survive every
 * request for their model, and a requested look-alike is refused before any call is made.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArizeUsersClient, ArizeValidationError } from '../../lambdas/arize/index.js';
import { sameEmail } from '../../lambdas/core/email.js';
import { startSandbox, type SeedUser } from '../../local/sandbox/server.js';
import { asciiCaseArb, lookAlikeArb } from '../support/look-alikes.js';

const LOCALS = ['kate', 'anna', 'fiona', 'stefan', 'tim', 'åsa', 'noel', 'ines'];
const DOMAINS = ['x.com', 'example.org', 'st.example', 'a.io', 'b.io', 'c.io', 'd.io', 'e.io'];
/** 64 clean addresses: enough for a batch to take the directory-scan path (≥ 50 emails), not only lookups. */
const BASES = LOCALS.flatMap((local) => DOMAINS.map((domain) => `${local}@${domain}`));
const OWNER = { email: 'owner@admin.example' } as SeedUser;

/** Stored accounts: some clean bases, and look-alikes of bases (with or without the real account beside them). */
const directoryArb = fc
  .tuple(fc.subarray(BASES), fc.array(fc.constantFrom(...BASES).chain((base) => lookAlikeArb(base)), { maxLength: 24 }))
  .map(([clean, lookAlikes]) => {
    const seen = new Set<string>();
    const users: SeedUser[] = [OWNER];
    for (const email of [...clean, ...lookAlikes.map((l) => l.email)]) {
      // The sandbox keys accounts by the same ASCII folding: two generated look-alikes may coincide.
      if (seen.has(email)) continue;
      seen.add(email);
      users.push({ email } as SeedUser);
    }
    return users;
  });

function client(url: string, apiKey: string): ArizeUsersClient {
  return new ArizeUsersClient({ baseUrl: url, apiKey, env: {}, maxRequestsPerSecond: 10_000, maxConcurrency: 8 });
}

describe('look-alike emails in the client (property, sandbox over HTTP)', () => {
  it('bulkDelete/findByEmail match only ASCII-case variants; stored look-alikes always survive', async () => {
    const requestsArb = fc.oneof(
      fc.array(fc.constantFrom(...BASES).chain(asciiCaseArb), { minLength: 1, maxLength: 8 }),
      fc.shuffledSubarray(BASES, { minLength: 52 }).chain((emails) => fc.tuple(...emails.map(asciiCaseArb))),
    );
    await fc.assert(
      fc.asyncProperty(directoryArb, requestsArb, async (seed, requested) => {
        const sandbox = await startSandbox({ seed });
        try {
          const arize = client(sandbox.url, sandbox.apiKey);
          const before = sandbox.store.users().filter((u) => !u.deleted);
          const probe = requested[0] ?? 'kate@x.com';
          const found = await arize.findByEmail(probe);
          const exact = before.filter((u) => sameEmail(u.email, probe));
          expect(found?.id).toBe(exact[0]?.id);

          const results = await arize.bulkDelete({ emails: [...requested] });
          const expected = new Set(before.filter((u) => requested.some((r) => sameEmail(u.email, r))).map((u) => u.id));
          const deleted = new Set(sandbox.store.users().filter((u) => u.deleted).map((u) => u.id));
          expect(deleted).toEqual(expected);
          for (const result of results) {
            if (result.status === 'deleted') expect(sameEmail(before.find((u) => u.id === result.user_id)?.email ?? '', result.email ?? '')).toBe(true);
          }
          // Every look-alike account is still there, whatever was asked.
          for (const user of sandbox.store.users()) if (!BASES.includes(user.email) && user.email !== OWNER.email) expect(user.deleted).toBe(false);
        } finally {
          await sandbox.close();
        }
      }),
      { numRuns: 30 },
    );
  }, 120_000);

  it('a requested look-alike is refused with its reason, naming the field, before any API call', async () => {
    const sandbox = await startSandbox({ seed: [OWNER, ...BASES.map((email) => ({ email }) as SeedUser)] });
    try {
      const arize = client(sandbox.url, sandbox.apiKey);
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.constantFrom(...BASES), { maxLength: 3 }),
          fc.constantFrom(...BASES).chain((base) => lookAlikeArb(base)),
          fc.nat(3),
          async (clean, lookAlike, at) => {
            const emails = [...clean];
            const index = Math.min(at, emails.length);
            emails.splice(index, 0, lookAlike.email);
            const calls = sandbox.counters.total;
            const refused = await arize.bulkDelete({ emails }).then(() => undefined, (error: unknown) => error);
            expect(refused).toBeInstanceOf(ArizeValidationError);
            expect((refused as ArizeValidationError).message).toMatch(/U\+[0-9A-F]{4}|NFKC/);
            expect((refused as ArizeValidationError).message).toContain(`emails[${index}]`);
            await expect(arize.findByEmail(lookAlike.email)).rejects.toBeInstanceOf(ArizeValidationError);
            expect(sandbox.counters.total).toBe(calls);
          },
        ),
        { numRuns: 100 },
      );
      expect(sandbox.store.users().every((u) => !u.deleted)).toBe(true);
    } finally {
      await sandbox.close();
    }
  }, 60_000);
});
