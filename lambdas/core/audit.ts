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
 * - re-drive: `redrive-<hash of the re-driven (requestId, email, attempt) triples>` — the same for the audit and
 *   `offboard redrive` (`redrive-dry-run-<hash>` for a rehearsal);
 * - drift:    `audit-<hash of the drifted Arize user ids>` (a re-provisioned account has a new id ⇒ a new request).
 */
import { createHash } from 'node:crypto';
import { mapLimited } from './concurrency.js';
import { toCsv, type CsvCell } from './csv.js';
import { normalizeEmail } from './email.js';
import type { Outcome } from './outcome.js';
import { TERMINATION_TYPE, splitRequest, type OffboardingRequest, type ParseResult } from './request.js';

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
    /** Settled or stood in for by a later record of the email from another, non-dry-run request (see selectRedrive). */
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

/** What the re-drive selection reads (the DynamoDB ledger satisfies it). */
export interface RedriveLedger {
  outcomesByStatus(status: 'FAILED', range?: { since?: string; until?: string }): Promise<Outcome[]>;
  historyOfEmail(email: string, range?: { since?: string }): Promise<Outcome[]>;
  outcomesOfRequest(requestId: string): Promise<Outcome[]>;
  /** The request as the start handler stored it (absent for requests recorded before it was stored). */
  getRequestState(requestId: string): Promise<{ request?: Pick<OffboardingRequest, 'dryRun'> } | undefined>;
}

export interface RedriveSelection {
  /** Retryable FAILED outcomes older than the threshold. */
  candidates: number;
  superseded: number;
  skippedDryRun: number;
  /** Non-retryable FAILED outcomes older than the threshold: a human's business, never re-driven. */
  permanent: number;
  /** Oldest first, then by email. */
  items: RedriveItem[];
}

export interface RedriveSelectionOptions {
  now: Date;
  /** Minimum age of a failure; 0 = any age (an operator's deliberate re-drive). */
  olderThanMinutes: number;
  /** Parallel ledger reads. */
  concurrency?: number;
}

type FailedOutcome = Extract<Outcome, { status: 'FAILED' }>;

export function minutesBefore(now: Date, minutes: number): string {
  return new Date(now.getTime() - minutes * 60_000).toISOString();
}

/** Undefined when there is no minimum age: then no failure is excluded for being recent. */
export function redriveCutoff(now: Date, olderThanMinutes: number): string | undefined {
  if (!Number.isFinite(olderThanMinutes) || olderThanMinutes < 0) throw new Error(`olderThanMinutes must be a number ≥ 0, got ${olderThanMinutes}`);
  return olderThanMinutes === 0 ? undefined : minutesBefore(now, olderThanMinutes);
}

/** Retryable FAILED outcomes recorded before `cutoff` (all of them without one). */
export function redriveCandidates(failed: readonly Outcome[], cutoff: string | undefined): FailedOutcome[] {
  return failed.filter((o): o is FailedOutcome => o.status === 'FAILED' && o.retryable && (cutoff === undefined || o.recordedAt < cutoff));
}

/**
 * True when the email's history has a record from another request, at or after the failure, that is not a
 * rehearsal. `isDryRunRequest` is only asked about requests with a FAILED record (DRY_RUN ones are known).
 */
export async function isSuperseded(
  candidate: Pick<Outcome, 'requestId' | 'recordedAt'>,
  history: readonly Outcome[],
  isDryRunRequest: (requestId: string) => Promise<boolean>,
): Promise<boolean> {
  for (const record of history) {
    if (record.requestId === candidate.requestId || record.recordedAt < candidate.recordedAt || record.status === 'DRY_RUN') continue;
    if (record.status === 'FAILED' && (await isDryRunRequest(record.requestId))) continue;
    return true;
  }
  return false;
}

/**
 * Which failures are re-drivable — the one definition, shared by the scheduled audit and `offboard redrive`.
 *
 * A candidate is a current, retryable FAILED outcome older than the threshold, from a request that was not a
 * dry run (a rehearsal that failed must never come back as a real deletion). It is re-driven unless the email
 * has a record from another request at or after the failure, because then that record is the email's story:
 * - a decision (DELETED, NOT_FOUND, PROTECTED, HELD, REJECTED) settles it — re-driving could undo a
 *   protection or a hold;
 * - a newer FAILED stands in for it: re-driven itself when retryable, left to a human when permanent.
 * DRY_RUN records and failures of dry-run requests are ignored: a later rehearsal cannot hide a real failure.
 * (A rehearsal's NOT_FOUND, PROTECTED or HELD still settles: it is true of the directory, and erring towards
 * not deleting is the safe side.)
 * "At or after" (not "after"): a same-instant record from another request is treated as the later one.
 */
