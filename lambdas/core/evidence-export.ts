/**
 * The evidence export in three forms (JSON, CSV, one self-contained HTML page) from one `EvidenceReport`.
 * Pure, so `offboard evidence` and the scheduled export in AWS render the same bytes.
 *
 * The digest is the SHA-256 of the canonical JSON of the query, the summary, the rows and the ledger chain heads
 * the export was read against (not of the generation time): running the same query over an unchanged ledger
 * gives the same digest, and an edited export no longer matches it.
 * The export is for auditors and carries the leavers' emails (it is the evidence); it never goes to a log.
 */
import { sha256Canonical } from './canonical-json.js';
import { toCsv, type CsvCell } from './csv.js';
import { EVIDENCE_OUTCOMES, type EvidenceReport, type EvidenceRow } from './evidence.js';

export const EVIDENCE_FORMATS = ['json', 'csv', 'html'] as const;
export type EvidenceFormat = (typeof EVIDENCE_FORMATS)[number];

/** A day's chain head as the export saw it (see evidence-chain.ts); empty when the ledger has no chain yet. */
export interface ChainHead {
  day: string;
  count: number;
  headHash: string;
}

export interface EvidenceExport extends EvidenceReport {
  kind: 'arize-offboarding.evidence';
  version: 1;
  chain: ChainHead[];
  digest: string;
}

export function evidenceDigest(report: Pick<EvidenceReport, 'query' | 'summary' | 'rows'>, chain: readonly ChainHead[]): string {
  return sha256Canonical({ query: report.query, summary: report.summary, rows: report.rows, chain });
}

export function toEvidenceExport(report: EvidenceReport, chain: readonly ChainHead[] = []): EvidenceExport {
  return { kind: 'arize-offboarding.evidence', version: 1, ...report, chain: [...chain], digest: evidenceDigest(report, chain) };
}

export const EVIDENCE_CSV_COLUMNS = [
  'email',
  'hr_event_id',
  'source',
  'termination_as_sent',
  'termination_at',
  'received_at',
  'outcome',
  'outcome_request_id',
  'deleted_at',
  'verified_at',
  'time_to_removal_hours',
  'sla_hours',
  'sla_deadline',
  'sla',
  'attempts',
  'access_removed',
  'activity_after_termination',
  'detail',
] as const;

const hours = (ms: number | undefined): number | undefined => (ms === undefined ? undefined : Math.round((ms / 3_600_000) * 100) / 100);

/** A DELETED row without a recorded read-back says so; other outcomes have nothing to verify. */
export function verificationText(row: EvidenceRow): string {
  if (row.outcome !== 'DELETED') return '';
  return row.verifiedAt ?? 'not verified';
}

export function evidenceCsvRecord(row: EvidenceRow): Record<(typeof EVIDENCE_CSV_COLUMNS)[number], CsvCell> {
  return {
    email: row.email,
    hr_event_id: row.hrEventId,
    source: row.source,
    termination_as_sent: row.terminationAsSent,
    termination_at: row.terminationAt,
    received_at: row.receivedAt,
    outcome: row.outcome,
    outcome_request_id: row.outcomeRequestId,
    deleted_at: row.deletedAt,
    verified_at: verificationText(row),
    time_to_removal_hours: hours(row.timeToRemovalMs),
    sla_hours: row.slaHours,
    sla_deadline: row.slaDeadline,
    sla: row.sla,
    attempts: row.attempts,
    access_removed: row.outcome === 'DELETED' ? row.accessRemoved : '',
    activity_after_termination: row.outcome === 'DELETED' ? row.activityAfterTermination : '',
    detail: row.detail,
  };
}

/** The rows through the project's one CSV writer (formula-injection guard: emails and ids come from senders). */
export function renderEvidenceCsv(doc: EvidenceExport): string {
  return toCsv(doc.rows.map(evidenceCsvRecord), EVIDENCE_CSV_COLUMNS);
}

export function renderEvidenceJson(doc: EvidenceExport): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** The query, totals and digest beside a CSV (which has no room for them). */
export function evidenceManifest(doc: EvidenceExport, file: { name: string; sha256: string }): Record<string, unknown> {
  return { kind: 'arize-offboarding.evidence-manifest', version: 1, query: doc.query, generatedAt: doc.generatedAt, summary: doc.summary, chain: doc.chain, digest: doc.digest, file };
}

