/**
 * The operator commands: `run`, `submit`, `status`, `failures`, `redrive`, `approve`, `report`.
 * They enqueue requests the way the HR webhook does and read the ledger back; they never call Arize
 * themselves, so every deletion goes through the same workflow and safety rules as in AWS.
 */
import { approvalRequestId, releaseRequest } from '../../lambdas/core/approval.js';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { Option } from 'commander';
import type { RequestState } from '../../lambdas/adapters/ledger.js';
import { redriveRequests, selectRedrive, type RedriveSelection } from '../../lambdas/core/audit.js';
import { emailProblem, normalizeEmail } from '../../lambdas/core/email.js';
import { OUTCOME_STATUSES, type Outcome, type OutcomeStatus } from '../../lambdas/core/outcome.js';
import {
  conflictingRequestReason,
  identityVerdict,
  parseRequest,
  RequestIdSchema,
  splitRequest,
  TERMINATION_TYPE,
  type OffboardingRequest,
} from '../../lambdas/core/request.js';
import { maskEmailsInText } from '../../lambdas/observability.js';
import { CliError, EXIT_PARTIAL_FAILURE, EXIT_USAGE } from './errors.js';
import type { OpsBackend } from './ops-backend.js';
import { parseRequestsFile, type InputDefaults } from './ops-input.js';
import {
  buildReport,
  emailStatus,
  OUTCOME_COLUMNS,
  outcomeRecord,
  outcomeView,
  REQUEST_COLUMNS,
  requestRecord,
  requestStatus,
  summaryRecords,
  type Report,
  type RequestStatusView,
} from './ops-report.js';
import {
  addDeleteOptions,
  addTargetOptions,
  applySafety,
  parseSince,
  SAFETY_HELP,
  submitAndWait,
  unfinished,
  WHERE_HELP,
  withBackend,
  type DeleteFlags,
  type TargetFlags,
} from './ops-shared.js';
import { outputOption, render, renderCsv, renderJson, type OutputFormat } from './output.js';

const out = (text: string) => process.stdout.write(text);
const note = (line: string) => process.stderr.write(`${line}\n`);

/** Repeatable option whose values may also be comma-separated. */
function collectList(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((item) => item.trim()).filter((item) => item !== '')];
}

function validRequestId(flag: string, value: string): string {
  const parsed = RequestIdSchema.safeParse(value);
  if (!parsed.success) throw new CliError(`invalid value for ${flag}: ${parsed.error.issues[0]?.message ?? 'invalid'}`, EXIT_USAGE);
  return parsed.data;
}

function validEffectiveAt(value: string): string {
  const probe = parseRequest({ requestId: 'probe', type: TERMINATION_TYPE, emails: ['probe@example.com'], effectiveAt: value });
  if (!probe.ok) throw new CliError(`invalid value for --effective-at: '${value}' (expected ISO-8601 with a time zone, e.g. 2025-07-01T17:00:00Z)`, EXIT_USAGE);
  return value;
}

// ---------------------------------------------------------------------------------------------
// Shared result printing for the commands that enqueue

/**
 * Prints the outcomes of the requests just run (data on stdout, summary on stderr for json/csv) and
 * turns "something failed or did not finish" into exit code 1.
 */
async function reportRun(
  backend: OpsBackend,
  requestIds: readonly string[],
  states: ReadonlyMap<string, RequestState | undefined>,
  waited: boolean,
  format: OutputFormat,
): Promise<void> {
  if (!waited) {
    out(render(format, { records: requestIds.map((id) => ({ request_id: id, state: 'ENQUEUED' })), columns: ['request_id', 'state'] }));
    note(`Follow them with: offboard status <requestId>`);
    return;
  }
  const report = await buildReport(backend.ledger, { requestIds });
  printReport(report, format, 'outcomes');
  const pending = unfinished(states);
  const failed = report.totals.FAILED;
  const held = report.requests.filter((r) => r.state === 'HELD').map((r) => r.requestId);
  if (held.length > 0) note(`HELD (blast radius): review, then release with: ${held.map((id) => `offboard approve ${id}`).join('; ')}`);
  if (report.totals.DRY_RUN > 0) note(`${report.totals.DRY_RUN} email(s) were a dry run: nothing was deleted for them.`);
  if (pending.length > 0) {
    throw new CliError(`${pending.length} request(s) did not finish in time: ${pending.slice(0, 5).join(', ')} (see offboard status)`, EXIT_PARTIAL_FAILURE);
  }
  if (failed > 0) throw new CliError(`${failed} deletion(s) failed: see offboard failures; retry with offboard redrive`, EXIT_PARTIAL_FAILURE);
  const rejected = report.totals.REJECTED;
  if (rejected > 0) throw new CliError(`${rejected} email(s) were REJECTED (see the reason column): nobody was deleted for them`, EXIT_PARTIAL_FAILURE);
}

