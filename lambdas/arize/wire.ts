/**
 * The Arize users API (REST v2) wire shapes, as zod schemas.
 *
 * One definition shared by the client (which validates what it receives) and the sandbox
 * (which must send exactly these fields: the official SDK rejects unknown fields in a User).
 * Objects are `strict` so that a drift in either direction is caught by the tests.
 */
import * as z from 'zod';

export const USER_STATUSES = ['ACTIVE', 'INVITED', 'EXPIRED'] as const;
export type UserStatus = (typeof USER_STATUSES)[number];
/** What the list endpoint returns when no status filter is given. */
export const DEFAULT_LIST_STATUSES: readonly UserStatus[] = USER_STATUSES;

export const PREDEFINED_ROLE_NAMES = ['ADMIN', 'MEMBER', 'ANNOTATOR'] as const;
export type PredefinedRoleName = (typeof PREDEFINED_ROLE_NAMES)[number];

export const INVITE_MODES = ['NONE', 'EMAIL_LINK', 'TEMPORARY_PASSWORD'] as const;
export type InviteMode = (typeof INVITE_MODES)[number];

/** The seed's docs write enums in lower case; accept any case on input, upper case on the wire. */
export function upperEnum<const T extends readonly [string, ...string[]]>(values: T) {
  return z
    .string()
    .transform((s) => s.toUpperCase())
    .pipe(z.enum(values));
}

export const PredefinedRoleSchema = z.strictObject({
  type: z.literal('PREDEFINED'),
  name: z.enum(PREDEFINED_ROLE_NAMES),
});
export const CustomRoleSchema = z.strictObject({
  type: z.literal('CUSTOM'),
  id: z.string().min(1),
  name: z.string().optional(),
});
export const RoleSchema = z.discriminatedUnion('type', [PredefinedRoleSchema, CustomRoleSchema]);
export type Role = z.infer<typeof RoleSchema>;

export const UserSchema = z.strictObject({
  id: z.string().min(1),
  name: z.string(),
  email: z.string(),
  created_at: z.string(),
  status: z.enum(USER_STATUSES),
  role: RoleSchema,
  is_developer: z.boolean(),
});
export type User = z.infer<typeof UserSchema>;

export const PaginationSchema = z.strictObject({
  has_more: z.boolean(),
  next_cursor: z.string().optional(),
});

export const ListUsersResponseSchema = z.strictObject({
  users: z.array(UserSchema),
  pagination: PaginationSchema,
});
export type ListUsersResponse = z.infer<typeof ListUsersResponseSchema>;

export const CreateUserRequestSchema = z.strictObject({
  name: z.string().min(1).max(255),
  email: z.string().min(3).max(255),
  role: RoleSchema,
  invite_mode: z.enum(INVITE_MODES),
  is_developer: z.boolean().optional(),
});
export type CreateUserRequest = z.infer<typeof CreateUserRequestSchema>;

/** 201 body: a User plus the invite mode, and the temporary password only for TEMPORARY_PASSWORD. */
export const CreateUserResponseSchema = UserSchema.extend({
  invite_mode: z.enum(INVITE_MODES),
  temporary_password: z.string().optional(),
});
export type CreateUserResponse = z.infer<typeof CreateUserResponseSchema>;

export const UpdateUserRequestSchema = z
  .strictObject({
    name: z.string().min(1).max(255).optional(),
    is_developer: z.boolean().optional(),
  })
  .refine((body) => body.name !== undefined || body.is_developer !== undefined, {
    message: 'at least one of name or is_developer is required',
  });
export type UpdateUserRequest = z.infer<typeof UpdateUserRequestSchema>;

