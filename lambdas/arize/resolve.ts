/**
 * Resolving many emails to users with as few API calls as possible.
 *
 * Two strategies:
 * - lookups: one `list?email=<address>` per email (~1 call each, run concurrently). Optimal when
 *   the directory is large compared with the batch.
 * - scan: read the whole directory once in pages of 100 and match locally (D/100 calls for a
 *   D-user directory, whatever the batch size). Optimal for big batches.
 *
 * The directory size is unknown up front (the API has no count), so this is a ski-rental
 * problem. Small batches (< LOOKUP_ONLY_BELOW) go straight to lookups: at most a few dozen calls,
 * and single-person HR events, the common case, cost exactly one. Bigger batches start scanning
 * and keep going while the pages read are fewer than the emails still unresolved; the moment
 * they are not, the remaining emails are looked up one by one. Whatever the directory size this
 * costs at most about twice the better strategy, and when the directory has fewer than
 * ~10 users per email (1,000 emails in 2,000 users: 20 pages) the scan completes and a batch
 * costs far less than 0.1 calls per email to resolve.
 *
 * Time matters too, for mid-size batches (LOOKUP_ONLY_BELOW ≤ n < TIME_AWARE_BELOW) when the
 * caller gives its pace. The scan is one request after another (a round trip each), lookups run
 * side by side; either way the n deletes that follow share the same rate. With an assumed round
 * trip (ASSUMED_ROUND_TRIP_MS), a typical directory of P = ASSUMED_SCAN_PAGES pages, concurrency
 * C and rate R, resolving and deleting take about:
 *   lookups ≈ max(2 · ⌈n / C⌉ · RTT, 2n / R)            (each email's delete follows its lookup)
 *   scan    ≈ P · max(RTT, 1 / R) + ⌈n / C⌉ · RTT        (deletes wait for the scan to finish)
 * and lookups go first only when quicker. They cost at most one call per email, so this trades
 * the scan's call savings for time only where the batch is too small for those savings to
 * matter; at TIME_AWARE_BELOW and above, calls decide (≤ 1.1 calls per email).
 * E.g. 60 emails at C=32, R=200: lookups ≈ 600 ms, scan ≈ 1,100 ms ⇒ lookups; 170 emails:
 * lookups ≈ 1,700 ms (rate-bound), scan ≈ 1,300 ms ⇒ scan.
 *
 * Callers may act on an email as soon as a lookup resolves it (onFound), before the batch
 * finishes: a lookup reports every match of its email at once. The scan never reports early:
 * cursors are opaque, and if Arize's were positions, deleting a user mid-scan could shift the
 * pages still to read and hide another wanted user, whose email would then read "not found" —
 * a silently lost offboarding. So deletes start only once the scan has read its last page.
 *
 * Matching is exact and case-insensitive (normalizeEmail) in both strategies: the API's email
 * filter is a substring filter and its hits are only candidates.
 */
import { ArizeError, ArizeResponseError } from './errors.js';
import { normalizeEmail } from '../core/email.js';
import type { ListUsersResponse, User } from './wire.js';

/** Batches with fewer distinct emails than this are resolved by per-email lookups only. */
export const LOOKUP_ONLY_BELOW = 50;
export const SCAN_PAGE_SIZE = 100;

export type EmailResolution =
  | { status: 'found'; users: User[] }
  | { status: 'not_found' }
  | { status: 'failed'; error: ArizeError };

export interface ResolverDeps {
  /** One page of the unfiltered directory (default statuses), SCAN_PAGE_SIZE users. */
  scanPage(cursor: string | undefined): Promise<ListUsersResponse>;
  /** All exact (case-insensitive) matches for one normalized email, via the filtered list. */
  lookup(normalizedEmail: string): Promise<User[]>;
}

export type ResolveStrategy = 'lookup' | 'scan';

/** Batches this big or bigger choose by calls only. */
export const TIME_AWARE_BELOW = 500;
export const ASSUMED_ROUND_TRIP_MS = 50;
export const ASSUMED_SCAN_PAGES = 20;

/** How fast the caller can issue requests; without it the strategy is chosen by calls alone. */
export interface RequestPace {
  concurrency: number;
  requestsPerSecond: number;
}

/** Estimated time to look up `emails` addresses and delete their users (see the module comment). */
export function estimatedLookupMs(emails: number, pace: RequestPace): number {
  return Math.max(2 * Math.ceil(emails / pace.concurrency) * ASSUMED_ROUND_TRIP_MS, ((2 * emails) / pace.requestsPerSecond) * 1000);
}

