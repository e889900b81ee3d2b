import { describe, expect, it } from 'vitest';
import { planOffboarding, type PlanningPolicy } from '../../lambdas/core/planning.js';
import { parseRequest } from '../../lambdas/core/request.js';

const policy: PlanningPolicy = {
  protectedEmails: [],
  protectedPatterns: [],
  protectedRoles: ['ADMIN'],
  maxDeletesPerRequest: 2,
  chunkSize: 100,
  forceDryRun: false,
};
const member = (n: number) => ({ id: `u${n}`, email: `p${n}@example.com`, role: { type: 'PREDEFINED', name: 'MEMBER' } });
const accounts = [member(1), member(2), member(3), { id: 'boss', email: 'boss@example.com', role: { type: 'PREDEFINED', name: 'ADMIN' } }];
const emails = accounts.map((a) => a.email);
const resolved = new Map(accounts.map((a) => [a.email, a]));

describe('approving a HELD request (approvesHeldRequest → blastRadiusApproved)', () => {
  it('over the cap without approval: HELD, nothing to delete now', () => {
    const plan = planOffboarding(emails, resolved, policy, { dryRun: false });
    expect(plan.decision).toBe('HELD');
    expect(plan.heldReason).toContain('3 deletes exceed the maximum of 2');
  });

  it('with approval the cap is lifted, but protection still applies', () => {
    const plan = planOffboarding(emails, resolved, policy, { dryRun: false, blastRadiusApproved: true });
    expect(plan.decision).toBe('DELETE');
    expect(plan.heldReason).toBeUndefined();
    expect(plan.targets.map((t) => t.userId)).toEqual(['u1', 'u2', 'u3']);
    expect(plan.protectedAccounts.map((p) => [p.userId, p.reason])).toEqual([['boss', 'protected-role:ADMIN']]);
  });

  it('an approved dry run (or forced dry run) still deletes nothing', () => {
    expect(planOffboarding(emails, resolved, policy, { dryRun: true, blastRadiusApproved: true }).decision).toBe('DRY_RUN');
    expect(planOffboarding(emails, resolved, { ...policy, forceDryRun: true }, { dryRun: false, blastRadiusApproved: true }).decision).toBe('DRY_RUN');
  });

  it('the request field is optional, a valid request id when present, and survives parsing', () => {
    const base = { requestId: 'hr-9.approved', type: 'employee.terminated', emails: ['p1@example.com'] };
    const approved = parseRequest({ ...base, approvesHeldRequest: 'hr-9' });
    expect(approved.ok && approved.value.approvesHeldRequest).toBe('hr-9');
    const plain = parseRequest(base);
    expect(plain.ok && plain.value.approvesHeldRequest).toBeUndefined();
    const bad = parseRequest({ ...base, approvesHeldRequest: 'has space' });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.reason).toContain('approvesHeldRequest');
  });
});
