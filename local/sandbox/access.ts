/**
 * The sandbox's access endpoints: API keys, role bindings, roles, spaces, organizations and audit
 * logs, with the permission rules of ../shared/arize-api.md ("More of the API…"). Sandbox-only
 * choices are listed in ./README.md.
 */
import { createHash, createHmac } from 'node:crypto';
import {
  API_KEY_STATUSES,
  API_KEY_TYPES,
  AUDIT_LOG_DEFAULT_WINDOW_MS,
  AUDIT_OPERATION_TYPES,
  ApiKeySchema,
  AuditLogSchema,
  LIST_LIMIT_DEFAULT,
  LIST_LIMIT_MAX,
  LIST_LIMIT_MIN,
  OrganizationSchema,
  RESOURCE_TYPES,
  RoleBindingSchema,
  RoleDefinitionSchema,
  SpaceSchema,
  type ApiKey,
  type AuditLog,
  type Organization,
  type RoleBinding,
  type RoleDefinition,
  type Space,
} from '../../lambdas/arize/wire.js';
import { SeedError, encodeOpaqueId, type SeedUser } from './seed.js';

/** Who is calling: an admin key may do everything; a member key only what concerns its owner. */
export interface Principal {
  admin: boolean;
  /** The user the key belongs to (undefined for a key of an empty directory). */
  userId: string | undefined;
}

export type AccessReply = { status: number; body?: unknown } | { error: number; detail: string; allow?: string };

interface KeyRecord {
  key: ApiKey;
  /** SERVICE keys belong to a space; not part of the documented key shape. */
  spaceId: string | undefined;
}

interface BindingRecord {
  binding: RoleBinding;
  deleted: boolean;
}

const EPOCH = '2024-01-01T09:00:00.000Z';
const CURSOR_KEY = 'arize-sandbox-access-cursor';

function fixedId(kind: string, key: string): string {
  return encodeOpaqueId(kind, key);
}

const ORGANIZATION: Organization = { id: fixedId('Organization', '1'), name: 'Example Org', created_at: EPOCH };
const SPACES: readonly Space[] = ['Production', 'Research', 'Playground'].map((name, index) => ({
  id: fixedId('Space', String(index + 1)),
  name,
  org_id: ORGANIZATION.id,
  created_at: EPOCH,
}));
const ROLES: readonly RoleDefinition[] = [
  ...['ADMIN', 'MEMBER', 'READ_ONLY', 'ANNOTATOR'].map((name) => ({ id: fixedId('Role', name), name, is_predefined: true })),
  { id: fixedId('Role', 'custom-auditor'), name: 'Auditor', description: 'read-only access to evaluations', is_predefined: false },
];

export class AccessStore {
  readonly keys: KeyRecord[] = [];
  readonly bindings: BindingRecord[] = [];
  /** Oldest first; lists walk it backwards (newest first). */
  readonly logs: AuditLog[] = [];
  private counter = 0;

  constructor(seed: readonly SeedUser[]) {
    seed.forEach((user, index) => {
      user.api_keys?.forEach((key, keyIndex) => {
        const type = key.key_type ?? 'USER';
        let spaceId: string | undefined;
        if (key.space !== undefined) {
          const space = findSpace(key.space);
          if (!space) throw new SeedError(`seed[${index}].api_keys[${keyIndex}].space: no space "${key.space}" (${SPACES.map((s) => s.name).join(', ')})`);
          spaceId = space.id;
        } else if (type === 'SERVICE') {
          throw new SeedError(`seed[${index}].api_keys[${keyIndex}].space: required for a SERVICE key`);
        }
        this.addKey({ userId: user.id, name: key.name, type, spaceId, status: key.status ?? 'ACTIVE', createdAt: key.created_at ?? user.created_at, lastUsedAt: key.last_used_at });
      });
      user.role_bindings?.forEach((binding, bindingIndex) => {
        const role = ROLES.find((r) => r.id === binding.role || r.name.toUpperCase() === binding.role.toUpperCase());
        if (!role) throw new SeedError(`seed[${index}].role_bindings[${bindingIndex}].role: no role "${binding.role}" (${ROLES.map((r) => r.name).join(', ')})`);
        const type = binding.resource_type ?? 'SPACE';
        let resourceId = binding.resource;
        if (type === 'SPACE') {
          const space = findSpace(binding.resource);
          if (!space) throw new SeedError(`seed[${index}].role_bindings[${bindingIndex}].resource: no space "${binding.resource}"`);
          resourceId = space.id;
        }
        this.addBinding({ userId: user.id, roleId: role.id, resourceType: type, resourceId, createdAt: user.created_at });
      });
      user.activity?.forEach((entry) => {
        this.addLog({ userId: user.id, at: entry.at, operationType: entry.operation_type ?? 'QUERY', operationName: entry.operation_name });
      });
    });
  }

