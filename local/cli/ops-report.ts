/**
 * What the operator commands read back from the ledger: per-request status, per-email history,
 * failure listings and the run report. Pure shaping over the `Ledger` interface, so the same code
 * serves the local data dir and a deployed stack's table.
 */
import type { Ledger, RequestState } from '../../lambdas/core/ledger.js';
import {
  countOutcomes,
  emptyCounts,
  FINAL_REQUEST_STATES,
  REQUEST_STATES,
  type Outcome,
  type OutcomeCounts,
  type OutcomeStatus,
  type RequestStateStatus,
} from '../../lambdas/core/outcome.js';
import { renderCsv, renderTableHeader, renderTableRows, widenTable, type OutputFormat, type OutputRecord } from './output.js';
import { mapLimited } from '../../lambdas/core/concurrency.js';
import { summarizeAccess } from '../../lambdas/core/access-inventory.js';
import { orphanedServiceKeysOf } from '../../lambdas/core/removal.js';

/** The core's rule (lambdas/core/outcome.ts), re-exported for the commands that import it from here. */
export { FINAL_REQUEST_STATES };

/**
 * Summary column labels, in the order an operator reads them: done, nothing to do, needs a look. Keyed by every
 * outcome status, so a new status does not compile until the report shows it.
 */
const SUMMARY_LABELS = {
  DELETED: 'deleted',
  NOT_FOUND: 'not found',
  FAILED: 'failed',
  PROTECTED: 'protected',
  HELD: 'held',
  DRY_RUN: 'dry-run',
  REJECTED: 'rejected',
  CANCELLED: 'cancelled',
  REHIRED_AFTER_DELETION: 'rehired after deletion',
} as const satisfies Record<OutcomeStatus, string>;

export const SUMMARY_COLUMNS: readonly { status: OutcomeStatus; label: string }[] = (Object.keys(SUMMARY_LABELS) as OutcomeStatus[]).map((status) => ({
  status,
  label: SUMMARY_LABELS[status],
}));

/** One email's outcome as `status --output json` shows it. */
export interface OutcomeView {
  email: string;
  status: OutcomeStatus;
  userId?: string;
  /** FAILED: the error class and message. */
  error?: string;
  /** PROTECTED / HELD / DRY_RUN / REJECTED / CANCELLED / REHIRED_AFTER_DELETION: why (and who, for the last two). */
  reason?: string;
  /** Delete attempts made (0 when decided before any delete). */
  attempts: number;
  recordedAt: string;
  /** DELETED: when the read-back confirmed the account gone. */
  verifiedAt?: string;
  /** DELETED: the access the leaver had, in one line (or why it could not be read). */
  access?: string;
  /** DELETED: SERVICE keys the leaver created that are still ACTIVE (the alert's list). */
  orphanedServiceKeys?: { id: string; name: string; space?: string; redactedKey: string }[];
}

export interface RequestStatusView {
  requestId: string;
  state: RequestStateStatus | 'UNKNOWN';
  source?: string;
  /** The request's reason (HR's text), or for a rejected message why it was rejected. */
  reason?: string;
  detail?: string;
  createdAt?: string;
  updatedAt?: string;
  /** The request's effective date, when it has one (stored with the request by the start handler). */
  effectiveAt?: string;
  counts: OutcomeCounts;
  outcomes: OutcomeView[];
}

export interface EmailHistoryEntry extends OutcomeView {
  requestId: string;
}

/** A request waiting for its effective date that has not recorded an outcome for this email yet. */
export interface ScheduledView {
  requestId: string;
  effectiveAt: string;
  recordedAt: string;
}

export interface EmailStatusView {
  email: string;
  /**
   * SCHEDULED while a request for the address waits for its effective date; otherwise the most recent outcome
   * across requests, or NONE when the ledger never saw the address.
   */
  latest: OutcomeStatus | 'SCHEDULED' | 'NONE';
  /** Present when some request for the address is still waiting for its effective date. */
  scheduled?: ScheduledView[];
  history: EmailHistoryEntry[];
}

export function outcomeView(outcome: Outcome): OutcomeView {
  const view: OutcomeView = { email: outcome.email, status: outcome.status, attempts: outcome.attempt, recordedAt: outcome.recordedAt };
  if (outcome.userId !== undefined) view.userId = outcome.userId;
  if (outcome.status === 'DELETED') {
    if (outcome.verifiedAt !== undefined) view.verifiedAt = outcome.verifiedAt;
    if (outcome.access !== undefined) view.access = summarizeAccess(outcome.access);
    const orphaned = orphanedServiceKeysOf([outcome]).keys;
    if (orphaned.length > 0) view.orphanedServiceKeys = orphaned.map((k) => ({ id: k.keyId, name: k.name, ...(k.space === undefined ? {} : { space: k.space }), redactedKey: k.redactedKey }));
  } else if (outcome.status === 'FAILED') {
    view.error = outcome.error ? `${outcome.errorClass}: ${outcome.error}` : outcome.errorClass;
  } else if ('reason' in outcome && outcome.reason !== undefined && outcome.reason !== '') {
    view.reason = outcome.reason;
  }
  return view;
}

