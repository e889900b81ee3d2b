import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { chunk, MAX_TARGET_ROLE_FIELD, planOffboarding, targetRole, type PlanningPolicy } from '../../lambdas/core/planning.js';
import { DeleteChunkInputSchema } from '../../lambdas/core/workflow-state.js';
import { createProtectionMatcher, globToRegExp, type AccountForProtection } from '../../lambdas/core/protection.js';

interface PlanningCase {
  name: string;
  emails: string[];
  dryRun: boolean;
  resolvedOverride?: Record<string, string>;
  extraDirectory?: AccountForProtection[];
  expected: {
    decision: string;
    targets: string[];
    notFound: string[];
    protected: Record<string, string>;
    chunks: string[][];
    heldReasonIncludes?: string;
  };
}
const fixtures = JSON.parse(readFileSync(new URL('../fixtures/planning.json', import.meta.url), 'utf8')) as {
  directory: AccountForProtection[];
  policy: PlanningPolicy;
  cases: PlanningCase[];
};

/** What the client's exact resolution returns: the account whose address equals the requested one. */
function resolve(emails: string[], directory: AccountForProtection[], override: Record<string, string> = {}) {
  const byEmail = new Map(directory.map((account) => [account.email, account]));
  const byId = new Map(directory.map((account) => [account.id, account]));
  return new Map(emails.map((email) => [email, override[email] ? byId.get(override[email]) : byEmail.get(email)]));
}

describe('planOffboarding (fixtures)', () => {
  it.each(fixtures.cases)('$name', (testCase) => {
    const directory = [...fixtures.directory, ...(testCase.extraDirectory ?? [])];
    const plan = planOffboarding(testCase.emails, resolve(testCase.emails, directory, testCase.resolvedOverride), fixtures.policy, {
      dryRun: testCase.dryRun,
    });
    expect(plan.decision).toBe(testCase.expected.decision);
    expect(plan.targets.map((t) => t.userId)).toEqual(testCase.expected.targets);
    expect(plan.notFound).toEqual(testCase.expected.notFound);
    expect(Object.fromEntries(plan.protectedAccounts.map((p) => [p.email, p.reason]))).toEqual(testCase.expected.protected);
    expect(plan.chunks.map((c) => c.map((t) => t.userId))).toEqual(testCase.expected.chunks);
    if (testCase.expected.heldReasonIncludes) expect(plan.heldReason).toContain(testCase.expected.heldReasonIncludes);
    else expect(plan.heldReason).toBeUndefined();
  });

  it('never targets the same user twice nor a protected account, whatever the request repeats', () => {
    const directory = fixtures.directory;
    const emails = ['ann@example.com', 'ANN@example.com ', 'boss@example.com', 'ann@example.com'];
    const plan = planOffboarding(emails, resolve(['ann@example.com', 'boss@example.com'], directory), { ...fixtures.policy, maxDeletesPerRequest: 10 }, { dryRun: false });
    // The target carries the role protection was checked against (issue 12: no read of the user per leaver).
    expect(plan.targets).toEqual([{ userId: 'u-ann', email: 'ann@example.com', role: { type: 'PREDEFINED', name: 'MEMBER' } }]);
    expect(plan.protectedAccounts.map((p) => p.userId)).toEqual(['u-boss']);
  });

  it('forced dry run (configuration) overrides a request that asks to delete', () => {
    const plan = planOffboarding(['ann@example.com'], resolve(['ann@example.com'], fixtures.directory), { ...fixtures.policy, forceDryRun: true }, { dryRun: false });
    expect(plan.decision).toBe('DRY_RUN');
  });

  it('protects the API key owner by user id too', () => {
    const matcher = createProtectionMatcher({ protectedEmails: [], protectedPatterns: [], protectedRoles: [], apiKeyOwnerUserId: 'u-ann' });
    expect(matcher.protectedBy({ id: 'u-ann', email: 'renamed@example.com' })).toBe('api-key-owner');
    expect(matcher.protectedBy({ id: 'u-bob', email: 'bob@example.com' })).toBeUndefined();
  });
});

describe('globs', () => {
  it('match whole addresses, case-insensitively, with regex characters taken literally', () => {
    expect(globToRegExp('*@security.example.com').test('eve@security.example.com')).toBe(true);
    expect(globToRegExp('*@security.example.com').test('eve@security-example.com')).toBe(false);
    expect(globToRegExp('*@security.example.com').test('eve@security.example.com.evil.io')).toBe(false);
    expect(globToRegExp('admin+*@example.com').test('admin+ops@example.com')).toBe(true);
    expect(globToRegExp('admin+*@example.com').test('adminnn@example.com')).toBe(false);
    expect(globToRegExp('ops?@Example.com').test('ops1@example.com')).toBe(true);
  });
});

describe('chunk', () => {
  it('splits in order and refuses a non-positive size', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunk([], 100)).toEqual([]);
    expect(() => chunk([1], 0)).toThrow(/chunk size/);
  });
});

describe('the role a delete target carries (issue 12)', () => {
  const long = 'x'.repeat(MAX_TARGET_ROLE_FIELD + 1);
  const policy = { protectedEmails: [], protectedPatterns: [], protectedRoles: ['ADMIN', 'Auditors'], maxDeletesPerRequest: 10, chunkSize: 10, forceDryRun: false };

  it('is the role protection was checked against, carried whole or not at all (the delete step then reads it)', () => {
    const accounts = new Map<string, AccountForProtection>([
      ['custom@example.com', { id: 'u-c', email: 'custom@example.com', role: { type: 'CUSTOM', id: 'r-9', name: 'Support' } }],
      ['longname@example.com', { id: 'u-l', email: 'longname@example.com', role: { type: 'CUSTOM', id: 'r-8', name: long } }],
      ['auditor@example.com', { id: 'u-a', email: 'auditor@example.com', role: { type: 'CUSTOM', id: 'r-7', name: 'Auditors' } }],
    ]);
    const plan = planOffboarding([...accounts.keys()], accounts, policy, { dryRun: false });
    expect(plan.targets).toEqual([
      { userId: 'u-c', email: 'custom@example.com', role: { type: 'CUSTOM', id: 'r-9', name: 'Support' } },
      // Never a cut name: no role rides along, so DeleteChunk reads the whole one from Arize.
      { userId: 'u-l', email: 'longname@example.com' },
    ]);
    expect(plan.protectedAccounts.map((p) => p.reason)).toEqual(['protected-role:AUDITORS']);
    expect(targetRole({ type: 'PREDEFINED', name: 'OWNER' })).toBeUndefined();
    expect(targetRole({ type: 'CUSTOM', id: long })).toBeUndefined();
  });

  it('is bounded in the Map item schema, which names the field it refuses', () => {
    const item = (role: unknown) => DeleteChunkInputSchema.safeParse({ requestId: 'r', attempt: 1, targets: [{ userId: 'u', email: 'a@b.c', role }] });
    expect(item({ type: 'PREDEFINED', name: 'MEMBER' }).success).toBe(true);
    const refused = item({ type: 'CUSTOM', id: 'r-1', name: long });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0]?.path).toEqual(['targets', 0, 'role', 'name']);
    expect(item({ type: 'PREDEFINED', name: 'member' }).success).toBe(false);
  });
});
