/**
 * Verified removal: the DeleteChunk use case's rules, shared by the Lambda and the local runtime.
 * Before the deletes, the access each leaver had (access-inventory.ts); then the DELETE; then a read-back —
 * `GET /v2/users/{id}` must answer 404 and the exact-email lookup must find nobody — and only then DELETED.
 * A delete that Arize acknowledged but that does not read back as gone is FAILED (`DeleteNotVerified`,
 * retryable: DELETE is idempotent, so the next attempt sends it again and verifies again).
 * Pure apart from the Arize client it is given (no AWS).
 */
import type { CallOptions } from '../arize/http.js';
import type { EmailResolution, User } from '../arize/index.js';
import {
  boundAccess,
  collectAccessInventory,
  prepareInventoryContext,
  type AccessInventory,
  type AccessReader,
  type AvailableAccess,
  type InventoryContext,
  type InventoryKey,
  type ServiceKeyPolicy,
} from './access-inventory.js';
import { maskEmailsInText, normalizeEmail } from './email.js';
import type { Outcome } from './outcome.js';
import type { DeleteTarget } from './planning.js';
import { classifyFailure, shouldRetry, type RetryPolicy } from './retry-policy.js';

/** The Arize calls removal makes (ArizeUsersClient satisfies it). */
export interface RemovalDirectory extends AccessReader {
  get(userId: string, opts?: CallOptions): Promise<Pick<User, 'id' | 'role'>>;
  delete(userId: string, opts?: CallOptions): Promise<void>;
  resolveEmailMatches(emails: string[], opts?: CallOptions): Promise<Map<string, EmailResolution>>;
  revokeApiKey(apiKeyId: string, opts?: CallOptions): Promise<void>;
}

export const DELETE_NOT_VERIFIED = 'DeleteNotVerified';

export interface RemovalSettings {
  requestId: string;
  attempt: number;
  retry: RetryPolicy;
  serviceKeys: ServiceKeyPolicy;
  clock: () => Date;
  callOptions: CallOptions;
  /** A delete intent of this request was stored before this attempt: a 404 on the DELETE may be our own deletion. */
  hadEarlierIntent(target: DeleteTarget): boolean;
}

export type Verification = { verified: true; at: string } | { verified: false; reason: string };

function isNotFound(error: unknown): boolean {
  return classifyFailure(error).httpStatus === 404;
}

/** Read-back after a delete: the id must be gone (404) and the email must no longer list any account. */
export async function verifyRemoval(directory: RemovalDirectory, target: DeleteTarget, clock: () => Date, opts: CallOptions = {}): Promise<Verification> {
  try {
    await directory.get(target.userId, opts);
    return { verified: false, reason: 'the delete was acknowledged but GET /v2/users/{id} still returns the user' };
  } catch (error) {
    if (!isNotFound(error)) return { verified: false, reason: `read-back by id failed: ${maskEmailsInText(classifyFailure(error).message)}` };
  }
  const email = normalizeEmail(target.email);
  let resolution: EmailResolution | undefined;
  try {
    resolution = (await directory.resolveEmailMatches([email], opts)).get(email);
  } catch (error) {
    return { verified: false, reason: `read-back by email failed: ${maskEmailsInText(classifyFailure(error).message)}` };
  }
  if (resolution?.status === 'failed') return { verified: false, reason: `read-back by email failed: ${maskEmailsInText(resolution.error.message)}` };
  // Any account still listed under the address (ours, or one created since) means the person may still get in.
  if (resolution?.status === 'found' && resolution.users.length > 0) {
    return { verified: false, reason: `the email lookup still lists ${resolution.users.length} account(s) with this address` };
  }
  return { verified: true, at: clock().toISOString() };
}

function unavailable(userId: string, step: string, error: unknown): AccessInventory {
  const failure = classifyFailure(error);
  return {
    status: 'unavailable',
    userId,
    reason: `${step}: ${maskEmailsInText(failure.message)}`,
    ...(failure.httpStatus === undefined ? {} : { httpStatus: failure.httpStatus }),
  };
}

