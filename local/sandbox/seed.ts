/**
 * Seed directories for the Arize sandbox: validation of a `--seed` file, the built-in demo
 * directory, and a deterministic generator for benches and property tests.
 */
import * as z from 'zod';
import { hasEmailSyntax, normalizeEmail } from '../../lambdas/core/email.js';
import {
  API_KEY_STATUSES,
  API_KEY_TYPES,
  AUDIT_OPERATION_TYPES,
  PREDEFINED_ROLE_NAMES,
  RESOURCE_TYPES,
  USER_STATUSES,
  type PredefinedRoleName,
  type Role,
  type User,
  type UserStatus,
} from '../../lambdas/arize/wire.js';

/**
 * A wire-shaped `User` plus two sandbox-only facts that the wire never shows:
 * `sso` (the account signs in through SSO, so it has no password to reset) and
 * `deleted` (already soft-deleted: hidden from list/get, its email answers 409 on create).
 */
export type SeedUser = User & {
  sso?: boolean;
  deleted?: boolean;
  /** Access the user holds (sandbox access endpoints); see ./access.ts. */
  api_keys?: SeedApiKey[];
  role_bindings?: SeedRoleBinding[];
  /** Audit-log entries of this user (what they did in Arize, e.g. after their termination). */
  activity?: SeedActivity[];
};

export class SeedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SeedError';
  }
}

const STATUS_CHOICES = USER_STATUSES.join('|');
const ROLE_NAME_CHOICES = PREDEFINED_ROLE_NAMES.join('|');

/** Seeds are hand-written: enum values are accepted in any case, as the SDK docs write them lower case. */
function anyCaseEnum<const T extends readonly [string, ...string[]]>(values: T, choices: string) {
  return z
    .string({ error: `expected one of ${choices}` })
    .transform((s) => s.toUpperCase())
    .pipe(z.enum(values, { error: `expected one of ${choices}` }));
}

const SeedRoleSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({
      type: z.literal('PREDEFINED'),
      name: anyCaseEnum(PREDEFINED_ROLE_NAMES, ROLE_NAME_CHOICES),
    }),
    z.strictObject({
      type: z.literal('CUSTOM'),
      id: z.string({ error: 'expected a non-empty string' }).min(1, { error: 'expected a non-empty string' }),
      name: z.string({ error: 'expected a string' }).optional(),
    }),
  ],
  { error: 'expected type PREDEFINED or CUSTOM' },
);

const SeedApiKeySchema = z.strictObject({
  name: z.string({ error: 'expected a string' }).min(1, { error: 'expected a non-empty string' }),
  key_type: anyCaseEnum(API_KEY_TYPES, API_KEY_TYPES.join('|')).optional(),
  /** Space name or id; required for SERVICE keys (they belong to a space). */
  space: z.string({ error: 'expected a space name or id' }).optional(),
  status: anyCaseEnum(API_KEY_STATUSES, API_KEY_STATUSES.join('|')).optional(),
  created_at: z.iso.datetime({ offset: true, error: 'expected an ISO-8601 date-time' }).optional(),
  last_used_at: z.iso.datetime({ offset: true, error: 'expected an ISO-8601 date-time' }).optional(),
});
export type SeedApiKey = z.infer<typeof SeedApiKeySchema>;

const SeedRoleBindingSchema = z.strictObject({
  /** Role name or id, e.g. "MEMBER". */
  role: z.string({ error: 'expected a role name or id' }).min(1, { error: 'expected a role name or id' }),
  resource_type: anyCaseEnum(RESOURCE_TYPES, RESOURCE_TYPES.join('|')).optional(),
  /** Space name or id (SPACE), or a project id (PROJECT). */
  resource: z.string({ error: 'expected a space name or id' }).min(1, { error: 'expected a space name or id' }),
});
export type SeedRoleBinding = z.infer<typeof SeedRoleBindingSchema>;

