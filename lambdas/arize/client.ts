/**
 * The Arize users API client: every operation of the SDK's `client.users`, plus email
 * resolution and a bulk delete that de-duplicates, runs concurrently under a rate limit,
 * retries transient failures and respects a deadline.
 */
import { inspect } from 'node:util';
import * as z from 'zod';
import { connectionFetch } from './connection.js';
import { emailProblem, isValidEmail, maskEmail, normalizeEmail, sameEmail } from '../core/email.js';
import { type ArizeClientOptions, resolveApiKey, resolveConfig, type ResolvedArizeConfig } from './config.js';
import { ArizeApiError, ArizeDeadlineError, ArizeError, ArizeResponseError, ArizeValidationError } from './errors.js';
import type { RateControlSnapshot } from './adaptive-rate.js';
import { type CallOptions, type ClientStats, HttpTransport } from './http.js';
import { defaultSleep } from './rate-limit.js';
import {
  ASSUMED_ROUND_TRIP_MS,
  type EmailResolution,
  type RequestPace,
  SCAN_PAGE_SIZE,
  resolveEmailMatches,
  toArizeError,
} from './resolve.js';
import {
  CreateUserRequestSchema,
  CreateUserResponseSchema,
  EMAIL_FILTER_MAX,
  INVITE_MODES,
  type InviteMode,
  LIST_LIMIT_MAX,
  LIST_LIMIT_MIN,
  ListUsersResponseSchema,
  type ListUsersResponse,
  type CreateUserResponse,
  PREDEFINED_ROLE_NAMES,
  type Role,
  USER_STATUSES,
  UserSchema,
  type User,
  upperEnum,
  API_KEY_STATUSES,
  API_KEY_TYPES,
  AUDIT_OPERATION_TYPES,
  RESOURCE_TYPES,
  ListApiKeysResponseSchema,
  ListAuditLogsResponseSchema,
  ListOrganizationsResponseSchema,
  ListRoleBindingsResponseSchema,
  ListRolesResponseSchema,
  ListSpacesResponseSchema,
  RoleDefinitionSchema,
  type ApiKey,
  type AuditLog,
  type RoleBinding,
  type RoleDefinition,
  type Space,
  type ListApiKeysResponse,
  type ListAuditLogsResponse,
  type ListOrganizationsResponse,
  type ListRoleBindingsResponse,
  type ListRolesResponse,
  type ListSpacesResponse,
} from './wire.js';

export interface ListParams {
  /** Case-insensitive substring filter, as the API does it. */
  email?: string;
  /** Any case; sent upper case. Default (server side): ACTIVE, INVITED, EXPIRED. */
  status?: string[] | string;
  limit?: number;
  cursor?: string;
}

export interface ListAllParams {
  email?: string;
  status?: string[] | string;
  /** Page size for the underlying list calls, 1..100, default 100. */
  pageSize?: number;
}

/**
 * A predefined role name in any case (`'member'`), a wire role (names in any case), or a custom
 * role by id (`{ id }` or `{ type: 'CUSTOM', id }`).
 */
export type RoleInput = string | Role | { type?: string; name?: string; id?: string };

export interface CreateUserInput {
  name: string;
  email: string;
  role: RoleInput;
  /** NONE | EMAIL_LINK | TEMPORARY_PASSWORD, any case. */
  inviteMode: string;
  isDeveloper?: boolean;
}

export interface CreateUserResult {
  user: User;
  /** True for 201 (new invitation or user), false for 200 (existing invitation returned as-is). */
  created: boolean;
  inviteMode?: InviteMode;
  /** Only for TEMPORARY_PASSWORD on 201. A secret: never log it. */
  temporaryPassword?: string;
}

export interface UpdateUserPatch {
  name?: string;
  isDeveloper?: boolean;
}

export interface BulkUserDeletionResult {
  user_id: string;
  email?: string;
  status: 'deleted' | 'not_found' | 'failed';
  error?: string;
  retryable?: boolean;
  httpStatus?: number;
}

export interface BulkDeleteInput {
  userIds?: string[];
  emails?: string[];
}

export interface BulkDeleteOptions extends CallOptions {
  /** Called once per result as soon as it is final (progress bars, ledgers). */
  onResult?(result: BulkUserDeletionResult): void;
}

export const NOT_FOUND_BY_EMAIL = 'no user with this email';
export const NOT_FOUND_BY_ID = 'no user with this id';
export const DELETE_NOT_ATTEMPTED = 'deadline reached before the delete was attempted';
export const DELETE_ABORTED = 'aborted before the delete was attempted';
export const RESOLVE_NOT_ATTEMPTED = 'deadline reached before the email was resolved';