/**
 * The deadline for the inventory of a chunk: half of what is left. Past it the inventory gives up (recorded
 * `unavailable`) so the deletes and their read-backs still get the other half — a slow inventory must never
 * keep a leaver's access by eating the invocation's time on every attempt.
 */
export function inventoryDeadline(deadline: number | undefined, now: number): number | undefined {
  return deadline === undefined ? undefined : now + Math.max(0, deadline - now) / 2;
}

/**
 * The access each target had, read before any DELETE. Never throws: a failure (403 for a key without
 * admin rights, Arize unavailable) is recorded as `unavailable` with its reason and the delete proceeds —
 * keeping a leaver's access because we could not list it would be the worse outcome.
 */
export async function inventoryBeforeDelete(
  directory: RemovalDirectory,
  targets: readonly DeleteTarget[],
  opts: CallOptions = {},
): Promise<Map<string, AccessInventory>> {
  const inventories = new Map<string, AccessInventory>();
  // Nothing to delete (e.g. every target cancelled): no listing calls either.
  if (targets.length === 0) return inventories;
  let context: InventoryContext;
  try {
    context = await prepareInventoryContext(directory, { ...opts, forUsers: targets.map((target) => target.userId) });
  } catch (error) {
    for (const target of targets) inventories.set(target.userId, unavailable(target.userId, 'listing spaces, roles and SERVICE keys', error));
    return inventories;
  }
  await Promise.all(
    targets.map(async (target) => {
      let access: AccessInventory;
      try {
        // The role resolution returned (and protection was checked against) rides in the target: no read per
        // leaver. A target without one (a payload from before roles were carried, a role too long to carry)
        // reads it as before.
        const carried = target.role;
        const user = carried !== undefined ? { id: target.userId, role: carried } : await directory.get(target.userId, opts);
        access = await collectAccessInventory(directory, user, { ...opts, context, roleSource: carried !== undefined ? 'resolution' : 'user-read' });
      } catch (error) {
        access = unavailable(target.userId, 'reading the leaver’s access', error);
      }
      inventories.set(target.userId, access);
    }),
  );
  return inventories;
}

/**
 * After a verified delete: `report` counts the SERVICE keys the leaver created that are still ACTIVE (the
 * caller raises the alert); `revoke` revokes each, then lists the space's ACTIVE keys of that creator again
 * and marks a key REVOKED only when it is no longer there. Never throws: a failed revocation is recorded on
 * the key and counted as orphaned.
 */
export async function applyServiceKeyPolicy(
  directory: RemovalDirectory,
  access: AvailableAccess,
  policy: ServiceKeyPolicy,
  clock: () => Date,
  opts: CallOptions = {},
): Promise<AvailableAccess> {
  const active = access.serviceKeys.filter((key) => key.status === 'ACTIVE');
  if (policy === 'report' || active.length === 0) return { ...access, serviceKeyPolicy: policy, orphanedServiceKeys: active.length };
  const errors = new Map<string, string>();
  await Promise.all(
    active.map(async (key) => {
      try {
        await directory.revokeApiKey(key.id, opts);
      } catch (error) {
        errors.set(key.id, maskEmailsInText(classifyFailure(error).message));
      }
    }),
  );
  const stillActive = new Set<string>();
  for (const spaceId of new Set(active.map((key) => key.spaceId).filter((id): id is string => id !== undefined))) {
    try {
      for await (const key of directory.listAllApiKeys({ keyType: 'SERVICE', spaceId, userId: access.userId, status: 'ACTIVE' }, opts)) stillActive.add(key.id);
    } catch (error) {
      // Unverifiable counts as not revoked: the alert must not go quiet on a guess.
      for (const key of active) if (key.spaceId === spaceId && !errors.has(key.id)) errors.set(key.id, `verifying the revocation failed: ${maskEmailsInText(classifyFailure(error).message)}`);
    }
  }
  const at = clock().toISOString();
  const revoked = (key: InventoryKey): InventoryKey => {
    if (key.status !== 'ACTIVE') return key;
    const error = errors.get(key.id) ?? (stillActive.has(key.id) ? 'revoke was acknowledged but the key is still listed ACTIVE' : undefined);
    return error === undefined ? { ...key, status: 'REVOKED', revocation: { status: 'REVOKED', at } } : { ...key, revocation: { status: 'FAILED', at, error } };
  };
  const serviceKeys = access.serviceKeys.map(revoked);
  return { ...access, serviceKeys, serviceKeyPolicy: policy, orphanedServiceKeys: serviceKeys.filter((key) => key.status === 'ACTIVE').length };
}