const SeedActivitySchema = z.strictObject({
  at: z.iso.datetime({ offset: true, error: 'expected an ISO-8601 date-time' }),
  operation_type: anyCaseEnum(AUDIT_OPERATION_TYPES, AUDIT_OPERATION_TYPES.join('|')).optional(),
  operation_name: z.string({ error: 'expected a string' }).optional(),
});
export type SeedActivity = z.infer<typeof SeedActivitySchema>;

/**
 * Only `email` is required so a seed can be written by hand; everything else gets the
 * defaults a freshly created account would have.
 */
const SeedEntrySchema = z.strictObject({
  id: z
    .string({ error: 'expected a non-empty string' })
    .min(1, { error: 'expected a non-empty string' })
    .max(255, { error: 'at most 255 characters' })
    .optional(),
  name: z.string({ error: 'expected a string' }).max(255, { error: 'at most 255 characters' }).optional(),
  email: z
    .string({ error: 'required, a string' })
    .refine((email) => !/^[\t\n\v\f\r ]|[\t\n\v\f\r ]$/.test(email) && hasEmailSyntax(email), { error: 'not a valid email address' }),
  created_at: z.iso
    .datetime({ offset: true, error: 'expected an ISO-8601 date-time such as 2024-01-31T09:00:00Z' })
    .optional(),
  status: anyCaseEnum(USER_STATUSES, STATUS_CHOICES).optional(),
  role: SeedRoleSchema.optional(),
  is_developer: z.boolean({ error: 'expected true or false' }).optional(),
  sso: z.boolean({ error: 'expected true or false' }).optional(),
  deleted: z.boolean({ error: 'expected true or false' }).optional(),
  api_keys: z.array(SeedApiKeySchema, { error: 'expected an array' }).optional(),
  role_bindings: z.array(SeedRoleBindingSchema, { error: 'expected an array' }).optional(),
  activity: z.array(SeedActivitySchema, { error: 'expected an array' }).optional(),
});
type SeedEntry = z.infer<typeof SeedEntrySchema>;

/** Mirrors the API's create default: developers unless annotators (custom roles start without). */
export function defaultIsDeveloper(role: Role): boolean {
  return role.type === 'PREDEFINED' && role.name !== 'ANNOTATOR';
}

/**
 * Ids look like Arize's: opaque, padded STANDARD base64. The payload is built so that every id
 * contains `/`, `+` and `=`: after `User:<key>` (padded to a 3-byte boundary) come the groups
 * `~>?` (⇒ `fj4/`) and `~~>` (⇒ `fn4+`) and one trailing byte (⇒ `==`). A client that forgets to
 * percent-encode an id in a path therefore fails on every call, not on one id in a thousand.
 */
export function encodeUserId(key: string): string {
  return encodeOpaqueId('User', key);
}

/** The same scheme for every sandbox resource (ApiKey, RoleBinding, Role, Space...). */
export function encodeOpaqueId(kind: string, key: string): string {
  const head = `${kind}:${key}`;
  const aligned = head + ':'.repeat((3 - (Buffer.byteLength(head) % 3)) % 3);
  return Buffer.from(`${aligned}~>?~~>:`).toString('base64');
}

function nameFromEmail(email: string): string {
  const local = email.slice(0, email.lastIndexOf('@')).split('+')[0] ?? '';
  const words = local.split(/[._-]+/).filter((w) => w.length > 0);
  const name = words.map((w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase()).join(' ');
  return name.length > 0 ? name : email;
}

function formatPath(index: number, path: readonly PropertyKey[]): string {
  return `seed[${index}]${path.map((key) => (typeof key === 'number' ? `[${key}]` : `.${String(key)}`)).join('')}`;
}

function issueText(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  }
  return issue.message;
}

const SEED_EPOCH_MS = Date.parse('2024-01-02T09:00:00Z');