const byEmail = (a: { email: string }, b: { email: string }) => a.email.localeCompare(b.email);

export function requestStatusView(requestId: string, state: RequestState | undefined, outcomes: readonly Outcome[]): RequestStatusView {
  const view: RequestStatusView = {
    requestId,
    state: state?.status ?? 'UNKNOWN',
    counts: countOutcomes(outcomes),
    outcomes: outcomes.map(outcomeView).sort(byEmail),
  };
  if (state?.source !== undefined) view.source = state.source;
  if (state?.reason !== undefined) view.reason = state.reason;
  if (state?.detail !== undefined) view.detail = state.detail;
  if (state?.createdAt !== undefined) view.createdAt = state.createdAt;
  if (state?.updatedAt !== undefined) view.updatedAt = state.updatedAt;
  if (state?.request?.effectiveAt !== undefined) view.effectiveAt = state.request.effectiveAt;
  return view;
}

export async function requestStatus(ledger: Ledger, requestId: string): Promise<RequestStatusView | undefined> {
  const [state, outcomes] = await Promise.all([ledger.getRequestState(requestId), ledger.outcomesOfRequest(requestId)]);
  if (state === undefined && outcomes.length === 0) return undefined;
  return requestStatusView(requestId, state, outcomes);
}

export function emailStatusView(email: string, history: readonly Outcome[], scheduled: readonly ScheduledView[] = []): EmailStatusView {
  const entries = history.map((outcome) => ({ requestId: outcome.requestId, ...outcomeView(outcome) }));
  const last = entries[entries.length - 1];
  if (scheduled.length > 0) return { email, latest: 'SCHEDULED', scheduled: [...scheduled], history: entries };
  return { email, latest: last?.status ?? 'NONE', history: entries };
}

const WAITING_STATES: ReadonlySet<RequestStateStatus> = new Set(['RECEIVED', 'RUNNING']);

/** One email's history, plus the requests still waiting to act on it (recorded by the workflow's Validate). */
export async function emailStatus(ledger: Ledger, email: string): Promise<EmailStatusView> {
  const [history, schedules] = await Promise.all([ledger.historyOfEmail(email), ledger.scheduledForEmail(email)]);
  const settled = new Set(history.map((outcome) => outcome.requestId));
  const candidates = schedules.filter((entry) => !settled.has(entry.requestId));
  const states = await Promise.all(candidates.map((entry) => ledger.getRequestState(entry.requestId)));
  const waiting = candidates
    .filter((_, index) => {
      const state = states[index];
      return state !== undefined && WAITING_STATES.has(state.status);
    })
    .map(({ requestId, effectiveAt, recordedAt }) => ({ requestId, effectiveAt, recordedAt }))
    .sort((a, b) => a.effectiveAt.localeCompare(b.effectiveAt));
  return emailStatusView(email, history, waiting);
}

/** Every request the ledger knows (optionally since a time), oldest first. */
export async function allRequestStates(ledger: Ledger, since?: string): Promise<RequestState[]> {
  const lists = await Promise.all(REQUEST_STATES.map((status) => ledger.requestsByStatus(status, since ? { since } : {})));
  return lists.flat().sort((a, b) => a.updatedAt.localeCompare(b.updatedAt) || a.requestId.localeCompare(b.requestId));
}

/**
 * Outcomes come before the counts made of them: a report written as it is read (writeOutcomes) can then count
 * exactly the rows it wrote, however the ledger changes meanwhile.
 */
export interface Report {
  generatedAt: string;
  outcomes: Array<OutcomeView & { requestId: string }>;
  requests: Array<Omit<RequestStatusView, 'outcomes'> & { emails: number }>;
  totals: OutcomeCounts;
}

/** The report of the given requests (in that order), or of every request in the ledger. */
export async function buildReport(
  ledger: Ledger,
  options: { requestIds?: readonly string[]; since?: string; now?: Date } = {},
): Promise<Report> {
  const requestIds = options.requestIds ?? (await allRequestStates(ledger, options.since)).map((state) => state.requestId);
  const views = await mapLimited([...new Set(requestIds)], 8, async (requestId) => {
    const [state, outcomes] = await Promise.all([ledger.getRequestState(requestId), ledger.outcomesOfRequest(requestId)]);
    return requestStatusView(requestId, state, outcomes);
  });
  return {
    generatedAt: (options.now ?? new Date()).toISOString(),
    outcomes: views.flatMap((view) => view.outcomes.map((outcome) => ({ requestId: view.requestId, ...outcome }))),
    requests: views.map(requestSummary),
    totals: totalsOf(views),
  };
}

function requestSummary({ outcomes, ...summary }: RequestStatusView): Report['requests'][number] {
  return { ...summary, emails: outcomes.length };
}

function totalsOf(views: readonly Pick<RequestStatusView, 'counts'>[]): OutcomeCounts {
  const totals = emptyCounts();
  for (const view of views) for (const status of Object.keys(totals) as OutcomeStatus[]) totals[status] += view.counts[status];
  return totals;
}

