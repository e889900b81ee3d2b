/** Report rows → requests for `offboard pull`: leavers only, dates as HR means them, ids stable across pulls. */
import { describe, expect, it } from 'vitest';
import { pullRequestId, requestsFromReport, rowsFromJson, type ReportRow } from '../../lambdas/core/hr/pull.js';
import { hrFixture } from '../support/hr.js';

const POLICY = { timeZone: 'America/New_York', graceMinutes: 0 };

describe('requestsFromReport', () => {
  it('Workday RaaS JSON: terminated rows become requests, active rows are skipped, a row without email is a problem', () => {
    const rows = rowsFromJson(JSON.parse(hrFixture('workday-raas-terminations.json')));
    if ('error' in rows) throw new Error(rows.error);
    const result = requestsFromReport(rows, POLICY, 'wd2-impl-services1.workday.com');
    expect(result.notTerminated).toBe(1);
    expect(result.problems).toEqual([{ row: 4, reason: 'email: missing' }]);
    expect(result.requests.map((r) => [r.emails, r.effectiveAt, r.effectiveAtOriginal])).toEqual([
      [['emma.johansson@example.com'], '2026-12-01T05:00:00.000Z', '2026-11-30'],
      // The row's own zone wins over the configured one.
      [['zara.ahmed@example.com'], '2030-01-31T15:00:00.000Z', '2030-01-31'],
    ]);
    expect(result.requests[0]?.requestId).toBe(pullRequestId('emma.johansson@example.com', '2026-11-30'));
    expect(result.requests[0]?.requestId).not.toMatch(/emma/);
  });

  it('the same leaver in the next pull is the same request id; a changed date is a new one', () => {
    const row: ReportRow = { Email: 'ann@example.com', Termination_Date: '2026-11-30' };
    const first = requestsFromReport([row], POLICY, 'hr').requests[0]!.requestId;
    expect(requestsFromReport([{ ...row, Email: ' ANN@example.com ' }], POLICY, 'hr').requests[0]!.requestId).toBe(first);
    expect(requestsFromReport([{ ...row, Termination_Date: '2026-12-01' }], POLICY, 'hr').requests[0]!.requestId).not.toBe(first);
  });

  it('rejects a report that is neither an array nor Report_Entry, and names a bad date', () => {
    expect(rowsFromJson({ rows: [] })).toEqual({ error: 'report: expected a JSON array or {"Report_Entry": [...]}' });
    const result = requestsFromReport([{ Email: 'ann@example.com', 'Termination Date': '31/11/2026' }], POLICY, 'hr');
    expect(result.problems).toEqual([{ row: 1, reason: expect.stringContaining('31/11/2026') as string }]);
  });
});
