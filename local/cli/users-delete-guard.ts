/**
 * `offboard users delete` obeys the pipeline's protection: the same rules (lambdas/core/planning.ts and
 * protection.ts), read from the same configuration (cdk.json `offboarding`, through the loader the local
 * runtime uses, then the very environment mapping the Lambdas get). Protected accounts — emails, patterns,
 * roles, the API key's owner — are reported `protected` and skipped; more deletes than the cap are refused.
 *
 * Accounts are resolved first and deleted by id afterwards: what was checked is exactly what is deleted
 * (re-resolving an email at delete time could land on another account than the one that was checked).
 */
import {
  ArizeApiError,
  ArizeError,
  NOT_FOUND_BY_EMAIL,
  type ArizeUsersClient,
  type BulkUserDeletionResult,
  type EmailResolution,
  type User,
} from '../../lambdas/arize/index.js';
import { normalizeEmail } from '../../lambdas/core/email.js';
import { planOffboarding, type PlanningPolicy } from '../../lambdas/core/planning.js';
import { loadRuntimeConfig } from '../../lambdas/core/runtime-config.js';
import { workflowPolicyEnvironment } from '../../lib/workflow/environment.js';
import { LOCAL_LEDGER_TABLE_NAME, loadLocalConfig } from '../runtime/config.js';
import type { DeletionResult } from './users-delete-command.js';

/** The SDK's statuses plus `protected`: an account the rules kept (never deleted without --include-protected). */
export type GuardedDeletionResult = DeletionResult;

/** The pipeline's planning policy, from the pipeline's configuration source. */
export function pipelinePlanningPolicy(): PlanningPolicy {
  const config = loadLocalConfig({});
  return loadRuntimeConfig({ LEDGER_TABLE_NAME: LOCAL_LEDGER_TABLE_NAME, ...workflowPolicyEnvironment(config) }).planning;
}

export interface DeletePlan {
  /** Account ids to delete, each once. */
  deleteIds: string[];
  /** Ids given with --id that Arize does not show: passed to the delete, which reports them not_found. */
  unknownIds: string[];
  /** Final results already known before any delete (not found, ambiguous, failed lookup, protected), by target. */
  settled: Map<string, GuardedDeletionResult>;
  /** For each target still to delete, its account id. */
  accountOf: Map<string, string>;
  protectedCount: number;
  /** Protected accounts that --include-protected turned into deletes (never the API key's owner). */
  overridden: { userId: string; email: string; reason: string }[];
  /** Why the command must refuse (over the cap), or undefined. */
  refusal?: string;
}

const idKey = (id: string) => `id:${id}`;
const emailKey = (email: string) => `email:${normalizeEmail(email)}`;

/**
 * Resolves the targets (emails: exact matches; ids: one GET each, to see the account's email and role),
 * then applies protection and the cap. Read-only: nothing is deleted here.
 */