/**
 * Validates an untrusted seed (the parsed JSON of a `--seed` file, or `SandboxOptions.seed`)
 * and fills defaults. Throws a SeedError naming the entry and field of the first problem,
 * e.g. `seed[3].status: expected one of ACTIVE|INVITED|EXPIRED`.
 */
export function parseSeed(json: unknown): SeedUser[] {
  if (!Array.isArray(json)) {
    throw new SeedError('seed: expected a JSON array of users');
  }
  const entries: unknown[] = json;
  const users: SeedUser[] = [];
  const indexById = new Map<string, number>();
  const indexByEmail = new Map<string, number>();
  entries.forEach((raw, index) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new SeedError(`seed[${index}]: expected a user object`);
    }
    const parsed = SeedEntrySchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const path = issue ? formatPath(index, issue.path) : `seed[${index}]`;
      throw new SeedError(`${path}: ${issue ? issueText(issue) : 'invalid'}`);
    }
    const user = completeEntry(parsed.data, index);
    const sameId = indexById.get(user.id);
    if (sameId !== undefined) {
      throw new SeedError(`seed[${index}].id: duplicate of seed[${sameId}].id "${user.id}"`);
    }
    const emailKey = normalizeEmail(user.email);
    const sameEmail = indexByEmail.get(emailKey);
    if (sameEmail !== undefined) {
      throw new SeedError(`seed[${index}].email: duplicate of seed[${sameEmail}].email (emails are case-insensitive)`);
    }
    indexById.set(user.id, index);
    indexByEmail.set(emailKey, index);
    users.push(user);
  });
  return users;
}

function completeEntry(entry: SeedEntry, index: number): SeedUser {
  const role: Role = entry.role ?? { type: 'PREDEFINED', name: 'MEMBER' };
  const user: SeedUser = {
    id: entry.id ?? encodeUserId(`seed-${index + 1}`),
    name: entry.name ?? nameFromEmail(entry.email),
    email: entry.email,
    created_at: entry.created_at ?? new Date(SEED_EPOCH_MS + index * 60_000).toISOString(),
    status: entry.status ?? 'ACTIVE',
    role,
    is_developer: entry.is_developer ?? defaultIsDeveloper(role),
  };
  if (entry.sso !== undefined) user.sso = entry.sso;
  if (entry.deleted !== undefined) user.deleted = entry.deleted;
  if (entry.api_keys !== undefined) user.api_keys = entry.api_keys;
  if (entry.role_bindings !== undefined) user.role_bindings = entry.role_bindings;
  if (entry.activity !== undefined) user.activity = entry.activity;
  return user;
}

type DemoRow = [name: string, email: string, status: UserStatus, role: PredefinedRoleName, sso?: boolean];

/**
 * Near-duplicates on purpose: the list filter is a substring filter, so a lookup of
 * `ann@example.com` also returns `joann@example.com`, `ann@example.com.au`, ... and only
 * the exact (case-insensitive) match may ever be deleted.
 */
