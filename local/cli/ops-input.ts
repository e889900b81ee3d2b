/**
 * Reading `offboard run <file>`: offboarding requests (a JSON array or object, or NDJSON) or a list of
 * emails (CSV with an `email` column, or one address per line). Everything is validated before anything
 * is enqueued, and every problem is reported with its line (or array item), not only the first one.
 */
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { splitCsvLine } from '../../lambdas/core/csv.js';
import { emailProblem, normalizeEmail } from '../../lambdas/core/email.js';
import {
  conflictingRequestReason,
  requestDigest,
  requestsFromInput,
  splitRequest,
  type OffboardingRequest,
  type ParseResult,
  TERMINATION_TYPE,
} from '../../lambdas/core/request.js';

export type InputFormat = 'json' | 'ndjson' | 'csv' | 'list';

export interface InputProblem {
  /** 1-based line in the file; absent for items of a JSON document spread over lines. */
  line?: number;
  /** `line 3`, `item 2` (0-based, as in the JSON array) or `file`. */
  location: string;
  message: string;
  /** A request id the file already used for other content (the entry itself may be valid). */
  conflict?: boolean;
}

export interface ParsedInput {
  format: InputFormat;
  requests: OffboardingRequest[];
  /** Where each request came from (`line 3`, `item 2`, `file`), aligned with `requests`. */
  locations: string[];
  problems: InputProblem[];
}

/** What the operator passed on the command line; applied to every request built from the file. */
export interface InputDefaults {
  /** For email lists: the request id (split into `<id>.p<i>of<n>` parts above 1,000 emails). */
  requestId?: string;
  /** Forces `dryRun: true` on every request, including requests written in the file. */
  dryRun?: boolean;
  reason?: string;
  effectiveAt?: string;
}


/**
 * A request id for an email list that depends only on the file name and the set of addresses: running the
 * same file twice maps onto the same execution (a no-op the second time) instead of deleting twice.
 */
export function emailListRequestId(fileName: string, emails: readonly string[]): string {
  const distinct = [...new Set(emails.map(normalizeEmail))].sort();
  const digest = createHash('sha256').update(distinct.join('\n'), 'utf8').digest('hex').slice(0, 12);
  const stem = basename(fileName)
    .replace(/\.[^.]*$/, '')
    .replace(/[^A-Za-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return `cli-${stem || 'list'}-${digest}`;
}

/** A request written in the file, with the command-line `--dry-run` applied; >1,000 emails are split like at intake. */
function requestsFromObject(raw: unknown, defaults: InputDefaults): ParseResult<OffboardingRequest[]> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, reason: 'expected an offboarding request object {"requestId", "type", "emails", …}' };
  }
  const candidate: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  if (defaults.dryRun === true) candidate.dryRun = true;
  return requestsFromInput(candidate);
}

function parseJsonDocument(value: unknown, defaults: InputDefaults, fileName: string): ParsedInput {
  const requests: OffboardingRequest[] = [];
  const problems: InputProblem[] = [];
  if (Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'string')) {
    return emailList('json', value.map((email, index) => ({ value: email, location: `item ${index}` })), defaults, fileName);
  }
  const locations: string[] = [];
  const items: unknown[] = Array.isArray(value) ? value : [value];
  if (items.length === 0) problems.push({ location: 'file', message: 'the JSON array is empty' });
  items.forEach((item, index) => {
    const location = Array.isArray(value) ? `item ${index}` : 'file';
    const parsed = requestsFromObject(item, defaults);
    if (parsed.ok) {
      requests.push(...parsed.value);
      locations.push(...parsed.value.map(() => location));
    } else problems.push({ location, message: parsed.reason });
  });
  return withoutConflicts({ format: 'json', requests, locations, problems });
}

function parseNdjson(lines: readonly string[], defaults: InputDefaults): ParsedInput {
  const requests: OffboardingRequest[] = [];
  const locations: string[] = [];
  const lineOf = new Map<string, number>();
  const problems: InputProblem[] = [];
  lines.forEach((text, index) => {
    const line = index + 1;
    if (text.trim() === '') return;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      problems.push({ line, location: `line ${line}`, message: 'not valid JSON' });
      return;
    }
    const parsed = requestsFromObject(raw, defaults);
    if (parsed.ok) {
      requests.push(...parsed.value);
      locations.push(...parsed.value.map(() => `line ${line}`));
      lineOf.set(`line ${line}`, line);
    } else problems.push({ line, location: `line ${line}`, message: parsed.reason });
  });
  return withoutConflicts({ format: 'ndjson', requests, locations, problems }, lineOf);
}

/**
 * One id, one content (core/request.ts requestDigest): a later entry repeating an id with the same content is
 * the same request and is sent once; with other content it is a problem naming both places, and nothing of
 * that entry is kept — it would otherwise be acknowledged as a duplicate and its people never offboarded.
 */