/**
 * The report of `buildReport` for these requests (in the order given), written one request at a time instead of
 * built whole: a `run` of 100,000 emails held its outcomes three times over (views, rows, text) at its very end,
 * and a table of 130,000 rows overflowed the stack. CSV and JSON are written in one pass; a table needs its column
 * widths before the first row, so it reads the requests twice. The counts returned are always those of the rows
 * written: a request still being worked on (a `run` that timed out) can gain outcomes between the table's two
 * passes, and a total that disagreed with its rows would be proof of nothing. The table is the outcome rows alone
 * (the caller prints the totals). Returns the report without its outcomes.
 */
export async function writeOutcomes(
  ledger: Ledger,
  requestIds: readonly string[],
  format: OutputFormat,
  write: (text: string) => void,
  now: Date = new Date(),
): Promise<Omit<Report, 'outcomes' | 'generatedAt'>> {
  const ids = [...new Set(requestIds)];
  const viewOf = async (requestId: string): Promise<RequestStatusView> => {
    const [state, outcomes] = await Promise.all([ledger.getRequestState(requestId), ledger.outcomesOfRequest(requestId)]);
    return requestStatusView(requestId, state, outcomes);
  };
  const rowsOf = (view: RequestStatusView) => view.outcomes.map((outcome) => ({ requestId: view.requestId, ...outcome }));
  const requests: Report['requests'] = [];
  /** Reads one request, keeps its summary for the counts, and gives its rows to be written. */
  const written = async (requestId: string) => {
    const view = await viewOf(requestId);
    requests.push(requestSummary(view));
    return rowsOf(view);
  };
  if (format === 'csv') {
    write(renderCsv([], OUTCOME_COLUMNS));
    for (const requestId of ids) write(renderCsv((await written(requestId)).map(outcomeRecord), OUTCOME_COLUMNS, { header: false }));
    return { totals: totalsOf(requests), requests };
  }
  if (format === 'json') {
    // JSON.stringify(report, null, 2) of buildReport's object, byte for byte, with the outcomes written as they come.
    const nested = (value: unknown, depth: number) => JSON.stringify(value, null, 2).replace(/\n/g, `\n${'  '.repeat(depth)}`);
    write(`{\n  "generatedAt": ${JSON.stringify(now.toISOString())},\n  "outcomes": `);
    let first = true;
    for (const requestId of ids) {
      for (const outcome of await written(requestId)) {
        write(`${first ? '[\n' : ',\n'}    ${nested(outcome, 2)}`);
        first = false;
      }
    }
    const totals = totalsOf(requests);
    write(`${first ? '[]' : '\n  ]'},\n  "requests": ${nested(requests, 1)},\n  "totals": ${nested(totals, 1)}\n}\n`);
    return { totals, requests };
  }
  let widths: number[] | undefined;
  const measured: Report['requests'] = [];
  for (const requestId of ids) {
    const view = await viewOf(requestId);
    measured.push(requestSummary(view));
    widths = widenTable(widths, rowsOf(view).map(outcomeRecord), OUTCOME_COLUMNS);
  }
  if (measured.every((request) => request.emails === 0)) {
    write('No outcomes recorded.\n');
    return { totals: totalsOf(measured), requests: measured };
  }
  const columnWidths = widths ?? widenTable(undefined, [], OUTCOME_COLUMNS);
  write(`${renderTableHeader(OUTCOME_COLUMNS, columnWidths)}\n`);
  for (const requestId of ids) {
    const rows = (await written(requestId)).map(outcomeRecord);
    if (rows.length > 0) write(`${renderTableRows(rows, OUTCOME_COLUMNS, columnWidths)}\n`);
  }
  return { totals: totalsOf(requests), requests };
}

export const OUTCOME_COLUMNS = ['request_id', 'email', 'status', 'user_id', 'attempts', 'detail', 'recorded_at'] as const;

export function outcomeRecord(outcome: OutcomeView & { requestId?: string }): OutputRecord {
  return {
    request_id: outcome.requestId,
    email: outcome.email,
    status: outcome.status,
    user_id: outcome.userId,
    attempts: outcome.attempts,
    detail: outcome.error ?? outcome.reason ?? outcome.access,
    recorded_at: outcome.recordedAt,
  };
}

export const REQUEST_COLUMNS = ['request_id', 'state', 'source', 'emails', ...SUMMARY_COLUMNS.map((c) => c.label.replace(/[ -]/g, '_'))];

export function requestRecord(request: Report['requests'][number]): OutputRecord {
  const record: OutputRecord = { request_id: request.requestId, state: request.state, source: request.source, emails: request.emails };
  for (const column of SUMMARY_COLUMNS) record[column.label.replace(/[ -]/g, '_')] = request.counts[column.status];
  return record;
}

/** One row per outcome status, in summary order, with the total last. */
export function summaryRecords(totals: OutcomeCounts): OutputRecord[] {
  const rows: OutputRecord[] = SUMMARY_COLUMNS.map((column) => ({ outcome: column.label, emails: totals[column.status] }));
  rows.push({ outcome: 'total', emails: Object.values(totals).reduce((a, b) => a + b, 0) });
  return rows;
}
