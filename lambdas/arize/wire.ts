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
