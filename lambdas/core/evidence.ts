/**
 * Evidence for auditors (SOC 2 CC6.2/CC6.3, ISO 27001 A.5.18/A.6.5): the population of leavers whose HR
 * termination event was received in a period, one row per leaver with the termination time, the removal time
 * and the SLA verdict, and counts that reconcile the rows with the events received.
 *
 * Pure (no AWS): it reads through the structural `EvidenceLedgerReader`, which the DynamoDB ledger satisfies,
 * so `offboard evidence`, the Lambdas and the tests build the same rows by the same rules.
 *
 * Rules, stated once:
 * - Population: every request state created (received) in [from, to), except follow-ups (re-drives and
 *   approvals of HELD requests), whose outcomes are folded into the rows of the leaver they continue.
 * - Termination time as interpreted: the request's `effectiveAt`, else the received time (no date ⇒ effective
 *   on receipt). As HR sent it: `effectiveAtOriginal` (e.g. a date-only `2026-12-04`), else `effectiveAt`.
 * - Removal time: when the deletion was recorded (`DELETED.recordedAt`); `verifiedAt` is shown beside it when
 *   the read-back was recorded ("not verified" otherwise: older records have none, nothing is invented).
 * - SLA: met when removed within `slaHours` of the termination; missed when removed later, or when not removed
 *   (FAILED, HELD, REJECTED, still pending) and the deadline has passed; pending before the deadline;
 *   not applicable when there was nothing to remove or removal was not asked for (NOT_FOUND, PROTECTED, DRY_RUN).
 */
import { summarizeAccess, type AccessInventory, type ActivityResult } from './access-inventory.js';
import { mapLimited } from './concurrency.js';
import { HR_PROVIDERS } from './hr/types.js';
import { REQUEST_STATES, type Outcome, type OutcomeStatus, type RequestStateStatus } from './outcome.js';
import { SETTINGS } from './settings.js';

export const DEFAULT_SLA_HOURS = SETTINGS.evidenceSlaHours.default;
const HOUR_MS = 3_600_000;

export type SlaStatus = 'met' | 'missed' | 'pending' | 'not_applicable';
/** A leaver's final outcome, or PENDING while the request has not recorded one (waiting, running). */
export type EvidenceOutcome = OutcomeStatus | 'PENDING';
export const EVIDENCE_OUTCOMES: readonly EvidenceOutcome[] = ['DELETED', 'NOT_FOUND', 'FAILED', 'PROTECTED', 'HELD', 'DRY_RUN', 'REJECTED', 'PENDING'];

/** The request-state fields evidence reads (the ledger's RequestState satisfies it). */
export interface EvidenceState {
  requestId: string;
  status: RequestStateStatus;
  createdAt: string;
  updatedAt: string;
  source?: string;
  reason?: string;
  detail?: string;
  request?: {
    emails: readonly string[];
    effectiveAt?: string;
    effectiveAtOriginal?: string;
    source?: string;
    dryRun?: boolean;
    approvesHeldRequest?: string;
  };
}

export interface EvidenceLedgerReader {
  requestsByStatus(status: RequestStateStatus, range?: { since?: string; until?: string }): Promise<EvidenceState[]>;
  getRequestState(requestId: string): Promise<EvidenceState | undefined>;
  outcomesOfRequest(requestId: string): Promise<Outcome[]>;
  historyOfEmail(email: string, range?: { since?: string; until?: string }): Promise<Outcome[]>;
}

export interface EvidenceRow {
  email: string;
  /** The request id: the HR provider's event key for native HR routes (`<provider>:<key>`), else the caller's id. */
  hrEventId: string;
  /** The HR provider for native routes (`bamboohr`, …), else the request's source (`webhook`, `cli`, `audit`, `hr:<provider>` for a rejected HR event). */
  source: string;
  /** As HR sent it; empty when HR sent no date (effective on receipt). */
  terminationAsSent: string;
  terminationAt: string;
  receivedAt: string;
  outcome: EvidenceOutcome;
  /** The request that recorded the final outcome (the event's own, a re-drive or an approval). */
  outcomeRequestId?: string;
  deletedAt?: string;
  verifiedAt?: string;
  /** Removal minus termination, in ms; only for DELETED. */
  timeToRemovalMs?: number;
  slaHours: number;
  slaDeadline: string;
  sla: SlaStatus;
  /** Delete attempts across the event and its follow-ups. */
  attempts: number;
  /** Summary of the access inventory recorded before the delete, or "not recorded". */
  accessRemoved: string;
  access?: AccessInventory;
  /** Audit-log entries between termination and deletion, or "not recorded". */
  activityAfterTermination: string;
  /** Why (PROTECTED, HELD, REJECTED, DRY_RUN) or the error (FAILED). */
  detail?: string;
}