/** One target's DELETE and what follows it (read-back, SERVICE-key policy), as the outcome to record. */
export async function settleRemoval(
  directory: RemovalDirectory,
  target: DeleteTarget,
  deleted: { ok: true } | { ok: false; error: unknown },
  access: AccessInventory | undefined,
  settings: RemovalSettings,
): Promise<{ outcome: Outcome; retry: boolean }> {
  const base = { requestId: settings.requestId, email: target.email, userId: target.userId, attempt: settings.attempt };
  const failed = (errorClass: string, message: string, retryable: boolean, httpStatus?: number) => ({
    outcome: {
      ...base,
      recordedAt: settings.clock().toISOString(),
      status: 'FAILED' as const,
      errorClass,
      error: maskEmailsInText(message),
      retryable,
      ...(httpStatus ? { httpStatus } : {}),
    },
    retry: shouldRetry(settings.retry, settings.attempt, retryable),
  });
  if (!deleted.ok) {
    const failure = classifyFailure(deleted.error);
    // A 404 after our own earlier intent may be our deletion; only the read-back below can say it is.
    if (!(failure.httpStatus === 404 && settings.hadEarlierIntent(target))) {
      return failed(failure.errorClass, failure.message, failure.retryable, failure.httpStatus);
    }
  }
  const verification = await verifyRemoval(directory, target, settings.clock, settings.callOptions);
  if (!verification.verified) return failed(DELETE_NOT_VERIFIED, verification.reason, true);
  let stored: AccessInventory | undefined;
  if (access !== undefined) {
    stored = boundAccess(
      access.status === 'available' ? await applyServiceKeyPolicy(directory, access, settings.serviceKeys, settings.clock, settings.callOptions) : access,
    );
  }
  return {
    outcome: {
      ...base,
      recordedAt: settings.clock().toISOString(),
      status: 'DELETED',
      verifiedAt: verification.at,
      ...(stored === undefined ? {} : { access: stored }),
    },
    retry: false,
  };
}

export interface OrphanedServiceKey {
  userId: string;
  keyId: string;
  name: string;
  space?: string;
  redactedKey: string;
}

/**
 * The SERVICE keys DELETED leavers left ACTIVE, named for the alert (ids, names, redacted form: nothing secret).
 * `count` is the true total; `keys` lists those kept in the bounded inventories.
 */
export function orphanedServiceKeysOf(outcomes: readonly Outcome[]): { count: number; keys: OrphanedServiceKey[] } {
  const keys: OrphanedServiceKey[] = [];
  let count = 0;
  for (const outcome of outcomes) {
    if (outcome.status !== 'DELETED' || outcome.access?.status !== 'available') continue;
    count += outcome.access.orphanedServiceKeys ?? 0;
    for (const key of outcome.access.serviceKeys) {
      if (key.status !== 'ACTIVE') continue;
      keys.push({ userId: outcome.access.userId, keyId: key.id, name: key.name, ...(key.spaceName === undefined ? {} : { space: key.spaceName }), redactedKey: key.redactedKey });
    }
  }
  return { count, keys };
}
