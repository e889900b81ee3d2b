/**
 * `offboard evidence --from --to [--format csv|json|html] [--out FILE]`: the evidence export for auditors (the
 * population of leavers whose termination was received in the period, each with its outcome, removal time and SLA
 * verdict, reconciled counts, the query and a digest); `offboard evidence verify [--from --to]`: recomputes the
 * ledger's evidence chain and names the first broken record.
 * Rows and rendering live in lambdas/core (evidence.ts, evidence-export.ts), so AWS exports the same bytes.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Option, type Command } from 'commander';
import * as z from 'zod';
import { DynamoLedger } from '../../lambdas/adapters/ledger.js';
import { chainHeadsBetween, verifyEvidenceChain } from '../../lambdas/core/evidence-chain.js';
import { buildEvidence, EvidenceQueryError, EvidenceReconciliationError } from '../../lambdas/core/evidence.js';
import { EVIDENCE_FORMATS, evidenceManifest, renderEvidence, toEvidenceExport } from '../../lambdas/core/evidence-export.js';
import { CliError, EXIT_USAGE } from './errors.js';
import { addTargetOptions, withBackend, WHERE_HELP, type TargetFlags } from './ops-shared.js';
import { TARGET_OPTIONS } from './options.js';

/** A date-only value is that day's 00:00 UTC; anything else must be an ISO-8601 date-time with a zone. */
const instant = (option: string) =>
  z
    .string({ message: `${option} is required` })
    .trim()
    .refine((v) => /^\d{4}-\d{2}-\d{2}$/.test(v) || z.iso.datetime({ offset: true }).safeParse(v).success, {
      message: `${option}: expected an ISO-8601 date (2026-12-01) or date-time with a zone (2026-12-01T00:00:00Z)`,
      abort: true,
    })
    // Date.parse rolls 2026-02-30 over to March: a calendar date must read back as itself.
    .refine((v) => !Number.isNaN(Date.parse(v)) && new Date(`${v.slice(0, 10)}T00:00:00Z`).toISOString().slice(0, 10) === v.slice(0, 10), {
      message: `${option}: not a real calendar date`,
      abort: true,
    })
    .transform((v) => new Date(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v).toISOString());

export const EvidenceOptionsSchema = z
  .strictObject({
    ...TARGET_OPTIONS,
    from: instant('--from'),
    to: instant('--to'),
    format: z.enum(EVIDENCE_FORMATS, { message: `--format: expected one of ${EVIDENCE_FORMATS.join(', ')}` }).default('json'),
    out: z.string().trim().min(1, '--out: expected a file name').optional(),
    slaHours: z.coerce.number({ message: '--sla-hours: expected a number of hours' }).positive('--sla-hours: must be greater than 0').max(720, '--sla-hours: at most 720').optional(),
  })
  .refine((o) => o.from < o.to, { message: '--from: must be before --to', path: ['from'] });
export type EvidenceOptions = z.output<typeof EvidenceOptionsSchema>;

/** Parses the flags; the first problem becomes a usage error naming its option. */
export function parseEvidenceOptions(raw: Record<string, unknown>): EvidenceOptions {
  const parsed = EvidenceOptionsSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  // One message per option: a bad --from is not also reported as "not before --to".
  const byOption = new Map<string, string>();
  for (const issue of parsed.error.issues) if (!byOption.has(String(issue.path[0]))) byOption.set(String(issue.path[0]), issue.message);
  throw new CliError([...byOption.values()].join('; '), EXIT_USAGE);
}

/** The removal SLA: --sla-hours, else the deploy-time setting `offboarding.evidence.slaHours` (cdk.json + OFFBOARDING_CONFIG). */
async function configuredSlaHours(): Promise<number> {
  const { configOverridesFromEnvironment, loadLocalConfig } = await import('../runtime/config.js');
  try {
    return loadLocalConfig(configOverridesFromEnvironment()).evidence.slaHours;
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : String(error), EXIT_USAGE);
  }
}

async function exportEvidence(flags: TargetFlags & Record<string, unknown>): Promise<void> {
  const options = parseEvidenceOptions(flags);
  const slaHours = options.slaHours ?? (await configuredSlaHours());
  await withBackend(flags, 'read', async (backend) => {
    let doc;
    try {
      const report = await buildEvidence(backend.ledger, { from: options.from, to: options.to, slaHours });
      // Outcomes of the period are recorded from its first day on; the heads name the chain state read.
      const chain = backend.ledger instanceof DynamoLedger ? await chainHeadsBetween(backend.ledger, options.from.slice(0, 10), new Date().toISOString().slice(0, 10)) : [];
      doc = toEvidenceExport(report, chain);
    } catch (error) {
      if (error instanceof EvidenceQueryError) throw new CliError(error.message, EXIT_USAGE);
      if (error instanceof EvidenceReconciliationError) throw new CliError(`${error.message}; no export written`, 1);
      throw error;
    }
    const text = renderEvidence(doc, options.format);
    if (options.out === undefined) process.stdout.write(text);
    else {
      writeFileSync(options.out, text, 'utf8');
      if (options.format === 'csv') {
        // A CSV has no room for the query and digest: they go beside it, with the CSV's own hash.
        const manifest = evidenceManifest(doc, { name: basename(options.out), sha256: createHash('sha256').update(text, 'utf8').digest('hex') });
        writeFileSync(`${options.out}.manifest.json`, `${JSON.stringify(manifest, null, 2)}\n`, 'utf8');
      }
    }
    // Counts only on stderr: emails belong in the export, never in a terminal log.
    const s = doc.summary;
    process.stderr.write(
      `evidence ${doc.query.from} – ${doc.query.to} from ${backend.label}: ${s.eventsReceived} event(s), ${s.leavers} leaver(s); ` +
        `SLA ${slaHours} h: ${s.sla.met} met, ${s.sla.missed} missed, ${s.sla.pending} pending; digest ${doc.digest}` +
        `${options.out === undefined ? '' : `; written to ${options.out}`}\n`,
    );
  });
}

