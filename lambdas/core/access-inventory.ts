/**
 * What access a leaver had in Arize, read before the delete so the evidence can say what was removed,
 * and what they did after their termination (audit logs). Pure: it only talks to an Arize client
 * (no AWS), so the Lambdas and the local runtime share it.
 *
 * Never records a key's secret: the API shows only the redacted form after creation, and the
 * inventory copies named fields only, so an extra field the API may add cannot ride along.
 */
import type { ArizeError } from '../arize/errors.js';
import { ArizeApiError } from '../arize/errors.js';
import type {
  ApiKey,
  AuditLog,
  ListApiKeysParams,
  ListAuditLogsParams,
  ListRoleBindingsParams,
  ListRolesParams,
  ListSpacesParams,
  Role,
  RoleBinding,
  RoleDefinition,
  Space,
  User,
} from '../arize/index.js';
import type { CallOptions } from '../arize/http.js';
import { LIST_LIMIT_MAX } from '../arize/wire.js';

/** The part of ArizeUsersClient this module needs (a structural type keeps it testable and AWS-free). */
export interface AccessReader {
  listAllApiKeys(params: Omit<ListApiKeysParams, 'cursor' | 'limit'>, opts?: CallOptions): AsyncGenerator<ApiKey>;
  listAllRoleBindings(params: Omit<ListRoleBindingsParams, 'cursor' | 'limit'>, opts?: CallOptions): AsyncGenerator<RoleBinding>;
  listAllRoles(params?: Omit<ListRolesParams, 'cursor' | 'limit'>, opts?: CallOptions): AsyncGenerator<RoleDefinition>;
  getRole(roleId: string, opts?: CallOptions): Promise<RoleDefinition>;
  listAllSpaces(params?: Omit<ListSpacesParams, 'cursor' | 'limit'>, opts?: CallOptions): AsyncGenerator<Space>;
  listAllAuditLogs(params?: Omit<ListAuditLogsParams, 'cursor' | 'limit'>, opts?: CallOptions): AsyncGenerator<AuditLog>;
}

export interface InventoryKey {
  id: string;
  name: string;
  keyType: 'USER' | 'SERVICE';
  status: 'ACTIVE' | 'REVOKED';
  redactedKey: string;
  createdAt: string;
  lastUsedAt?: string;
  expiresAt?: string;
  /** SERVICE keys: the space they were listed in. */
  spaceId?: string;
  spaceName?: string;
  /** SERVICE keys under `serviceKeys: revoke`: whether our revocation was verified (listed REVOKED, no longer ACTIVE). */
  revocation?: { status: 'REVOKED' | 'FAILED'; at: string; error?: string };
}

export interface InventoryBinding {
  id: string;
  roleId: string;
  /** Undefined when the role id is unknown to /v2/roles (recorded as such, not guessed). */
  roleName?: string;
  resourceType: 'SPACE' | 'PROJECT';
  resourceId: string;
  /** SPACE bindings: the space's name when it is one of the listed spaces. */
  resourceName?: string;
}

/** What SERVICE keys the leaver created are left to: reported (an alert lists them) or revoked after the delete. */
export const SERVICE_KEY_POLICIES = ['report', 'revoke'] as const;
export type ServiceKeyPolicy = (typeof SERVICE_KEY_POLICIES)[number];

export interface AvailableAccess {
  status: 'available';
  userId: string;
  /** The account-level role, as the user record shows it. */
  role: Role;
  /**
   * Where `role` was read: `resolution` — the account Arize returned when the email was resolved, the one
   * protection was checked against (carried in the delete target); `user-read` — GET /v2/users/{id} before the
   * delete. Absent on records written before roles were carried (always a read then).
   */
  roleSource?: RoleSource;
  roleBindings: InventoryBinding[];
  /** The leaver's own keys: the delete is documented to revoke these. */
  userKeys: InventoryKey[];
  /** SERVICE keys the leaver created: the delete is NOT documented to revoke these. */
  serviceKeys: InventoryKey[];
  /** Spaces whose SERVICE keys were inspected. */
  spacesChecked: { id: string; name: string }[];
  /**
   * Totals before the lists were bounded (boundAccess): a ledger item must stay under DynamoDB's 400 KB,
   * so each list keeps its first MAX_LISTED_PER_KIND entries and these say how many there were.
   */
  counts: { roleBindings: number; userKeys: number; serviceKeys: number; spacesChecked: number };
  /** Set once the SERVICE-key policy ran: what it was, and how many of the leaver's SERVICE keys are still ACTIVE. */
  serviceKeyPolicy?: ServiceKeyPolicy;
  orphanedServiceKeys?: number;
}

