/**
 * A faithful Arize users API (REST v2) sandbox over real HTTP, for tests, demos and benches.
 * Every rule follows ../shared/arize-api.md; sandbox-only choices are listed in ./README.md.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { z } from 'zod';
import { hasEmailSyntax } from '../../lambdas/core/email.js';
import {
  CreateUserRequestSchema,
  CreateUserResponseSchema,
  DEFAULT_LIST_STATUSES,
  EMAIL_FILTER_MAX,
  LIST_LIMIT_DEFAULT,
  LIST_LIMIT_MAX,
  LIST_LIMIT_MIN,
  ListUsersResponseSchema,
  UpdateUserRequestSchema,
  USER_STATUSES,
  type InviteMode,
  type ProblemDetails,
  type User,
  type UserStatus,
} from '../../lambdas/arize/wire.js';
import { AccessStore, handleAccess, type Principal } from './access.js';
import { FaultPlan, TokenBucket } from './knobs.js';
import { defaultIsDeveloper, demoDirectory, parseSeed, type SeedUser } from './seed.js';
import { DirectoryConflictError, UserDirectory, toWire, type StoredUser, type UserRecord } from './store.js';

export { demoDirectory, generateDirectory, parseSeed, SeedError, withDemoAccess, type SeedUser } from './seed.js';
export { SANDBOX_ORGANIZATION, SANDBOX_ROLES, SANDBOX_SPACES, type AccessStore } from './access.js';
export type { StoredUser } from './store.js';

/** It is a sandbox: a fixed, printable key keeps demos copy-pasteable. */
export const DEFAULT_SANDBOX_API_KEY = 'sandbox-demo-key';

export interface SandboxOptions {
  /** Default 0 (ephemeral); the host is always 127.0.0.1. */
  port?: number;
  /** Wire-shaped users; default: the built-in demo directory. Validated like a `--seed` file. */
  seed?: SeedUser[];
  /** The accepted bearer token; it belongs to the FIRST seed user, who cannot delete themself. */
  apiKey?: string;
  /** Added to every response. Default 0. */
  latencyMs?: number;
  /** Token bucket in requests per second (burst = one second's worth); 429 + Retry-After. Default off. */
  rateLimit?: number;
  /** Probability (0..1) of a 503 instead of the real answer. Default 0. */
  errorRate?: number;
  /** Injectable RNG for errorRate. */
  random?: () => number;
  /** Injectable clock (epoch ms) for the rate limiter, so rate-limit tests need no real waiting. */
  now?: () => number;
  /**
   * More keys besides `apiKey` (which is an admin key of the first seed user). A key with
   * `admin: false` gets 403 on delete, on `is_developer` changes, on invitations and on reading
   * users that are not ACTIVE. `owner` (id or email) defaults to the first ACTIVE non-admin user.
   */
  keys?: { key: string; admin: boolean; owner?: string }[];
  /** Whether `/v2/audit-logs` answers (true, the default) or 403s as for an account without audit logging. */
  auditLogging?: boolean;
}

export type RouteKey = 'list' | 'get' | 'create' | 'update' | 'delete' | 'resend' | 'reset';

export interface SandboxCounters {
  total: number;
  byRoute: Record<string, number>;
  /** By HTTP status ('200', '429', ...); a dropped connection counts as 'dropped', a dropped answer as 'dropped-after-apply'. */
  status: Record<string, number>;
  reset(): void;
}

export interface Sandbox {
  url: string;
  port: number;
  apiKey: string;
  close(): Promise<void>;
  faults: {
    /**
     * The next `times` GET/DELETE of that user's id, and list calls filtering on exactly its email, fail with `status`
     * (default 503); with `route`, only that route of the id (e.g. the DELETE, not the read-back around it).
     */
    failUser(idOrEmail: string, times: number, status?: number, opts?: { retryAfterSeconds?: number; route?: 'get' | 'delete' }): void;
    /** The next `times` requests get their socket destroyed without a response (nothing applied). */
    dropConnections(times: number): void;
    /**
     * The next `times` requests (of `route` when given) are applied — a create creates — and then
     * their socket is destroyed instead of answering: the client cannot know what happened.
     */
    dropResponses(times: number, route?: RouteKey): void;
    /** The next `times` DELETEs of that user (id or email) answer 204 but delete nothing (a lost write on Arize's side). */
    ignoreDeletes(idOrEmail: string, times: number): void;
    clear(): void;
  };
  counters: SandboxCounters;
  store: {
    /** Snapshots of every account (deleted ones included), oldest first. */
    users(): StoredUser[];
    /** Inserts an account directly (defaults like a seed entry; it becomes the newest). */
    add(user: Partial<User> & { email: string; sso?: boolean; deleted?: boolean }): User;
    /** One account by id or (case-insensitive) email, deleted ones included. */
    find(idOrEmail: string): StoredUser | undefined;
  };
  /** The access data (API keys, role bindings, audit logs) behind the access endpoints. */
  access: AccessStore;
}