const USERS_ROUTE = '/v2/users';
const USER_ROUTE = '/v2/users/{user_id}';

const StatusListSchema = z
  .union([z.string(), z.array(z.string())])
  .transform((s) => (Array.isArray(s) ? s : [s]))
  .pipe(z.array(upperEnum(USER_STATUSES)));

const ListParamsSchema = z.strictObject({
  email: z.string().min(1).max(EMAIL_FILTER_MAX).optional(),
  status: StatusListSchema.optional(),
  limit: z.number().int().min(LIST_LIMIT_MIN).max(LIST_LIMIT_MAX).optional(),
  cursor: z.string().min(1).optional(),
});

const ListAllParamsSchema = z.strictObject({
  email: z.string().min(1).max(EMAIL_FILTER_MAX).optional(),
  status: StatusListSchema.optional(),
  pageSize: z.number().int().min(LIST_LIMIT_MIN).max(LIST_LIMIT_MAX).optional(),
});

const PredefinedNameSchema = upperEnum(PREDEFINED_ROLE_NAMES);
const InviteModeSchema = upperEnum(INVITE_MODES);
const NameSchema = z.string().trim().min(1).max(255);

function validate<T>(schema: z.ZodType<T>, value: unknown, field: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue ? [field, ...issue.path.map(String)].join('.') : field;
  throw new ArizeValidationError(`${path}: ${issue?.message ?? 'invalid'}`, path);
}

function requireUserId(userId: unknown, field = 'userId'): string {
  if (typeof userId !== 'string' || userId.trim() === '') {
    throw new ArizeValidationError(`${field} must be a non-empty string`, field);
  }
  return userId.trim();
}

function requireEmail(email: unknown, field = 'email'): string {
  const problem = typeof email === 'string' ? emailProblem(email) : undefined;
  if (typeof email !== 'string' || problem !== undefined) {
    const shown = typeof email === 'string' ? ` (${maskEmail(email)})` : '';
    throw new ArizeValidationError(`${field} ${problem?.reason ?? 'is not a valid email address'}${shown}`, field);
  }
  return email.trim();
}

export function parseRole(role: unknown): Role {
  const invalid = () =>
    new ArizeValidationError('role must be ADMIN, MEMBER or ANNOTATOR (any case) or a custom role { id }', 'role');
  if (typeof role === 'string') {
    const name = PredefinedNameSchema.safeParse(role.trim());
    if (!name.success) throw invalid();
    return { type: 'PREDEFINED', name: name.data };
  }
  if (typeof role !== 'object' || role === null) throw invalid();
  const record = role as Record<string, unknown>;
  const type = typeof record.type === 'string' ? record.type.toUpperCase() : undefined;
  if (type === 'CUSTOM' || (type === undefined && record.id !== undefined)) {
    if (typeof record.id !== 'string' || record.id.trim() === '') {
      throw new ArizeValidationError('role.id must be a non-empty string', 'role.id');
    }
    const name = typeof record.name === 'string' ? record.name : undefined;
    return name === undefined ? { type: 'CUSTOM', id: record.id.trim() } : { type: 'CUSTOM', id: record.id.trim(), name };
  }
  if (type === 'PREDEFINED' || type === undefined) {
    const name = PredefinedNameSchema.safeParse(typeof record.name === 'string' ? record.name.trim() : record.name);
    if (!name.success) throw invalid();
    return { type: 'PREDEFINED', name: name.data };
  }
  throw invalid();
}

function userPath(userId: string, suffix = ''): string {
  return `${USERS_ROUTE}/${encodeURIComponent(userId)}${suffix}`;
}

function statusOf(error: ArizeError): number | undefined {
  return error instanceof ArizeApiError || error instanceof ArizeResponseError ? error.status : undefined;
}

function failedResult(userId: string, email: string | undefined, error: ArizeError, text = error.message): BulkUserDeletionResult {
  const status = statusOf(error);
  return {
    user_id: userId,
    ...(email === undefined ? {} : { email }),
    status: 'failed',
    error: text,
    retryable: error.retryable,
    ...(status === undefined ? {} : { httpStatus: status }),
  };
}

type DeleteOutcome = { ok: true } | { ok: false; error: ArizeError };

// ---- access endpoints: parameters ---------------------------------------------------------------

const API_KEYS_ROUTE = '/v2/api-keys';
const ROLE_BINDINGS_ROUTE = '/v2/role-bindings';
const ROLES_ROUTE = '/v2/roles';
const SPACES_ROUTE = '/v2/spaces';
const ORGANIZATIONS_ROUTE = '/v2/organizations';
const AUDIT_LOGS_ROUTE = '/v2/audit-logs';

