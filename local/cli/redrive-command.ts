/** `offboard redrive`: every retryable failed deletion again as a new request, or (--dlq) dead letters back to intake. */
import type { Command } from 'commander';
import { Option } from 'commander';
import * as z from 'zod';
import { redriveRequests, selectRedrive, type RedriveSelection } from '../../lambdas/core/audit.js';
import type { OffboardingRequest } from '../../lambdas/core/request.js';
import { note, out } from './log.js';
import type { OpsBackend } from './ops-backend.js';
import { OUTCOME_COLUMNS } from './ops-report.js';
import { reportRun } from './ops-run.js';
import { addDeleteOptions, applySafety, SAFETY_HELP, submitAndWait, WHERE_HELP, withBackend, type TargetFlags } from './ops-shared.js';
import { DELETE_OPTIONS, OUTPUT_OPTION, parseOlderThan, parseOptions } from './options.js';
import { outputOption, render } from './output.js';

export const optionsSchema = z.strictObject({
  ...DELETE_OPTIONS,
  ...OUTPUT_OPTION,
  dlq: z.boolean().optional(),
  olderThan: z.number().min(0, 'expected 0 or a duration such as 30m, 24h, 7d').default(0),
});
type RedriveOptions = z.output<typeof optionsSchema>;

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

export function register(program: Command): void {
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
    .action((raw: unknown) => redrive(parseOptions(optionsSchema, raw)));
}