  addKey(input: {
    userId: string;
    name: string;
    type: ApiKey['key_type'];
    spaceId?: string;
    status?: ApiKey['status'];
    createdAt?: string;
    lastUsedAt?: string;
  }): ApiKey {
    const n = this.next();
    // The redacted form is derived, never a real secret: the sandbox has no secret to leak.
    const tail = createHash('sha256').update(`key-${n}`).digest('hex').slice(0, 4);
    const key: ApiKey = {
      id: fixedId('ApiKey', String(n)),
      name: input.name,
      key_type: input.type,
      status: input.status ?? 'ACTIVE',
      redacted_key: `ak-****${tail}`,
      created_at: input.createdAt ?? new Date().toISOString(),
      created_by_user_id: input.userId,
      ...(input.lastUsedAt === undefined ? {} : { last_used_at: input.lastUsedAt }),
    };
    this.keys.push({ key: ApiKeySchema.parse(key), spaceId: input.spaceId });
    return key;
  }

  addBinding(input: { userId: string; roleId: string; resourceType: RoleBinding['resource_type']; resourceId: string; createdAt?: string }): RoleBinding {
    const at = input.createdAt ?? new Date().toISOString();
    const binding: RoleBinding = {
      id: fixedId('RoleBinding', String(this.next())),
      role_id: input.roleId,
      user_id: input.userId,
      resource_type: input.resourceType,
      resource_id: input.resourceId,
      created_at: at,
      updated_at: at,
    };
    this.bindings.push({ binding: RoleBindingSchema.parse(binding), deleted: false });
    return binding;
  }

  addLog(input: { userId: string; at: string; operationType: AuditLog['operation_type']; operationName?: string }): AuditLog {
    const log: AuditLog = {
      id: fixedId('AuditLog', String(this.next())),
      user_id: input.userId,
      ip: '203.0.113.7',
      operation_type: input.operationType,
      ...(input.operationName === undefined ? {} : { operation_name: input.operationName }),
      created_at: new Date(input.at).toISOString(),
    };
    // Kept sorted by time so "newest first" is a backwards walk.
    const at = Date.parse(log.created_at);
    let index = this.logs.length;
    while (index > 0 && Date.parse(this.logs[index - 1]?.created_at ?? '') > at) index -= 1;
    this.logs.splice(index, 0, AuditLogSchema.parse(log));
    return log;
  }

  /** The user delete's cascade: their USER keys are revoked and their role bindings removed; SERVICE keys they created stay. */
  onUserDeleted(userId: string): void {
    const now = new Date().toISOString();
    for (const record of this.keys) {
      if (record.key.created_by_user_id === userId && record.key.key_type === 'USER') record.key = { ...record.key, status: 'REVOKED' };
    }
    for (const record of this.bindings) {
      if (record.binding.user_id === userId && !record.deleted) {
        record.deleted = true;
        record.binding = { ...record.binding, updated_at: now };
      }
    }
  }

  private next(): number {
    this.counter += 1;
    return this.counter;
  }
}

function findSpace(nameOrId: string): Space | undefined {
  return SPACES.find((s) => s.id === nameOrId || s.name.toLowerCase() === nameOrId.toLowerCase());
}

// ---- HTTP ---------------------------------------------------------------------------------------

function cursorMac(collection: string, position: number): string {
  return createHmac('sha256', CURSOR_KEY).update(`${collection}:${position}`).digest('base64url').slice(0, 12);
}

function encodeCursor(collection: string, position: number): string {
  return Buffer.from(`a1:${collection}:${position}:${cursorMac(collection, position)}`).toString('base64url');
}