const PageParams = {
  limit: z.number().int().min(LIST_LIMIT_MIN).max(LIST_LIMIT_MAX).optional(),
  cursor: z.string().min(1).optional(),
};
const IdParam = z.string().trim().min(1);

// Input enums accept any case (like the users methods); the wire always gets upper case.
const ListApiKeysParamsSchema = z.strictObject({
  keyType: upperEnum(API_KEY_TYPES),
  status: upperEnum(API_KEY_STATUSES).optional(),
  spaceId: IdParam.optional(),
  userId: IdParam.optional(),
  ...PageParams,
});
export type ListApiKeysParams = z.input<typeof ListApiKeysParamsSchema>;

const ListRoleBindingsParamsSchema = z.strictObject({
  resourceType: upperEnum(RESOURCE_TYPES),
  userId: IdParam.optional(),
  ...PageParams,
});
export type ListRoleBindingsParams = z.input<typeof ListRoleBindingsParamsSchema>;

const ListRolesParamsSchema = z.strictObject({ isPredefined: z.boolean().optional(), ...PageParams });
export type ListRolesParams = z.input<typeof ListRolesParamsSchema>;

const ListSpacesParamsSchema = z.strictObject({ orgId: IdParam.optional(), name: z.string().min(1).optional(), ...PageParams });
export type ListSpacesParams = z.input<typeof ListSpacesParamsSchema>;

const ListOrganizationsParamsSchema = z.strictObject({ name: z.string().min(1).optional(), ...PageParams });

const ListAuditLogsParamsSchema = z
  .strictObject({
    startTime: z.date().optional(),
    endTime: z.date().optional(),
    userId: IdParam.optional(),
    operationType: upperEnum(AUDIT_OPERATION_TYPES).optional(),
    ...PageParams,
  })
  .refine((p) => p.startTime === undefined || p.endTime === undefined || p.startTime.getTime() <= p.endTime.getTime(), {
    message: 'startTime must not be after endTime',
    path: ['startTime'],
  });
export type ListAuditLogsParams = z.input<typeof ListAuditLogsParamsSchema>;

function pageQuery(valid: { limit?: number; cursor?: string }): URLSearchParams {
  const query = new URLSearchParams();
  if (valid.limit !== undefined) query.set('limit', String(valid.limit));
  if (valid.cursor !== undefined) query.set('cursor', valid.cursor);
  return query;
}

/** Every item of a cursor-paginated list; a repeated or missing cursor is a server bug, not an endless loop. */
async function* allPages<P extends { pagination: { has_more: boolean; next_cursor?: string } }, T>(
  route: string,
  fetchPage: (cursor: string | undefined) => Promise<P>,
  items: (page: P) => T[],
): AsyncGenerator<T> {
  const seen = new Set<string>();
  let cursor: string | undefined;
  for (;;) {
    const page = await fetchPage(cursor);
    yield* items(page);
    if (!page.pagination.has_more) return;
    const next = page.pagination.next_cursor;
    if (next === undefined || seen.has(next)) {
      throw new ArizeResponseError({
        status: 200,
        method: 'GET',
        route,
        reason: next === undefined ? 'has_more without next_cursor' : 'pagination cursor repeated',
      });
    }
    seen.add(next);
    cursor = next;
  }
}


export class ArizeUsersClient {
  private readonly config: ResolvedArizeConfig;
  private readonly transport: HttpTransport;
  private readonly logger: ArizeClientOptions['logger'];

  constructor(options: ArizeClientOptions = {}) {
    const env = options.env ?? process.env;
    const apiKey = resolveApiKey(options, env);
    this.config = resolveConfig(options, env);
    this.logger = options.logger;
    // CA / no-verify / proxy settings need a node:https transport (connection.ts); otherwise the platform fetch.
    const fetchImpl = options.fetch ?? connectionFetch(this.config.endpoint) ?? ((...args: Parameters<typeof fetch>) => globalThis.fetch(...args));
    this.transport = new HttpTransport(this.config, apiKey, {
      fetch: fetchImpl,
      sleep: options.sleep ?? defaultSleep,
      random: options.random ?? Math.random,
      logger: options.logger,
      ...(options.sharedBudget === undefined ? {} : { sharedBudget: options.sharedBudget }),
    });
  }

  get stats(): Readonly<ClientStats> {
    return this.transport.stats;
  }

  get baseUrl(): string {
    return this.config.baseUrl;
  }

  /** The rate controller's state: current rate and concurrency, limit estimated from 429s. */
  get rateControl(): RateControlSnapshot {
    return this.transport.rateControl;
  }

