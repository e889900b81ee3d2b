/**
 * `offboard start` (what `npm start` runs): the whole pipeline on this machine — local SQS, the start
 * handler, the synthesised state machine, the task handlers, a dynalite ledger and the Arize sandbox —
 * fed with a file of HR events, then a summary, a report on disk and a short account of what happened.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import * as z from 'zod';
import { maskEmailsInText, normalizeEmail } from '../../lambdas/core/email.js';
import { ledgerKeysOfMessage } from '../../lambdas/core/intake.js';
import type { LocalRuntime, ProgressEvent, TaskHandlerMap } from '../runtime/index.js';
import type { Sandbox } from '../sandbox/server.js';
import { CliError, EXIT_PARTIAL_FAILURE, EXIT_USAGE } from './errors.js';
import { buildReport, OUTCOME_COLUMNS, outcomeRecord, REQUEST_COLUMNS, requestRecord, summaryRecords, type Report } from './ops-report.js';
import { DEFAULT_DATA_DIR } from '../runtime/runtime-file.js';
import { render, renderCsv, renderJson } from './output.js';
import { readInputText } from './ops-input.js';
import { parseOptions, positiveNumberOption, TARGET_OPTIONS } from './options.js';
import { createProgress } from './progress.js';
import { note } from './log.js';

// Not imported from the runtime's config module: that one loads aws-cdk-lib, which every CLI command would pay for.
export const DEFAULT_EVENTS_FILE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples', 'hr-events.ndjson');

/** The demo lowers the blast-radius cap so one event in the file shows a HELD request. */
export const DEMO_MAX_DELETES_PER_REQUEST = 5;
/** Whose delete the sandbox fails during the first attempt (503 on every try the client makes). */
export const DEMO_TRANSIENT_EMAIL = 'ravi.patel@example.com';
/** One more 503 than the Arize client's own retries (5), so the failure reaches the workflow's retry. */
export const DEMO_TRANSIENT_FAULTS = 6;
/** Accounts whose address contains a leaver's address: a substring match must never delete them. */
export const DEMO_NEAR_DUPLICATES = ['joann@example.com', 'ann@example.com.au', 'leann@example.com', 'marcus.chen+test@example.com'];

export interface EventLine {
  line: number;
  body: string;
  /** The ledger keys this line ends up under: request ids (split parts included) or its rejection id. */
  ledgerIds: string[];
  valid: boolean;
}

/** Every non-blank line is one queue message, sent as HR would send it: invalid ones included. */
export function readEventLines(text: string): EventLine[] {
  return text.split(/\r?\n/).flatMap((body, index): EventLine[] => {
    if (body.trim() === '') return [];
    // The start use case's own rule (core/intake.ts): look-alikes taken out, split above 1,000 emails, else rejected.
    return [{ line: index + 1, body, ...ledgerKeysOfMessage(body) }];
  });
}

/**
 * The sandbox fails the transient user's delete only once deletion starts (arming the fault earlier would
 * let the email lookup absorb it): the first DeleteChunk that targets the user arms it.
 */
function transientDeleteFault(getSandbox: () => Sandbox | undefined, email: string, times: number) {
  let armed = false;
  return (handlers: TaskHandlerMap): TaskHandlerMap => {
    const original = handlers.DeleteChunk;
    if (original === undefined) return handlers;
    return {
      ...handlers,
      DeleteChunk: async (input: unknown) => {
        const targets = (input as { targets?: { userId?: unknown; email?: unknown }[] } | null)?.targets ?? [];
        const target = targets.find((t) => typeof t.email === 'string' && normalizeEmail(t.email) === email);
        const sandbox = getSandbox();
        if (!armed && sandbox !== undefined && target !== undefined && typeof target.userId === 'string') {
          armed = true;
          sandbox.faults.failUser(target.userId, times, 503, { route: 'delete' });
        }
        return original(input);
      },
    };
  };
}

