/**
 * The sandbox's in-memory users directory.
 *
 * Records live in one append-only array in creation order (oldest first), so a list page is a
 * forward scan and a cursor is simply a position in that array: soft-deleted records keep their
 * slot, which keeps cursors valid across deletes. Maps give O(1) lookups by id and by email.
 */
import { createHmac } from 'node:crypto';
import { normalizeEmail } from '../../lambdas/core/email.js';
import { UserSchema, type Role, type User, type UserStatus } from '../../lambdas/arize/wire.js';
import { defaultIsDeveloper, encodeUserId, parseSeed, type SeedUser } from './seed.js';

/** A snapshot of one stored account, including what the wire never shows. */
export type StoredUser = User & { deleted: boolean; sso: boolean };

/**
 * The list filter is deliberately looser than the project's matching rule: full Unicode lower-casing after
 * NFKC, so `kate@` also returns `\u212Aate@` (KELVIN SIGN) and `åsa@` returns `\u212Bsa@`. Arize documents a
 * case-insensitive substring filter without saying how it folds; the sandbox assumes the widest plausible
 * one so that the client's own exact comparison is what tests exercise.
 */
export function filterKey(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}

interface UserRecord {
  readonly position: number;
  /** Uniqueness key: the project's matching rule (ASCII-only case folding), so look-alikes can coexist. */
  readonly emailKey: string;
  /** What the list filter compares (see filterKey). */
  readonly filterKey: string;
  user: User;
  deleted: boolean;
  sso: boolean;
}

export interface ListQuery {
  statuses: ReadonlySet<UserStatus>;
  /** As given in the query; compared through filterKey. */
  emailSubstring?: string;
  limit: number;
  /** Position of the last user of the previous page. */
  after?: number;
}

export interface ListPage {
  users: User[];
  hasMore: boolean;
  /** Position to encode as the next cursor (only when hasMore). */
  lastPosition?: number;
}

export class DirectoryConflictError extends Error {}

const CURSOR_VERSION = 'c1';
// Cursors are signed so a hand-made or truncated one is refused (400) instead of silently misread.
const CURSOR_SIGNING_KEY = 'arize-sandbox-cursor';

function cursorMac(position: number): string {
  return createHmac('sha256', CURSOR_SIGNING_KEY).update(`${CURSOR_VERSION}:${position}`).digest('base64url').slice(0, 12);
}

export class UserDirectory {
  private readonly records: UserRecord[] = [];
  private readonly byId = new Map<string, UserRecord>();
  private readonly byEmail = new Map<string, UserRecord>();
  /** Every suffix of every local part (`joann` ⇒ joann, oann, ann, nn, n) ⇒ its records, oldest first. */
  private readonly byLocalSuffix = new Map<string, UserRecord[]>();
  private lastCreatedMs = Number.NEGATIVE_INFINITY;
  private idCounter = 1_000_000;

  constructor(seed: readonly SeedUser[]) {
    const ordered = seed
      .map((user, index) => ({ user, index, createdMs: Date.parse(user.created_at) }))
      .sort((a, b) => a.createdMs - b.createdMs || a.index - b.index);
    for (const { user, createdMs } of ordered) {
      this.append(
        {
          id: user.id,
          name: user.name,
          email: user.email,
          created_at: user.created_at,
          status: user.status,
          role: cloneRole(user.role),
          is_developer: user.is_developer,
        },
        { sso: user.sso ?? false, deleted: user.deleted ?? false },
      );
      this.lastCreatedMs = Math.max(this.lastCreatedMs, createdMs);
    }
  }

  get size(): number {
    return this.records.length;
  }

  findById(id: string): UserRecord | undefined {
    return this.byId.get(id);
  }

  findByEmail(email: string): UserRecord | undefined {
    return this.byEmail.get(normalizeEmail(email));
  }

  /** A live (not deleted) user by id, as sent on the wire. */
  getVisible(id: string): UserRecord | undefined {
    const record = this.byId.get(id);
    return record && !record.deleted ? record : undefined;
  }

  list(query: ListQuery): ListPage {
    const users: User[] = [];
    let lastPosition: number | undefined;
    const substring = query.emailSubstring !== undefined && query.emailSubstring.length > 0 ? filterKey(query.emailSubstring) : undefined;
    const candidates = substring === undefined ? this.records : this.candidatesFor(substring);
    for (let index = firstIndexAfter(candidates, query.after); index < candidates.length; index += 1) {
      const record = candidates[index];
      if (!record || record.deleted || !query.statuses.has(record.user.status)) continue;
      if (substring !== undefined && !record.filterKey.includes(substring)) continue;
      if (users.length === query.limit) {
        // One more match exists beyond this page, so has_more is exact (never a trailing empty page).
        return { users, hasMore: true, lastPosition };
      }
      users.push(toWire(record));
      lastPosition = record.position;
    }
    return { users, hasMore: false };
  }

  /**
   * Records that can contain `substring`, in position order. Every stored email has exactly one
   * `@`, so a filter `L@D` can only match where L ends the local part: the suffix index turns the
   * common lookup-by-full-email into a handful of candidates instead of a scan of everyone.
   */
  private candidatesFor(substring: string): readonly UserRecord[] {
    const at = substring.indexOf('@');
    if (at < 0) return this.records;
    if (substring.indexOf('@', at + 1) >= 0) return [];
    const localSuffix = substring.slice(0, at);
    if (localSuffix.length === 0) return this.records;
    return this.byLocalSuffix.get(localSuffix) ?? [];
  }