export type EvidenceCounts = Record<EvidenceOutcome, number>;

export interface EvidenceSummary {
  /** HR events (requests) received in the period. */
  eventsReceived: number;
  /** Leavers (event × email) in the period: equals the rows and the sum of `byOutcome`. */
  leavers: number;
  byOutcome: EvidenceCounts;
  sla: Record<SlaStatus, number>;
  /** met / (met + missed), or null when no leaver had a verdict yet. */
  slaCompliance: number | null;
  /** Median and max time to removal of DELETED leavers (ms), or null when none. */
  medianTimeToRemovalMs: number | null;
  maxTimeToRemovalMs: number | null;
}

export interface EvidenceQuery {
  from: string;
  to: string;
  slaHours: number;
}

export interface EvidenceReport {
  query: EvidenceQuery;
  generatedAt: string;
  summary: EvidenceSummary;
  rows: EvidenceRow[];
}

export function slaDeadline(terminationAt: string, slaHours: number): string {
  return new Date(Date.parse(terminationAt) + slaHours * HOUR_MS).toISOString();
}

/** The SLA verdict of one leaver (rules in the module comment). */
export function slaVerdict(outcome: EvidenceOutcome, terminationAt: string, removedAt: string | undefined, now: Date, slaHours: number): SlaStatus {
  if (outcome === 'NOT_FOUND' || outcome === 'PROTECTED' || outcome === 'DRY_RUN') return 'not_applicable';
  const deadline = Date.parse(terminationAt) + slaHours * HOUR_MS;
  if (outcome === 'DELETED' && removedAt !== undefined) return Date.parse(removedAt) <= deadline ? 'met' : 'missed';
  return now.getTime() <= deadline ? 'pending' : 'missed';
}

/** How many of these just-recorded deletions missed the SLA (the `SlaMissed` metric, counted where deletions are recorded). */
export function slaMissesOf(outcomes: readonly Outcome[], terminationAt: string | undefined, slaHours: number): number {
  if (terminationAt === undefined || Number.isNaN(Date.parse(terminationAt))) return 0;
  return outcomes.filter((o) => o.status === 'DELETED' && slaVerdict('DELETED', terminationAt, o.recordedAt, new Date(o.recordedAt), slaHours) === 'missed').length;
}

/** When the leaver's access should be judged from: the request's effective time, else when it was received. */
export function terminationTimeOf(state: Pick<EvidenceState, 'createdAt' | 'request'>): string {
  const effective = state.request?.effectiveAt;
  return effective !== undefined && !Number.isNaN(Date.parse(effective)) ? new Date(effective).toISOString() : state.createdAt;
}

export function summarizeActivity(activity: ActivityResult | undefined): string {
  if (activity === undefined) return 'not recorded';
  if (activity.status === 'unavailable') return `unavailable (${activity.reason}, HTTP ${activity.httpStatus})`;
  return activity.entries.length === 0 ? 'none' : `${activity.entries.length} audit-log entr${activity.entries.length === 1 ? 'y' : 'ies'}`;
}

function sourceOf(state: EvidenceState): string {
  const prefix = state.requestId.split(':', 1)[0] ?? '';
  if (state.requestId.includes(':') && (HR_PROVIDERS as readonly string[]).includes(prefix)) return prefix;
  return state.source ?? state.request?.source ?? 'unknown';
}

/** Re-drives and approvals continue an earlier event: their outcomes belong to the leaver's row there. */
export function isFollowUp(state: Pick<EvidenceState, 'source' | 'request'>): boolean {
  return state.source === 'redrive' || state.request?.source === 'redrive' || state.request?.approvesHeldRequest !== undefined;
}