/** Estimated time to scan a typical directory, then delete `emails` users. */
export function estimatedScanMs(emails: number, pace: RequestPace): number {
  const requestGapMs = 1000 / pace.requestsPerSecond;
  return ASSUMED_SCAN_PAGES * Math.max(ASSUMED_ROUND_TRIP_MS, requestGapMs) + Math.ceil(emails / pace.concurrency) * ASSUMED_ROUND_TRIP_MS;
}

export function initialStrategy(distinctEmails: number, pace?: RequestPace): ResolveStrategy {
  if (distinctEmails < LOOKUP_ONLY_BELOW) return 'lookup';
  if (pace !== undefined && distinctEmails < TIME_AWARE_BELOW && estimatedLookupMs(distinctEmails, pace) < estimatedScanMs(distinctEmails, pace)) {
    return 'lookup';
  }
  return 'scan';
}

export interface ResolveOptions {
  pace?: RequestPace;
  /** Called once per email as soon as it is known to match (see the module comment). */
  onFound?(normalizedEmail: string, users: User[]): void;
}

/** Ski-rental rule: another page is worth it while it is cheaper than looking the rest up. */
export function shouldKeepScanning(pagesRead: number, unresolvedEmails: number): boolean {
  return unresolvedEmails > 0 && pagesRead < unresolvedEmails;
}

export function toArizeError(caught: unknown): ArizeError {
  if (caught instanceof ArizeError) return caught;
  const message = caught instanceof Error ? caught.message : String(caught);
  return new ArizeError(`email resolution failed: ${message}`, { cause: caught });
}

/**
 * Resolves distinct normalized emails. Never throws for a single email's failure: each email
 * gets its own verdict so one bad lookup does not sink a batch.
 */
export async function resolveEmailMatches(
  normalizedEmails: readonly string[],
  deps: ResolverDeps,
  options: ResolveOptions = {},
): Promise<Map<string, EmailResolution>> {
  const results = new Map<string, EmailResolution>();
  const wanted = new Set(normalizedEmails);
  if (wanted.size === 0) return results;
  const found = (email: string, users: User[]): void => options.onFound?.(email, users);

  let unresolved: string[] = [...wanted];
  if (initialStrategy(wanted.size, options.pace) === 'scan') {
    unresolved = await scan(wanted, results, deps);
  }
  await Promise.all(
    unresolved.map(async (email) => {
      try {
        const users = await deps.lookup(email);
        results.set(email, users.length > 0 ? { status: 'found', users } : { status: 'not_found' });
        if (users.length > 0) found(email, users);
      } catch (caught) {
        results.set(email, { status: 'failed', error: toArizeError(caught) });
      }
    }),
  );
  return results;
}

/** Scans until done or no longer worth it; returns the emails left for lookups. */
async function scan(
  wanted: Set<string>,
  results: Map<string, EmailResolution>,
  deps: ResolverDeps,
): Promise<string[]> {
  const matches = new Map<string, User[]>();
  const unresolved = new Set(wanted);
  const seenCursors = new Set<string>();
  let cursor: string | undefined;
  let pagesRead = 0;
  for (;;) {
    let page: ListUsersResponse;
    try {
      page = await deps.scanPage(cursor);
    } catch (caught) {
      // Emails not seen yet cannot be called missing: they fail, the found ones stand.
      const error = toArizeError(caught);
      recordMatches(matches, results);
      for (const email of unresolved) results.set(email, { status: 'failed', error });
      return [];
    }
    pagesRead++;
    for (const user of page.users) {
      const key = normalizeEmail(user.email);
      if (!wanted.has(key)) continue;
      const list = matches.get(key) ?? [];
      list.push(user);
      matches.set(key, list);
      unresolved.delete(key);
    }
    if (!page.pagination.has_more) {
      recordMatches(matches, results);
      for (const email of unresolved) results.set(email, { status: 'not_found' });
      return [];
    }
    const next = page.pagination.next_cursor;
    if (next === undefined || seenCursors.has(next)) {
      const error = new ArizeResponseError({
        status: 200,
        method: 'GET',
        route: '/v2/users',
        reason: next === undefined ? 'has_more without next_cursor' : 'pagination cursor repeated',
      });
      recordMatches(matches, results);
      for (const email of unresolved) results.set(email, { status: 'failed', error });
      return [];
    }
    seenCursors.add(next);
    cursor = next;
    if (!shouldKeepScanning(pagesRead, unresolved.size)) {
      recordMatches(matches, results);
      return [...unresolved];
    }
  }
}

function recordMatches(matches: Map<string, User[]>, results: Map<string, EmailResolution>): void {
  for (const [email, users] of matches) results.set(email, { status: 'found', users });
}