function decodeCursor(collection: string, cursor: string, size: number): number | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  const parts = Buffer.from(cursor, 'base64url').toString('utf8').split(':');
  if (parts.length !== 4 || parts[0] !== 'a1' || parts[1] !== collection || !/^(0|[1-9]\d{0,9})$/.test(parts[2] ?? '')) return undefined;
  const position = Number(parts[2]);
  return parts[3] === cursorMac(collection, position) && position < size ? position : undefined;
}

type Query = { limit: number; after: number | undefined };

function parsePaging(params: URLSearchParams, collection: string, size: number): Query | { error: number; detail: string } {
  for (const single of ['limit', 'cursor']) {
    if (params.getAll(single).length > 1) return { error: 400, detail: `${single}: may be given only once` };
  }
  let limit = LIST_LIMIT_DEFAULT;
  const limitText = params.get('limit');
  if (limitText !== null) {
    if (!/^\d{1,4}$/.test(limitText) || Number(limitText) < LIST_LIMIT_MIN || Number(limitText) > LIST_LIMIT_MAX) {
      return { error: 400, detail: `limit: must be an integer between ${LIST_LIMIT_MIN} and ${LIST_LIMIT_MAX}` };
    }
    limit = Number(limitText);
  }
  const cursor = params.get('cursor');
  if (cursor === null) return { limit, after: undefined };
  const after = decodeCursor(collection, cursor, size);
  if (after === undefined) return { error: 400, detail: 'cursor: invalid or expired; pass pagination.next_cursor from a previous page' };
  return { limit, after };
}

/** One page over an append-only array; `newestFirst` walks it backwards. Positions are array indices. */
function paginate<T, W>(
  items: readonly T[],
  keep: (item: T) => boolean,
  wire: (item: T) => W,
  query: Query,
  collection: string,
  newestFirst = false,
): { page: W[]; pagination: { has_more: boolean; next_cursor?: string } } {
  const page: W[] = [];
  let last: number | undefined;
  const step = newestFirst ? -1 : 1;
  let index = query.after === undefined ? (newestFirst ? items.length - 1 : 0) : query.after + step;
  for (; index >= 0 && index < items.length; index += step) {
    const item = items[index];
    if (item === undefined || !keep(item)) continue;
    if (page.length === query.limit) return { page, pagination: { has_more: true, next_cursor: encodeCursor(collection, last ?? index) } };
    page.push(wire(item));
    last = index;
  }
  return { page, pagination: { has_more: false } };
}

function strictEnum<const T extends readonly string[]>(params: URLSearchParams, name: string, values: T): T[number] | undefined | { error: number; detail: string } {
  const all = params.getAll(name);
  if (all.length === 0) return undefined;
  if (all.length > 1) return { error: 400, detail: `${name}: may be given only once` };
  const value = all[0] ?? '';
  // Enums are upper case on the wire; the API rejects `user` for `USER`.
  const known = values.find((v) => v === value);
  return known ?? { error: 400, detail: `${name}: expected one of ${values.join('|')} (upper case), got "${value.slice(0, 40)}"` };
}

function isError(value: unknown): value is { error: number; detail: string } {
  return typeof value === 'object' && value !== null && 'error' in value;
}

const FORBIDDEN_ADMIN = 'this API key lacks account admin rights for this operation';

