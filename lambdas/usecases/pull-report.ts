/**
 * The pull for HR systems without webhooks (Workday RaaS, any CSV/JSON export): fetch the report → rows →
 * requests (core/hr/pull.ts). `offboard pull` and the scheduled pull Lambda (handlers/pull.ts) both call
 * `fetchReportRequests`; the Lambda then enqueues through `runScheduledPull`.
 *
 * Idempotent across pulls: a row's request id derives from (email, termination date) and its content does not
 * depend on when or by whom it was pulled, so a leaver seen by every pull is one request (the start handler
 * acknowledges the repeats as duplicates).
 */
import type { EffectiveDatePolicy } from '../core/hr/effective-date.js';
import { parseReport, requestsFromReport, type PullResult, type ReportFormat } from '../core/hr/pull.js';
import { DEFAULT_HR_LOOKUP, LookupFailure, fetchWithRetries, type FetchRetryDeps, type HrLookupOptions } from './hr-intake.js';
import type { RequestQueue, WorkflowLog } from './ports.js';

/** A report is one big GET, unlike a webhook lookup nobody waits for: longer per attempt and overall. */
export const PULL_LOOKUP: HrLookupOptions = { ...DEFAULT_HR_LOOKUP, timeoutMs: 30_000, budgetMs: 120_000 };

export class PullError extends Error {
  override readonly name = 'PullError';
  constructor(
    message: string,
    /** `usage`: the report or its format is wrong (fix the configuration); `fetch`: the report could not be read. */
    readonly kind: 'usage' | 'fetch',
  ) {
    super(message);
  }
}

export interface PullReportOptions {
  url: string;
  format?: ReportFormat;
  /** Headers from `pullAuthorization` (never logged). */
  authorization: Record<string, string>;
  policy: EffectiveDatePolicy;
  /** Names the source in each request's reason (`pull <label>`). @default the URL's host */
  label?: string;
}

export interface ReportRequests extends PullResult {
  label: string;
  rows: number;
}

/** Fetches and maps the report; throws PullError (nothing to enqueue) when it cannot be read or parsed. */
export async function fetchReportRequests(options: PullReportOptions, deps: Omit<FetchRetryDeps, 'lookup'> & { lookup?: HrLookupOptions }): Promise<ReportRequests> {
  let text: string;
  let contentType: string;
  try {
    const response = await fetchWithRetries(
      options.url,
      { method: 'GET', headers: { accept: 'application/json, text/csv;q=0.9', ...options.authorization } },
      { ...deps, lookup: deps.lookup ?? PULL_LOOKUP },
      'the report URL',
    );
    contentType = response.headers.get('content-type') ?? '';
    text = await response.text();
  } catch (error) {
    if (error instanceof LookupFailure) throw new PullError(`pull failed: ${error.message}`, 'fetch');
    throw error;
  }
  const rows = parseReport(text, contentType, options.format);
  if ('error' in rows) throw new PullError(rows.error, 'usage');
  const label = options.label ?? new URL(options.url).host;
  return { ...requestsFromReport(rows, options.policy, label), label, rows: rows.length };
}

export interface ScheduledPullDeps extends Omit<FetchRetryDeps, 'lookup'> {
  queue: RequestQueue;
  log: WorkflowLog;
}

export interface ScheduledPullSummary {
  rows: number;
  enqueued: number;
  notTerminated: number;
  problems: number;
}

/**
 * One scheduled pull: every leaver row enqueued (repeats are duplicates downstream), then unusable rows reported by
 * throwing — after the enqueue, so one bad row never holds back the others, and the invocation fails so the
 * function's error alarm tells a human (a leaver row that cannot be used must not be lost silently). Row numbers
 * and reasons are logged, never the row's email.
 */
export async function runScheduledPull(options: PullReportOptions, deps: ScheduledPullDeps): Promise<ScheduledPullSummary> {
  const result = await fetchReportRequests(options, deps);
  if (result.requests.length > 0) await deps.queue.send(result.requests);
  const summary = { rows: result.rows, enqueued: result.requests.length, notTerminated: result.notTerminated, problems: result.problems.length };
  // The first ids only: a report of every past leaver would make one huge log line.
  deps.log.info('scheduled pull done', { source: result.label, ...summary, requestIds: result.requests.slice(0, 50).map((r) => r.requestId) });
  if (result.problems.length > 0) {
    for (const problem of result.problems) deps.log.warn('pull row unusable', { source: result.label, row: problem.row, reason: problem.reason });
    throw new PullError(`${result.problems.length} unusable row(s) in the report from ${result.label}: ${result.problems.map((p) => `row ${p.row}: ${p.reason}`).join('; ')}`.slice(0, 1000), 'usage');
  }
  return summary;
}