/** `outcomes`: one row per email; `requests`: one row per request; totals always. */
export function printReport(report: Report, format: OutputFormat, rows: 'outcomes' | 'requests'): void {
  if (format === 'json') {
    out(renderJson(report));
    return;
  }
  if (format === 'csv') {
    out(renderCsv(report.outcomes.map(outcomeRecord), OUTCOME_COLUMNS));
    return;
  }
  if (rows === 'outcomes') {
    out(render('table', { records: report.outcomes.map(outcomeRecord), columns: OUTCOME_COLUMNS, emptyMessage: 'No outcomes recorded.' }));
  } else {
    out(render('table', { records: report.requests.map(requestRecord), columns: REQUEST_COLUMNS, emptyMessage: 'No requests in the ledger.' }));
  }
  out(`\n${render('table', { records: summaryRecords(report.totals), columns: ['outcome', 'emails'] })}`);
  if (report.totals.REHIRED_AFTER_DELETION > 0) note(REHIRED_NOTE(report.totals.REHIRED_AFTER_DELETION));
}

/** The one line an operator must act on: HR took back a termination we had already carried out. */
const REHIRED_NOTE = (count: number) =>
  `REHIRED_AFTER_DELETION: ${count} email(s) were deleted before HR rescinded the termination — re-invite them in Arize by hand (accounts are never re-created automatically).`;

// ---------------------------------------------------------------------------------------------
// run / submit

interface RunOptions extends DeleteFlags {
  dryRun?: boolean;
  reason?: string;
  effectiveAt?: string;
  requestId?: string;
  skipInvalid?: boolean;
  output: OutputFormat;
}

/**
 * The ledger's side of the identity rule, checked before anything is sent: a request id the ledger already holds
 * for other content would be REJECTED by the start handler, and the command would then wait on — and report —
 * the earlier request instead. Returns the requests to send; `skipped` names the refused ones.
 */
async function refuseLedgerConflicts(
  backend: OpsBackend,
  requests: readonly OffboardingRequest[],
  locations: readonly string[],
  skipInvalid: boolean,
): Promise<{ requests: OffboardingRequest[]; skipped: string[] }> {
  const verdicts = await Promise.all(requests.map(async (request) => identityVerdict(await backend.ledger.getRequestState(request.requestId), request)));
  const skipped: string[] = [];
  const kept: OffboardingRequest[] = [];
  requests.forEach((request, index) => {
    if (verdicts[index] !== 'conflict') return void kept.push(request);
    const where = locations[index];
    skipped.push(where ? `${where} (${request.requestId})` : request.requestId);
    note(`${where ? `${where}: ` : ''}${conflictingRequestReason(request.requestId)} (in the ledger of ${backend.label}); nothing of it is enqueued`);
  });
  if (skipped.length > 0 && !skipInvalid) {
    throw new CliError(`request id already used for different content: ${skipped.join(', ')}; nothing was enqueued (give a new --request-id)`, EXIT_USAGE);
  }
  return { requests: kept, skipped };
}

