/** `offboard approve <requestId>`: releases a HELD request over the blast-radius cap, as `<requestId>.approved`. */
import type { Command } from 'commander';
import * as z from 'zod';
import { approvalRequestId, releaseRequest } from '../../lambdas/core/approval.js';
import type { OffboardingRequest } from '../../lambdas/core/request.js';
import { CliError, EXIT_USAGE } from './errors.js';
import { note } from './log.js';
import type { OpsBackend } from './ops-backend.js';
import { reportRun } from './ops-run.js';
import { addDeleteOptions, applySafety, SAFETY_HELP, submitAndWait, WHERE_HELP, withBackend } from './ops-shared.js';
import { DELETE_OPTIONS, OUTPUT_OPTION, parseOptions, validRequestId } from './options.js';
import { outputOption } from './output.js';

export const optionsSchema = z.strictObject({ ...DELETE_OPTIONS, ...OUTPUT_OPTION });
type ApproveOptions = z.output<typeof optionsSchema>;

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

export function register(program: Command): void {
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
    .action((requestId: string, raw: unknown) => approve(requestId, parseOptions(optionsSchema, raw)));
}