/** RFC 9457 problem details: title and status always, the rest optional. */
export const ProblemDetailsSchema = z.object({
  type: z.string().optional(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  instance: z.string().optional(),
});
export type ProblemDetails = z.infer<typeof ProblemDetailsSchema>;

export const LIST_LIMIT_MIN = 1;
export const LIST_LIMIT_MAX = 100;
export const LIST_LIMIT_DEFAULT = 50;
export const EMAIL_FILTER_MAX = 255;

// ---- Access endpoints (beta): API keys, role bindings, roles, spaces, organizations, audit logs ----
// These shapes are read from the API reference and the SDK's models, but the endpoints are beta: the
// client checks every field it relies on and ignores extra ones (plain `z.object`), so a new field on
// Arize's side does not stop an offboarding. The sandbox sends exactly these fields.

export const API_KEY_TYPES = ['USER', 'SERVICE'] as const;
export type ApiKeyType = (typeof API_KEY_TYPES)[number];
export const API_KEY_STATUSES = ['ACTIVE', 'REVOKED'] as const;
export type ApiKeyStatus = (typeof API_KEY_STATUSES)[number];
export const RESOURCE_TYPES = ['SPACE', 'PROJECT'] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];
export const AUDIT_OPERATION_TYPES = ['QUERY', 'MUTATION', 'SUBSCRIPTION'] as const;
export type AuditOperationType = (typeof AUDIT_OPERATION_TYPES)[number];
/** The audit-log window the API applies when `start_time` is omitted: 30 days before `end_time`. */
export const AUDIT_LOG_DEFAULT_WINDOW_MS = 30 * 24 * 3_600_000;

/** Never carries the secret: only the redacted form the API shows after creation. */
export const ApiKeySchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  description: z.string().optional(),
  key_type: z.enum(API_KEY_TYPES),
  status: z.enum(API_KEY_STATUSES),
  redacted_key: z.string(),
  created_at: z.string(),
  expires_at: z.string().optional(),
  created_by_user_id: z.string(),
  last_used_at: z.string().optional(),
});
export type ApiKey = z.infer<typeof ApiKeySchema>;
export const ListApiKeysResponseSchema = z.object({ api_keys: z.array(ApiKeySchema), pagination: PaginationSchema });

export const RoleBindingSchema = z.object({
  id: z.string().min(1),
  role_id: z.string().min(1),
  user_id: z.string().min(1),
  resource_type: z.enum(RESOURCE_TYPES),
  resource_id: z.string().min(1),
  created_at: z.string(),
  updated_at: z.string(),
});
export type RoleBinding = z.infer<typeof RoleBindingSchema>;
export const ListRoleBindingsResponseSchema = z.object({ role_bindings: z.array(RoleBindingSchema), pagination: PaginationSchema });

/** A role definition (`/v2/roles`), not the `role` union inside a User. */
export const RoleDefinitionSchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  description: z.string().optional(),
  is_predefined: z.boolean(),
});
export type RoleDefinition = z.infer<typeof RoleDefinitionSchema>;
export const ListRolesResponseSchema = z.object({ roles: z.array(RoleDefinitionSchema), pagination: PaginationSchema });

export const SpaceSchema = z.object({ id: z.string().min(1), name: z.string(), org_id: z.string().min(1), created_at: z.string() });
export type Space = z.infer<typeof SpaceSchema>;
export const ListSpacesResponseSchema = z.object({ spaces: z.array(SpaceSchema), pagination: PaginationSchema });

export const OrganizationSchema = z.object({ id: z.string().min(1), name: z.string(), created_at: z.string() });
export type Organization = z.infer<typeof OrganizationSchema>;
export const ListOrganizationsResponseSchema = z.object({ organizations: z.array(OrganizationSchema), pagination: PaginationSchema });

export const AuditLogSchema = z.object({
  id: z.string().min(1),
  user_id: z.string(),
  ip: z.string(),
  operation_type: z.enum(AUDIT_OPERATION_TYPES),
  operation_name: z.string().optional(),
  operation_text: z.string().optional(),
  variables: z.record(z.string(), z.unknown()).optional(),
  created_at: z.string(),
});
export type AuditLog = z.infer<typeof AuditLogSchema>;
export const ListAuditLogsResponseSchema = z.object({ logs: z.array(AuditLogSchema), pagination: PaginationSchema });
export type ListApiKeysResponse = z.infer<typeof ListApiKeysResponseSchema>;
export type ListRoleBindingsResponse = z.infer<typeof ListRoleBindingsResponseSchema>;
export type ListRolesResponse = z.infer<typeof ListRolesResponseSchema>;
export type ListSpacesResponse = z.infer<typeof ListSpacesResponseSchema>;
export type ListOrganizationsResponse = z.infer<typeof ListOrganizationsResponseSchema>;
export type ListAuditLogsResponse = z.infer<typeof ListAuditLogsResponseSchema>;