export function handleAccess(
  store: AccessStore,
  method: string,
  segments: readonly string[],
  params: URLSearchParams,
  principal: Principal,
  options: { auditLogging: boolean; now: () => number },
): AccessReply {
  const [collection, rawId, action, ...extra] = segments;
  let id: string | undefined;
  if (rawId !== undefined) {
    try {
      id = decodeURIComponent(rawId);
    } catch {
      return { error: 404, detail: 'no such resource' };
    }
  }
  if (extra.length > 0) return { error: 404, detail: 'no such endpoint' };
  const onlyGet = (reply: () => AccessReply): AccessReply => (method === 'GET' ? reply() : { error: 405, detail: `method ${method} is not allowed here; allowed: GET`, allow: 'GET' });
  switch (collection) {
    case 'api-keys':
      if (id === undefined) return onlyGet(() => listKeys(store, params, principal));
      if (action === 'revoke') {
        if (method !== 'PUT') return { error: 405, detail: `method ${method} is not allowed here; allowed: PUT`, allow: 'PUT' };
        return revokeKey(store, id, principal);
      }
      return { error: 404, detail: 'no such endpoint' };
    case 'role-bindings':
      if (action !== undefined) return { error: 404, detail: 'no such endpoint' };
      if (id === undefined) return onlyGet(() => listBindings(store, params, principal));
      return bindingById(store, method, id, principal);
    case 'roles': {
      if (action !== undefined) return { error: 404, detail: 'no such endpoint' };
      if (id !== undefined) {
        return onlyGet(() => {
          const role = ROLES.find((r) => r.id === id);
          return role ? { status: 200, body: RoleDefinitionSchema.parse(role) } : { error: 404, detail: `role_id: no role ${id}` };
        });
      }
      return onlyGet(() => {
        const paging = parsePaging(params, 'roles', ROLES.length);
        if (isError(paging)) return paging;
        const predefined = params.get('is_predefined');
        if (predefined !== null && predefined !== 'true' && predefined !== 'false') return { error: 400, detail: 'is_predefined: expected true or false' };
        const { page, pagination } = paginate(ROLES, (r) => predefined === null || String(r.is_predefined) === predefined, (r) => r, paging, 'roles');
        return { status: 200, body: { roles: page, pagination } };
      });
    }
    case 'spaces':
      if (id !== undefined) return { error: 404, detail: 'no such endpoint' };
      return onlyGet(() => {
        const paging = parsePaging(params, 'spaces', SPACES.length);
        if (isError(paging)) return paging;
        const orgId = params.get('org_id');
        const name = params.get('name');
        const { page, pagination } = paginate(SPACES, (s) => (orgId === null || s.org_id === orgId) && (name === null || s.name === name), (s) => SpaceSchema.parse(s), paging, 'spaces');
        return { status: 200, body: { spaces: page, pagination } };
      });
    case 'organizations':
      if (id !== undefined) return { error: 404, detail: 'no such endpoint' };
      return onlyGet(() => {
        const paging = parsePaging(params, 'organizations', 1);
        if (isError(paging)) return paging;
        const name = params.get('name');
        const { page, pagination } = paginate([ORGANIZATION], (o) => name === null || o.name === name, (o) => OrganizationSchema.parse(o), paging, 'organizations');
        return { status: 200, body: { organizations: page, pagination } };
      });
    case 'audit-logs':
      if (id !== undefined) return { error: 404, detail: 'no such endpoint' };
      return onlyGet(() => listLogs(store, params, principal, options));
    default:
      return { error: 404, detail: 'no such endpoint' };
  }
}

function listKeys(store: AccessStore, params: URLSearchParams, principal: Principal): AccessReply {
  const type = strictEnum(params, 'key_type', API_KEY_TYPES);
  if (isError(type)) return type;
  const status = strictEnum(params, 'status', API_KEY_STATUSES);
  if (isError(status)) return status;
  const keyType = type ?? 'USER';
  const wantedStatus = status ?? 'ACTIVE';
  const spaceId = params.get('space_id');
  const userId = params.get('user_id');
  if (keyType === 'SERVICE' && (spaceId === null || spaceId.length === 0)) {
    return { error: 400, detail: 'space_id: required when key_type is SERVICE' };
  }
  if (keyType === 'USER' && userId !== null && userId !== principal.userId && !principal.admin) {
    return { error: 403, detail: `user_id: ${FORBIDDEN_ADMIN}` };
  }
  // Without user_id, USER keys are the caller's own (an admin sees everyone's only by asking per user).
  const owner = keyType === 'USER' ? (userId ?? principal.userId) : userId;
  const paging = parsePaging(params, 'api-keys', store.keys.length);
  if (isError(paging)) return paging;
  const { page, pagination } = paginate(
    store.keys,
    (r) =>
      r.key.key_type === keyType &&
      r.key.status === wantedStatus &&
      (owner === null || owner === undefined || r.key.created_by_user_id === owner) &&
      (keyType === 'USER' || r.spaceId === spaceId),
    (r) => ApiKeySchema.parse(r.key),
    paging,
    'api-keys',
  );
  return { status: 200, body: { api_keys: page, pagination } };
}