const DEMO_ROWS: readonly DemoRow[] = [
  ['Priya Raman', 'priya.raman@example.com', 'ACTIVE', 'ADMIN'],
  ['Ann Lee', 'ann@example.com', 'ACTIVE', 'MEMBER'],
  ['Jo Ann Miller', 'joann@example.com', 'ACTIVE', 'MEMBER'],
  ['Ann Lee (AU)', 'ann@example.com.au', 'ACTIVE', 'MEMBER'],
  ['Leanne Ortiz', 'leann@example.com', 'INVITED', 'ANNOTATOR'],
  ['Marcus Chen', 'Marcus.Chen@Example.com', 'ACTIVE', 'MEMBER'],
  ['Marcus Chen (test)', 'marcus.chen+test@example.com', 'ACTIVE', 'MEMBER'],
  ['Sofia Rossi', 'sofia.rossi@example.com', 'ACTIVE', 'ADMIN', true],
  ['Sofia Rossi (labelling)', 'sofia.rossi+labels@example.com', 'INVITED', 'ANNOTATOR'],
  ['Daniel Okafor', 'DANIEL.OKAFOR@EXAMPLE.COM', 'ACTIVE', 'MEMBER', true],
  ['Dan Okafor', 'dan.okafor@example.com', 'EXPIRED', 'MEMBER'],
  ['Hannah Schmidt', 'hannah.schmidt@example.org', 'ACTIVE', 'MEMBER'],
  ['Hanna Schmid', 'hanna.schmid@example.org', 'INVITED', 'MEMBER'],
  ['Kenji Watanabe', 'kenji.watanabe@example.com', 'ACTIVE', 'MEMBER', true],
  ['Aisha Bello', 'aisha.bello@example.net', 'ACTIVE', 'ANNOTATOR'],
  ['Lucas Martin', 'lucas.martin@example.com', 'EXPIRED', 'ANNOTATOR'],
  ['Emma Johansson', 'emma.johansson@example.com', 'ACTIVE', 'MEMBER'],
  ['Emma Johansson (contractor)', 'emma.johansson@contractors.example.com', 'INVITED', 'MEMBER'],
  ['Mateo Garcia', 'mateo.garcia@example.com', 'ACTIVE', 'ADMIN'],
  ['Chloe Dubois', 'chloe.dubois@example.com', 'ACTIVE', 'MEMBER', true],
  ['Ravi Patel', 'ravi.patel@example.com', 'ACTIVE', 'MEMBER'],
  ['Ravi Patel (old)', 'r.patel@example.com', 'EXPIRED', 'MEMBER'],
  ['Olivia Brown', 'olivia.brown@example.com', 'INVITED', 'MEMBER'],
  ['Noah Wilson', 'noah.wilson@example.com', 'ACTIVE', 'ANNOTATOR'],
  ['Zara Ahmed', 'zara.ahmed@example.com', 'ACTIVE', 'MEMBER'],
  ['Tom Becker', 'tom@example.com', 'ACTIVE', 'MEMBER'],
  ['Tomás Becker', 'tomas@example.com', 'INVITED', 'MEMBER'],
  ['Ingrid Nilsen', 'ingrid.nilsen@example.com', 'ACTIVE', 'MEMBER'],
  ['Yusuf Demir', 'yusuf.demir@example.com', 'EXPIRED', 'MEMBER'],
  ['Grace Kim', 'grace.kim@example.com', 'ACTIVE', 'MEMBER'],
];

const DEMO_EPOCH_MS = Date.parse('2024-01-08T09:00:00Z');
const HOUR_MS = 3_600_000;

/**
 * The built-in demo directory: 30 users, the first an ACTIVE admin who owns the API key.
 * Same ids and timestamps on every call.
 */
export function demoDirectory(): SeedUser[] {
  return DEMO_ROWS.map(([name, email, status, roleName, sso], index) => {
    const role: Role = { type: 'PREDEFINED', name: roleName };
    const user: SeedUser = {
      id: encodeUserId(String(101 + index)),
      name,
      email,
      // A few days apart, with an hour of jitter so the ordering is by time, not by position.
      created_at: new Date(DEMO_EPOCH_MS + index * 3 * 24 * HOUR_MS + ((index * 7) % 5) * HOUR_MS).toISOString(),
      status,
      role,
      is_developer: defaultIsDeveloper(role),
    };
    if (sso) user.sso = true;
    return user;
  });
}