/**
 * The inventory could not be read (a key without admin rights ⇒ 403, Arize unavailable, …). The delete goes
 * ahead anyway: a leaver is never kept because we could not list what they had, and the record says why
 * the inventory is missing instead of pretending it was empty.
 */
export interface UnavailableAccess {
  status: 'unavailable';
  userId: string;
  reason: string;
  httpStatus?: number;
}

export type AccessInventory = AvailableAccess | UnavailableAccess;

export type RoleSource = 'resolution' | 'user-read';

/** Entries kept per list in a stored inventory (bindings, USER keys, SERVICE keys, spaces). */
export const MAX_LISTED_PER_KIND = 50;

export interface InventoryOptions extends CallOptions {
  /** Space ids or names whose SERVICE keys to inspect; default every space the key can list. */
  spaces?: readonly string[];
  /** Read once per chunk by prepareInventoryContext; without it, collectAccessInventory reads its own. */
  context?: InventoryContext;
  /**
   * The users whose inventories the context is for (a chunk's targets): from BINDINGS_LISTED_FROM of them on,
   * role bindings are listed for the whole account (per resource type) instead of per user, within a page budget.
   */
  forUsers?: readonly string[];
  /** Where the user's role was read (recorded with it). */
  roleSource?: RoleSource;
}

/**
 * From this many users on, a chunk lists role bindings by resource type for the whole account rather than
 * once per user and type: a single leaver (the common HR event) costs its two per-user calls and nothing more.
 */
export const BINDINGS_LISTED_FROM = 10;

/**
 * Listing the account's bindings of one type pays while it takes fewer pages than half the users it serves
 * (the per-user listings it replaces cost one call each). Past that it stops and those users are listed one by
 * one: at worst 1.5× the per-user calls, at best a few pages for a whole chunk.
 */
export function bindingPageBudget(users: number): number {
  return Math.floor(users / 2);
}

const BINDING_TYPES = ['SPACE', 'PROJECT'] as const;
type BindingType = (typeof BINDING_TYPES)[number];

function keyOf(key: ApiKey, space?: { id: string; name: string }): InventoryKey {
  return {
    id: key.id,
    name: key.name,
    keyType: key.key_type,
    status: key.status,
    redactedKey: key.redacted_key,
    createdAt: key.created_at,
    ...(key.last_used_at === undefined ? {} : { lastUsedAt: key.last_used_at }),
    ...(key.expires_at === undefined ? {} : { expiresAt: key.expires_at }),
    ...(space === undefined ? {} : { spaceId: space.id, spaceName: space.name }),
  };
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

function callOptions(options: CallOptions): CallOptions {
  return {
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.deadline === undefined ? {} : { deadline: options.deadline }),
  };
}

/**
 * What every leaver of a chunk shares, read once: the spaces, the role names, and the ACTIVE SERVICE keys of
 * each space grouped by creator (one listing per space for the whole chunk instead of one per leaver and space).
 */
export interface InventoryContext {
  spaces: { id: string; name: string }[];
  spaceNames: Map<string, string>;
  roleNames: Map<string, string>;
  serviceKeysByCreator: Map<string, InventoryKey[]>;
  /**
   * Per resource type listed whole for the account: the bindings of each of `forUsers` (an absent user had none).
   * A type missing here (too many pages, or too few users) is listed per user.
   */
  bindingsByUser: Map<BindingType, Map<string, RoleBinding[]>>;
}

/**
 * The bindings of `users` for one resource type, read from the account-wide listing — or undefined once the
 * listing outgrows its page budget. The creator check of SERVICE keys has its analogue here: only bindings whose
 * `user_id` is one of the users are kept, so nobody else's binding is attributed.
 */
