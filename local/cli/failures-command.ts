/** `offboard failures`: current outcomes that need a human (FAILED and HELD by default), oldest first. */
import type { Command } from 'commander';
import * as z from 'zod';
import { approvalRequestId } from '../../lambdas/core/approval.js';
import { OUTCOME_STATUSES, type Outcome, type OutcomeStatus } from '../../lambdas/core/outcome.js';
import { CliError, EXIT_USAGE } from './errors.js';
import { out } from './log.js';
import type { OpsBackend } from './ops-backend.js';
import { outcomeRecord, outcomeView } from './ops-report.js';
import { addTargetOptions, WHERE_HELP, withBackend } from './ops-shared.js';
import { collectList, OUTPUT_OPTION, parseOptions, parseSince, TARGET_OPTIONS } from './options.js';
import { outputOption, render } from './output.js';

export const optionsSchema = z.strictObject({ ...TARGET_OPTIONS, ...OUTPUT_OPTION, status: z.array(z.string()).default([]), since: z.string().optional() });
type FailuresOptions = z.output<typeof optionsSchema>;

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

export function register(program: Command): void {
  addTargetOptions(program.command('failures').description('List outcomes that need a human: FAILED and HELD by default, oldest first'))
    .option('-s, --status <statuses>', `any of ${OUTCOME_STATUSES.map((s) => s.toLowerCase()).join(', ')}; repeatable or comma-separated`, collectList, [])
    .option('--since <when>', 'only outcomes recorded since an ISO time or a duration ago (30m, 24h, 7d)')
    .addOption(outputOption())
    .addHelpText('after', `\nHELD requests already released with offboard approve are not listed.\n${WHERE_HELP}`)
    .action((raw: unknown) => showFailures(parseOptions(optionsSchema, raw)));
}