  // ---- single operations -------------------------------------------------------------------

  async list(params: ListParams = {}, opts: CallOptions = {}): Promise<ListUsersResponse> {
    const valid = validate(ListParamsSchema, params, 'list');
    const query = new URLSearchParams();
    if (valid.limit !== undefined) query.set('limit', String(valid.limit));
    if (valid.cursor !== undefined) query.set('cursor', valid.cursor);
    if (valid.email !== undefined) query.set('email', valid.email);
    for (const status of valid.status ?? []) query.append('status', status);
    return this.transport.request(
      { method: 'GET', path: USERS_ROUTE, route: USERS_ROUTE, query, expect: { 200: ListUsersResponseSchema } },
      opts,
    );
  }

  async *listAll(params: ListAllParams = {}, opts: CallOptions = {}): AsyncGenerator<User> {
    const valid = validate(ListAllParamsSchema, params, 'listAll');
    const seenCursors = new Set<string>();
    let cursor: string | undefined;
    for (;;) {
      const page = await this.list(
        {
          ...(valid.email === undefined ? {} : { email: valid.email }),
          ...(valid.status === undefined ? {} : { status: valid.status }),
          limit: valid.pageSize ?? LIST_LIMIT_MAX,
          ...(cursor === undefined ? {} : { cursor }),
        },
        opts,
      );
      yield* page.users;
      if (!page.pagination.has_more) return;
      const next = page.pagination.next_cursor;
      // A server bug here would otherwise loop forever.
      if (next === undefined || seenCursors.has(next)) {
        throw new ArizeResponseError({
          status: 200,
          method: 'GET',
          route: USERS_ROUTE,
          reason: next === undefined ? 'has_more without next_cursor' : 'pagination cursor repeated',
        });
      }
      seenCursors.add(next);
      cursor = next;
    }
  }

  async get(userId: string, opts: CallOptions = {}): Promise<User> {
    const id = requireUserId(userId);
    return this.transport.request({ method: 'GET', path: userPath(id), route: USER_ROUTE, expect: { 200: UserSchema } }, opts);
  }

  /** Exact match after ASCII-only case folding (core/email.ts); the API's substring and look-alike hits are discarded. */
  async findByEmail(email: string, opts: CallOptions = {}): Promise<User | undefined> {
    const normalized = normalizeEmail(requireEmail(email));
    const matches = await this.exactMatches(normalized, opts);
    return matches[0];
  }

  async create(input: CreateUserInput, opts: CallOptions = {}): Promise<CreateUserResult> {
    if (typeof input !== 'object' || input === null) throw new ArizeValidationError('create input is required', 'input');
    const name = validate(NameSchema, input.name, 'name');
    const email = requireEmail(input.email);
    const role = parseRole(input.role);
    const inviteMode = validate(InviteModeSchema, input.inviteMode, 'inviteMode');
    if (input.isDeveloper !== undefined && typeof input.isDeveloper !== 'boolean') {
      throw new ArizeValidationError('isDeveloper must be a boolean', 'isDeveloper');
    }
    const body = validate(
      CreateUserRequestSchema,
      {
        name,
        email,
        role,
        invite_mode: inviteMode,
        ...(input.isDeveloper === undefined ? {} : { is_developer: input.isDeveloper }),
      },
      'create',
    );
    const response = await this.transport.request<CreateUserResponse | User>(
      {
        method: 'POST',
        path: USERS_ROUTE,
        route: USERS_ROUTE,
        body,
        expect: { 201: CreateUserResponseSchema, 200: UserSchema },
      },
      opts,
    );
    if ('invite_mode' in response) {
      const { invite_mode, temporary_password, ...user } = response;
      return {
        user,
        created: true,
        inviteMode: invite_mode,
        ...(temporary_password === undefined ? {} : { temporaryPassword: temporary_password }),
      };
    }
    return { user: response, created: false };
  }

  async update(userId: string, patch: UpdateUserPatch, opts: CallOptions = {}): Promise<User> {
    const id = requireUserId(userId);
    if (typeof patch !== 'object' || patch === null || (patch.name === undefined && patch.isDeveloper === undefined)) {
      throw new ArizeValidationError('update needs at least one of name or isDeveloper', 'patch');
    }
    const body: { name?: string; is_developer?: boolean } = {};
    if (patch.name !== undefined) body.name = validate(NameSchema, patch.name, 'name');
    if (patch.isDeveloper !== undefined) {
      if (typeof patch.isDeveloper !== 'boolean') throw new ArizeValidationError('isDeveloper must be a boolean', 'isDeveloper');
      body.is_developer = patch.isDeveloper;
    }
    return this.transport.request(
      { method: 'PATCH', path: userPath(id), route: USER_ROUTE, body, expect: { 200: UserSchema } },
      opts,
    );
  }