async function enqueueAndReport(requests: OffboardingRequest[], options: RunOptions, locations: readonly string[] = [], refusedInFile: readonly string[] = []): Promise<void> {
  const safe = applySafety(requests, options, note);
  await withBackend(options, 'work', async (backend) => {
    const { requests: sendable, skipped } = await refuseLedgerConflicts(backend, safe, locations, options.skipInvalid === true);
    const refused = [...refusedInFile, ...skipped];
    if (sendable.length > 0) {
      const now = Date.now();
      for (const request of sendable) {
        if (request.effectiveAt === undefined || Date.parse(request.effectiveAt) <= now || backend.canLeaveEarly) continue;
        note(
          `Request ${maskEmailsInText(request.requestId)} waits until ${request.effectiveAt}: this process keeps it waiting (at most --timeout); ` +
            'if it stops first, the request stays scheduled in the ledger and the next runtime on this data dir (e.g. `offboard serve`) resumes the wait.',
        );
      }
      const { waited, states } = await submitAndWait(backend, sendable, options);
      await reportRun(backend, sendable.map((r) => r.requestId), states, waited, options.output);
    }
    // Skipped with --skip-invalid, still never silent: the command fails naming them.
    if (refused.length > 0) {
      throw new CliError(`not offboarded (conflicting request id): ${refused.join(', ')}`, EXIT_PARTIAL_FAILURE);
    }
  });
}

async function runFile(file: string, options: RunOptions): Promise<void> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : 'unreadable';
    throw new CliError(`cannot read '${file}': ${reason}`, EXIT_USAGE);
  }
  const defaults: InputDefaults = {
    ...(options.requestId !== undefined ? { requestId: options.requestId } : {}),
    ...(options.dryRun === true ? { dryRun: true } : {}),
    ...(options.reason !== undefined ? { reason: options.reason } : {}),
    ...(options.effectiveAt !== undefined ? { effectiveAt: options.effectiveAt } : {}),
  };
  const parsed = parseRequestsFile(text, file, defaults);
  for (const problem of parsed.problems) note(`${file}: ${problem.location}: ${problem.message}`);
  const conflicts = parsed.problems.filter((problem) => problem.conflict === true).map((problem) => problem.location);
  if (parsed.problems.length > 0 && options.skipInvalid !== true) {
    const what = conflicts.length > 0 ? `${conflicts.length} conflicting request id(s) (${conflicts.join(', ')})` : '';
    const invalid = parsed.problems.length - conflicts.length;
    throw new CliError(
      `${[invalid > 0 ? `${invalid} invalid entr${invalid === 1 ? 'y' : 'ies'}` : '', what].filter(Boolean).join(' and ')} in ${file}; nothing was enqueued (--skip-invalid enqueues the valid ones)`,
      EXIT_USAGE,
    );
  }
  if (parsed.requests.length === 0) throw new CliError(`nothing to enqueue from ${file}`, EXIT_USAGE);
  const emails = parsed.requests.reduce((n, r) => n + r.emails.length, 0);
  note(`${file}: ${parsed.format}, ${parsed.requests.length} request(s), ${emails} email(s)${parsed.problems.length > 0 ? `, ${parsed.problems.length} invalid entr${parsed.problems.length === 1 ? 'y' : 'ies'} skipped` : ''}.`);
  await enqueueAndReport(parsed.requests, options, parsed.locations, conflicts);
}

interface SubmitOptions extends RunOptions {
  email: string[];
}

/** Same addresses ⇒ same id: submitting twice is one execution, not two deletions. */
export function submitRequestId(emails: readonly string[]): string {
  const digest = createHash('sha256').update([...new Set(emails.map(normalizeEmail))].sort().join('\n'), 'utf8').digest('hex');
  return `cli-submit-${digest.slice(0, 16)}`;
}

