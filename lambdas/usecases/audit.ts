/**
 * The audit (a scheduled Lambda, and `offboard audit`): re-drives old retryable failures, offboards terminated people who
 * re-appeared in Arize, writes a JSON + CSV report. `runAudit` is the use case; `offboard audit` runs it locally.
 *
 * Arize cost: the directory is listed once (≈ users/100 list calls), and only when the ledger holds at least
 * one terminated email in the window — never one call per email.
 */
import type { Outcome } from '../core/outcome.js';
import type { ListAllParams } from '../arize/index.js';
import {
  DRIFT_ARIZE_STATUSES,
  auditReportCsv,
  driftFindings,
  driftRequests,
  redriveRequests,
  selectRedrive,
  type AuditPolicy,
  type AuditReport,
  type DirectoryUser,
} from '../core/audit.js';
import type { OffboardingRequest } from '../core/request.js';
import type { Ledger, ObjectStore, RequestQueue, WorkflowLog } from './ports.js';

/** What the audit needs from Arize (ArizeUsersClient satisfies it). */
export interface AuditDirectory {
  listAll(params?: ListAllParams): AsyncIterable<DirectoryUser>;
}

export interface AuditMetricsSink {
  audited(counts: { driftDetected: number; failuresRedriven: number }): void;
}

export interface ReportSink {
  /** Stores both renderings; returns where they went (for the log and the CLI). */
  write(report: AuditReport, csv: string): Promise<string[]>;
}

export interface AuditDeps {
  ledger: Pick<Ledger, 'outcomesByStatus' | 'historyOfEmail' | 'outcomesOfRequest' | 'getRequestState' | 'deleteIntents'>;
  directory: () => Promise<AuditDirectory>;
  queue: RequestQueue;
  clock: () => Date;
  log: WorkflowLog;
  metrics?: AuditMetricsSink;
  reports?: ReportSink;
}

export interface AuditOptions {
  /** false: report only, enqueue nothing. Default true. */
  submit?: boolean;
}

const LEDGER_CONCURRENCY = 8;

export async function runAudit(deps: AuditDeps, policy: AuditPolicy, options: AuditOptions = {}): Promise<AuditReport & { locations: string[] }> {
  const submit = options.submit ?? true;
  const started = deps.clock();
  const auditId = `audit-run-${started.toISOString().replace(/[:.]/g, '-')}`;

  // (a) re-drive: the same selection and ids as `offboard redrive`, with the policy's minimum age.
  const selection = await selectRedrive(deps.ledger, { now: started, olderThanMinutes: policy.redriveOlderThanMinutes, concurrency: LEDGER_CONCURRENCY });
  const { items } = selection;
  const redrive = redriveRequests(items);

  // (b) drift
  const since = new Date(started.getTime() - policy.driftLookbackDays * 86_400_000).toISOString();
  const deleted = [...(await deps.ledger.outcomesByStatus('DELETED', { since })), ...(await unsettledIntents(deps.ledger, since))];
  const terminatedEmails = new Set(deleted.map((o) => o.email)).size;
  const users: DirectoryUser[] = [];
  if (terminatedEmails > 0) {
    const directory = await deps.directory();
    for await (const user of directory.listAll({ status: [...DRIFT_ARIZE_STATUSES], pageSize: 100 })) users.push(user);
  }
  const findings = driftFindings(deleted, users);
  const drift = driftRequests(findings);

  const toSubmit: OffboardingRequest[] = [...redrive, ...drift];
  if (submit && toSubmit.length > 0) await deps.queue.send(toSubmit);

  const report: AuditReport = {
    auditId,
    startedAt: started.toISOString(),
    finishedAt: deps.clock().toISOString(),
    policy,
    redrive: {
      candidates: selection.candidates,
      superseded: selection.superseded,
      skippedDryRun: selection.skippedDryRun,
      items,
      requestIds: redrive.map((r) => r.requestId),
    },
    drift: { terminatedEmails, directoryUsersScanned: users.length, findings, requestIds: drift.map((r) => r.requestId) },
    submitted: submit && toSubmit.length > 0,
  };
  deps.metrics?.audited({ driftDetected: findings.length, failuresRedriven: submit ? items.length : 0 });
  const locations = deps.reports ? await deps.reports.write(report, auditReportCsv(report)) : [];
  deps.log.info('audit finished', {
    auditId,
    redriveCandidates: report.redrive.candidates,
    redriven: items.length,
    superseded: report.redrive.superseded,
    skippedDryRun: report.redrive.skippedDryRun,
    driftDetected: findings.length,
    directoryUsersScanned: users.length,
    requestIds: toSubmit.map((r) => r.requestId),
    locations,
  });
  return { ...report, locations };
}

/**
 * Deletions the ledger intended but never settled (a crash between a DELETE and its record, or a request
 * recorded NOT_FOUND by an older version after such a crash): counted as deleted for the drift check, so a
 * person re-invited after such a deletion is noticed like any other.
 */
async function unsettledIntents(ledger: Pick<Ledger, 'deleteIntents' | 'outcomesOfRequest'>, since: string): Promise<Outcome[]> {
  const intents = await ledger.deleteIntents({ since });
  const outcomesByRequest = new Map<string, Promise<Outcome[]>>();
  const unsettled: Outcome[] = [];
  for (const intent of intents) {
    let outcomes = outcomesByRequest.get(intent.requestId);
    if (!outcomes) outcomesByRequest.set(intent.requestId, (outcomes = ledger.outcomesOfRequest(intent.requestId)));
    const current = (await outcomes).find((o) => o.email === intent.email);
    const settled = current !== undefined && current.status !== 'NOT_FOUND' && current.attempt >= intent.attempt;
    if (!settled) unsettled.push({ requestId: intent.requestId, email: intent.email, userId: intent.userId, attempt: intent.attempt, recordedAt: intent.recordedAt, status: 'DELETED' });
  }
  return unsettled;
}

/** A bucket (S3 in AWS): `audits/<yyyy-mm-dd>/<auditId>.json|.csv`. */
export function objectStoreReportSink(objects: ObjectStore): ReportSink {
  return {
    async write(report, csv) {
      const prefix = `audits/${report.startedAt.slice(0, 10)}/${report.auditId}`;
      const written = [
        { key: `${prefix}.json`, body: JSON.stringify(report, null, 2), contentType: 'application/json' },
        { key: `${prefix}.csv`, body: csv, contentType: 'text/csv' },
      ];
      const locations: string[] = [];
      for (const object of written) locations.push(await objects.put(object));
      return locations;
    },
  };
}
