/**
 * The scheduled audit, pure parts: which failures to re-drive, which terminated people re-appeared in Arize,
 * the requests that follow, and the report.
 *
 * What counts as "terminated" for drift: a DELETED outcome (current outcome of its request) within the
 * lookback window. Deliberately not the others:
 * - NOT_FOUND is also recorded by dry runs (resolution runs before the dry-run branch) and the ledger's request
 *   state does not say whether a request was a dry run — a rehearsal must never turn into a deletion;
 * - PROTECTED and HELD are decisions to keep the account (policy, or a human still to approve);
 * - DRY_RUN is a rehearsal, REJECTED never was a valid request;
 * - FAILED is the re-drive's business (retryable) or needs a human (permanent).
 * The lookback window bounds the rehire risk: a person terminated long ago who is re-hired and re-invited is
 * not offboarded again by an old record.
 *
 * Request ids are deterministic so two audits over the same ledger and directory submit the same ids, and the
 * execution-name idempotency makes the second a no-op:
 * - re-drive: `redrive-<hash of the re-driven (requestId, email, attempt) triples>`;
 * - drift:    `audit-<hash of the drifted Arize user ids>` (a re-provisioned account has a new id ⇒ a new request).
 */
import { createHash } from 'node:crypto';
import { normalizeEmail } from './email.js';
import type { Outcome } from './outcome.js';
import { splitRequest, type OffboardingRequest, type ParseResult } from './request.js';

export const DRIFT_TERMINAL_STATUSES = ['DELETED'] as const;
/** Arize statuses that mean "has an account": the list endpoint's default set. */
export const DRIFT_ARIZE_STATUSES = ['ACTIVE', 'INVITED', 'EXPIRED'] as const;

export interface AuditPolicy {
  /** FAILED (retryable) outcomes older than this are re-driven: the workflow's own retries are over by then. */
  redriveOlderThanMinutes: number;
  /** Only DELETED outcomes recorded within this many days count for drift. */
  driftLookbackDays: number;
}

export const DEFAULT_AUDIT_POLICY: AuditPolicy = { redriveOlderThanMinutes: 60, driftLookbackDays: 90 };

export interface DirectoryUser {
  id: string;
  email: string;
  status: string;
  created_at?: string;
}

export interface RedriveItem {
  email: string;
  failedRequestId: string;
  attempt: number;
  errorClass: string;
  failedAt: string;
  newRequestId?: string;
}

export interface DriftFinding {
  email: string;
  arizeUserId: string;
  arizeStatus: string;
  arizeCreatedAt?: string;
  deletedRequestId: string;
  deletedAt: string;
  newRequestId?: string;
}

export interface AuditReport {
  auditId: string;
  startedAt: string;
  finishedAt: string;
  policy: AuditPolicy;
  redrive: {
    /** Retryable FAILED outcomes older than the threshold. */
    candidates: number;
    /** Already handled by a later request (the email has a newer record elsewhere). */
    superseded: number;
    /** In a request that was a dry run: never turned into a deletion. */
    skippedDryRun: number;
    items: RedriveItem[];
    requestIds: string[];
  };
  drift: {
    terminatedEmails: number;
    /** 0 when nothing was terminated in the window: the directory is then not scanned at all. */
    directoryUsersScanned: number;
    findings: DriftFinding[];
    requestIds: string[];
  };
  /** False when the audit only reported (nothing enqueued). */
  submitted: boolean;
}

export function minutesBefore(now: Date, minutes: number): string {
  return new Date(now.getTime() - minutes * 60_000).toISOString();
}

/** Retryable FAILED outcomes recorded before `cutoff`. */
export function redriveCandidates(failed: readonly Outcome[], cutoff: string): Extract<Outcome, { status: 'FAILED' }>[] {
  return failed.filter((o): o is Extract<Outcome, { status: 'FAILED' }> => o.status === 'FAILED' && o.retryable && o.recordedAt < cutoff);
}

/** True when the email's history has a record from another request at or after the failure. */
export function isSuperseded(candidate: Pick<Outcome, 'requestId' | 'recordedAt'>, history: readonly Outcome[]): boolean {
  return history.some((o) => o.requestId !== candidate.requestId && o.recordedAt >= candidate.recordedAt);
}

function shortHash(parts: readonly string[]): string {
  return createHash('sha256').update([...parts].sort().join('\n'), 'utf8').digest('hex').slice(0, 16);
}