async function submitEmails(options: SubmitOptions): Promise<void> {
  const invalid = options.email.flatMap((email) => {
    const problem = emailProblem(email);
    return problem ? [`'${email}' (${problem.reason})`] : [];
  });
  if (invalid.length > 0) throw new CliError(`invalid email for --email: ${invalid.join(', ')}; nothing was enqueued`, EXIT_USAGE);
  if (options.email.length === 0) throw new CliError('give at least one --email', EXIT_USAGE);
  const split = splitRequest({
    requestId: options.requestId ?? submitRequestId(options.email),
    type: TERMINATION_TYPE,
    emails: options.email,
    source: 'cli',
    dryRun: options.dryRun === true,
    ...(options.reason !== undefined ? { reason: options.reason } : {}),
    ...(options.effectiveAt !== undefined ? { effectiveAt: options.effectiveAt } : {}),
  });
  if (!split.ok) throw new CliError(split.reason, EXIT_USAGE);
  await enqueueAndReport(split.value, options);
}

// ---------------------------------------------------------------------------------------------
// status

export interface StatusOptions extends TargetFlags {
  output: OutputFormat;
}

export function renderRequestStatus(view: RequestStatusView, format: OutputFormat): string {
  if (format === 'json') {
    const { requestId, state, outcomes } = view;
    return renderJson({
      requestId,
      state,
      ...(view.source !== undefined ? { source: view.source } : {}),
      ...(view.reason !== undefined ? { reason: view.reason } : {}),
      ...(view.detail !== undefined ? { detail: view.detail } : {}),
      ...(view.effectiveAt !== undefined ? { effectiveAt: view.effectiveAt } : {}),
      counts: view.counts,
      outcomes: outcomes.map(({ recordedAt: _recordedAt, ...rest }) => rest),
    });
  }
  const records = view.outcomes.map((o) => outcomeRecord(o));
  const columns = OUTCOME_COLUMNS.filter((c) => c !== 'request_id');
  if (format === 'csv') return renderCsv(records, columns);
  const counts = Object.entries(view.counts)
    .filter(([, n]) => n > 0)
    .map(([status, n]) => `${n} ${status}`)
    .join(', ');
  const waiting = view.effectiveAt !== undefined && (view.state === 'RECEIVED' || view.state === 'RUNNING') && view.outcomes.length === 0;
  const header =
    `Request ${view.requestId}: ${view.state}${view.source ? ` (source ${view.source})` : ''}${counts ? ` — ${counts}` : ''}\n` +
    (waiting ? `scheduled: waits until ${view.effectiveAt ?? ''} (nothing deleted before)\n` : '');
  const detail = view.detail ? `${view.detail}\n` : '';
  return `${header}${detail}\n${render('table', { records, columns, emptyMessage: 'No outcomes recorded yet.' })}`;
}

async function showStatus(subject: string, options: StatusOptions): Promise<void> {
  await withBackend(options, 'read', async (backend) => {
    if (subject.includes('@')) {
      const problem = emailProblem(subject);
      if (problem) throw new CliError(`invalid email: '${subject}' (${problem.reason})`, EXIT_USAGE);
      const email = normalizeEmail(subject);
      const view = await emailStatus(backend.ledger, email);
      if (options.output === 'json') out(renderJson(view));
      else {
        const records = view.history.map((entry) => outcomeRecord(entry));
        if (options.output === 'csv') out(renderCsv(records, OUTCOME_COLUMNS));
        else {
          const scheduled = (view.scheduled ?? []).map((s) => `scheduled: request ${s.requestId} waits until ${s.effectiveAt} (nothing deleted before)\n`).join('');
          const latest = view.latest === 'NONE' ? 'no record in the ledger' : view.latest === 'SCHEDULED' ? 'SCHEDULED' : `latest ${view.latest}`;
          out(`${email}: ${latest}\n${scheduled}\n${render('table', { records, columns: OUTCOME_COLUMNS, emptyMessage: 'No history.' })}`);
        }
        const rehired = view.history.filter((entry) => entry.status === 'REHIRED_AFTER_DELETION').length;
        if (rehired > 0) note(REHIRED_NOTE(1));
      }
      if (view.latest === 'NONE') throw new CliError('the ledger has no record of this email', EXIT_PARTIAL_FAILURE);
      return;
    }
    const requestId = validRequestId('<requestId>', subject);
    const view = await requestStatus(backend.ledger, requestId);
    if (view === undefined) throw new CliError(`no request '${requestId}' in the ledger (${backend.label})`, EXIT_PARTIAL_FAILURE);
    out(renderRequestStatus(view, options.output));
  });
}

