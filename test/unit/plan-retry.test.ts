import { describe, expect, it } from 'vitest';
import { loadRuntimeConfig } from '../../lambdas/core/runtime-config.js';
import type { PlanState } from '../../lambdas/core/workflow-state.js';
import { planRetry } from '../../lambdas/usecases/plan-retry.js';

const config = loadRuntimeConfig({ LEDGER_TABLE_NAME: 'ledger', DELETE_CHUNK_SIZE: '2', RETRY_MAX_ATTEMPTS: '3', RETRY_BACKOFF_SECONDS: '30', RETRY_BACKOFF_RATE: '2' });
const request = { requestId: 'r1', source: 'cli', dryRun: false, emailCount: 4 };
const plan = (attempt: number): PlanState => ({
  decision: attempt === 1 ? 'DELETE' : 'RETRY',
  attempt,
  chunks: [],
  counts: { requested: 4, targets: 4, notFound: 0, protected: 0 },
  waitSeconds: 0,
});
const t = (n: number) => ({ userId: `u${n}`, email: `u${n}@example.com` });

describe('planRetry', () => {
  it('re-chunks only the retryable failures of all chunks, once each, and grows the wait', () => {
    const deleteResults = [
      { deleted: 1, notFound: 0, failed: 1, retry: [t(1)] },
      { deleted: 0, notFound: 0, failed: 2, retry: [t(2), t(3)] },
      { deleted: 0, notFound: 0, failed: 1, retry: [t(1)] },
    ];
    const first = planRetry({ request, plan: plan(1), deleteResults }, { config });
    expect(first.plan).toMatchObject({ decision: 'RETRY', attempt: 2, waitSeconds: 30, chunks: [{ targets: [t(1), t(2)] }, { targets: [t(3)] }] });
    expect(first.request).toEqual(request);
    const second = planRetry({ request, plan: first.plan, deleteResults: [{ deleted: 0, notFound: 0, failed: 1, retry: [t(3)] }] }, { config });
    expect(second.plan).toMatchObject({ decision: 'RETRY', attempt: 3, waitSeconds: 60 });
  });

  it('is done when nothing is retryable or the attempts are used up', () => {
    expect(planRetry({ request, plan: plan(1), deleteResults: [{ deleted: 2, notFound: 0, failed: 0, retry: [] }] }, { config }).plan).toMatchObject({ decision: 'DONE', chunks: [], waitSeconds: 0 });
    expect(planRetry({ request, plan: plan(3), deleteResults: [{ deleted: 0, notFound: 0, failed: 1, retry: [t(1)] }] }, { config }).plan.decision).toBe('DONE');
  });

  it('rejects a malformed payload naming the field', () => {
    expect(() => planRetry({ request, plan: plan(1), deleteResults: [{ deleted: 'x' }] }, { config })).toThrow(/PlanRetry input: deleteResults\.0\.deleted/);
  });
});