  async delete(userId: string, opts: CallOptions = {}): Promise<void> {
    const id = requireUserId(userId);
    await this.transport.request({ method: 'DELETE', path: userPath(id), route: USER_ROUTE, expect: 'empty' }, opts);
  }

  async resendInvitation(userId: string, opts: CallOptions = {}): Promise<void> {
    const id = requireUserId(userId);
    await this.transport.request(
      { method: 'POST', path: userPath(id, '/resend-invitation'), route: `${USER_ROUTE}/resend-invitation`, expect: 'empty' },
      opts,
    );
  }

  async resetPassword(userId: string, opts: CallOptions = {}): Promise<void> {
    const id = requireUserId(userId);
    await this.transport.request(
      { method: 'POST', path: userPath(id, '/reset-password'), route: `${USER_ROUTE}/reset-password`, expect: 'empty' },
      opts,
    );
  }

  // ---- email resolution --------------------------------------------------------------------

  /**
   * Every exact match per distinct normalized email, choosing scan vs lookups (see resolve.ts).
   * Per-email failures are reported in the map, not thrown.
   */
  async resolveEmailMatches(emails: string[], opts: CallOptions = {}): Promise<Map<string, EmailResolution>> {
    if (!Array.isArray(emails)) throw new ArizeValidationError('emails must be an array', 'emails');
    const normalized = emails.map((email, index) => normalizeEmail(requireEmail(email, `emails[${index}]`)));
    return resolveEmailMatches(
      [...new Set(normalized)],
      {
        scanPage: (cursor) => this.list({ limit: SCAN_PAGE_SIZE, ...(cursor === undefined ? {} : { cursor }) }, opts),
        lookup: (email) => this.exactMatches(email, opts),
      },
      { pace: this.pace },
    );
  }

  /**
   * The pace the resolver plans with: a limit already measured, else the rate validated so far — never one
   * hoped for. Planning with what the concurrency ceiling allows chose per-email lookups (2 calls per email)
   * for 170 emails; against an unseen 200 req/s limit slow start then crossed it and the 429s each waited a
   * whole-second Retry-After: 2.5–2.8 s against 1.5 s for the scan (1.14 calls per email), and at 20 req/s
   * 17 s against 9 s. Where the limit is high the scan's sequential pages cost ≈ 0.3 s (1,000 req/s: 1.2 s
   * for lookups). A shared budget's passive controller sits at the ceiling, whose pace is then the bound.
   */
  private get pace(): RequestPace {
    const control = this.transport.rateControl;
    const ceilingPace = (this.config.maxConcurrency * 1000) / ASSUMED_ROUND_TRIP_MS;
    const reachable = control.phase === 'fixed' ? control.rate : Math.min(this.config.maxRequestsPerSecond, ceilingPace, control.estimatedLimit ?? control.rate);
    return { concurrency: this.config.maxConcurrency, requestsPerSecond: reachable };
  }

  /**
   * Normalized email ⇒ its user (undefined when none). When two accounts match one address,
   * the oldest is returned (list order). Throws the first resolution failure.
   */
  async resolveEmails(emails: string[], opts: CallOptions = {}): Promise<Map<string, User | undefined>> {
    const resolutions = await this.resolveEmailMatches(emails, opts);
    const resolved = new Map<string, User | undefined>();
    for (const [email, resolution] of resolutions) {
      if (resolution.status === 'failed') throw resolution.error;
      resolved.set(email, resolution.status === 'found' ? resolution.users[0] : undefined);
    }
    return resolved;
  }

  private async exactMatches(normalizedEmail: string, opts: CallOptions): Promise<User[]> {
    const matches: User[] = [];
    for await (const user of this.listAll({ email: normalizedEmail, pageSize: LIST_LIMIT_MAX }, opts)) {
      if (sameEmail(user.email, normalizedEmail)) matches.push(user);
    }
    return matches;
  }

  // ---- bulk delete -------------------------------------------------------------------------

