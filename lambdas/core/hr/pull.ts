/**
 * Scheduled pull for HR systems without webhooks (Workday RaaS, any HR export): report rows → requests. Pure.
 *
 * Idempotent across pulls: a row's request id derives from (email, termination date) only, so the same leaver in
 * the next pull maps onto the same request (acknowledged as a duplicate downstream), and a changed termination
 * date is a new request. The email is hashed into the id because request ids appear in logs.
 */
import { createHash } from 'node:crypto';
import { parseCsvRecords } from '../csv.js';
import { normalizeEmail } from '../email.js';
import { TERMINATION_TYPE, parseRequest, type OffboardingRequest } from '../request.js';
import { interpretEffectiveDate, type EffectiveDatePolicy } from './effective-date.js';
import { isRecord, usableEmail } from './types.js';

export type ReportRow = Readonly<Record<string, string>>;

/** Column names tried in order (case-insensitive, spaces/underscores ignored): Workday RaaS aliases and common exports. */
export const REPORT_COLUMNS = {
  email: ['workemail', 'email', 'emailaddress', 'primaryworkemail', 'emailprimarywork'],
  terminationDate: ['terminationdate', 'lastdayofwork', 'enddate', 'terminationeffectivedate', 'effectivedate'],
  status: ['status', 'workerstatus', 'employmentstatus', 'active'],
  timeZone: ['timezone', 'tz'],
} as const;

/** A status column, when present, must say the person is gone (Workday's Active = 0 too). */
const TERMINATED_STATUSES = new Set(['terminated', 'inactive', 'former', 'left', '0', 'false', 'no']);

function column(row: ReportRow, names: readonly string[]): string | undefined {
  const wanted = new Set(names);
  for (const [key, value] of Object.entries(row)) {
    if (wanted.has(key.toLowerCase().replace(/[\s_-]/g, '')) && value.trim() !== '') return value.trim();
  }
  return undefined;
}

/** Workday RaaS JSON is `{"Report_Entry": [...]}`; a plain array is accepted too. Values are flattened to text. */
export function rowsFromJson(json: unknown): ReportRow[] | { error: string } {
  const entries = Array.isArray(json) ? json : isRecord(json) && Array.isArray(json.Report_Entry) ? json.Report_Entry : undefined;
  if (!entries) return { error: 'report: expected a JSON array or {"Report_Entry": [...]}' };
  return entries.map((entry) => {
    const row: Record<string, string> = {};
    if (isRecord(entry)) for (const [key, value] of Object.entries(entry)) if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') row[key] = String(value);
    return row;
  });
}

export const REPORT_FORMATS = ['csv', 'json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/**
 * A fetched report's rows: the format given, else the content type, else the body's first character. A message
 * says what is wrong without quoting the body (it holds emails).
 */
export function parseReport(text: string, contentType: string, format?: ReportFormat): ReportRow[] | { error: string } {
  const chosen = format ?? (/json/i.test(contentType) || /^\s*[[{]/.test(text) ? 'json' : 'csv');
  if (chosen === 'csv') return parseCsvRecords(text);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { error: 'the report is not valid JSON (a CSV report needs format csv)' };
  }
  return rowsFromJson(json);
}

/** Credentials for the report URL: a bearer token, or basic auth (a Workday integration system user). */
export type PullCredentials = { token: string } | { username: string; password: string };

export function pullAuthorization(credentials: PullCredentials | undefined): Record<string, string> {
  if (!credentials) return {};
  if ('token' in credentials) return { authorization: `Bearer ${credentials.token}` };
  return { authorization: `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}` };
}

/**
 * The pull secret (Secrets Manager): JSON `{"token": "…"}` or `{"username": "…", "password": "…"}`. Messages name
 * the secret and the field, never a value.
 */
export function parsePullSecret(source: string, value: string | undefined): PullCredentials | { error: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value?.trim() ?? '');
  } catch {
    return { error: `${source}: must be JSON {"token": "…"} or {"username": "…", "password": "…"}` };
  }
  if (!isRecord(parsed)) return { error: `${source}: must be a JSON object` };
  const text = (key: string) => (typeof parsed[key] === 'string' ? parsed[key].trim() : '');
  if (text('token')) return { token: text('token') };
  if (text('username')) return { username: text('username'), password: typeof parsed.password === 'string' ? parsed.password : '' };
  return { error: `${source}: needs a non-empty "token" or "username"` };
}

export function pullRequestId(email: string, terminationDate: string): string {
  return `pull-${createHash('sha256').update(`${normalizeEmail(email)}|${terminationDate}`, 'utf8').digest('hex').slice(0, 24)}`;
}

export interface PullResult {
  requests: OffboardingRequest[];
  /** Rows that are not leavers (no termination date, active status): counted, not errors. */
  notTerminated: number;
  /** Rows that look like leavers but cannot be used, with the reason (row numbers 1-based, header excluded). */
  problems: { row: number; reason: string }[];
}

export function requestsFromReport(rows: readonly ReportRow[], policy: EffectiveDatePolicy, label: string): PullResult {
  const requests = new Map<string, OffboardingRequest>();
  const problems: PullResult['problems'] = [];
  let notTerminated = 0;
  rows.forEach((row, index) => {
    const date = column(row, REPORT_COLUMNS.terminationDate);
    const status = column(row, REPORT_COLUMNS.status)?.toLowerCase();
    if (!date || (status !== undefined && !TERMINATED_STATUSES.has(status))) {
      notTerminated += 1;
      return;
    }
    const rawEmail = column(row, REPORT_COLUMNS.email);
    const email = usableEmail(rawEmail);
    if (!email) {
      problems.push({ row: index + 1, reason: rawEmail ? 'email: not a valid email address' : 'email: missing' });
      return;
    }
    const effective = interpretEffectiveDate(date, policy, column(row, REPORT_COLUMNS.timeZone));
    if (!effective.ok) {
      problems.push({ row: index + 1, reason: effective.reason });
      return;
    }
    const request = parseRequest({
      requestId: pullRequestId(email, effective.value.original),
      type: TERMINATION_TYPE,
      emails: [email],
      source: 'cli',
      reason: `pull ${label}`.slice(0, 500),
      effectiveAt: effective.value.effectiveAt,
      effectiveAtOriginal: effective.value.original,
    });
    if (request.ok) requests.set(request.value.requestId, request.value);
    else problems.push({ row: index + 1, reason: request.reason });
  });
  return { requests: [...requests.values()], notTerminated, problems };
}