function detailOf(outcome: Outcome | undefined, state: EvidenceState): string | undefined {
  if (outcome === undefined) return state.status === 'REJECTED' ? (state.reason ?? state.detail) : undefined;
  if (outcome.status === 'FAILED') return outcome.error ? `${outcome.errorClass}: ${outcome.error}` : outcome.errorClass;
  return 'reason' in outcome && outcome.reason ? outcome.reason : undefined;
}

export interface LeaverInput {
  state: EvidenceState;
  email: string;
  /** The event's own current outcome for this email. */
  own?: Outcome;
  /** Attempt records of this email from the event and its follow-ups, oldest first. */
  related: readonly Outcome[];
}

/** One leaver's row from what the ledger recorded (pure). */
export function evidenceRow(input: LeaverInput, now: Date, slaHours: number): EvidenceRow {
  const { state, email } = input;
  const candidates = [...(input.own ? [input.own] : []), ...input.related.filter((o) => o.requestId !== state.requestId)];
  const final = candidates.reduce<Outcome | undefined>((latest, o) => (latest === undefined || o.recordedAt >= latest.recordedAt ? o : latest), undefined);
  const outcome: EvidenceOutcome = final?.status ?? (state.status === 'REJECTED' ? 'REJECTED' : 'PENDING');
  const terminationAt = terminationTimeOf(state);
  const deleted = final?.status === 'DELETED' ? final : undefined;
  const attempts = new Set(input.related.filter((o) => o.attempt > 0).map((o) => `${o.requestId}#${o.attempt}`));
  if (input.own && input.own.attempt > 0) attempts.add(`${input.own.requestId}#${input.own.attempt}`);
  const detail = detailOf(final, state);
  return {
    email,
    hrEventId: state.requestId,
    source: sourceOf(state),
    terminationAsSent: state.request?.effectiveAtOriginal ?? state.request?.effectiveAt ?? '',
    terminationAt,
    receivedAt: state.createdAt,
    outcome,
    ...(final ? { outcomeRequestId: final.requestId } : {}),
    ...(deleted ? { deletedAt: deleted.recordedAt } : {}),
    ...(deleted?.verifiedAt ? { verifiedAt: deleted.verifiedAt } : {}),
    ...(deleted ? { timeToRemovalMs: Date.parse(deleted.recordedAt) - Date.parse(terminationAt) } : {}),
    slaHours,
    slaDeadline: slaDeadline(terminationAt, slaHours),
    sla: slaVerdict(outcome, terminationAt, deleted?.recordedAt, now, slaHours),
    attempts: attempts.size,
    accessRemoved: summarizeAccess(deleted?.access),
    ...(deleted?.access ? { access: deleted.access } : {}),
    activityAfterTermination: summarizeActivity(deleted?.activityAfterTermination),
    ...(detail ? { detail } : {}),
  };
}

export function emptyEvidenceCounts(): EvidenceCounts {
  return Object.fromEntries(EVIDENCE_OUTCOMES.map((o) => [o, 0])) as EvidenceCounts;
}

export class EvidenceReconciliationError extends Error {
  override readonly name = 'EvidenceReconciliationError';
}

/**
 * Totals of the rows, checked: every leaver is counted under exactly one outcome and every event received has
 * at least one row. A mismatch throws (an export that does not add up is not evidence).
 */
export function summarizeEvidence(rows: readonly EvidenceRow[], eventIds: readonly string[]): EvidenceSummary {
  const byOutcome = emptyEvidenceCounts();
  const sla: Record<SlaStatus, number> = { met: 0, missed: 0, pending: 0, not_applicable: 0 };
  for (const row of rows) {
    byOutcome[row.outcome] += 1;
    sla[row.sla] += 1;
  }
  const counted = Object.values(byOutcome).reduce((a, b) => a + b, 0);
  if (counted !== rows.length) throw new EvidenceReconciliationError(`evidence: ${rows.length} rows but ${counted} counted by outcome`);
  const slaCounted = Object.values(sla).reduce((a, b) => a + b, 0);
  if (slaCounted !== rows.length) throw new EvidenceReconciliationError(`evidence: ${rows.length} rows but ${slaCounted} counted by SLA status`);
  const withRows = new Set(rows.map((r) => r.hrEventId));
  const missing = eventIds.filter((id) => !withRows.has(id));
  if (missing.length > 0) throw new EvidenceReconciliationError(`evidence: events received without a row: ${missing.join(', ')}`);
  const times = rows.flatMap((r) => (r.timeToRemovalMs === undefined ? [] : [r.timeToRemovalMs])).sort((a, b) => a - b);
  const median = times.length === 0 ? null : times.length % 2 === 1 ? (times[(times.length - 1) / 2] as number) : ((times[times.length / 2 - 1] as number) + (times[times.length / 2] as number)) / 2;
  return {
    eventsReceived: new Set(eventIds).size,
    leavers: rows.length,
    byOutcome,
    sla,
    slaCompliance: sla.met + sla.missed === 0 ? null : sla.met / (sla.met + sla.missed),
    medianTimeToRemovalMs: median,
    maxTimeToRemovalMs: times.length === 0 ? null : (times[times.length - 1] as number),
  };
}