  encodeCursor(position: number): string {
    return Buffer.from(`${CURSOR_VERSION}:${position}:${cursorMac(position)}`).toString('base64url');
  }

  /** The position encoded in a cursor, or undefined when the cursor is not one of ours. */
  decodeCursor(cursor: string): number | undefined {
    if (!/^[A-Za-z0-9_-]+={0,2}$/.test(cursor)) return undefined;
    const parts = Buffer.from(cursor, 'base64url').toString('utf8').split(':');
    if (parts.length !== 3 || parts[0] !== CURSOR_VERSION) return undefined;
    const [, positionText, mac] = parts;
    if (positionText === undefined || !/^(0|[1-9]\d{0,9})$/.test(positionText)) return undefined;
    const position = Number(positionText);
    if (mac !== cursorMac(position) || position >= this.records.length) return undefined;
    return position;
  }

  /** A new account, appended as the newest. Throws DirectoryConflictError when the id or email exists. */
  create(input: {
    id?: string;
    name: string;
    email: string;
    role: Role;
    status: UserStatus;
    isDeveloper?: boolean;
    sso: boolean;
    createdAt?: string;
    deleted?: boolean;
  }): UserRecord {
    const createdAt = input.createdAt ?? this.nextCreatedAt();
    return this.append(
      {
        id: input.id ?? this.nextId(),
        name: input.name,
        email: input.email,
        created_at: createdAt,
        status: input.status,
        role: cloneRole(input.role),
        is_developer: input.isDeveloper ?? defaultIsDeveloper(input.role),
      },
      { sso: input.sso, deleted: input.deleted ?? false },
    );
  }

  /** A test-only insertion with defaults for everything but the email, validated like a seed entry. */
  addForTest(partial: Partial<User> & { email: string; sso?: boolean; deleted?: boolean }): User {
    const [seedUser] = parseSeed([partial]);
    if (!seedUser) throw new Error('unreachable: parseSeed returned no user');
    const record = this.create({
      id: partial.id ?? this.nextId(),
      name: seedUser.name,
      email: seedUser.email,
      role: seedUser.role,
      status: seedUser.status,
      isDeveloper: seedUser.is_developer,
      sso: seedUser.sso ?? false,
      deleted: seedUser.deleted ?? false,
      createdAt: partial.created_at === undefined ? undefined : this.nextCreatedAt(Date.parse(partial.created_at)),
    });
    return toWire(record);
  }

  snapshot(): StoredUser[] {
    return this.records.map((record) => ({ ...toWire(record), deleted: record.deleted, sso: record.sso }));
  }

  private append(user: User, flags: { sso: boolean; deleted: boolean }): UserRecord {
    const emailKey = normalizeEmail(user.email);
    if (this.byId.has(user.id)) throw new DirectoryConflictError(`a user with id ${user.id} already exists`);
    if (this.byEmail.has(emailKey)) throw new DirectoryConflictError('a user with this email already exists');
    const record: UserRecord = { position: this.records.length, emailKey, filterKey: filterKey(user.email), user, deleted: flags.deleted, sso: flags.sso };
    this.records.push(record);
    this.byId.set(user.id, record);
    this.byEmail.set(emailKey, record);
    const local = record.filterKey.slice(0, record.filterKey.lastIndexOf('@'));
    for (let start = 0; start < local.length; start += 1) {
      const suffix = local.slice(start);
      const bucket = this.byLocalSuffix.get(suffix);
      if (bucket) bucket.push(record);
      else this.byLocalSuffix.set(suffix, [record]);
    }
    return record;
  }

  /**
   * Creation times only move forward, even when a seed carries future timestamps, so that
   * "oldest first" and append order stay the same thing.
   */
  private nextCreatedAt(requestedMs: number = Date.now()): string {
    const createdMs = Math.max(requestedMs, this.lastCreatedMs + 1);
    this.lastCreatedMs = createdMs;
    return new Date(createdMs).toISOString();
  }

  private nextId(): string {
    let id: string;
    do {
      this.idCounter += 1;
      id = encodeUserId(String(this.idCounter));
    } while (this.byId.has(id));
    return id;
  }
}

/** Index of the first record whose position is after `after` (records are in position order). */
function firstIndexAfter(records: readonly UserRecord[], after: number | undefined): number {
  if (after === undefined) return 0;
  let low = 0;
  let high = records.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((records[middle]?.position ?? Number.POSITIVE_INFINITY) <= after) low = middle + 1;
    else high = middle;
  }
  return low;
}

function cloneRole(role: Role): Role {
  if (role.type === 'PREDEFINED') return { type: 'PREDEFINED', name: role.name };
  return role.name === undefined ? { type: 'CUSTOM', id: role.id } : { type: 'CUSTOM', id: role.id, name: role.name };
}

/** Exactly the documented User fields, checked against the shared wire schema. */
export function toWire(record: UserRecord): User {
  const { id, name, email, created_at, status, role, is_developer } = record.user;
  return UserSchema.parse({ id, name, email, created_at, status, role: cloneRole(role), is_developer });
}

export type { UserRecord };