export async function selectRedrive(ledger: RedriveLedger, options: RedriveSelectionOptions): Promise<RedriveSelection> {
  const concurrency = options.concurrency ?? 8;
  const cutoff = redriveCutoff(options.now, options.olderThanMinutes);
  const failed = await ledger.outcomesByStatus('FAILED', cutoff === undefined ? {} : { until: cutoff });
  const candidates = redriveCandidates(failed, cutoff);
  const permanent = failed.filter((o) => o.status === 'FAILED' && !o.retryable && (cutoff === undefined || o.recordedAt < cutoff)).length;

  // A dry run by the request the start handler stored, or — for requests recorded before it was stored, and
  // for runs the configuration forced to rehearse — by any DRY_RUN outcome. Either sign is enough.
  const dryRunChecks = new Map<string, Promise<boolean>>();
  const isDryRunRequest = (requestId: string): Promise<boolean> => {
    let check = dryRunChecks.get(requestId);
    if (!check) {
      check = ledger.getRequestState(requestId).then(async (state) =>
        state?.request?.dryRun === true ? true : (await ledger.outcomesOfRequest(requestId)).some((o) => o.status === 'DRY_RUN'),
      );
      dryRunChecks.set(requestId, check);
    }
    return check;
  };

  const candidateRequests = [...new Set(candidates.map((c) => c.requestId))];
  const dryRunFlags = await mapLimited(candidateRequests, concurrency, isDryRunRequest);
  const dryRunRequests = new Set(candidateRequests.filter((_, index) => dryRunFlags[index]));
  const live = candidates.filter((c) => !dryRunRequests.has(c.requestId));
  const superseded = await mapLimited(live, concurrency, async (c) =>
    isSuperseded(c, await ledger.historyOfEmail(c.email, { since: c.recordedAt }), isDryRunRequest),
  );
  const items = live
    .filter((_, index) => !superseded[index])
    .map((c): RedriveItem => ({ email: c.email, failedRequestId: c.requestId, attempt: c.attempt, errorClass: c.errorClass, failedAt: c.recordedAt }))
    .sort((a, b) => a.failedAt.localeCompare(b.failedAt) || a.email.localeCompare(b.email) || a.failedRequestId.localeCompare(b.failedRequestId));
  return {
    candidates: candidates.length,
    superseded: superseded.filter(Boolean).length,
    skippedDryRun: candidates.length - live.length,
    permanent,
    items,
  };
}

function shortHash(parts: readonly string[]): string {
  return createHash('sha256').update([...parts].sort().join('\n'), 'utf8').digest('hex').slice(0, 16);
}

function requestsFor(
  requestId: string,
  emails: readonly string[],
  source: 'redrive' | 'audit',
  reason: string,
  dryRun = false,
): ParseResult<OffboardingRequest[]> {
  return splitRequest({ requestId, type: TERMINATION_TYPE, emails, source, reason, dryRun });
}

/**
 * One request (split above 1,000 emails) re-driving every item; ids fill in `newRequestId`.
 * The id depends only on the re-driven failures, so the audit and `offboard redrive` agree on it and the
 * execution-name idempotency runs the re-drive once. A rehearsal gets its own id (`redrive-dry-run-…`):
 * otherwise it would take the name and the real re-drive of the same failures would become a no-op.
 */
export function redriveRequests(items: RedriveItem[], options: { dryRun?: boolean } = {}): OffboardingRequest[] {
  if (items.length === 0) return [];
  const dryRun = options.dryRun === true;
  const requestId = `redrive-${dryRun ? 'dry-run-' : ''}${shortHash(items.map((i) => `${i.failedRequestId}|${normalizeEmail(i.email)}|${i.attempt}`))}`;
  const emails = [...new Set(items.map((i) => normalizeEmail(i.email)))].sort();
  const sources = [...new Set(items.map((i) => i.failedRequestId))].sort();
  const from = `${sources.slice(0, 3).join(', ')}${sources.length > 3 ? ` and ${sources.length - 3} more` : ''}`;
  const reason = `re-drive of ${items.length} failed outcome(s) from ${from}`.slice(0, 500);
  return assignRequests(requestsFor(requestId, emails, 'redrive', reason, dryRun), items);
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

export function auditReportCsv(report: AuditReport): string {
  const rows: CsvCell[][] = [
    ...report.redrive.items.map((i) => ['redrive', i.email, undefined, undefined, i.failedRequestId, i.failedAt, `${i.errorClass} (attempt ${i.attempt})`, i.newRequestId]),
    ...report.drift.findings.map((f) => ['drift', f.email, f.arizeUserId, f.arizeStatus, f.deletedRequestId, f.deletedAt, f.arizeCreatedAt ? `account created ${f.arizeCreatedAt}` : '', f.newRequestId]),
  ];
  const records = rows.map((row) => Object.fromEntries(AUDIT_CSV_COLUMNS.map((column, index) => [column, row[index]])));
  return toCsv(records, AUDIT_CSV_COLUMNS, { newline: '\n' });
}
