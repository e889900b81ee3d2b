/**
 * What the commands that enqueue (`run`, `submit`, `redrive`, `approve`) share: the ledger's identity check before
 * sending, submitting and waiting, and printing the outcomes (data on stdout, summary and hints on stderr) with the
 * exit code they imply. They never call Arize themselves: every deletion goes through the workflow's safety rules.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import type * as z from 'zod';
import type { RequestState } from '../../lambdas/core/ledger.js';
import { conflictingRequestReason, identityVerdict, type OffboardingRequest } from '../../lambdas/core/request.js';
import { maskEmailsInText } from '../../lambdas/core/email.js';
import { CliError, EXIT_PARTIAL_FAILURE, EXIT_USAGE } from './errors.js';
import { note, out } from './log.js';
import type { OpsBackend } from './ops-backend.js';
import { OUTCOME_COLUMNS, outcomeRecord, REQUEST_COLUMNS, requestRecord, summaryRecords, writeOutcomes, type Report } from './ops-report.js';
import { addDeleteOptions, applySafety, submitAndWait, unfinished, withBackend } from './ops-shared.js';
import { validEffectiveAt, validRequestId, type REQUEST_OPTIONS } from './options.js';
import { outputOption, render, renderCsv, renderJson, type OutputFormat } from './output.js';

/** The options of every command that builds requests (options.ts REQUEST_OPTIONS), as parsed. */
export type RequestOptions = z.output<z.ZodObject<typeof REQUEST_OPTIONS>> & { skipInvalid?: boolean };

/**
 * Prints the outcomes of the requests just run (data on stdout, summary on stderr for json/csv) and
 * turns "something failed or did not finish" into exit code 1.
 */
export async function reportRun(
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
  const report = await writeOutcomes(backend.ledger, requestIds, format, out);
  if (format === 'table') printTotals(report.totals);
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
  printTotals(report.totals);
}

/** The totals table under a table of rows, and the note an operator must act on. */
function printTotals(totals: Report['totals']): void {
  out(`\n${render('table', { records: summaryRecords(totals), columns: ['outcome', 'emails'] })}`);
  if (totals.REHIRED_AFTER_DELETION > 0) note(REHIRED_NOTE(totals.REHIRED_AFTER_DELETION));
}

/** The one line an operator must act on: HR took back a termination we had already carried out. */
export const REHIRED_NOTE = (count: number) =>
  `REHIRED_AFTER_DELETION: ${count} email(s) were deleted before HR rescinded the termination — re-invite them in Arize by hand (accounts are never re-created automatically).`;

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

export async function enqueueAndReport(requests: OffboardingRequest[], options: RequestOptions, locations: readonly string[] = [], refusedInFile: readonly string[] = []): Promise<void> {
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

export function addRequestOptions(command: Command): Command {
  return addDeleteOptions(command)
    .option('--dry-run', 'record what would be deleted, delete nothing')
    .option('--reason <text>', 'free text stored with the request (max 500 characters)')
    .addOption(new Option('--effective-at <iso>', 'do not delete before this time (ISO-8601 with zone)').argParser(validEffectiveAt))
    .addOption(new Option('--request-id <id>', 'request id (default: derived from the emails)').argParser((v) => validRequestId('--request-id', v)))
    .addOption(outputOption());
}