export function escapeHtml(value: string | number | undefined): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const percent = (value: number | null) => (value === null ? 'n/a (no verdict yet)' : `${(value * 100).toFixed(1)} %`);
const hoursText = (ms: number | null | undefined) => (ms === null || ms === undefined ? '—' : `${(ms / 3_600_000).toFixed(2)} h`);

/**
 * Time to removal of every DELETED row, one bar each in row order, with the SLA as a line. Inline SVG only:
 * the page must open offline, from a mail attachment, with no script.
 */
export function timeToRemovalChart(rows: readonly EvidenceRow[], slaHours: number): string {
  const deleted = rows.filter((r) => r.timeToRemovalMs !== undefined);
  const width = 720;
  const height = 240;
  const left = 48;
  const bottom = 24;
  const plotHeight = height - bottom - 12;
  const maxHours = Math.max(slaHours * 1.1, ...deleted.map((r) => Math.max(0, (r.timeToRemovalMs ?? 0) / 3_600_000)));
  const y = (h: number) => 12 + plotHeight - (Math.max(0, h) / maxHours) * plotHeight;
  const step = deleted.length === 0 ? 0 : (width - left - 8) / deleted.length;
  const barWidth = Math.max(1, Math.min(40, step * 0.8));
  const bars = deleted
    .map((r, i) => {
      const h = (r.timeToRemovalMs ?? 0) / 3_600_000;
      const top = y(h);
      const x = left + i * step + (step - barWidth) / 2;
      const fill = r.sla === 'missed' ? '#c0392b' : '#2e7d32';
      return `<rect class="bar" data-sla="${escapeHtml(r.sla)}" x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${(12 + plotHeight - top).toFixed(1)}" fill="${fill}"><title>${escapeHtml(r.email)}: ${escapeHtml(hoursText(r.timeToRemovalMs))}</title></rect>`;
    })
    .join('');
  const slaY = y(slaHours).toFixed(1);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" id="time-to-removal" role="img" aria-label="Time to removal per leaver, hours" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">`,
    `<line x1="${left}" y1="${12 + plotHeight}" x2="${width - 4}" y2="${12 + plotHeight}" stroke="#555"/>`,
    `<line x1="${left}" y1="12" x2="${left}" y2="${12 + plotHeight}" stroke="#555"/>`,
    `<text x="${left - 6}" y="16" font-size="11" text-anchor="end">${maxHours.toFixed(0)} h</text>`,
    `<text x="${left - 6}" y="${12 + plotHeight}" font-size="11" text-anchor="end">0</text>`,
    bars,
    `<line class="sla-line" x1="${left}" y1="${slaY}" x2="${width - 4}" y2="${slaY}" stroke="#e67e22" stroke-dasharray="6 4"/>`,
    `<text x="${width - 6}" y="${(Number(slaY) - 4).toFixed(1)}" font-size="11" text-anchor="end" fill="#e67e22">SLA ${escapeHtml(slaHours)} h</text>`,
    deleted.length === 0 ? `<text x="${width / 2}" y="${height / 2}" text-anchor="middle" font-size="13">No removals in this period</text>` : '',
    '</svg>',
  ].join('');
}

const STYLE = `body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1b1b1b}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}table{border-collapse:collapse;font-size:12px}
th,td{border:1px solid #ccc;padding:4px 6px;text-align:left;vertical-align:top}th{background:#f3f3f3}
.met{color:#2e7d32;font-weight:600}.missed{color:#c0392b;font-weight:600}.pending{color:#8a6d00}
.mono{font-family:ui-monospace,Menlo,Consolas,monospace;word-break:break-all}dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px}
dt{font-weight:600}`;

/** One self-contained page: no script, no external resource; every value from the ledger is escaped. */
export function renderEvidenceHtml(doc: EvidenceExport): string {
  const s = doc.summary;
  const outcomeRows = EVIDENCE_OUTCOMES.map((o) => `<tr><td>${o}</td><td class="count" data-outcome="${o}">${s.byOutcome[o]}</td></tr>`).join('');
  const columns = ['Email', 'HR event', 'Source', 'Termination (as sent)', 'Termination (interpreted)', 'Received', 'Outcome', 'Deleted', 'Verified', 'Time to removal', 'SLA', 'Attempts', 'Access removed', 'Activity after termination', 'Detail'];
  const rows = doc.rows
    .map((r) =>
      [
        `<tr class="leaver" data-outcome="${escapeHtml(r.outcome)}">`,
        `<td class="email">${escapeHtml(r.email || '(no address)')}</td>`,
        `<td class="mono">${escapeHtml(r.hrEventId)}</td>`,
        `<td>${escapeHtml(r.source)}</td>`,
        `<td>${escapeHtml(r.terminationAsSent || '(none: effective on receipt)')}</td>`,
        `<td>${escapeHtml(r.terminationAt)}</td>`,
        `<td>${escapeHtml(r.receivedAt)}</td>`,
        `<td>${escapeHtml(r.outcome)}</td>`,
        `<td>${escapeHtml(r.deletedAt ?? '')}</td>`,
        `<td>${escapeHtml(verificationText(r))}</td>`,
        `<td>${escapeHtml(r.timeToRemovalMs === undefined ? '' : hoursText(r.timeToRemovalMs))}</td>`,
        `<td class="${escapeHtml(r.sla)}">${escapeHtml(r.sla.replace('_', ' '))}</td>`,
        `<td>${r.attempts}</td>`,
        `<td>${escapeHtml(r.outcome === 'DELETED' ? r.accessRemoved : '')}</td>`,
        `<td>${escapeHtml(r.outcome === 'DELETED' ? r.activityAfterTermination : '')}</td>`,
        `<td>${escapeHtml(r.detail ?? '')}</td>`,
        '</tr>',
      ].join(''),
    )
    .join('\n');
  const chain = doc.chain.length === 0
    ? '<p>No ledger chain heads recorded for these days.</p>'
    : `<table><tr><th>Day</th><th>Records</th><th>Head hash</th></tr>${doc.chain.map((c) => `<tr><td>${escapeHtml(c.day)}</td><td>${c.count}</td><td class="mono">${escapeHtml(c.headHash)}</td></tr>`).join('')}</table>`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Arize offboarding evidence ${escapeHtml(doc.query.from)} – ${escapeHtml(doc.query.to)}</title>
<style>${STYLE}</style></head><body>
<h1>Arize offboarding evidence</h1>
<dl id="query"><dt>Period (received)</dt><dd>${escapeHtml(doc.query.from)} to ${escapeHtml(doc.query.to)} (end exclusive)</dd>
<dt>Removal SLA</dt><dd>${escapeHtml(doc.query.slaHours)} h after the effective termination</dd>
<dt>Generated</dt><dd>${escapeHtml(doc.generatedAt)}</dd>
<dt>Digest</dt><dd class="mono" id="digest">${escapeHtml(doc.digest)}</dd></dl>
<h2>Summary</h2>
<p id="population">${s.eventsReceived} HR event(s) received, ${s.leavers} leaver(s): every leaver is counted under exactly one outcome.</p>
<table id="outcomes"><tr><th>Outcome</th><th>Leavers</th></tr>${outcomeRows}<tr><th>Total</th><th>${s.leavers}</th></tr></table>
<h2>SLA compliance</h2>
<p id="sla-compliance">${percent(s.slaCompliance)} within ${escapeHtml(doc.query.slaHours)} h: <span class="met">${s.sla.met} met</span>, <span class="missed">${s.sla.missed} missed</span>, <span class="pending">${s.sla.pending} pending</span>, ${s.sla.not_applicable} not applicable. Median time to removal ${hoursText(s.medianTimeToRemovalMs)}, longest ${hoursText(s.maxTimeToRemovalMs)}.</p>
<h2>Time to removal</h2>
${timeToRemovalChart(doc.rows, doc.query.slaHours)}
<h2>Leavers</h2>
<table id="leavers"><thead><tr>${columns.map((c) => `<th>${c}</th>`).join('')}</tr></thead><tbody>
${rows}
</tbody></table>
<h2>Ledger chain</h2>
${chain}
</body></html>
`;
}

export function renderEvidence(doc: EvidenceExport, format: EvidenceFormat): string {
  switch (format) {
    case 'json':
      return renderEvidenceJson(doc);
    case 'csv':
      return renderEvidenceCsv(doc);
    case 'html':
      return renderEvidenceHtml(doc);
  }
}
