/**
 * Planning: from resolved accounts to what the workflow will do. Pure, so every safety rule
 * (exact match, protection, blast radius, dry run) is unit-tested without any I/O.
 */
import type { Role } from '../arize/index.js';
import { normalizeEmail } from './email.js';
import { createProtectionMatcher, type AccountForProtection, type ProtectionPolicy } from './protection.js';

export interface DeleteTarget {
  userId: string;
  email: string;
  /**
   * The account-level role Arize returned at resolution — the role protection was checked against — carried so
   * DeleteChunk records it instead of reading the user again. Absent when it does not fit the payload bounds
   * (DeleteChunk then reads the user, as before).
   */
  role?: Role;
}

/** Longest role name or id a target carries: a Map item holds up to chunkSize targets within the 256 KB state cap. */
export const MAX_TARGET_ROLE_FIELD = 64;

/** The role as a target carries it, or undefined when it is not a known shape or a field exceeds the bound. */
export function targetRole(role: AccountForProtection['role']): Role | undefined {
  const fits = (value: string | undefined): value is string => value !== undefined && value.length > 0 && value.length <= MAX_TARGET_ROLE_FIELD;
  if (role?.type === 'PREDEFINED' && (role.name === 'ADMIN' || role.name === 'MEMBER' || role.name === 'ANNOTATOR')) return { type: 'PREDEFINED', name: role.name };
  // A CUSTOM name too long to carry is not cut: without the whole role the delete step reads it from Arize.
  if (role?.type === 'CUSTOM' && fits(role.id) && (role.name === undefined || fits(role.name))) {
    return { type: 'CUSTOM', id: role.id, ...(role.name === undefined ? {} : { name: role.name }) };
  }
  return undefined;
}

export interface PlanningPolicy extends ProtectionPolicy {
  maxDeletesPerRequest: number;
  chunkSize: number;
  /** Forces a dry run for every request (configuration), in addition to the request's own flag. */
  forceDryRun: boolean;
}

export type PlanDecision = 'DELETE' | 'HELD' | 'DRY_RUN' | 'NONE';

export interface OffboardingPlan {
  decision: PlanDecision;
  targets: DeleteTarget[];
  chunks: DeleteTarget[][];
  notFound: string[];
  protectedAccounts: Array<DeleteTarget & { reason: string }>;
  /** Why the plan is HELD (or would have been, for a dry run). */
  heldReason?: string;
}

/**
 * `resolved` maps each requested (normalised) email to the account Arize returned, or undefined.
 * An account whose email is not exactly the requested one is treated as not found: the list
 * endpoint filters by substring, and a near miss must never be deleted.
 */
export function planOffboarding(
  emails: readonly string[],
  resolved: ReadonlyMap<string, AccountForProtection | undefined>,
  policy: PlanningPolicy,
  options: {
    dryRun: boolean;
    /** An operator reviewed a HELD request and released it (`approvesHeldRequest`): the cap does not apply. */
    blastRadiusApproved?: boolean;
  },
): OffboardingPlan {
  const matcher = createProtectionMatcher(policy);
  const notFound: string[] = [];
  const protectedAccounts: OffboardingPlan['protectedAccounts'] = [];
  const targets: DeleteTarget[] = [];
  const seenEmails = new Set<string>();
  const seenIds = new Set<string>();
  for (const raw of emails) {
    const email = normalizeEmail(raw);
    if (seenEmails.has(email)) continue;
    seenEmails.add(email);
    const account = resolved.get(email);
    if (!account || normalizeEmail(account.email) !== email) {
      notFound.push(email);
      continue;
    }
    const rule = matcher.protectedBy(account);
    if (rule) {
      protectedAccounts.push({ userId: account.id, email, reason: rule });
      continue;
    }
    if (seenIds.has(account.id)) continue;
    seenIds.add(account.id);
    const role = targetRole(account.role);
    targets.push({ userId: account.id, email, ...(role === undefined ? {} : { role }) });
  }
  const overLimit = targets.length > policy.maxDeletesPerRequest && options.blastRadiusApproved !== true;
  const heldReason = overLimit
    ? `blast radius: ${targets.length} deletes exceed the maximum of ${policy.maxDeletesPerRequest} per request`
    : undefined;
  let decision: PlanDecision;
  if (targets.length === 0) decision = 'NONE';
  // A dry run deletes nothing, so it is never held; the record says it would have been.
  else if (options.dryRun || policy.forceDryRun) decision = 'DRY_RUN';
  else if (overLimit) decision = 'HELD';
  else decision = 'DELETE';
  return { decision, targets, chunks: chunk(targets, policy.chunkSize), notFound, protectedAccounts, ...(heldReason ? { heldReason } : {}) };
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`chunk size must be a positive integer, got ${size}`);
  const chunks: T[][] = [];
  for (let index = 0; index < items.length; index += size) chunks.push(items.slice(index, index + size));
  return chunks;
}