const MAX_BODY_BYTES = 1024 * 1024;

const STATUS_TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

interface Reply {
  status: number;
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
}

function problem(status: number, detail: string, instance: string, headers?: Record<string, string>): Reply {
  const body: ProblemDetails = { title: STATUS_TITLES[status] ?? `HTTP ${status}`, status, detail, instance };
  return { status, body, contentType: 'application/problem+json', headers };
}

type RouteMatch =
  | { kind: 'route'; key: RouteKey; userId?: string }
  | { kind: 'not-found' }
  | { kind: 'method-not-allowed'; allow: string };

function matchRoute(method: string, pathname: string): RouteMatch {
  const segments = pathname.split('/');
  // ['', 'v2', 'users', ...]
  if (segments.length < 3 || segments[0] !== '' || segments[1] !== 'v2' || segments[2] !== 'users') {
    return { kind: 'not-found' };
  }
  const rest = segments.slice(3);
  if (rest.length === 0) {
    if (method === 'GET') return { kind: 'route', key: 'list' };
    if (method === 'POST') return { kind: 'route', key: 'create' };
    return { kind: 'method-not-allowed', allow: 'GET, POST' };
  }
  const rawId = rest[0] ?? '';
  let userId: string;
  try {
    userId = decodeURIComponent(rawId);
  } catch {
    return { kind: 'not-found' };
  }
  if (userId.length === 0) return { kind: 'not-found' };
  if (rest.length === 1) {
    if (method === 'GET') return { kind: 'route', key: 'get', userId };
    if (method === 'PATCH') return { kind: 'route', key: 'update', userId };
    if (method === 'DELETE') return { kind: 'route', key: 'delete', userId };
    return { kind: 'method-not-allowed', allow: 'GET, PATCH, DELETE' };
  }
  if (rest.length === 2 && (rest[1] === 'resend-invitation' || rest[1] === 'reset-password')) {
    if (method !== 'POST') return { kind: 'method-not-allowed', allow: 'POST' };
    return { kind: 'route', key: rest[1] === 'resend-invitation' ? 'resend' : 'reset', userId };
  }
  return { kind: 'not-found' };
}

