import { describe, expect, it } from 'vitest';
import { canonicalJson, sha256Canonical } from '../../lambdas/core/canonical-json.js';
import { evidenceRow, summarizeEvidence, type EvidenceReport } from '../../lambdas/core/evidence.js';
import { renderEvidenceCsv, renderEvidenceHtml, timeToRemovalChart, toEvidenceExport } from '../../lambdas/core/evidence-export.js';
import { deletedOutcome } from '../support/records.js';

const NOW = new Date('2026-12-10T00:00:00.000Z');
function report(rows: EvidenceReport['rows']): EvidenceReport {
  return { query: { from: '2026-12-01T00:00:00.000Z', to: '2026-12-08T00:00:00.000Z', slaHours: 24 }, generatedAt: NOW.toISOString(), summary: summarizeEvidence(rows, rows.map((r) => r.hrEventId)), rows };
}
const deleted = deletedOutcome;
const state = (requestId: string, email: string, reason?: string) => ({
  requestId, status: 'COMPLETED' as const, createdAt: '2026-12-02T00:00:00.000Z', updatedAt: '2026-12-02T00:01:00.000Z', source: 'webhook',
  request: { emails: [email], effectiveAt: '2026-12-02T00:00:00.000Z' }, ...(reason ? { reason } : {}),
});

describe('canonical JSON', () => {
  it('does not depend on key order, and drops undefined members like JSON does', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: undefined, w: 'v' }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"w":"v","y":2}]},"b":1}');
    expect(sha256Canonical({ a: 1, b: 2 })).toBe(sha256Canonical({ b: 2, a: 1 }));
  });
});

describe('evidence renderers', () => {
  const rows = [
    evidenceRow({ state: state('e1', 'ann@example.com'), email: 'ann@example.com', own: deleted('e1', 'ann@example.com', '2026-12-02T02:00:00.000Z', { verifiedAt: '2026-12-02T02:00:01.000Z' }), related: [] }, NOW, 24),
    evidenceRow({ state: state('e2', '=cmd@example.com'), email: '=cmd@example.com', own: deleted('e2', '=cmd@example.com', '2026-12-04T00:00:00.000Z'), related: [] }, NOW, 24),
    evidenceRow(
      { state: state('e3', 'x@example.com'), email: 'x@example.com', own: { requestId: 'e3', email: 'x@example.com', attempt: 0, recordedAt: '2026-12-02T00:00:05.000Z', status: 'PROTECTED', reason: '<img src=x onerror=alert(1)> protected' }, related: [] },
      NOW,
      24,
    ),
  ];
  const doc = toEvidenceExport(report(rows));

  it('CSV: verified time or "not verified", formula cells guarded', () => {
    const lines = renderEvidenceCsv(doc).split('\r\n');
    expect(lines[1]).toContain(',2026-12-02T02:00:01.000Z,2,24,');
    expect(lines[2]?.startsWith("'=cmd@example.com,")).toBe(true);
    expect(lines[2]).toContain(',not verified,48,24,');
  });

  it('HTML escapes every value from the ledger and draws one bar per removal, red past the SLA', () => {
    const html = renderEvidenceHtml(doc);
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt; protected');
    expect(html).not.toMatch(/<script/i);
    const chart = timeToRemovalChart(rows, 24);
    expect(chart.match(/<rect class="bar"/g)).toHaveLength(2);
    expect(chart.match(/data-sla="missed" [^>]*fill="#c0392b"/g)).toHaveLength(1);
  });

  it('the digest covers the rows: any edited row changes it; the generation time does not', () => {
    const edited = toEvidenceExport(report([{ ...(rows[0] as EvidenceReport['rows'][number]), sla: 'met', deletedAt: '2026-12-02T01:00:00.000Z' }, ...rows.slice(1)]));
    expect(edited.digest).not.toBe(doc.digest);
    expect(toEvidenceExport({ ...report(rows), generatedAt: '2030-01-01T00:00:00.000Z' }).digest).toBe(doc.digest);
  });
});
