/**
 * Property: whatever the directory and however the emails are written, bulkDelete deletes exactly
 * the users whose address equals an input case-insensitively (plus the ids given) and nothing
 * else: not `joann@` for `ann@`, not `ann+ops@`, not `ann@x.com.au`, not a soft-deleted account.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArizeUsersClient, LOOKUP_ONLY_BELOW } from '../../lambdas/arize/index.js';
import { normalizeEmail } from '../../lambdas/core/email.js';
import { startSandbox, type SeedUser } from '../../local/sandbox/server.js';

const LOCALS = ['ann', 'joann', 'leann', 'an', 'ann+ops', 'ann.lee', 'jo'];
const SUFFIXES = ['', '1', '12'];
const DOMAINS = ['x.com', 'x.co', 'x.com.au', 'y.org'];
/** 84 addresses, most of them substrings of one another. */
const UNIVERSE = LOCALS.flatMap((local) => SUFFIXES.flatMap((suffix) => DOMAINS.map((domain) => `${local}${suffix}@${domain}`)));
const OWNER_EMAIL = 'owner@admin.example';

function caseVariant(email: string, variant: number): string {
  switch (variant % 4) {
    case 0:
      return email;
    case 1:
      return email.toUpperCase();
    case 2:
      return email.charAt(0).toUpperCase() + email.slice(1);
    default:
      return [...email].map((c, i) => (i % 2 === 0 ? c.toUpperCase() : c)).join('');
  }
}

const statusArb = fc.constantFrom<'ACTIVE' | 'INVITED' | 'EXPIRED'>('ACTIVE', 'INVITED', 'EXPIRED');

const directoryArb = fc
  .tuple(
    fc.subarray(UNIVERSE, { minLength: 1 }),
    fc.array(fc.tuple(fc.nat(3), statusArb, fc.boolean()), { minLength: UNIVERSE.length, maxLength: UNIVERSE.length }),
    fc.nat(180),
  )
  .map(([emails, traits, fillers]) => {
    const users: SeedUser[] = [{ email: OWNER_EMAIL } as SeedUser];
    emails.forEach((email, index) => {
      const [variant, status, deleted] = traits[index] ?? [0, 'ACTIVE', false];
      users.push({ email: caseVariant(email, variant), status, ...(deleted && index % 3 === 0 ? { deleted: true } : {}) } as SeedUser);
    });
    for (let i = 0; i < fillers; i++) users.push({ email: `filler${i}@z.net` } as SeedUser);
    return users;
  });

/**
 * Small batches take the per-email lookup path; big ones scan at concurrency 2 and, being
 * mid-size, look up at concurrency 16 (quicker there), so both paths delete while resolving.
 */
const inputsArb = fc.oneof(
  fc.array(fc.tuple(fc.constantFrom(...UNIVERSE), fc.nat(3)), { minLength: 1, maxLength: 12 }),
  fc
    .shuffledSubarray(UNIVERSE, { minLength: LOOKUP_ONLY_BELOW + 2 })
    .chain((emails) => fc.tuple(fc.constant(emails), fc.array(fc.nat(3), { minLength: emails.length, maxLength: emails.length })))
    .map(([emails, variants]) => emails.flatMap((email, i) => [[email, variants[i] ?? 0] as [string, number]])),
);

describe('bulkDelete by email (property)', () => {
  it('deletes exactly the case-insensitive exact matches and the given ids, nothing else', async () => {
    await fc.assert(
      fc.asyncProperty(directoryArb, inputsArb, fc.nat(), fc.constantFrom(2, 16), async (seed, picks, idPicker, maxConcurrency) => {
        const sandbox = await startSandbox({ seed });
        try {
          const client = new ArizeUsersClient({ baseUrl: sandbox.url, apiKey: sandbox.apiKey, env: {}, maxRequestsPerSecond: 10_000, maxConcurrency });
          const before = sandbox.store.users();
          const emails = picks.map(([email, variant]) => caseVariant(email, variant));
          // Repeat one input in another case to check de-duplication.
          if (emails[0]) emails.push(caseVariant(emails[0].toLowerCase(), 1));
          const idCandidates = before.filter((u) => !u.deleted && normalizeEmail(u.email) !== OWNER_EMAIL);
          const byId = idCandidates.length > 0 && idPicker % 2 === 0 ? [idCandidates[idPicker % idCandidates.length]?.id ?? ''] : [];

          const results = await client.bulkDelete({ emails, ...(byId.length > 0 ? { userIds: byId } : {}) });

          const wanted = new Set(emails.map(normalizeEmail));
          const expectedDeleted = new Set(
            before.filter((u) => !u.deleted && (wanted.has(normalizeEmail(u.email)) || byId.includes(u.id))).map((u) => u.id),
          );
          const after = sandbox.store.users();
          const newlyDeleted = new Set(after.filter((u) => u.deleted && !before.find((b) => b.id === u.id)?.deleted).map((u) => u.id));
          expect(newlyDeleted).toEqual(expectedDeleted);
          expect(sandbox.counters.byRoute.delete ?? 0).toBe(expectedDeleted.size);

          expect(results).toHaveLength(wanted.size + byId.length);
          for (const result of results.slice(byId.length)) {
            const key = normalizeEmail(result.email ?? '');
            const match = before.find((u) => !u.deleted && normalizeEmail(u.email) === key);
            expect(result.status).toBe(match ? 'deleted' : 'not_found');
            expect(result.user_id).toBe(match ? match.id : '');
          }
        } finally {
          await sandbox.close();
        }
      }),
      { numRuns: 25 },
    );
  });
});