/** `field: message` for every issue, so the caller knows exactly what to fix. */
function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      const field = issue.path.length > 0 ? issue.path.map(String).join('.') : 'body';
      if (issue.code === 'unrecognized_keys') {
        return `${field}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      }
      if (issue.code === 'invalid_type' && issue.message.endsWith('received undefined')) return `${field}: required`;
      return `${field}: ${issue.message}`;
    })
    .join('; ');
}

function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const mediaType = header.split(';')[0]?.trim().toLowerCase() ?? '';
  return mediaType === 'application/json' || /^application\/[\w.-]+\+json$/.test(mediaType);
}

function validateOptions(options: SandboxOptions): void {
  const { port, latencyMs, rateLimit, errorRate, apiKey } = options;
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) {
    throw new RangeError(`startSandbox: port must be an integer 0..65535, got ${port}`);
  }
  if (latencyMs !== undefined && (!Number.isFinite(latencyMs) || latencyMs < 0)) {
    throw new RangeError(`startSandbox: latencyMs must be a number >= 0, got ${latencyMs}`);
  }
  if (rateLimit !== undefined && (!Number.isFinite(rateLimit) || rateLimit <= 0)) {
    throw new RangeError(`startSandbox: rateLimit must be a number of requests per second > 0, got ${rateLimit}`);
  }
  if (errorRate !== undefined && (!Number.isFinite(errorRate) || errorRate < 0 || errorRate > 1)) {
    throw new RangeError(`startSandbox: errorRate must be between 0 and 1, got ${errorRate}`);
  }
  if (apiKey !== undefined && (apiKey.length === 0 || /\s/.test(apiKey))) {
    throw new RangeError('startSandbox: apiKey must be a non-empty string without whitespace');
  }
}

function readBody(req: IncomingMessage): Promise<{ text: string; tooLarge: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Keep draining past the limit so the 413 can still be written on a healthy socket.
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve({ text: tooLarge ? '' : Buffer.concat(chunks).toString('utf8'), tooLarge }));
    req.on('error', reject);
  });
}

function sleep(ms: number): Promise<void> {
  // Unref'd: a pending latency timer must never keep a closed sandbox's process alive.
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  validateOptions(options);
  const seed = parseSeed(options.seed ?? demoDirectory());
  const apiKey = options.apiKey ?? DEFAULT_SANDBOX_API_KEY;
  const latencyMs = options.latencyMs ?? 0;
  const errorRate = options.errorRate ?? 0;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const directory = new UserDirectory(seed);
  const ownerId = seed[0]?.id;
  const access = new AccessStore(seed);
  const principals = new Map<string, Principal>([[apiKey, { admin: true, userId: ownerId }]]);
  for (const extra of options.keys ?? []) {
    if (extra.key.length === 0 || /\s/.test(extra.key) || principals.has(extra.key)) {
      throw new RangeError('startSandbox: keys[].key must be a distinct non-empty string without whitespace');
    }
    const owner =
      extra.owner === undefined
        ? seed.find((u) => u.status === 'ACTIVE' && !u.deleted && !(u.role.type === 'PREDEFINED' && u.role.name === 'ADMIN'))
        : seed.find((u) => u.id === extra.owner || u.email.toLowerCase() === extra.owner?.toLowerCase());
    if (extra.owner !== undefined && !owner) throw new RangeError(`startSandbox: keys[].owner ${extra.owner} is not a seed user`);
    principals.set(extra.key, { admin: extra.admin, userId: owner?.id });
  }
  const auditLogging = options.auditLogging ?? true;
  const bucket = options.rateLimit === undefined ? undefined : new TokenBucket(options.rateLimit, now);
  const faultPlan = new FaultPlan((idOrEmail) => {
    const record = directory.findById(idOrEmail) ?? (idOrEmail.includes('@') ? directory.findByEmail(idOrEmail) : undefined);
    if (record) return { id: record.user.id, email: record.user.email };
    return idOrEmail.includes('@') ? { email: idOrEmail } : { id: idOrEmail };
  });

  const counters: SandboxCounters = {
    total: 0,
    byRoute: {},
    status: {},
    reset() {
      counters.total = 0;
      for (const key of Object.keys(counters.byRoute)) delete counters.byRoute[key];
      for (const key of Object.keys(counters.status)) delete counters.status[key];
    },
  };
  const bump = (record: Record<string, number>, key: string): void => {
    record[key] = (record[key] ?? 0) + 1;
  };

  function authenticate(req: IncomingMessage, instance: string): Reply | Principal {
    const header = req.headers.authorization;
    const match = header === undefined ? null : /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    if (!match?.[1]) {
      return problem(401, 'missing or malformed Authorization header; expected "Bearer <api key>"', instance, {
        'WWW-Authenticate': 'Bearer realm="arize"',
      });
    }
    const presented = match[1];
    for (const [key, principal] of principals) {
      if (safeEqual(presented, key)) return principal;
    }
    return problem(401, 'invalid API key', instance, { 'WWW-Authenticate': 'Bearer realm="arize", error="invalid_token"' });
  }

  function parseJsonBody(req: IncomingMessage, body: string, instance: string): { value: unknown } | { reply: Reply } {
    if (!isJsonContentType(req.headers['content-type'])) {
      return {
        reply: problem(
          415,
          `content-type: expected application/json, got ${req.headers['content-type'] ?? 'none'}`,
          instance,
        ),
      };
    }
    if (body.trim().length === 0) return { reply: problem(400, 'body: required, a JSON object', instance) };
    try {
      return { value: JSON.parse(body) as unknown };
    } catch (error) {
      return { reply: problem(400, `body: malformed JSON (${error instanceof Error ? error.message : 'parse error'})`, instance) };
    }
  }

  function handleList(url: URL, instance: string): Reply {
    const params = url.searchParams;
    for (const single of ['limit', 'cursor', 'email']) {
      if (params.getAll(single).length > 1) return problem(400, `${single}: may be given only once`, instance);
    }
    let limit = LIST_LIMIT_DEFAULT;
    const limitText = params.get('limit');
    if (limitText !== null) {
      if (!/^\d{1,4}$/.test(limitText) || Number(limitText) < LIST_LIMIT_MIN || Number(limitText) > LIST_LIMIT_MAX) {
        return problem(400, `limit: must be an integer between ${LIST_LIMIT_MIN} and ${LIST_LIMIT_MAX}, got "${limitText.slice(0, 20)}"`, instance);
      }
      limit = Number(limitText);
    }
    let after: number | undefined;
    const cursor = params.get('cursor');
    if (cursor !== null) {
      after = directory.decodeCursor(cursor);
      if (after === undefined) return problem(400, 'cursor: invalid or expired; pass pagination.next_cursor from a previous page', instance);
    }
    const email = params.get('email');
    if (email !== null && email.length > EMAIL_FILTER_MAX) {
      return problem(400, `email: filter must be at most ${EMAIL_FILTER_MAX} characters, got ${email.length}`, instance);
    }
    const statusValues = params.getAll('status');
    const statuses = new Set<UserStatus>(statusValues.length === 0 ? DEFAULT_LIST_STATUSES : []);
    for (const value of statusValues) {
      // Enums are upper case on the wire: the API answers 400 to `status=active`.
      const known = USER_STATUSES.find((status) => status === value);
      if (!known) {
        return problem(400, `status: expected one of ${USER_STATUSES.join('|')} (upper case), got "${value.slice(0, 40)}"`, instance);
      }
      statuses.add(known);
    }
    if (email !== null && email.length > 0) {
      const failure = faultPlan.takeForEmailFilter(email);
      if (failure) return injected(failure, instance);
    }
    const page = directory.list({
      statuses,
      emailSubstring: email === null ? undefined : email,
      limit,
      after,
    });
    const pagination =
      page.hasMore && page.lastPosition !== undefined
        ? { has_more: true, next_cursor: directory.encodeCursor(page.lastPosition) }
        : { has_more: false };
    return { status: 200, body: ListUsersResponseSchema.parse({ users: page.users, pagination }) };
  }

  function handleCreate(value: unknown, instance: string): Reply {
    const parsed = CreateUserRequestSchema.safeParse(value);
    if (!parsed.success) return problem(400, describeIssues(parsed.error.issues), instance);
    const request = parsed.data;
    if (request.role.type === 'CUSTOM') return problem(422, 'role: custom roles not yet supported; use a PREDEFINED role', instance);
    if (request.name.trim().length === 0) return problem(422, 'name: must not be blank', instance);
    if (/^[\t\n\v\f\r ]|[\t\n\v\f\r ]$/.test(request.email) || !hasEmailSyntax(request.email)) {
      return problem(422, 'email: not a valid email address', instance);
    }
    const existing = directory.findByEmail(request.email);
    if (existing?.deleted) {
      return problem(409, 'email: belongs to a deactivated user; deleted users cannot be invited again', instance);
    }
    if (existing?.user.status === 'ACTIVE') {
      return problem(409, 'email: already belongs to an active member of this account', instance);
    }
    if (existing?.user.status === 'INVITED') {
      // Email is the idempotency key: the pending invitation is returned unchanged.
      return { status: 200, body: toWire(existing) };
    }
    const status: UserStatus = request.invite_mode === 'NONE' ? 'ACTIVE' : 'INVITED';
    const isDeveloper = request.is_developer;
    let record: UserRecord;
    if (existing) {
      // EXPIRED: a fresh invitation for the same account (same id, same creation time).
      existing.user = {
        ...existing.user,
        name: request.name,
        role: request.role,
        status,
        is_developer: isDeveloper ?? defaultIsDeveloper(request.role),
      };
      existing.sso = request.invite_mode === 'NONE';
      record = existing;
    } else {
      try {
        record = directory.create({
          name: request.name,
          email: request.email,
          role: request.role,
          status,
          isDeveloper,
          sso: request.invite_mode === 'NONE',
        });
      } catch (error) {
        if (error instanceof DirectoryConflictError) return problem(409, `email: ${error.message}`, instance);
        throw error;
      }
    }
    return { status: 201, body: createResponse(record, request.invite_mode) };
  }

  function createResponse(record: UserRecord, inviteMode: InviteMode): unknown {
    const body: Record<string, unknown> = { ...toWire(record), invite_mode: inviteMode };
    if (inviteMode === 'TEMPORARY_PASSWORD') body.temporary_password = `Tmp-${randomBytes(12).toString('base64url')}`;
    return CreateUserResponseSchema.parse(body);
  }

  function handleUpdate(record: UserRecord, value: unknown, instance: string, principal: Principal): Reply {
    const parsed = UpdateUserRequestSchema.safeParse(value);
    if (!parsed.success) return problem(400, describeIssues(parsed.error.issues), instance);
    if (!principal.admin && (parsed.data.is_developer !== undefined || record.user.id !== principal.userId)) {
      return problem(403, `${parsed.data.is_developer !== undefined ? 'is_developer' : 'user_id'}: this API key lacks account admin rights for this change`, instance);
    }
    if (parsed.data.name !== undefined && parsed.data.name.trim().length === 0) {
      return problem(400, 'name: must not be blank', instance);
    }
    record.user = {
      ...record.user,
      ...(parsed.data.name === undefined ? {} : { name: parsed.data.name }),
      ...(parsed.data.is_developer === undefined ? {} : { is_developer: parsed.data.is_developer }),
    };
    return { status: 200, body: toWire(record) };
  }

  function handleDelete(userId: string, instance: string, principal: Principal): Reply {
    if (!principal.admin) return problem(403, 'user_id: this API key lacks account admin rights to delete users', instance);
    const record = directory.findById(userId);
    if (!record) return problem(404, `user_id: no user ${userId} in this account`, instance);
    if (record.user.id === principal.userId) {
      return problem(400, 'user_id: you cannot delete yourself (this user owns the API key)', instance);
    }
    if (faultPlan.takeIgnoredDelete(record.user.id)) return { status: 204 };
    // Soft delete, idempotent: an already deleted user answers 204 again.
    record.deleted = true;
    access.onUserDeleted(record.user.id);
    return { status: 204 };
  }

  function handleResend(record: UserRecord, instance: string): Reply {
    if (record.user.status === 'ACTIVE') return problem(400, 'user_id: user has already verified their account', instance);
    if (record.user.status !== 'INVITED') {
      return problem(400, `user_id: user is ${record.user.status}, only INVITED users can get their invitation again`, instance);
    }
    return { status: 204 };
  }

  function handleReset(record: UserRecord, instance: string): Reply {
    if (record.sso) return problem(400, 'user_id: user signs in with SSO and has no password to reset', instance);
    if (record.user.status !== 'ACTIVE') {
      return problem(400, `user_id: user is ${record.user.status} and has not verified their account yet`, instance);
    }
    return { status: 204 };
  }

  function injected(failure: { status: number; retryAfterSeconds?: number }, instance: string): Reply {
    const headers = failure.retryAfterSeconds === undefined ? undefined : { 'Retry-After': String(failure.retryAfterSeconds) };
    return problem(failure.status, 'injected failure (sandbox fault)', instance, headers);
  }

  function dispatch(req: IncomingMessage, route: RouteMatch, url: URL, body: { text: string; tooLarge: boolean }): Reply {
    const instance = url.pathname;
    const principal = authenticate(req, instance);
    if ('status' in principal) return principal;
    if (route.kind === 'not-found') {
      const segments = url.pathname.split('/');
      if (segments[0] === '' && segments[1] === 'v2' && segments.length > 2 && !body.tooLarge) {
        const answer = handleAccess(access, req.method ?? 'GET', segments.slice(2), url.searchParams, principal, {
          auditLogging,
          now,
        });
        if ('error' in answer) {
          return problem(answer.error, answer.detail, instance, answer.allow === undefined ? undefined : { Allow: answer.allow });
        }
        return answer;
      }
      return problem(404, `no such endpoint: ${url.pathname}`, instance);
    }
    if (route.kind === 'method-not-allowed') {
      return problem(405, `method ${req.method ?? ''} is not allowed here; allowed: ${route.allow}`, instance, { Allow: route.allow });
    }
    if (body.tooLarge) return problem(413, `body: larger than ${MAX_BODY_BYTES} bytes`, instance);
    const userId = route.userId;
    if (userId !== undefined && (route.key === 'get' || route.key === 'delete')) {
      const failure = faultPlan.takeForId(userId, route.key);
      if (failure) return injected(failure, instance);
    }
    switch (route.key) {
      case 'list':
        return handleList(url, instance);
      case 'create': {
        if (!principal.admin) return problem(403, 'this API key lacks account admin rights to invite users', instance);
        const json = parseJsonBody(req, body.text, instance);
        return 'reply' in json ? json.reply : handleCreate(json.value, instance);
      }
      case 'delete':
        return handleDelete(userId ?? '', instance, principal);
      default: {
        const record = directory.getVisible(userId ?? '');
        if (!record) return problem(404, `user_id: no user ${userId ?? ''} in this account`, instance);
        // Sandbox choice: a member key sees ACTIVE users and itself; invitations are admin business.
        if (!principal.admin && record.user.status !== 'ACTIVE' && record.user.id !== principal.userId) {
          return problem(403, 'user_id: this API key may not read this user', instance);
        }
        if (!principal.admin && (route.key === 'resend' || route.key === 'reset')) {
          return problem(403, 'this API key lacks account admin rights for this operation', instance);
        }
        if (route.key === 'get') return { status: 200, body: toWire(record) };
        if (route.key === 'resend') return handleResend(record, instance);
        if (route.key === 'reset') return handleReset(record, instance);
        const json = parseJsonBody(req, body.text, instance);
        return 'reply' in json ? json.reply : handleUpdate(record, json.value, instance, principal);
      }
    }
  }

  function send(res: ServerResponse, reply: Reply): void {
    bump(counters.status, String(reply.status));
    const headers: Record<string, string> = { ...reply.headers };
    if (reply.body === undefined) {
      res.writeHead(reply.status, headers);
      res.end();
      return;
    }
    const payload = JSON.stringify(reply.body);
    headers['Content-Type'] = `${reply.contentType ?? 'application/json'}; charset=utf-8`;
    headers['Content-Length'] = String(Buffer.byteLength(payload));
    res.writeHead(reply.status, headers);
    res.end(payload);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    counters.total += 1;
    const method = req.method ?? 'GET';
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://sandbox.invalid');
    } catch {
      url = new URL('http://sandbox.invalid/');
    }
    const route = matchRoute(method, url.pathname);
    if (route.kind === 'route') bump(counters.byRoute, route.key);
    if (faultPlan.takeDrop()) {
      bump(counters.status, 'dropped');
      req.socket.destroy();
      return;
    }
    const admission = bucket?.take() ?? { allowed: true as const };
    const body = await readBody(req);
    if (latencyMs > 0) await sleep(latencyMs);
    let reply: Reply;
    if (!admission.allowed) {
      reply = problem(429, 'rate limit exceeded; retry after the number of seconds in Retry-After', url.pathname, {
        'Retry-After': String(admission.retryAfterSeconds),
      });
    } else if (errorRate > 0 && random() < errorRate) {
      reply = problem(503, 'the service is temporarily unavailable (sandbox error rate)', url.pathname);
    } else {
      reply = dispatch(req, route, url, body);
      if (faultPlan.takeResponseDrop(route.kind === 'route' ? route.key : undefined)) {
        bump(counters.status, 'dropped-after-apply');
        req.socket.destroy();
        return;
      }
    }
    send(res, reply);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // Only a sandbox bug lands here; bad input always has its own 4xx above.
      if (!res.headersSent && !res.destroyed) {
        send(res, problem(500, `sandbox error: ${error instanceof Error ? error.message : String(error)}`, req.url ?? '/'));
      } else {
        res.destroy();
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeAllConnections();
    });
    return closing;
  };

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    apiKey,
    close,
    faults: {
      failUser: (idOrEmail, times, status, opts) => faultPlan.failUser(idOrEmail, times, status, opts),
      dropConnections: (times) => faultPlan.dropConnections(times),
      dropResponses: (times, routeKey) => faultPlan.dropResponses(times, routeKey),
      ignoreDeletes: (idOrEmail, times) => faultPlan.ignoreDeletes(idOrEmail, times),
      clear: () => faultPlan.clear(),
    },
    counters,
    access,
    store: {
      users: () => directory.snapshot(),
      add: (user) => directory.addForTest(user),
      find: (idOrEmail) => {
        const record = directory.findById(idOrEmail) ?? directory.findByEmail(idOrEmail);
        return record ? { ...toWire(record), deleted: record.deleted, sso: record.sso } : undefined;
      },
    },
  };
}