function revokeKey(store: AccessStore, id: string, principal: Principal): AccessReply {
  const record = store.keys.find((r) => r.key.id === id);
  if (!record) return { error: 404, detail: `api_key_id: no API key ${id}` };
  if (!principal.admin && record.key.created_by_user_id !== principal.userId) return { error: 403, detail: FORBIDDEN_ADMIN };
  // Idempotent: revoking a revoked key answers 204 again.
  record.key = { ...record.key, status: 'REVOKED' };
  return { status: 204 };
}

function listBindings(store: AccessStore, params: URLSearchParams, principal: Principal): AccessReply {
  const type = strictEnum(params, 'resource_type', RESOURCE_TYPES);
  if (isError(type)) return type;
  if (type === undefined) return { error: 400, detail: `resource_type: required, one of ${RESOURCE_TYPES.join('|')}` };
  const userId = params.get('user_id');
  if (!principal.admin && (userId === null || userId !== principal.userId)) {
    return { error: 403, detail: `user_id: ${FORBIDDEN_ADMIN} (a member key may list only its own bindings)` };
  }
  const paging = parsePaging(params, 'role-bindings', store.bindings.length);
  if (isError(paging)) return paging;
  const { page, pagination } = paginate(
    store.bindings,
    (r) => !r.deleted && r.binding.resource_type === type && (userId === null || r.binding.user_id === userId),
    (r) => RoleBindingSchema.parse(r.binding),
    paging,
    'role-bindings',
  );
  return { status: 200, body: { role_bindings: page, pagination } };
}

function bindingById(store: AccessStore, method: string, id: string, principal: Principal): AccessReply {
  if (method !== 'GET' && method !== 'DELETE') return { error: 405, detail: `method ${method} is not allowed here; allowed: GET, DELETE`, allow: 'GET, DELETE' };
  const record = store.bindings.find((r) => r.binding.id === id && !r.deleted);
  if (!record) return { error: 404, detail: `binding_id: no role binding ${id}` };
  if (!principal.admin && (method === 'DELETE' || record.binding.user_id !== principal.userId)) return { error: 403, detail: FORBIDDEN_ADMIN };
  if (method === 'GET') return { status: 200, body: RoleBindingSchema.parse(record.binding) };
  record.deleted = true;
  return { status: 204 };
}

function listLogs(
  store: AccessStore,
  params: URLSearchParams,
  principal: Principal,
  options: { auditLogging: boolean; now: () => number },
): AccessReply {
  if (!principal.admin) return { error: 403, detail: `audit logs: ${FORBIDDEN_ADMIN}` };
  if (!options.auditLogging) return { error: 403, detail: 'audit logs: audit logging is not enabled for this account' };
  const operation = strictEnum(params, 'operation_type', AUDIT_OPERATION_TYPES);
  if (isError(operation)) return operation;
  const time = (name: string): number | undefined | { error: number; detail: string } => {
    const text = params.get(name);
    if (text === null) return undefined;
    const ms = /^\d{4}-\d{2}-\d{2}T/.test(text) ? Date.parse(text) : Number.NaN;
    return Number.isNaN(ms) ? { error: 400, detail: `${name}: expected an ISO-8601 date-time` } : ms;
  };
  const end = time('end_time');
  if (isError(end)) return end;
  const start = time('start_time');
  if (isError(start)) return start;
  const endMs = end ?? options.now();
  const startMs = start ?? endMs - AUDIT_LOG_DEFAULT_WINDOW_MS;
  if (startMs > endMs) return { error: 400, detail: 'start_time: must not be after end_time' };
  const userId = params.get('user_id');
  const paging = parsePaging(params, 'audit-logs', store.logs.length);
  if (isError(paging)) return paging;
  const { page, pagination } = paginate(
    store.logs,
    (log) => {
      const at = Date.parse(log.created_at);
      return at >= startMs && at <= endMs && (userId === null || log.user_id === userId) && (operation === undefined || log.operation_type === operation);
    },
    (log) => AuditLogSchema.parse(log),
    paging,
    'audit-logs',
    true,
  );
  return { status: 200, body: { logs: page, pagination } };
}

export { ROLES as SANDBOX_ROLES, SPACES as SANDBOX_SPACES, ORGANIZATION as SANDBOX_ORGANIZATION };