// ---------------------------------------------------------------------------------------------
// failures

interface FailuresOptions extends TargetFlags {
  status: string[];
  since?: string;
  output: OutputFormat;
}

/** What `offboard failures` lists without --status: keyed by every status, so a new one must be placed here. */
const LISTED_BY_DEFAULT = {
  DELETED: false,
  NOT_FOUND: false,
  FAILED: true,
  PROTECTED: false,
  HELD: true,
  DRY_RUN: false,
  REJECTED: false,
  CANCELLED: false,
  REHIRED_AFTER_DELETION: false,
} as const satisfies Record<OutcomeStatus, boolean>;
export const DEFAULT_FAILURE_STATUSES: readonly OutcomeStatus[] = OUTCOME_STATUSES.filter((status) => LISTED_BY_DEFAULT[status]);

function parseStatuses(values: readonly string[]): OutcomeStatus[] {
  if (values.length === 0) return [...DEFAULT_FAILURE_STATUSES];
  return values.map((value) => {
    const upper = value.trim().toUpperCase().replace(/-/g, '_');
    const match = OUTCOME_STATUSES.find((s) => s === upper);
    if (match === undefined) {
      throw new CliError(`invalid value for --status: '${value}' (expected ${OUTCOME_STATUSES.map((s) => s.toLowerCase()).join(', ')})`, EXIT_USAGE);
    }
    return match;
  });
}

export { approvalRequestId };

/** Current outcomes still needing a human: HELD ones whose request was approved are done. */
export async function listFailures(backend: OpsBackend, statuses: readonly OutcomeStatus[], since?: string): Promise<Outcome[]> {
  const lists = await Promise.all(statuses.map((status) => backend.ledger.outcomesByStatus(status, since ? { since } : {})));
  const outcomes = lists.flat();
  const heldRequests = [...new Set(outcomes.filter((o) => o.status === 'HELD').map((o) => o.requestId))];
  const approved = new Set<string>();
  await Promise.all(
    heldRequests.map(async (id) => {
      if ((await backend.ledger.getRequestState(approvalRequestId(id))) !== undefined) approved.add(id);
    }),
  );
  return outcomes
    .filter((o) => !(o.status === 'HELD' && approved.has(o.requestId)))
    .sort((a, b) => a.recordedAt.localeCompare(b.recordedAt) || a.email.localeCompare(b.email));
}

const FAILURE_COLUMNS = ['recorded_at', 'request_id', 'email', 'status', 'attempts', 'retryable', 'detail'] as const;

async function showFailures(options: FailuresOptions): Promise<void> {
  const statuses = parseStatuses(options.status);
  const since = options.since !== undefined ? parseSince(options.since) : undefined;
  await withBackend(options, 'read', async (backend) => {
    const outcomes = await listFailures(backend, statuses, since);
    const records = outcomes.map((o) => ({ ...outcomeRecord({ requestId: o.requestId, ...outcomeView(o) }), retryable: o.status === 'FAILED' ? o.retryable : undefined }));
    out(
      render(options.output, {
        records,
        columns: FAILURE_COLUMNS,
        json: outcomes.map((o) => ({ requestId: o.requestId, ...outcomeView(o), ...(o.status === 'FAILED' ? { retryable: o.retryable } : {}) })),
        emptyMessage: `No ${statuses.map((s) => s.toLowerCase()).join(' or ')} outcomes${since ? ` since ${since}` : ''}.`,
      }),
    );
  });
}

// ---------------------------------------------------------------------------------------------
// redrive

interface RedriveOptions extends DeleteFlags {
  dlq?: boolean;
  olderThan: number;
  output: OutputFormat;
}