function requestsFor(
  requestId: string,
  emails: readonly string[],
  source: 'redrive' | 'audit',
  reason: string,
): ParseResult<OffboardingRequest[]> {
  return splitRequest({ requestId, type: 'employee.terminated', emails, source, reason });
}

/** One request (split above 1,000 emails) re-driving every item; ids fill in `newRequestId`. */
export function redriveRequests(items: RedriveItem[]): OffboardingRequest[] {
  if (items.length === 0) return [];
  const requestId = `redrive-${shortHash(items.map((i) => `${i.failedRequestId}|${i.email}|${i.attempt}`))}`;
  const emails = [...new Set(items.map((i) => normalizeEmail(i.email)))];
  const reason = `audit re-drive of ${items.length} failed outcome(s)`;
  return assignRequests(requestsFor(requestId, emails, 'redrive', reason), items);
}

/** Terminated emails (latest DELETED per email) that own an account again. */
export function driftFindings(deleted: readonly Outcome[], users: Iterable<DirectoryUser>): DriftFinding[] {
  const latest = new Map<string, Outcome>();
  for (const outcome of deleted) {
    if (!(DRIFT_TERMINAL_STATUSES as readonly string[]).includes(outcome.status)) continue;
    const email = normalizeEmail(outcome.email);
    const known = latest.get(email);
    if (!known || known.recordedAt < outcome.recordedAt) latest.set(email, outcome);
  }
  const findings: DriftFinding[] = [];
  for (const user of users) {
    if (!(DRIFT_ARIZE_STATUSES as readonly string[]).includes(user.status)) continue;
    const terminated = latest.get(normalizeEmail(user.email));
    if (!terminated) continue;
    findings.push({
      email: normalizeEmail(user.email),
      arizeUserId: user.id,
      arizeStatus: user.status,
      ...(user.created_at ? { arizeCreatedAt: user.created_at } : {}),
      deletedRequestId: terminated.requestId,
      deletedAt: terminated.recordedAt,
    });
  }
  return findings.sort((a, b) => a.email.localeCompare(b.email) || a.arizeUserId.localeCompare(b.arizeUserId));
}

export function driftRequests(findings: DriftFinding[]): OffboardingRequest[] {
  if (findings.length === 0) return [];
  const requestId = `audit-${shortHash(findings.map((f) => f.arizeUserId))}`;
  const emails = [...new Set(findings.map((f) => f.email))];
  const reason = `audit: ${emails.length} terminated account(s) present in Arize again`;
  return assignRequests(requestsFor(requestId, emails, 'audit', reason), findings);
}

function assignRequests<T extends { email: string; newRequestId?: string }>(
  parsed: ParseResult<OffboardingRequest[]>,
  items: T[],
): OffboardingRequest[] {
  // Inputs are ledger emails and generated ids, already valid: a failure here is a bug, not bad input.
  if (!parsed.ok) throw new Error(`audit produced an invalid request: ${parsed.reason}`);
  const byEmail = new Map<string, string>();
  for (const request of parsed.value) for (const email of request.emails) byEmail.set(email, request.requestId);
  for (const item of items) {
    const id = byEmail.get(normalizeEmail(item.email));
    if (id) item.newRequestId = id;
  }
  return parsed.value;
}

// ---- report as CSV ------------------------------------------------------------------------------------

export const AUDIT_CSV_COLUMNS = ['kind', 'email', 'arizeUserId', 'arizeStatus', 'originalRequestId', 'recordedAt', 'detail', 'newRequestId'] as const;

function csvCell(value: string | number | undefined): string {
  const text = value === undefined ? '' : String(value);
  // Cells starting with = + - @ would be formulas in a spreadsheet; prefix them so they stay text.
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function auditReportCsv(report: AuditReport): string {
  const rows: (string | number | undefined)[][] = [
    ...report.redrive.items.map((i) => ['redrive', i.email, undefined, undefined, i.failedRequestId, i.failedAt, `${i.errorClass} (attempt ${i.attempt})`, i.newRequestId]),
    ...report.drift.findings.map((f) => ['drift', f.email, f.arizeUserId, f.arizeStatus, f.deletedRequestId, f.deletedAt, f.arizeCreatedAt ? `account created ${f.arizeCreatedAt}` : '', f.newRequestId]),
  ];
  return [AUDIT_CSV_COLUMNS.join(','), ...rows.map((row) => row.map(csvCell).join(','))].join('\n') + '\n';
}