async function bindingsOfUsers(client: AccessReader, type: BindingType, users: ReadonlySet<string>, opts: CallOptions): Promise<Map<string, RoleBinding[]> | undefined> {
  // The listing reads pages of LIST_LIMIT_MAX as it is consumed: stopping at the budget's last entry reads no more.
  const maxEntries = bindingPageBudget(users.size) * LIST_LIMIT_MAX;
  const byUser = new Map<string, RoleBinding[]>();
  if (maxEntries === 0) return undefined;
  let entries = 0;
  for await (const binding of client.listAllRoleBindings({ resourceType: type }, opts)) {
    entries += 1;
    if (binding.resource_type === type && users.has(binding.user_id)) {
      const list = byUser.get(binding.user_id) ?? [];
      list.push(binding);
      byUser.set(binding.user_id, list);
    }
    // The budget's last entry read and the listing maybe not over (the generator would fetch the next page to
    // say): these users are listed one by one instead; what was read is dropped.
    if (entries >= maxEntries) return undefined;
  }
  return byUser;
}

export async function prepareInventoryContext(client: AccessReader, options: InventoryOptions = {}): Promise<InventoryContext> {
  const opts = callOptions(options);
  const allSpaces = await collect(client.listAllSpaces({}, opts));
  let spaces = allSpaces.map((s) => ({ id: s.id, name: s.name }));
  if (options.spaces !== undefined) {
    const wanted = options.spaces;
    const missing = wanted.filter((w) => !allSpaces.some((s) => s.id === w || s.name === w));
    if (missing.length > 0) throw new RangeError(`spaces: unknown space ${missing.map((m) => JSON.stringify(m)).join(', ')}`);
    spaces = spaces.filter((s) => wanted.includes(s.id) || wanted.includes(s.name));
  }
  const roleNames = new Map((await collect(client.listAllRoles({}, opts))).map((r) => [r.id, r.name] as const));
  const serviceKeysByCreator = new Map<string, InventoryKey[]>();
  for (const space of spaces) {
    for await (const key of client.listAllApiKeys({ keyType: 'SERVICE', spaceId: space.id }, opts)) {
      const keys = serviceKeysByCreator.get(key.created_by_user_id) ?? [];
      keys.push(keyOf(key, space));
      serviceKeysByCreator.set(key.created_by_user_id, keys);
    }
  }
  const bindingsByUser = new Map<BindingType, Map<string, RoleBinding[]>>();
  const users = new Set(options.forUsers ?? []);
  if (users.size >= BINDINGS_LISTED_FROM) {
    for (const type of BINDING_TYPES) {
      const listed = await bindingsOfUsers(client, type, users, opts);
      if (listed !== undefined) bindingsByUser.set(type, listed);
    }
  }
  return { spaces, spaceNames: new Map(allSpaces.map((s) => [s.id, s.name] as const)), roleNames, serviceKeysByCreator, bindingsByUser };
}

/**
 * The leaver's role, role bindings (with role names), USER keys and the SERVICE keys they created
 * in each space. Errors (403 for a key without admin rights, 5xx after retries) propagate: an
 * inventory that silently misses keys would be worse than none.
 */
export async function collectAccessInventory(
  client: AccessReader,
  user: Pick<User, 'id' | 'role'>,
  options: InventoryOptions = {},
): Promise<AvailableAccess> {
  const opts = callOptions(options);
  const context = options.context ?? (await prepareInventoryContext(client, options));
  const bindings: RoleBinding[] = [];
  for (const type of BINDING_TYPES) {
    const listed = context.bindingsByUser.get(type);
    bindings.push(...(listed !== undefined ? (listed.get(user.id) ?? []) : await collect(client.listAllRoleBindings({ resourceType: type, userId: user.id }, opts))));
  }
  const roleNames = context.roleNames;
  for (const roleId of new Set(bindings.map((b) => b.role_id))) {
    if (roleNames.has(roleId)) continue;
    try {
      roleNames.set(roleId, (await client.getRole(roleId, opts)).name);
    } catch (error) {
      // A role deleted since the binding was made: keep the id, do not invent a name.
      if (!(error instanceof ArizeApiError && error.status === 404)) throw error;
    }
  }
  const roleBindings = bindings.map((b): InventoryBinding => {
    const roleName = roleNames.get(b.role_id);
    const resourceName = b.resource_type === 'SPACE' ? context.spaceNames.get(b.resource_id) : undefined;
    return {
      id: b.id,
      roleId: b.role_id,
      ...(roleName === undefined ? {} : { roleName }),
      resourceType: b.resource_type,
      resourceId: b.resource_id,
      ...(resourceName === undefined ? {} : { resourceName }),
    };
  });

  const userKeys = (await collect(client.listAllApiKeys({ keyType: 'USER', userId: user.id }, opts))).map((k) => keyOf(k));
  // The creator check is ours (the listing is per space, not per user), so nobody else's key is attributed.
  const serviceKeys = (context.serviceKeysByCreator.get(user.id) ?? []).map((key) => ({ ...key }));
  const spacesChecked = context.spaces;
  return {
    status: 'available',
    userId: user.id,
    role: user.role,
    ...(options.roleSource === undefined ? {} : { roleSource: options.roleSource }),
    roleBindings,
    userKeys,
    serviceKeys,
    spacesChecked,
    counts: { roleBindings: roleBindings.length, userKeys: userKeys.length, serviceKeys: serviceKeys.length, spacesChecked: spacesChecked.length },
  };
}