  /**
   * Deletes users by id and/or email; one result per distinct input, ids first then emails, each
   * in input order. Inputs are validated before any call. An email and an id naming the same
   * user cause one DELETE. An address matching several accounts is refused (failed), never guessed.
   */
  async bulkDelete(input: BulkDeleteInput, opts: BulkDeleteOptions = {}): Promise<BulkUserDeletionResult[]> {
    const { userIds, emails } = this.validateBulkInput(input);
    const distinctIds = [...new Set(userIds)];
    const distinctEmails = new Map<string, string>();
    for (const email of emails) {
      const key = normalizeEmail(email);
      if (!distinctEmails.has(key)) distinctEmails.set(key, email);
    }
    const callOptions: CallOptions = {
      ...(opts.signal === undefined ? {} : { signal: opts.signal }),
      ...(opts.deadline === undefined ? {} : { deadline: opts.deadline }),
    };

    const results: BulkUserDeletionResult[] = [];
    const emit = (index: number, result: BulkUserDeletionResult) => {
      results[index] = result;
      try {
        opts.onResult?.(result);
      } catch (caught) {
        this.logger?.warn?.('bulkDelete onResult callback threw', { error: caught instanceof Error ? caught.message : String(caught) });
      }
    };

    const deletions = new Map<string, Promise<DeleteOutcome>>();
    const deleteOnce = (userId: string): Promise<DeleteOutcome> => {
      let pending = deletions.get(userId);
      if (!pending) {
        pending = this.delete(userId, callOptions).then(
          (): DeleteOutcome => ({ ok: true }),
          (caught: unknown): DeleteOutcome => ({ ok: false, error: toArizeError(caught) }),
        );
        deletions.set(userId, pending);
      }
      return pending;
    };

    // An email's user is deleted the moment its lookup resolves it, while the rest of the batch
    // is still being looked up (a scan reports nothing early: see resolve.ts). Ids, though, wait until every email is resolved: deleting
    // an id first would hide that user from the lookups (and from scan pages not read yet), and
    // its email would then read "not found" instead of "deleted".
    const early = new Map<string, { userId: string; outcome: Promise<DeleteOutcome> }>();
    const resolutions =
      distinctEmails.size === 0
        ? new Map<string, EmailResolution>()
        : await resolveEmailMatches(
            [...distinctEmails.keys()],
            {
              scanPage: (cursor) => this.list({ limit: SCAN_PAGE_SIZE, ...(cursor === undefined ? {} : { cursor }) }, callOptions),
              lookup: (email) => this.exactMatches(email, callOptions),
            },
            {
              pace: this.pace,
              onFound: (key, users) => {
                const [user, ...others] = users;
                if (user && others.length === 0 && !early.has(key)) early.set(key, { userId: user.id, outcome: deleteOnce(user.id) });
              },
            },
          );

    const work: Promise<void>[] = distinctIds.map(async (userId, index) => {
      const outcome = await deleteOnce(userId);
      if (outcome.ok) emit(index, { user_id: userId, status: 'deleted' });
      else if (outcome.error instanceof ArizeApiError && outcome.error.status === 404) {
        emit(index, { user_id: userId, status: 'not_found', error: NOT_FOUND_BY_ID, retryable: false, httpStatus: 404 });
      } else emit(index, failedResult(userId, undefined, outcome.error, deleteErrorText(outcome.error)));
    });

    for (const [position, [key, email]] of [...distinctEmails].entries()) {
      const resultIndex = distinctIds.length + position;
      const resolution = resolutions.get(key);
      if (!resolution || resolution.status === 'not_found') {
        emit(resultIndex, { user_id: '', email, status: 'not_found', error: NOT_FOUND_BY_EMAIL });
        continue;
      }
      if (resolution.status === 'failed') {
        const error = resolution.error;
        const text = error instanceof ArizeDeadlineError && error.attempts === 0 ? RESOLVE_NOT_ATTEMPTED : error.message;
        emit(resultIndex, failedResult('', email, error, text));
        continue;
      }
      const [user, ...others] = resolution.users;
      if (!user) {
        emit(resultIndex, { user_id: '', email, status: 'not_found', error: NOT_FOUND_BY_EMAIL });
        continue;
      }
      if (others.length > 0) {
        // Two accounts with one address: deleting either would be a guess (early deletes only
        // follow lookups that returned exactly one account, so none was started).
        emit(resultIndex, {
          user_id: '',
          email,
          status: 'failed',
          error: `${resolution.users.length} users match this email exactly; refusing to choose one`,
          retryable: false,
        });
        continue;
      }
      const started = early.get(key);
      work.push(
        (started?.outcome ?? deleteOnce(user.id)).then((outcome) => {
          // A 404 after the list just showed the user is not "not found": it is a failure to act.
          emit(
            resultIndex,
            outcome.ok ? { user_id: user.id, email, status: 'deleted' } : failedResult(user.id, email, outcome.error, deleteErrorText(outcome.error)),
          );
        }),
      );
    }
    await Promise.all(work);
    return results;
  }