const VerifyOptionsSchema = z
  .strictObject({ ...TARGET_OPTIONS, from: instant('--from').optional(), to: instant('--to').optional() })
  .refine((o) => o.from === undefined || o.to === undefined || o.from <= o.to, { message: '--from: must not be after --to', path: ['from'] });

async function verifyChain(flags: TargetFlags & Record<string, unknown>): Promise<void> {
  const parsed = VerifyOptionsSchema.safeParse(flags);
  if (!parsed.success) throw new CliError(parsed.error.issues[0]?.message ?? 'invalid options', EXIT_USAGE);
  const range = { ...(parsed.data.from ? { fromDay: parsed.data.from.slice(0, 10) } : {}), ...(parsed.data.to ? { toDay: parsed.data.to.slice(0, 10) } : {}) };
  await withBackend(flags, 'read', async (backend) => {
    if (!(backend.ledger instanceof DynamoLedger)) throw new CliError('this ledger has no evidence chain', EXIT_USAGE);
    const result = await verifyEvidenceChain(backend.ledger, range);
    // The daily digests (day, records, head hash): what an auditor compares with the published ones.
    for (const day of result.days) {
      const tail = day.unacknowledged > 0 ? ` (${day.unacknowledged} record(s) beyond the head: a crash between writes, rolled forward by the next write)` : '';
      process.stdout.write(`${day.digest.day}  ${String(day.digest.count).padStart(6)} record(s)  ${day.digest.headHash}${tail}\n`);
    }
    const first = result.problems[0];
    if (first !== undefined) {
      throw new CliError(
        `evidence chain broken: first broken record: ${first.day} #${first.seq ?? '?'}${first.item ? ` (${first.item})` : ''}: ${first.problem}` +
          (result.problems.length > 1 ? `; ${result.problems.length - 1} more problem(s)` : ''),
        1,
      );
    }
    process.stderr.write(`evidence chain intact: ${result.days.length} day(s), ${result.days.reduce((n, d) => n + d.digest.count, 0)} record(s) on ${backend.label}\n`);
  });
}

const EVIDENCE_HELP = `
Population: every HR termination event (request) received in [--from, --to), with every leaver's final outcome —
re-drives and approvals count toward the leaver they continue. Counts add up: leavers = deleted + not found +
failed + protected + held + dry run + rejected + pending (checked; a mismatch writes nothing, exit 1).
SLA: removal within offboarding.evidence.slaHours (cdk.json, default 24) of the effective termination; --sla-hours
overrides it for this export. --format csv writes FILE and FILE.manifest.json (query, totals, digest) with --out.
The export contains the leavers' emails: it is the evidence. Nothing else prints them.
${WHERE_HELP}`;

function register(program: Command): void {
  const evidence = program.command('evidence').description('Evidence for auditors: the export of leavers in a period with SLA status, and the ledger chain check');
  addTargetOptions(
    evidence
      .command('export', { isDefault: true })
      .description('Export the leavers whose termination was received in a period (json, csv or a self-contained html page)')
      .option('--from <date>', 'start of the period (ISO date or date-time; inclusive)')
      .option('--to <date>', 'end of the period (exclusive)')
      .addOption(new Option('--format <format>', `${EVIDENCE_FORMATS.join(' | ')}`).default('json'))
      .option('--out <file>', 'write to this file instead of stdout')
      .option('--sla-hours <hours>', 'removal SLA in hours (default: offboarding.evidence.slaHours)'),
  )
    .addHelpText('after', EVIDENCE_HELP)
    .action((flags: TargetFlags & Record<string, unknown>) => exportEvidence(flags));
  addTargetOptions(
    evidence
      .command('verify')
      .description('Recompute the ledger\'s evidence chain (per UTC day) and compare every outcome item with it; names the first broken record (exit 1)')
      .option('--from <date>', 'first day to check (default: every day with a chain)')
      .option('--to <date>', 'last day to check'),
  )
    .addHelpText('after', `\nPrints each day's digest: day, records, head hash. Exit 0 intact, 1 broken (the first broken record is named), 2 usage.\n${WHERE_HELP}`)
    .action((flags: TargetFlags & Record<string, unknown>) => verifyChain(flags));
}

/** Two commands, one schema each (the target options are checked by ops-shared's parsers and the backend). */
export const evidenceModule = {
  register,
  optionsSchemas: { 'evidence export': EvidenceOptionsSchema, 'evidence verify': VerifyOptionsSchema },
};
