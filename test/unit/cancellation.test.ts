/** The pure rule of which (request, email) a cancellation stops (lambdas/core/cancellation.ts). */
import { describe, expect, it } from 'vitest';
import { cancellationFor, checkCancelled, type Cancellation, type CancellationPort } from '../../lambdas/core/cancellation.js';

const rescind = (email: string, cancelledAt: string): Cancellation => ({ recordId: 'hr-r1', email, cancelledAt, source: 'webhook', eventId: 'r1', reason: 'rehired' });

describe('cancellationFor', () => {
  it('a person-level rescind stops requests received at or before it, not a termination received after it', () => {
    const c = [rescind('ann@example.com', '2026-12-02T10:00:00.000Z')];
    expect(cancellationFor(c, 'hr-t1', 'ANN@example.com', '2026-12-02T09:59:59.000Z')).toBe(c[0]);
    expect(cancellationFor(c, 'hr-t1', 'ann@example.com', '2026-12-02T10:00:00.000Z')).toBe(c[0]);
    expect(cancellationFor(c, 'hr-t2', 'ann@example.com', '2026-12-02T10:00:00.001Z')).toBeUndefined();
    expect(cancellationFor(c, 'hr-t1', 'bob@example.com', '2026-12-02T09:00:00.000Z')).toBeUndefined();
  });

  it('when the request state cannot be read, every rescind of the email applies (do not delete when in doubt)', () => {
    const c = [rescind('ann@example.com', '2026-12-02T10:00:00.000Z')];
    expect(cancellationFor(c, 'hr-t9', 'ann@example.com', undefined)).toBe(c[0]);
  });

  it('a request-level cancellation stops only that request (all its emails, or the one it names)', () => {
    const all: Cancellation = { recordId: 'cancel-1', requestId: 'hr-t1', cancelledAt: '2026-12-01T00:00:00.000Z', source: 'cli', operator: 'alice', reason: 'x' };
    const one: Cancellation = { ...all, recordId: 'cancel-2', requestId: 'hr-t2', email: 'ann@example.com' };
    expect(cancellationFor([all], 'hr-t1', 'zed@example.com', '2026-12-02T00:00:00.000Z')).toBe(all);
    expect(cancellationFor([all], 'hr-t3', 'zed@example.com', '2026-12-02T00:00:00.000Z')).toBeUndefined();
    expect(cancellationFor([one], 'hr-t2', 'ann@example.com', undefined)).toBe(one);
    expect(cancellationFor([one], 'hr-t2', 'bob@example.com', undefined)).toBeUndefined();
  });
});

describe('checkCancelled', () => {
  it('splits targets using the state\'s intake time (receivedAt before createdAt)', async () => {
    const port: CancellationPort = {
      cancellationsOf: () => Promise.resolve([rescind('ann@example.com', '2026-12-02T10:00:00.000Z')]),
      // Received in the queue before the rescind, started after it: the rescind still applies.
      getRequestState: () => Promise.resolve({ createdAt: '2026-12-02T10:00:05.000Z', receivedAt: '2026-12-02T09:59:58.000Z' }),
    };
    const result = await checkCancelled(port, 'hr-t1', [{ email: 'ann@example.com', userId: 'u1' }, { email: 'bob@example.com', userId: 'u2' }]);
    expect(result.proceed).toEqual([{ email: 'bob@example.com', userId: 'u2' }]);
    expect(result.cancelled.map((c) => c.target.userId)).toEqual(['u1']);
  });
});