  private validateBulkInput(input: BulkDeleteInput): { userIds: string[]; emails: string[] } {
    if (typeof input !== 'object' || input === null) {
      throw new ArizeValidationError('bulkDelete needs userIds and/or emails', 'input');
    }
    const userIds = input.userIds ?? [];
    const emails = input.emails ?? [];
    if (!Array.isArray(userIds)) throw new ArizeValidationError('userIds must be an array', 'userIds');
    if (!Array.isArray(emails)) throw new ArizeValidationError('emails must be an array', 'emails');
    if (userIds.length === 0 && emails.length === 0) {
      throw new ArizeValidationError('bulkDelete needs at least one user id or email', 'userIds');
    }
    const ids = userIds.map((id, index) => requireUserId(id, `userIds[${index}]`));
    const invalid = emails.flatMap((email, index) =>
      typeof email === 'string' && isValidEmail(email)
        ? []
        : [`emails[${index}] (${typeof email === 'string' ? `${maskEmail(email)}: ${emailProblem(email)?.reason ?? 'invalid'}` : typeof email})`],
    );
    if (invalid.length > 0) {
      const field = invalid[0]?.split(' ')[0] ?? 'emails';
      throw new ArizeValidationError(
        `${invalid.length === 1 ? 'invalid email address' : `${invalid.length} invalid email addresses`}: ${invalid.slice(0, 5).join(', ')}${invalid.length > 5 ? ', …' : ''}`,
        field,
      );
    }
    return { userIds: ids, emails: emails.map((email) => email.trim()) };
  }

  // ---- access endpoints (beta): what a leaver can still reach besides their user ------------

  /** One page of API keys. USER keys of another user need an admin key (403); SERVICE keys need `spaceId`. */
  async listApiKeys(params: ListApiKeysParams, opts: CallOptions = {}): Promise<ListApiKeysResponse> {
    const valid = validate(ListApiKeysParamsSchema, params, 'listApiKeys');
    if (valid.keyType === 'SERVICE' && valid.spaceId === undefined) {
      throw new ArizeValidationError('listApiKeys.spaceId: required for SERVICE keys', 'listApiKeys.spaceId');
    }
    const query = pageQuery(valid);
    query.set('key_type', valid.keyType);
    if (valid.status !== undefined) query.set('status', valid.status);
    if (valid.spaceId !== undefined) query.set('space_id', valid.spaceId);
    if (valid.userId !== undefined) query.set('user_id', valid.userId);
    return this.transport.request(
      { method: 'GET', path: API_KEYS_ROUTE, route: API_KEYS_ROUTE, query, expect: { 200: ListApiKeysResponseSchema } },
      opts,
    );
  }

  listAllApiKeys(params: Omit<ListApiKeysParams, 'cursor' | 'limit'>, opts: CallOptions = {}): AsyncGenerator<ApiKey> {
    return allPages(API_KEYS_ROUTE, (cursor) => this.listApiKeys({ ...params, limit: LIST_LIMIT_MAX, ...(cursor === undefined ? {} : { cursor }) }, opts), (page) => page.api_keys);
  }

  /** Revokes a key. Idempotent on the API's side (204 again), so a retry after a lost answer is safe. */
  async revokeApiKey(apiKeyId: string, opts: CallOptions = {}): Promise<void> {
    const id = requireUserId(apiKeyId, 'apiKeyId');
    await this.transport.request(
      { method: 'PUT', path: `${API_KEYS_ROUTE}/${encodeURIComponent(id)}/revoke`, route: `${API_KEYS_ROUTE}/{api_key_id}/revoke`, expect: 'empty' },
      opts,
    );
  }

  async listRoleBindings(params: ListRoleBindingsParams, opts: CallOptions = {}): Promise<ListRoleBindingsResponse> {
    const valid = validate(ListRoleBindingsParamsSchema, params, 'listRoleBindings');
    const query = pageQuery(valid);
    query.set('resource_type', valid.resourceType);
    if (valid.userId !== undefined) query.set('user_id', valid.userId);
    return this.transport.request(
      { method: 'GET', path: ROLE_BINDINGS_ROUTE, route: ROLE_BINDINGS_ROUTE, query, expect: { 200: ListRoleBindingsResponseSchema } },
      opts,
    );
  }

  listAllRoleBindings(params: Omit<ListRoleBindingsParams, 'cursor' | 'limit'>, opts: CallOptions = {}): AsyncGenerator<RoleBinding> {
    return allPages(ROLE_BINDINGS_ROUTE, (cursor) => this.listRoleBindings({ ...params, limit: LIST_LIMIT_MAX, ...(cursor === undefined ? {} : { cursor }) }, opts), (page) => page.role_bindings);
  }