/** The shared progress line on a terminal; elsewhere one log line per finished request, as it happens. */
export function progressLine(total: number): { event(e: ProgressEvent): void; done(): void } {
  const seen = new Set<string>();
  const progress = createProgress(total, { label: 'Offboarding', unit: 'requests' });
  return {
    event(e) {
      // Only a request's end counts here ('started' and the per-email 'outcomes' come before it).
      if (e.kind !== 'finished' && e.kind !== 'rejected') return;
      if (seen.has(e.requestId)) return;
      seen.add(e.requestId);
      progress.set(seen.size);
      if (!progress.drawing) note(`[${seen.size}/${total}] ${maskEmailsInText(e.requestId)}: ${e.kind === 'rejected' ? 'REJECTED' : (e.status ?? 'finished')}`);
    },
    done: () => progress.finish(),
  };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** A few lines on what the run showed, computed from the ledger rather than assumed. */
export function explain(report: Report, lines: readonly EventLine[], reportDir: string, history: { transient: { status: string; attempts: number }[] }): string[] {
  const byStatus = (status: string) => report.outcomes.filter((o) => o.status === status);
  const requestCount = new Set(lines.flatMap((l) => l.ledgerIds)).size;
  const duplicates = lines.length - requestCount;
  const text: string[] = [];
  text.push(
    `${plural(lines.length, 'HR event')} went through the local queue, start handler and state machine: ${plural(requestCount, 'distinct request')}` +
      `${duplicates > 0 ? ` (${plural(duplicates, 'repeated event')} acknowledged once: same requestId, same execution)` : ''}.`,
  );
  const deleted = byStatus('DELETED');
  if (deleted.length > 0) {
    text.push(`Deleted ${plural(deleted.length, 'account')} by exact, case-insensitive email match; near-duplicates such as ${DEMO_NEAR_DUPLICATES.slice(0, 2).join(' and ')} were left alone.`);
  }
  const transient = history.transient;
  const recovered = transient.length > 1 && transient[0]?.status === 'FAILED' && transient[transient.length - 1]?.status === 'DELETED';
  if (recovered) {
    text.push(
      `${DEMO_TRANSIENT_EMAIL}: the sandbox answered 503 to every delete of attempt 1 (the client retried ${DEMO_TRANSIENT_FAULTS - 1} times); ` +
        `the workflow recorded FAILED, waited its backoff and deleted the account on attempt ${transient[transient.length - 1]?.attempts ?? 2}.`,
    );
  }
  const notFound = byStatus('NOT_FOUND');
  if (notFound.length > 0) text.push(`${plural(notFound.length, 'address')} had no Arize account: recorded NOT_FOUND, which is a result, not an error.`);
  const protectedOutcomes = byStatus('PROTECTED');
  if (protectedOutcomes.length > 0) {
    text.push(`${plural(protectedOutcomes.length, 'account')} PROTECTED (${[...new Set(protectedOutcomes.map((o) => o.reason ?? ''))].join(', ')}): admins and the API key's owner are never deleted automatically.`);
  }
  for (const request of report.requests.filter((r) => r.state === 'HELD')) {
    text.push(
      `${request.requestId} asked for ${request.counts.HELD} deletions, above this demo's cap of ${DEMO_MAX_DELETES_PER_REQUEST} per request: HELD, nothing deleted. ` +
        `Release it with: offboard approve ${request.requestId}`,
    );
  }
  if (byStatus('DRY_RUN').length > 0) text.push(`${plural(byStatus('DRY_RUN').length, 'email')} came with dryRun: recorded what would be deleted, deleted nothing.`);
  const rejected = report.requests.filter((r) => r.state === 'REJECTED');
  if (rejected.length > 0) {
    text.push(`${plural(rejected.length, 'invalid event')} REJECTED at intake and recorded (${rejected.map((r) => `${r.detail ?? r.requestId}: ${r.reason ?? 'invalid'}`).join('; ')}); the rest of its batch went on.`);
  }
  text.push(`Report: ${reportDir}/report.json and ${reportDir}/report.csv. Look around: offboard status ${DEMO_TRANSIENT_EMAIL} · offboard failures · offboard report`);
  return text;
}

export const optionsSchema = z.strictObject({ dataDir: TARGET_OPTIONS.dataDir, timeout: z.number().positive('expected seconds greater than 0') });
type StartOptions = z.output<typeof optionsSchema>;

async function runStart(file: string | undefined, options: StartOptions): Promise<void> {
  const began = performance.now();
  const eventsFile = resolve(file ?? DEFAULT_EVENTS_FILE);
  const text = await readInputText(eventsFile);
  const lines = readEventLines(text);
  if (lines.length === 0) throw new CliError(`no events in ${eventsFile}`, EXIT_USAGE);
  if ((process.env.ARIZE_API_KEY ?? '').trim() !== '') {
    note('Note: offboard start always uses the Arize sandbox; ARIZE_API_KEY is ignored here (use offboard run to work on the real Arize).');
  }

  const { startLocalRuntime, RuntimeInUseError } = await import('../runtime/index.js');
  const warnings: string[] = [];
  let runtime: LocalRuntime;
  // The fault is armed from inside a task, once the runtime (and its sandbox) exists.
  const started: { sandbox?: Sandbox } = {};
  try {
    runtime = await startLocalRuntime({
      dataDir: options.dataDir,
      arize: { mode: 'sandbox' },
      config: { maxDeletesPerRequest: DEMO_MAX_DELETES_PER_REQUEST },
      log: (line) => warnings.push(line),
      seams: { wrapTaskHandlers: transientDeleteFault(() => started.sandbox, DEMO_TRANSIENT_EMAIL, DEMO_TRANSIENT_FAULTS) },
    });
  } catch (error) {
    if (error instanceof RuntimeInUseError) {
      throw new CliError(`${error.message}. offboard start needs its own data dir: stop it or pass --data-dir`, EXIT_USAGE);
    }
    throw error;
  }
  const sandbox = runtime.sandbox;
  started.sandbox = sandbox;
  const dataDir = runtime.dataDir ?? resolve(options.dataDir);
  const shownDir = relative(process.cwd(), dataDir) || '.';
  const out = (chunk: string) => process.stdout.write(chunk);
  try {
    out(
      `Local pipeline up in ${(runtime.timings.totalMs / 1000).toFixed(1)} s (state machine ${runtime.timings.definitionSource}): ` +
        `SQS ${runtime.endpoints.sqs}, ledger ${shownDir}/ledger, Arize sandbox ${runtime.endpoints.sandbox ?? '-'}\n`,
    );
    if (runtime.waitTimeScale !== 1) {
      out(
        `Waits are shortened ×${runtime.waitTimeScale} for this demo (effective dates, retry backoff): allowed only with the ` +
          'built-in sandbox; against an external Arize every wait lasts its real time.\n',
      );
    }
    out(`Submitting ${plural(lines.length, 'HR event')} from ${relative(process.cwd(), eventsFile) || eventsFile}\n\n`);
    const expected = new Set(lines.flatMap((l) => l.ledgerIds));
    const progress = progressLine(expected.size);
    const unsubscribe = runtime.onProgress((event) => progress.event(event));
    try {
      for (const line of lines) await runtime.submitRaw(line.body);
      await runtime.drain({ timeoutMs: options.timeout * 1000 });
    } finally {
      unsubscribe();
      progress.done();
    }

    const report = await buildReport(runtime.ledger, { requestIds: [...expected] });
    const transient = await runtime.ledger.historyOfEmail(DEMO_TRANSIENT_EMAIL);
    await mkdir(dataDir, { recursive: true });
    await writeFile(join(dataDir, 'report.json'), renderJson(report));
    await writeFile(join(dataDir, 'report.csv'), renderCsv(report.outcomes.map(outcomeRecord), OUTCOME_COLUMNS));

    out(render('table', { records: report.requests.map(requestRecord), columns: REQUEST_COLUMNS }));
    out(`\n${render('table', { records: summaryRecords(report.totals), columns: ['outcome', 'emails'] })}\n`);
    out('What happened:\n');
    for (const line of explain(report, lines, shownDir, { transient: transient.map((o) => ({ status: o.status, attempts: o.attempt })) })) out(`  - ${line}\n`);
    for (const warning of warnings.filter((w) => !w.includes('message rejected') && !w.startsWith('note: waits shortened'))) note(warning);

    const survivors = new Set(sandbox?.store.users().filter((u) => !u.deleted).map((u) => normalizeEmail(u.email)) ?? []);
    const touched = DEMO_NEAR_DUPLICATES.filter((email) => !survivors.has(email));
    if (touched.length > 0) throw new CliError(`near-duplicates were deleted, which must never happen: ${touched.join(', ')}`, EXIT_PARTIAL_FAILURE);
    const missing = [...expected].filter((id) => !report.requests.some((r) => r.requestId === id && r.state !== 'UNKNOWN'));
    if (missing.length > 0) throw new CliError(`requests without a ledger record after the run: ${missing.join(', ')}`, EXIT_PARTIAL_FAILURE);
    out(`\nDone in ${((performance.now() - began) / 1000).toFixed(1)} s.\n`);
  } finally {
    await runtime.close();
  }
}

export function register(program: Command): void {
  program
    .command('start')
    .alias('demo')
    .description(
      'Run the whole pipeline locally (no AWS, no credentials): submit the example HR events, show progress, ' +
        'print a summary, write <data-dir>/report.json and report.csv',
    )
    .argument('[events]', 'NDJSON file of HR events (one request per line)', undefined)
    .option('--data-dir <dir>', 'where the ledger and the report are kept', DEFAULT_DATA_DIR)
    .option('--timeout <seconds>', 'give up waiting after this long', positiveNumberOption('--timeout', Number.POSITIVE_INFINITY, 'seconds'), 120)
    .addHelpText(
      'after',
      `\nDefault events: examples/hr-events.ndjson — leavers who exist, who do not, a repeated event, case variants,\n` +
        `protected admins, a dry run, a request over this demo's cap of ${DEMO_MAX_DELETES_PER_REQUEST} deletes (HELD), an invalid event,\n` +
        `and ${DEMO_TRANSIENT_EMAIL}, whose delete the sandbox fails with 503 during the first attempt.\n` +
        'Arize is always the in-process sandbox with its demo directory (ARIZE_API_KEY is ignored).\n' +
        'The ledger persists in the data dir; the sandbox starts fresh on every run.',
    )
    .action((events: string | undefined, raw: unknown) => runStart(events, parseOptions(optionsSchema, raw)));
}
