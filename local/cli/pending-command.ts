/**
 * `offboard pending`: requests not finished yet — queued, waiting for their effective date, or running — ordered
 * by when they act (effective time; "now" for a request without one). Local data dir or `--stack`.
 */
import type { Command } from 'commander';
import * as z from 'zod';
import type { RequestState } from '../../lambdas/core/ledger.js';
import { WHERE_HELP, addTargetOptions, withBackend } from './ops-shared.js';
import { OUTPUT_OPTION, parseOptions, TARGET_OPTIONS } from './options.js';
import { outputOption, render, renderJson, type OutputFormat } from './output.js';

export const optionsSchema = z.strictObject({ ...TARGET_OPTIONS, ...OUTPUT_OPTION });
type PendingOptions = z.output<typeof optionsSchema>;

/** States whose work is ahead: RECEIVED (queued or about to start) and RUNNING (waiting or deleting). */
const PENDING_STATES = ['RECEIVED', 'RUNNING'] as const;

export interface PendingView {
  requestId: string;
  /** QUEUED (not started), SCHEDULED (waiting for its effective date) or RUNNING. */
  phase: 'QUEUED' | 'SCHEDULED' | 'RUNNING';
  /** When it acts: its effective time, else when it was received. */
  actsAt: string;
  effectiveAt?: string;
  effectiveAtOriginal?: string;
  source?: string;
  reason?: string;
  emails: string[];
  createdAt: string;
}

export function pendingView(states: readonly RequestState[], now: Date): PendingView[] {
  return states
    .map((state): PendingView => {
      const effectiveAt = state.request?.effectiveAt;
      const effective = effectiveAt ? new Date(effectiveAt) : undefined;
      const phase = state.status === 'RECEIVED' ? 'QUEUED' : effective && effective.getTime() > now.getTime() ? 'SCHEDULED' : 'RUNNING';
      return {
        requestId: state.requestId,
        phase,
        actsAt: (effective ?? new Date(state.receivedAt ?? state.createdAt)).toISOString(),
        ...(effective ? { effectiveAt: effective.toISOString() } : {}),
        ...(state.request?.effectiveAtOriginal ? { effectiveAtOriginal: state.request.effectiveAtOriginal } : {}),
        ...(state.source ? { source: state.source } : {}),
        ...(state.reason ? { reason: state.reason } : {}),
        emails: state.request?.emails ?? [],
        createdAt: state.createdAt,
      };
    })
    .sort((a, b) => a.actsAt.localeCompare(b.actsAt) || a.requestId.localeCompare(b.requestId));
}

const COLUMNS = ['request_id', 'phase', 'acts_at', 'hr_date', 'emails', 'source', 'reason'];

function renderPending(views: readonly PendingView[], format: OutputFormat): string {
  if (format === 'json') return renderJson(views);
  const records = views.map((v) => ({
    request_id: v.requestId,
    phase: v.phase,
    acts_at: v.actsAt,
    hr_date: v.effectiveAtOriginal ?? '',
    // The table stays one line per request; json and csv carry every address.
    emails: format === 'table' && v.emails.length > 3 ? `${v.emails.slice(0, 3).join(' ')} (+${v.emails.length - 3})` : v.emails.join(' '),
    source: v.source ?? '',
    reason: v.reason ?? '',
  }));
  return render(format, { records, columns: COLUMNS, emptyMessage: 'Nothing pending.' });
}

async function pending(raw: unknown): Promise<void> {
  const options: PendingOptions = parseOptions(optionsSchema, raw);
  await withBackend(options, 'read', async (backend) => {
    const states = (await Promise.all(PENDING_STATES.map((status) => backend.ledger.requestsByStatus(status)))).flat();
    // The index is eventually consistent: each candidate is confirmed from its state item.
    const current = await Promise.all(states.map((s) => backend.ledger.getRequestState(s.requestId)));
    const still = current.filter((s): s is RequestState => s !== undefined && (PENDING_STATES as readonly string[]).includes(s.status));
    process.stdout.write(renderPending(pendingView([...new Map(still.map((s) => [s.requestId, s])).values()], new Date()), options.output));
  });
}

export function register(program: Command): void {
  addTargetOptions(program.command('pending').description('List requests still to act: queued, scheduled (waiting for the effective date) and running, by effective time'))
    .addOption(outputOption())
    .addHelpText(
      'after',
      '\nCancel one with: offboard cancel <requestId|email> --reason "…"\n' +
        '--output json: [{"requestId","phase","actsAt","effectiveAt"?,"effectiveAtOriginal"?,"source"?,"reason"?,"emails":[…],"createdAt"}]\n' +
        WHERE_HELP,
    )
    .action((flags: Record<string, unknown>) => pending(flags));
}