  async getRole(roleId: string, opts: CallOptions = {}): Promise<RoleDefinition> {
    const id = requireUserId(roleId, 'roleId');
    return this.transport.request(
      { method: 'GET', path: `${ROLES_ROUTE}/${encodeURIComponent(id)}`, route: `${ROLES_ROUTE}/{role_id}`, expect: { 200: RoleDefinitionSchema } },
      opts,
    );
  }

  async listRoles(params: ListRolesParams = {}, opts: CallOptions = {}): Promise<ListRolesResponse> {
    const valid = validate(ListRolesParamsSchema, params, 'listRoles');
    const query = pageQuery(valid);
    if (valid.isPredefined !== undefined) query.set('is_predefined', String(valid.isPredefined));
    return this.transport.request({ method: 'GET', path: ROLES_ROUTE, route: ROLES_ROUTE, query, expect: { 200: ListRolesResponseSchema } }, opts);
  }

  listAllRoles(params: Omit<ListRolesParams, 'cursor' | 'limit'> = {}, opts: CallOptions = {}): AsyncGenerator<RoleDefinition> {
    return allPages(ROLES_ROUTE, (cursor) => this.listRoles({ ...params, limit: LIST_LIMIT_MAX, ...(cursor === undefined ? {} : { cursor }) }, opts), (page) => page.roles);
  }

  async listSpaces(params: ListSpacesParams = {}, opts: CallOptions = {}): Promise<ListSpacesResponse> {
    const valid = validate(ListSpacesParamsSchema, params, 'listSpaces');
    const query = pageQuery(valid);
    if (valid.orgId !== undefined) query.set('org_id', valid.orgId);
    if (valid.name !== undefined) query.set('name', valid.name);
    return this.transport.request({ method: 'GET', path: SPACES_ROUTE, route: SPACES_ROUTE, query, expect: { 200: ListSpacesResponseSchema } }, opts);
  }

  listAllSpaces(params: Omit<ListSpacesParams, 'cursor' | 'limit'> = {}, opts: CallOptions = {}): AsyncGenerator<Space> {
    return allPages(SPACES_ROUTE, (cursor) => this.listSpaces({ ...params, limit: LIST_LIMIT_MAX, ...(cursor === undefined ? {} : { cursor }) }, opts), (page) => page.spaces);
  }

  async listOrganizations(params: { name?: string; limit?: number; cursor?: string } = {}, opts: CallOptions = {}): Promise<ListOrganizationsResponse> {
    const valid = validate(ListOrganizationsParamsSchema, params, 'listOrganizations');
    const query = pageQuery(valid);
    if (valid.name !== undefined) query.set('name', valid.name);
    return this.transport.request(
      { method: 'GET', path: ORGANIZATIONS_ROUTE, route: ORGANIZATIONS_ROUTE, query, expect: { 200: ListOrganizationsResponseSchema } },
      opts,
    );
  }

  /** Newest first. Needs an admin key and audit logging enabled (else 403). */
  async listAuditLogs(params: ListAuditLogsParams = {}, opts: CallOptions = {}): Promise<ListAuditLogsResponse> {
    const valid = validate(ListAuditLogsParamsSchema, params, 'listAuditLogs');
    const query = pageQuery(valid);
    if (valid.startTime !== undefined) query.set('start_time', valid.startTime.toISOString());
    if (valid.endTime !== undefined) query.set('end_time', valid.endTime.toISOString());
    if (valid.userId !== undefined) query.set('user_id', valid.userId);
    if (valid.operationType !== undefined) query.set('operation_type', valid.operationType);
    return this.transport.request(
      { method: 'GET', path: AUDIT_LOGS_ROUTE, route: AUDIT_LOGS_ROUTE, query, expect: { 200: ListAuditLogsResponseSchema } },
      opts,
    );
  }

  listAllAuditLogs(params: Omit<ListAuditLogsParams, 'cursor' | 'limit'> = {}, opts: CallOptions = {}): AsyncGenerator<AuditLog> {
    return allPages(AUDIT_LOGS_ROUTE, (cursor) => this.listAuditLogs({ ...params, limit: LIST_LIMIT_MAX, ...(cursor === undefined ? {} : { cursor }) }, opts), (page) => page.logs);
  }

  // ---- presentation: never the key ---------------------------------------------------------

  toJSON(): Record<string, unknown> {
    return { client: 'ArizeUsersClient', ...this.config };
  }

  toString(): string {
    return `ArizeUsersClient(${this.config.baseUrl})`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

function deleteErrorText(error: ArizeError): string {
  if (error instanceof ArizeDeadlineError && error.attempts === 0) {
    return error.reason === 'aborted' ? DELETE_ABORTED : DELETE_NOT_ATTEMPTED;
  }
  return error.message;
}