export async function planUserDeletion(
  client: ArizeUsersClient,
  targets: { userIds: string[]; emails: string[] },
  policy: PlanningPolicy,
  options: { includeProtected: boolean; maxDeletes?: number },
): Promise<DeletePlan> {
  const settled = new Map<string, GuardedDeletionResult>();
  const resolved = new Map<string, User | undefined>();
  const planEmails: string[] = [];
  const accountOf = new Map<string, string>();
  const targetsOfAccount = new Map<string, string[]>();
  const remember = (key: string, user: User) => {
    accountOf.set(key, user.id);
    targetsOfAccount.set(user.id, [...(targetsOfAccount.get(user.id) ?? []), key]);
  };

  const resolutions = targets.emails.length > 0 ? await client.resolveEmailMatches(targets.emails) : new Map<string, EmailResolution>();
  for (const email of targets.emails) {
    const key = emailKey(email);
    const resolution = resolutions.get(normalizeEmail(email));
    if (!resolution || resolution.status === 'not_found') {
      settled.set(key, { user_id: '', email, status: 'not_found', error: NOT_FOUND_BY_EMAIL });
    } else if (resolution.status === 'failed') {
      settled.set(key, { user_id: '', email, status: 'failed', error: resolution.error.message, retryable: resolution.error.retryable });
    } else if (resolution.users.length !== 1) {
      settled.set(key, { user_id: '', email, status: 'failed', error: `${resolution.users.length} users match this email exactly; refusing to choose one`, retryable: false });
    } else {
      const user = resolution.users[0] as User;
      resolved.set(normalizeEmail(user.email), user);
      planEmails.push(user.email);
      remember(key, user);
    }
  }
  const unknownIds: string[] = [];
  for (const id of targets.userIds) {
    let user: User | undefined;
    try {
      user = await client.get(id);
    } catch (error) {
      if (!(error instanceof ArizeApiError && error.status === 404)) {
        // An account that cannot be read cannot be checked against the rules: it is not deleted.
        const message = error instanceof Error ? error.message : String(error);
        settled.set(idKey(id), { user_id: id, status: 'failed', error: `could not read the account to check protection: ${message}`, retryable: error instanceof ArizeError && error.retryable });
        continue;
      }
    }
    if (user === undefined) {
      unknownIds.push(id);
      continue;
    }
    // An id whose address is also named by email is one account; the same rules apply to it.
    if (!resolved.has(normalizeEmail(user.email))) {
      resolved.set(normalizeEmail(user.email), user);
      planEmails.push(user.email);
    }
    remember(idKey(id), user);
  }

  const cap = options.maxDeletes ?? policy.maxDeletesPerRequest;
  const plan = planOffboarding(planEmails, resolved, { ...policy, maxDeletesPerRequest: cap, forceDryRun: false }, { dryRun: false });
  const deleteIds = plan.targets.map((t) => t.userId);
  const overridden: DeletePlan['overridden'] = [];
  for (const account of plan.protectedAccounts) {
    // The key's own user stays protected whatever the flag: Arize refuses it and we would lock ourselves out.
    if (options.includeProtected && account.reason !== 'api-key-owner') {
      overridden.push(account);
      deleteIds.push(account.userId);
      continue;
    }
    for (const key of targetsOfAccount.get(account.userId) ?? []) {
      const email = key.startsWith('email:') ? targets.emails.find((e) => emailKey(e) === key) : undefined;
      settled.set(key, {
        user_id: account.userId,
        ...(email !== undefined ? { email } : {}),
        status: 'protected',
        error: `${account.reason}${account.reason === 'api-key-owner' ? '' : ' (--include-protected to delete anyway)'}`,
      });
    }
  }
  const total = deleteIds.length + unknownIds.length;
  const refusal =
    total > cap
      ? `blast radius: ${total} deletes exceed the maximum of ${cap} per run (offboarding.maxDeletesPerRequest${options.maxDeletes !== undefined ? ', lowered or raised by --max-deletes' : ''}); nothing was deleted — review the list, then re-run with --max-deletes ${total}`
      : undefined;
  return {
    deleteIds: [...new Set(deleteIds)],
    unknownIds,
    settled,
    accountOf,
    protectedCount: plan.protectedAccounts.length - overridden.length,
    overridden,
    ...(refusal ? { refusal } : {}),
  };
}

/** One result per target, ids first then emails (the SDK's order), from the plan and the deletes by id. */
export function assembleResults(
  targets: { userIds: string[]; emails: string[] },
  plan: DeletePlan,
  byId: ReadonlyMap<string, BulkUserDeletionResult>,
): GuardedDeletionResult[] {
  const results: GuardedDeletionResult[] = [];
  for (const id of targets.userIds) {
    const key = idKey(id);
    const known = plan.settled.get(key);
    if (known) results.push(known);
    else results.push(byId.get(plan.accountOf.get(key) ?? id) ?? { user_id: id, status: 'failed', error: 'not attempted' });
  }
  for (const email of targets.emails) {
    const key = emailKey(email);
    const known = plan.settled.get(key);
    if (known) {
      results.push(known);
      continue;
    }
    const userId = plan.accountOf.get(key) ?? '';
    const outcome = byId.get(userId);
    if (outcome === undefined) results.push({ user_id: userId, email, status: 'failed', error: 'not attempted' });
    // A 404 right after the lookup showed the user is a failure to act, not "not found".
    else if (outcome.status === 'not_found') results.push({ user_id: userId, email, status: 'failed', error: outcome.error ?? 'user vanished before the delete' });
    else results.push({ ...outcome, email });
  }
  return results;
}