export class EvidenceQueryError extends RangeError {
  override readonly name = 'EvidenceQueryError';
}

/** Checks the query: ISO instants, from before to, SLA positive (errors name the field). */
export function checkEvidenceQuery(query: EvidenceQuery): EvidenceQuery {
  const from = Date.parse(query.from);
  const to = Date.parse(query.to);
  if (Number.isNaN(from)) throw new EvidenceQueryError('from: expected an ISO-8601 date or date-time');
  if (Number.isNaN(to)) throw new EvidenceQueryError('to: expected an ISO-8601 date or date-time');
  if (from >= to) throw new EvidenceQueryError('from: must be before to');
  if (!(query.slaHours > 0)) throw new EvidenceQueryError('slaHours: must be a positive number of hours');
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), slaHours: query.slaHours };
}

/** The events received in the period: request states created in [from, to), follow-ups excluded, oldest first. */
export async function eventsReceived(reader: EvidenceLedgerReader, query: EvidenceQuery): Promise<EvidenceState[]> {
  // A state's index key is its last update, which is never before its creation: `since: from` finds every state
  // created from `from` on, whatever it became since.
  const lists = await Promise.all(REQUEST_STATES.map((status) => reader.requestsByStatus(status, { since: query.from })));
  const byId = new Map<string, EvidenceState>();
  for (const state of lists.flat()) {
    const known = byId.get(state.requestId);
    if (known === undefined || state.updatedAt > known.updatedAt) byId.set(state.requestId, state);
  }
  return [...byId.values()]
    .filter((s) => s.createdAt >= query.from && s.createdAt < query.to && !isFollowUp(s))
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.requestId.localeCompare(b.requestId));
}

/** The export's content: rows of every leaver of the events received in the period, and their reconciled totals. */
export async function buildEvidence(reader: EvidenceLedgerReader, rawQuery: EvidenceQuery, now: Date = new Date()): Promise<EvidenceReport> {
  const query = checkEvidenceQuery(rawQuery);
  const events = await eventsReceived(reader, query);
  const followUps = new Map<string, boolean>();
  const isFollowUpId = async (requestId: string): Promise<boolean> => {
    let known = followUps.get(requestId);
    if (known === undefined) {
      const state = await reader.getRequestState(requestId);
      known = state !== undefined && isFollowUp(state);
      followUps.set(requestId, known);
    }
    return known;
  };
  const perEvent = await mapLimited(events, 8, async (state) => {
    const own = await reader.outcomesOfRequest(state.requestId);
    const emails = [...new Set([...(state.request?.emails ?? []), ...own.map((o) => o.email)])];
    if (emails.length === 0) {
      // A rejected message without a usable address is still an event received: it gets a row of its own.
      return [evidenceRow({ state, email: '', related: [] }, now, query.slaHours)];
    }
    return mapLimited(emails, 4, async (email) => {
      const history = await reader.historyOfEmail(email, { since: state.createdAt });
      const related: Outcome[] = [];
      for (const entry of history) {
        if (entry.requestId === state.requestId || (await isFollowUpId(entry.requestId))) related.push(entry);
      }
      const mine = own.find((o) => o.email === email);
      return evidenceRow({ state, email, ...(mine ? { own: mine } : {}), related }, now, query.slaHours);
    });
  });
  const rows = perEvent.flat();
  return { query, generatedAt: now.toISOString(), summary: summarizeEvidence(rows, events.map((e) => e.requestId)), rows };
}
