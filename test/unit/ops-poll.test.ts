import { describe, expect, it } from 'vitest';
import type { RequestState } from '../../lambdas/core/ledger.js';
import { pollUntilFinal } from '../../local/cli/ops-backend.js';
import { finishedEmails } from '../../local/cli/ops-shared.js';

const state = (requestId: string, status: RequestState['status']): RequestState => ({
  requestId,
  status,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
});

describe('pollUntilFinal', () => {
  it('reads a request again only until it is final', async () => {
    const reads: string[] = [];
    // 'done' is final from the start; 'slow' is RUNNING for two polls, then COMPLETED.
    const ledger = {
      getRequestState(requestId: string): Promise<RequestState | undefined> {
        reads.push(requestId);
        if (requestId === 'done') return Promise.resolve(state('done', 'COMPLETED'));
        const slowReads = reads.filter((id) => id === 'slow').length;
        return Promise.resolve(state('slow', slowReads < 3 ? 'RUNNING' : 'COMPLETED'));
      },
    };
    const updates: string[][] = [];
    const states = await pollUntilFinal(ledger, ['done', 'slow'], {
      timeoutMs: 60_000,
      pollIntervalMs: 1,
      onUpdate: (seen) => updates.push([...seen.values()].map((s) => s?.status ?? 'none')),
    });

    expect(reads.filter((id) => id === 'done')).toHaveLength(1);
    expect(reads.filter((id) => id === 'slow')).toHaveLength(3);
    // Every update still shows every request, the final ones as last read.
    expect(updates).toEqual([
      ['COMPLETED', 'RUNNING'],
      ['COMPLETED', 'RUNNING'],
      ['COMPLETED', 'COMPLETED'],
    ]);
    expect([...states.keys()]).toEqual(['done', 'slow']);
  });
});

describe('finishedEmails', () => {
  it('counts a final request whole and an unfinished one by the emails with an outcome, never beyond its size', () => {
    const parts = [
      { requestId: 'a', emails: ['a1@example.com', 'a2@example.com'] },
      { requestId: 'b', emails: ['b1@example.com', 'b2@example.com', 'b3@example.com'] },
      { requestId: 'c', emails: ['c1@example.com'] },
    ];
    const states = new Map([
      ['a', state('a', 'COMPLETED')],
      ['b', state('b', 'RUNNING')],
      ['c', undefined],
    ]);
    expect(finishedEmails(parts, states)).toBe(2);
    expect(finishedEmails(parts, states, new Map([['b', 2]]))).toBe(4);
    // A recorded count of a final request is already in its whole; a count above the size is capped.
    expect(finishedEmails(parts, states, new Map([['a', 1], ['b', 9]]))).toBe(5);
  });
});