/** The inventory as stored: each list cut to its first `max` entries, `counts` keeping the totals. */
export function boundAccess(access: AccessInventory, max = MAX_LISTED_PER_KIND): AccessInventory {
  if (access.status !== 'available') return { ...access, reason: access.reason.slice(0, 1_000) };
  return {
    ...access,
    roleBindings: access.roleBindings.slice(0, max),
    userKeys: access.userKeys.slice(0, max),
    serviceKeys: access.serviceKeys.slice(0, max),
    spacesChecked: access.spacesChecked.slice(0, max),
  };
}

export type ActivityResult =
  | { status: 'available'; from: string; to: string; entries: ActivityEntry[] }
  | { status: 'unavailable'; reason: 'forbidden'; detail: string; httpStatus: 403 };

export interface ActivityEntry {
  id: string;
  at: string;
  operationType: AuditLog['operation_type'];
  operationName?: string;
  ip: string;
}

/**
 * The leaver's audit-log entries between `from` (effective termination) and `to` (deletion), newest
 * first. A 403 (audit logging disabled, or a key without admin rights) is an expected state of an
 * account, returned as `unavailable`; every other failure propagates.
 */
export async function findActivityAfter(
  client: AccessReader,
  userId: string,
  from: Date,
  to: Date,
  opts: CallOptions = {},
): Promise<ActivityResult> {
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) throw new RangeError('from/to: expected valid dates');
  if (from.getTime() > to.getTime()) throw new RangeError('from: must not be after to');
  const entries: ActivityEntry[] = [];
  try {
    for await (const log of client.listAllAuditLogs({ userId, startTime: from, endTime: to }, opts)) {
      if (log.user_id !== userId) continue;
      entries.push({
        id: log.id,
        at: log.created_at,
        operationType: log.operation_type,
        ...(log.operation_name === undefined ? {} : { operationName: log.operation_name }),
        ip: log.ip,
      });
    }
  } catch (error) {
    if (error instanceof ArizeApiError && error.status === 403) {
      return { status: 'unavailable', reason: 'forbidden', detail: (error as ArizeError).message, httpStatus: 403 };
    }
    throw error;
  }
  return { status: 'available', from: from.toISOString(), to: to.toISOString(), entries };
}

/**
 * The access a leaver had, in one line for an operator (`status`) and an auditor (the evidence row): role, bindings,
 * keys, the SERVICE keys left active — or why the inventory could not be read, or that none was recorded.
 */
export function summarizeAccess(access: AccessInventory | undefined): string {
  if (access === undefined) return 'not recorded';
  if (access.status === 'unavailable') return `access not recorded: ${access.reason}`;
  const more = (shown: number, total: number) => (total > shown ? ` (+${total - shown} more)` : '');
  const bindings = access.roleBindings.map((b) => `${b.roleName ?? b.roleId} on ${b.resourceType.toLowerCase()} ${b.resourceName ?? b.resourceId}`);
  const revoked = access.serviceKeys.filter((k) => k.revocation?.status === 'REVOKED').length;
  return [
    `role ${access.role.type === 'PREDEFINED' ? access.role.name : (access.role.name ?? access.role.id)}`,
    `bindings: ${bindings.length > 0 ? bindings.join(', ') : 'none'}${more(bindings.length, access.counts.roleBindings)}`,
    `USER keys: ${access.counts.userKeys}`,
    `SERVICE keys: ${access.counts.serviceKeys}${revoked > 0 ? `, ${revoked} revoked by us` : ''}${access.orphanedServiceKeys ? `, ${access.orphanedServiceKeys} still ACTIVE` : ''}`,
  ].join('; ');
}
