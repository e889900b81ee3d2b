/** `offboard status <requestId|email>`: a request with every email outcome, or an email's history across requests. */
import type { Command } from 'commander';
import * as z from 'zod';
import { emailProblem, normalizeEmail } from '../../lambdas/core/email.js';
import { CliError, EXIT_PARTIAL_FAILURE, EXIT_USAGE } from './errors.js';
import { note, out } from './log.js';
import { emailStatus, OUTCOME_COLUMNS, outcomeRecord, requestStatus, type RequestStatusView } from './ops-report.js';
import { REHIRED_NOTE } from './ops-run.js';
import { addTargetOptions, WHERE_HELP, withBackend } from './ops-shared.js';
import { OUTPUT_OPTION, parseOptions, TARGET_OPTIONS, validRequestId } from './options.js';
import { outputOption, render, renderCsv, renderJson, type OutputFormat } from './output.js';

export const optionsSchema = z.strictObject({ ...TARGET_OPTIONS, ...OUTPUT_OPTION });
export type StatusOptions = z.output<typeof optionsSchema>;

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

export function register(program: Command): void {
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
    .action((subject: string, raw: unknown) => showStatus(subject, parseOptions(optionsSchema, raw)));
}