/** Small, fast, seedable PRNG (mulberry32) so generated directories are reproducible. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const FIRST_NAMES = [
  'Ada', 'Ann', 'Joann', 'Ben', 'Carla', 'Dev', 'Elena', 'Farid', 'Greta', 'Hugo', 'Ines', 'Jonas', 'Kira', 'Liam',
  'Maya', 'Nils', 'Omar', 'Petra', 'Quinn', 'Rosa', 'Sami', 'Tara', 'Umar', 'Vera', 'Wen', 'Xavi', 'Yara', 'Zane',
] as const;
const LAST_NAMES = [
  'Lee', 'Smith', 'Garcia', 'Nakamura', 'Okafor', 'Rossi', 'Schmidt', 'Dubois', 'Patel', 'Kowalski', 'Silva',
  'Johansson', 'Novak', 'Haddad', 'Moreau', 'Ivanova', 'Chen', 'Murphy', 'Fischer', 'Costa',
] as const;

function pick<T>(items: readonly T[], random: () => number): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

/**
 * A deterministic directory of `count` users at `domain` (default example.com): the first is
 * an ACTIVE admin (the key owner); then mostly ACTIVE members, some INVITED/EXPIRED, some
 * annotators. Emails repeat names with numeric suffixes (`ann.lee@`, `ann.lee2@`), so
 * substring near-misses arise naturally.
 */
export function generateDirectory(count: number, opts: { domain?: string; seed?: number } = {}): SeedUser[] {
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(`generateDirectory: count must be a non-negative integer, got ${count}`);
  }
  const domain = opts.domain ?? 'example.com';
  const seed = opts.seed ?? 1;
  const random = seededRandom(seed);
  const usedLocalParts = new Map<string, number>();
  const users: SeedUser[] = [];
  let createdMs = DEMO_EPOCH_MS;
  for (let index = 0; index < count; index += 1) {
    const first = pick(FIRST_NAMES, random);
    const last = pick(LAST_NAMES, random);
    const base = `${first}.${last}`.toLowerCase();
    const seen = usedLocalParts.get(base) ?? 0;
    usedLocalParts.set(base, seen + 1);
    const local = seen === 0 ? base : `${base}${seen + 1}`;
    const roll = random();
    const status: UserStatus = index === 0 ? 'ACTIVE' : roll < 0.8 ? 'ACTIVE' : roll < 0.92 ? 'INVITED' : 'EXPIRED';
    const roleRoll = random();
    const roleName: PredefinedRoleName =
      index === 0 ? 'ADMIN' : roleRoll < 0.05 ? 'ADMIN' : roleRoll < 0.8 ? 'MEMBER' : 'ANNOTATOR';
    const role: Role = { type: 'PREDEFINED', name: roleName };
    createdMs += 1_000 + Math.floor(random() * 600_000);
    users.push({
      id: encodeUserId(`g${seed}-${index + 1}`),
      name: `${first} ${last}`,
      email: `${local}@${domain}`,
      created_at: new Date(createdMs).toISOString(),
      status,
      role,
      is_developer: defaultIsDeveloper(role),
    });
  }
  return users;
}

/**
 * Demo access for a directory (a copy; the input is not changed): every ACTIVE user gets a MEMBER
 * binding on "Production"; every third user a USER key; every fifth a SERVICE key in "Research";
 * every seventh some activity. Deterministic, so demos and benches see the same inventory.
 */
export function withDemoAccess(users: readonly SeedUser[]): SeedUser[] {
  return users.map((user, index) => {
    const copy: SeedUser = { ...user };
    if (user.status !== 'ACTIVE' || user.deleted) return copy;
    const created = user.created_at;
    copy.role_bindings = [{ role: index === 0 ? 'ADMIN' : 'MEMBER', resource_type: 'SPACE', resource: 'Production' }];
    if (index % 3 === 0) copy.api_keys = [{ name: `${user.name} personal key`, key_type: 'USER', created_at: created }];
    if (index % 5 === 0) {
      copy.api_keys = [...(copy.api_keys ?? []), { name: `${user.name} ingestion`, key_type: 'SERVICE', space: 'Research', created_at: created }];
    }
    if (index % 7 === 0) copy.activity = [{ at: created, operation_type: 'QUERY', operation_name: 'getModels' }];
    return copy;
  });
}