/** `--older-than`: 0, or a duration such as 30m, 24h, 7d; in minutes. */
export function parseOlderThan(value: string): number {
  const text = value.trim();
  if (/^0+$/.test(text)) return 0;
  const match = /^(\d+)\s*([smhd])$/.exec(text);
  if (match === null) throw new CliError(`invalid value for --older-than: '${value}' (expected 0 or a duration such as 30m, 24h, 7d)`, EXIT_USAGE);
  const minutesPerUnit = { s: 1 / 60, m: 1, h: 60, d: 1440 }[match[2] as 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * minutesPerUnit;
}

/**
 * The audit's selection and request ids (lambdas/core/audit.ts), so an operator's redrive and the scheduled
 * audit of the same failures submit the same request id and only one of them runs. A rehearsal (dry run
 * against a real Arize) gets its own id, leaving the real re-drive free to run later.
 */
export async function redrivePlan(
  backend: OpsBackend,
  options: Pick<RedriveOptions, 'olderThan'> & TargetFlags & { confirm?: boolean },
  now: Date = new Date(),
  warn: (line: string) => void = note,
): Promise<{ selection: RedriveSelection; requests: OffboardingRequest[] }> {
  const selection = await selectRedrive(backend.ledger, { now, olderThanMinutes: options.olderThan });
  const rehearsal = applySafety(redriveRequests(selection.items), options, warn).some((r) => r.dryRun);
  return { selection, requests: rehearsal ? redriveRequests(selection.items, { dryRun: true }) : redriveRequests(selection.items) };
}

async function redrive(options: RedriveOptions): Promise<void> {
  if (options.dlq === true) {
    await withBackend(options, 'work', async (backend) => {
      const moved = await backend.redriveDlq();
      note(`Moved ${moved} message(s) from the dead-letter queue back to the intake queue.`);
      if (moved === 0 && backend.kind === 'local' && !backend.canLeaveEarly) {
        note('Note: the local queues live in memory, so the DLQ only holds messages while `offboard serve` runs.');
      }
      if (moved > 0 && !backend.canLeaveEarly) await backend.waitFor([], { timeoutMs: options.timeout * 1000 });
      out(render(options.output, { records: [{ moved }], columns: ['moved'], json: { moved } }));
    });
    return;
  }
  await withBackend(options, 'work', async (backend) => {
    const { selection, requests } = await redrivePlan(backend, options);
    if (selection.permanent > 0) {
      note(`${selection.permanent} failure(s) are not retryable (e.g. permission, ambiguous email) and need a human: see offboard failures.`);
    }
    if (selection.superseded + selection.skippedDryRun > 0) {
      note(`Skipped ${selection.superseded} failure(s) settled by a later request and ${selection.skippedDryRun} from dry runs.`);
    }
    if (requests.length === 0) {
      note('Nothing to redrive: no retryable failed deletion is still unresolved.');
      out(render(options.output, { records: [], columns: OUTCOME_COLUMNS, json: { requests: [] }, emptyMessage: 'Nothing to redrive.' }));
      return;
    }
    note(`Redriving ${selection.items.length} failed deletion(s) as ${requests.map((r) => r.requestId).join(', ')}.`);
    const { waited, states } = await submitAndWait(backend, requests, options);
    await reportRun(backend, requests.map((r) => r.requestId), states, waited, options.output);
  });
}

// ---------------------------------------------------------------------------------------------
// approve

interface ApproveOptions extends DeleteFlags {
  output: OutputFormat;
}

/**
 * The release of a HELD request is a new request (`<id>.approved`) for exactly the emails that were held,
 * carrying `approvesHeldRequest`: it is resolved again (nobody deleted who became protected meanwhile),
 * and only the blast-radius cap is lifted. The held request's own records stay as they were.
 */
export async function approvalRequest(backend: OpsBackend, heldRequestId: string): Promise<OffboardingRequest> {
  const state = await backend.ledger.getRequestState(heldRequestId);
  if (state === undefined) throw new CliError(`no request '${heldRequestId}' in the ledger (${backend.label})`, EXIT_USAGE);
  const [approval, outcomes] =
    state.status === 'HELD'
      ? await Promise.all([backend.ledger.getRequestState(approvalRequestId(heldRequestId)), backend.ledger.outcomesOfRequest(heldRequestId)])
      : [undefined, []];
  const release = releaseRequest(heldRequestId, state, approval, outcomes);
  if (!release.ok) throw new CliError(release.reason, EXIT_USAGE);
  return release.value;
}

async function approve(requestId: string, options: ApproveOptions): Promise<void> {
  const heldId = validRequestId('<requestId>', requestId);
  await withBackend(options, 'work', async (backend) => {
    const request = await approvalRequest(backend, heldId);
    const [safe] = applySafety([request], options, note);
    if (safe === undefined) return;
    note(`Releasing ${safe.emails.length} held email(s) of ${heldId} as request ${safe.requestId}.`);
    const { waited, states } = await submitAndWait(backend, [safe], options);
    await reportRun(backend, [safe.requestId], states, waited, options.output);
  });
}

// ---------------------------------------------------------------------------------------------
// report

interface ReportOptions extends TargetFlags {
  format?: OutputFormat;
  output: OutputFormat;
  since?: string;
  request: string[];
}

async function showReport(options: ReportOptions): Promise<void> {
  const format = options.format ?? options.output;
  const since = options.since !== undefined ? parseSince(options.since) : undefined;
  const requestIds = options.request.map((id) => validRequestId('--request', id));
  await withBackend(options, 'read', async (backend) => {
    const report = await buildReport(backend.ledger, { ...(requestIds.length > 0 ? { requestIds } : {}), ...(since ? { since } : {}) });
    printReport(report, format, 'requests');
  });
}

// ---------------------------------------------------------------------------------------------
// Registration

const RUN_HELP = `
Input formats (detected from the content):
  JSON        an offboarding request {"requestId","type":"employee.terminated","emails":[…],…}, an array of
              them, or an array of email strings
  NDJSON      one request per line (blank lines ignored)
  CSV         a header row with an "email" column; other columns are ignored
  plain list  one email per line; blank lines and lines starting with # are ignored
Emails from a CSV or list become one request (split into parts of at most 1,000 emails) whose id is derived
from the file name and the set of addresses: running the same file again is the same request, not a second
deletion. --request-id sets it explicitly.

Every entry is validated first; any invalid entry is reported with its line (or JSON item) and nothing is
enqueued, unless --skip-invalid. A requestId is one request: repeated with the same content (emails in any
order or case, effectiveAt, dryRun) it is sent once; with other content — in the file or already in the ledger —
the entry is refused as a conflicting request id, named by its line (with --skip-invalid the rest runs and the
command exits 1). The command waits for the requests to finish and prints every outcome.
${SAFETY_HELP}
${WHERE_HELP}`;

function addRequestOptions(command: Command): Command {
  return addDeleteOptions(command)
    .option('--dry-run', 'record what would be deleted, delete nothing')
    .option('--reason <text>', 'free text stored with the request (max 500 characters)')
    .addOption(new Option('--effective-at <iso>', 'do not delete before this time (ISO-8601 with zone)').argParser(validEffectiveAt))
    .addOption(new Option('--request-id <id>', 'request id (default: derived from the emails)').argParser((v) => validRequestId('--request-id', v)))
    .addOption(outputOption());
}

export function registerOpsCommands(program: Command): void {
  addRequestOptions(
    program
      .command('run')
      .description('Offboard everyone in a file (requests as JSON/NDJSON, or a CSV/list of emails) and wait for the outcomes')
      .argument('<file>', 'input file'),
  )
    .option('--skip-invalid', 'enqueue the valid entries even if some are invalid')
    .addHelpText('after', RUN_HELP)
    .action((file: string, options: RunOptions) => runFile(file, options));

  addRequestOptions(
    program
      .command('submit')
      .description('Offboard the given emails as one request and wait for the outcomes')
      .option('-e, --email <emails>', 'email to offboard; repeatable or comma-separated', collectList, []),
  )
    .addHelpText('after', `\nThe request id is derived from the set of emails: submitting the same emails twice is one request.\n${SAFETY_HELP}\n${WHERE_HELP}`)
    .action((options: SubmitOptions) => submitEmails(options));

  addTargetOptions(
    program
      .command('status')
      .description('Show a request (its state and every email outcome) or an email (its history across requests)')
      .argument('<subject>', 'a request id, or an email address (anything containing @)'),
  )
    .addOption(outputOption())
    .addHelpText(
      'after',
      '\n--output json for a request: {"requestId","state","source"?,"detail"?,"counts","outcomes":[{"email","status",\n' +
        '"userId"?,"error"?,"reason"?,"attempts"}]}; for an email: {"email","latest","scheduled"?:[{"requestId","effectiveAt"}],"history":[…]}\n' +
        '(latest SCHEDULED while a request for it waits for its effective date).\n' +
        'Exit 1 when the ledger has no such request or email.\n' +
        WHERE_HELP,
    )
    .action((subject: string, options: StatusOptions) => showStatus(subject, options));

  addTargetOptions(program.command('failures').description('List outcomes that need a human: FAILED and HELD by default, oldest first'))
    .option('-s, --status <statuses>', `any of ${OUTCOME_STATUSES.map((s) => s.toLowerCase()).join(', ')}; repeatable or comma-separated`, collectList, [])
    .option('--since <when>', 'only outcomes recorded since an ISO time or a duration ago (30m, 24h, 7d)')
    .addOption(outputOption())
    .addHelpText('after', `\nHELD requests already released with offboard approve are not listed.\n${WHERE_HELP}`)
    .action((options: FailuresOptions) => showFailures(options));

  addDeleteOptions(
    program
      .command('redrive')
      .description('Retry every retryable failed deletion as a new request (source "redrive"), or with --dlq move dead letters back'),
  )
    .option('--dlq', 'move the dead-letter queue messages back to the intake queue instead')
    .addOption(new Option('--older-than <duration>', 'only failures at least this old: 0, or e.g. 30m, 24h, 7d').default(0, 'any age').argParser(parseOlderThan))
    .addOption(outputOption())
    .addHelpText(
      'after',
      '\nThe same selection and request ids as the scheduled audit\'s re-drive. A failed deletion is retried unless\n' +
        'it is not retryable (permission, ambiguous email: see offboard failures), its request was a dry run, or the\n' +
        'email has a later record from another request (a decision settles it; a newer failure stands in for it).\n' +
        'The request id is redrive-<hash of the failures>: re-driving the same failures again, here or by the audit,\n' +
        'is a no-op. A dry run gets redrive-dry-run-<hash>, so it never blocks the real re-drive.\n' +
        SAFETY_HELP +
        '\n' +
        WHERE_HELP,
    )
    .action((options: RedriveOptions) => redrive(options));

  addDeleteOptions(
    program
      .command('approve')
      .description('Release a HELD request: its held emails are offboarded as <requestId>.approved, over the blast-radius cap')
      .argument('<requestId>', 'the HELD request'),
  )
    .addOption(outputOption())
    .addHelpText(
      'after',
      '\nThe emails are resolved again and every protection rule still applies; only the per-request delete cap is lifted.\n' +
        SAFETY_HELP +
        '\n' +
        WHERE_HELP,
    )
    .action((requestId: string, options: ApproveOptions) => approve(requestId, options));

  addTargetOptions(program.command('report').description('Report every request in the ledger: per-request counts and totals (json/csv: every outcome)'))
    .addOption(new Option('-f, --format <format>', 'json | csv (same as --output)').argParser((v) => {
      const format = v.trim().toLowerCase();
      if (format !== 'json' && format !== 'csv' && format !== 'table') throw new CliError(`invalid value for --format: '${v}' (expected json or csv)`, EXIT_USAGE);
      return format;
    }))
    .option('--since <when>', 'only requests updated since an ISO time or a duration ago (30m, 24h, 7d)')
    .option('--request <ids>', 'only these request ids; repeatable or comma-separated', collectList, [])
    .addOption(outputOption())
    .addHelpText('after', `\n--format json prints {"generatedAt","totals","requests":[…],"outcomes":[…]}; csv prints one row per outcome.\n${WHERE_HELP}`)
    .action((options: ReportOptions) => showReport(options));
}
