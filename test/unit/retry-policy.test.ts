import { describe, expect, it } from 'vitest';
import {
  backoffSchedule,
  backoffSeconds,
  classifyFailure,
  isRetryableStatus,
  shouldRetry,
  DEFAULT_RETRY_POLICY,
} from '../../lambdas/core/retry-policy.js';
import { ArizeApiError, ArizeConfigError, ArizeNetworkError, ArizeTimeoutError } from '../../lambdas/arize/index.js';

describe('retry policy', () => {
  it('treats client errors as permanent and throttling / server errors as retryable', () => {
    for (const status of [400, 401, 403, 404, 409, 422, 418]) expect(isRetryableStatus(status), String(status)).toBe(false);
    for (const status of [408, 425, 429, 500, 502, 503, 504]) expect(isRetryableStatus(status), String(status)).toBe(true);
  });

  it('classifies the Arize client errors', () => {
    const forbidden = new ArizeApiError({ status: 403, method: 'DELETE', route: '/v2/users/{user_id}' });
    expect(classifyFailure(forbidden)).toMatchObject({ errorClass: 'HTTP_403', retryable: false, httpStatus: 403 });
    const unavailable = new ArizeApiError({ status: 503, method: 'DELETE', route: '/v2/users/{user_id}' });
    expect(classifyFailure(unavailable)).toMatchObject({ errorClass: 'HTTP_503', retryable: true });
    expect(classifyFailure(new ArizeNetworkError('DELETE', '/v2/users/{user_id}', new Error('ECONNRESET')))).toMatchObject({ errorClass: 'ArizeNetworkError', retryable: true });
    expect(classifyFailure(new ArizeTimeoutError('DELETE', '/v2/users/{user_id}', 10))).toMatchObject({ retryable: true });
    expect(classifyFailure(new ArizeConfigError('no key', 'ARIZE_API_KEY'))).toMatchObject({ errorClass: 'ArizeConfigError', retryable: false });
    expect(classifyFailure('boom')).toMatchObject({ errorClass: 'Error', retryable: true, message: 'boom' });
  });

  it('grows the wait by the rate, caps it, and stops at the attempt limit', () => {
    expect(backoffSchedule(DEFAULT_RETRY_POLICY)).toEqual([60, 120]);
    expect(backoffSchedule({ maxAttempts: 5, backoffSeconds: 10, backoffRate: 3, maxBackoffSeconds: 100 })).toEqual([10, 30, 90, 100]);
    expect(backoffSeconds({ maxAttempts: 3, backoffSeconds: 0, backoffRate: 2 }, 2)).toBe(0);
    expect(shouldRetry(DEFAULT_RETRY_POLICY, 2, true)).toBe(true);
    expect(shouldRetry(DEFAULT_RETRY_POLICY, 3, true)).toBe(false);
    expect(shouldRetry(DEFAULT_RETRY_POLICY, 1, false)).toBe(false);
  });
});
