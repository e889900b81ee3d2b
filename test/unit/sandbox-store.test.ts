/**
 * The sandbox directory's list must equal the plain definition (case-insensitive substring,
 * status set, not deleted, oldest first, paged by cursor), whatever indexes it uses.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { USER_STATUSES, type UserStatus } from '../../lambdas/arize/wire.js';
import { parseSeed } from '../../local/sandbox/seed.js';
import { UserDirectory } from '../../local/sandbox/store.js';

const localParts = fc.constantFrom('ann', 'joann', 'leann', 'ANN', 'Ann.Lee', 'ann+x', 'jo', 'a', 'nn', 'lee', 'an');
const domains = fc.constantFrom('example.com', 'example.com.au', 'Example.COM', 'ex.org');
const emails = fc.uniqueArray(fc.tuple(localParts, domains).map(([local, domain]) => `${local}@${domain}`), {
  selector: (email) => email.toLowerCase(),
  minLength: 0,
  maxLength: 25,
});
const filters = fc.oneof(
  fc.tuple(fc.constantFrom('', 'n', 'ann', 'jo', 'ANN', '+x', 'lee'), fc.constantFrom('@', '@ex', '@example.com', '@@', ''), fc.constantFrom('', 'com', '.au', 'x')).map(
    ([a, b, c]) => `${a}${b}${c}`,
  ),
  fc.string({ maxLength: 6 }),
);

describe('UserDirectory.list', () => {
  it('matches the brute-force definition for any directory, filter, statuses, deletions and page size', () => {
    fc.assert(
      fc.property(
        emails,
        fc.array(fc.constantFrom(...USER_STATUSES), { minLength: 25, maxLength: 25 }),
        fc.array(fc.boolean(), { minLength: 25, maxLength: 25 }),
        filters,
        fc.subarray([...USER_STATUSES], { minLength: 1 }),
        fc.integer({ min: 1, max: 7 }),
        (emailList, statuses, deletedFlags, filter, wanted, limit) => {
          const seed = parseSeed(
            emailList.map((email, index) => ({ email, status: statuses[index], deleted: deletedFlags[index] })),
          );
          const directory = new UserDirectory(seed);
          const wantedSet = new Set<UserStatus>(wanted);
          const expected = seed
            .filter((user) => !user.deleted && wantedSet.has(user.status))
            .filter((user) => user.email.toLowerCase().includes(filter.toLowerCase()))
            .map((user) => user.id);

          const seen: string[] = [];
          let after: number | undefined;
          for (let guard = 0; guard < 100; guard += 1) {
            const page = directory.list({ statuses: wantedSet, emailSubstring: filter.toLowerCase(), limit, after });
            expect(page.users.length).toBeLessThanOrEqual(limit);
            seen.push(...page.users.map((user) => user.id));
            if (!page.hasMore) break;
            expect(page.users).toHaveLength(limit);
            const cursor = directory.encodeCursor(page.lastPosition!);
            after = directory.decodeCursor(cursor);
            expect(after).toBe(page.lastPosition);
          }
          expect(seen).toEqual(expected);
        },
      ),
      { numRuns: 400, seed: 77 },
    );
  });
});