function withoutConflicts(input: ParsedInput, lineOf: ReadonlyMap<string, number> = new Map()): ParsedInput {
  const first = new Map<string, { digest: string; location: string }>();
  const conflicted = new Set<string>();
  const conflicts: InputProblem[] = [];
  input.requests.forEach((request, index) => {
    const location = input.locations[index] ?? 'file';
    const digest = requestDigest(request);
    const seen = first.get(request.requestId);
    if (seen === undefined) first.set(request.requestId, { digest, location });
    else if (seen.digest !== digest && seen.location !== location && !conflicted.has(location)) {
      conflicted.add(location);
      const line = lineOf.get(location);
      conflicts.push({
        ...(line !== undefined ? { line } : {}),
        location,
        message: `${conflictingRequestReason(request.requestId)} (${seen.location} uses it); nothing of ${location} is enqueued`,
        conflict: true,
      });
    }
  });
  const kept = new Set<string>();
  const requests: OffboardingRequest[] = [];
  const locations: string[] = [];
  input.requests.forEach((request, index) => {
    const location = input.locations[index] ?? 'file';
    const key = `${request.requestId}\n${requestDigest(request)}`;
    if (conflicted.has(location) || kept.has(key)) return;
    kept.add(key);
    requests.push(request);
    locations.push(location);
  });
  return { ...input, requests, locations, problems: [...input.problems, ...conflicts] };
}


interface Located {
  value: string;
  location: string;
  line?: number;
}

function parseDelimited(lines: readonly string[], defaults: InputDefaults, fileName: string): ParsedInput {
  const rows = lines
    .map((text, index) => ({ text: text.trim(), line: index + 1 }))
    .filter((row) => row.text !== '' && !row.text.startsWith('#'));
  const first = rows[0];
  if (first === undefined) {
    return { format: 'list', requests: [], locations: [], problems: [{ location: 'file', message: 'no emails in the file' }] };
  }
  const header = splitCsvLine(first.text).map((cell) => cell.toLowerCase());
  const emailColumn = header.findIndex((cell) => cell === 'email' || cell === 'emails' || cell === 'email_address');
  const isCsv = emailColumn >= 0 || header.length > 1;
  if (isCsv && emailColumn < 0) {
    return {
      format: 'csv',
      requests: [],
      locations: [],
      problems: [{ line: first.line, location: `line ${first.line}`, message: 'a CSV file needs a header row with an "email" column' }],
    };
  }
  const body = emailColumn >= 0 ? rows.slice(1) : rows;
  const values: Located[] = body.map((row) => ({
    value: isCsv ? (splitCsvLine(row.text)[emailColumn] ?? '') : row.text,
    location: `line ${row.line}`,
    line: row.line,
  }));
  return emailList(isCsv ? 'csv' : 'list', values, defaults, fileName);
}

function emailList(format: InputFormat, values: readonly Located[], defaults: InputDefaults, fileName: string): ParsedInput {
  const problems: InputProblem[] = [];
  const emails: string[] = [];
  for (const item of values) {
    const problem = emailProblem(item.value);
    if (problem === undefined) emails.push(item.value);
    else {
      problems.push({
        ...(item.line !== undefined ? { line: item.line } : {}),
        location: item.location,
        message: item.value === '' ? 'empty email' : problem.kind === 'syntax' ? `not a valid email address: '${item.value}'` : `'${item.value}' ${problem.reason}`,
      });
    }
  }
  if (emails.length === 0) {
    if (problems.length === 0) problems.push({ location: 'file', message: 'no emails in the file' });
    return { format, requests: [], locations: [], problems };
  }
  const split = splitRequest({
    requestId: defaults.requestId ?? emailListRequestId(fileName, emails),
    type: TERMINATION_TYPE,
    emails,
    source: 'cli',
    dryRun: defaults.dryRun === true,
    ...(defaults.reason !== undefined ? { reason: defaults.reason } : {}),
    ...(defaults.effectiveAt !== undefined ? { effectiveAt: defaults.effectiveAt } : {}),
  });
  if (!split.ok) return { format, requests: [], locations: [], problems: [...problems, { location: 'options', message: split.reason }] };
  return { format, requests: split.value, locations: split.value.map(() => 'file'), problems };
}

/**
 * Detects the format from the content, not the file extension: JSON if the whole text parses as JSON,
 * NDJSON if it starts with `{` (one request per line), otherwise a CSV or a plain list of emails.
 */
export function parseRequestsFile(text: string, fileName: string, defaults: InputDefaults = {}): ParsedInput {
  const content = text.replace(/^\uFEFF/, '');
  const trimmed = content.trim();
  if (trimmed === '') return { format: 'list', requests: [], locations: [], problems: [{ location: 'file', message: 'the file is empty' }] };
  const lines = content.split(/\r?\n/);
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    try {
      return parseJsonDocument(JSON.parse(trimmed) as unknown, defaults, fileName);
    } catch {
      if (trimmed.startsWith('[')) {
        return { format: 'json', requests: [], locations: [], problems: [{ location: 'file', message: 'starts with [ but is not valid JSON' }] };
      }
      return parseNdjson(lines, defaults);
    }
  }
  return parseDelimited(lines, defaults, fileName);
}

/** Total distinct emails across requests (a person in two requests counts twice: two decisions). */
export function countEmails(requests: readonly OffboardingRequest[]): number {
  return requests.reduce((total, request) => total + request.emails.length, 0);
}
