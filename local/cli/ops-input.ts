/**
 * Reading `offboard run <file>`: offboarding requests (a JSON array or object, or NDJSON) or a list of
 * emails (CSV with an `email` column, or one address per line). Everything is validated before anything
 * is enqueued, and every problem is reported with its line (or array item), not only the first one.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
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
import { CliError, EXIT_USAGE } from './errors.js';

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
  if (isStringArray(value)) {
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


/** One value read from an input file, with where it came from (`line 4`, `item 2`) for error messages. */
export interface Located {
  value: string;
  location: string;
  line?: number;
}

/** A file of emails only: what `users delete --emails-file` reads and the list half of `offboard run`. */
export interface EmailEntries {
  format: InputFormat;
  entries: Located[];
  problems: InputProblem[];
}

/**
 * A CSV with an `email` column (other columns ignored) or one value per line; blank lines and `#` lines are
 * skipped. The values are returned as written (trimmed): each caller validates them and names them its way.
 */
function delimitedEntries(lines: readonly string[]): EmailEntries {
  const rows = lines
    .map((text, index) => ({ text: text.trim(), line: index + 1 }))
    .filter((row) => row.text !== '' && !row.text.startsWith('#'));
  const first = rows[0];
  // No values is not a problem here: `run` refuses an empty list (emailList), `users delete` may have other targets.
  if (first === undefined) return { format: 'list', entries: [], problems: [] };
  const header = splitCsvLine(first.text).map((cell) => cell.toLowerCase());
  const emailColumn = header.findIndex((cell) => cell === 'email' || cell === 'emails' || cell === 'email_address');
  const isCsv = emailColumn >= 0 || header.length > 1;
  if (isCsv && emailColumn < 0) {
    return { format: 'csv', entries: [], problems: [{ line: first.line, location: `line ${first.line}`, message: 'a CSV file needs a header row with an "email" column' }] };
  }
  const body = emailColumn >= 0 ? rows.slice(1) : rows;
  const entries = body.map((row) => ({ value: isCsv ? (splitCsvLine(row.text)[emailColumn] ?? '') : row.text, location: `line ${row.line}`, line: row.line }));
  return { format: isCsv ? 'csv' : 'list', entries, problems: [] };
}

const isStringArray = (value: unknown): value is string[] => Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'string');

/**
 * The email formats `offboard run` accepts — CSV with an `email` header, a plain list, a JSON array of strings —
 * detected from the content. Offboarding request objects are refused: they carry their own ids and flags
 * (dryRun, effectiveAt) that a plain delete would silently ignore.
 */
export function parseEmailEntries(text: string): EmailEntries {
  const content = text.replace(/^\uFEFF/, '');
  const trimmed = content.trim();
  if (trimmed === '') return { format: 'list', entries: [], problems: [] };
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch {
      value = undefined;
    }
    if (isStringArray(value)) return { format: 'json', entries: value.map((email, index) => ({ value: email, location: `item ${index}` })), problems: [] };
    return {
      format: 'json',
      entries: [],
      problems: [{ location: 'file', message: 'expected emails (a CSV with an "email" column, one per line, or a JSON array of strings), not offboarding requests: use offboard run' }],
    };
  }
  return delimitedEntries(content.split(/\r?\n/));
}

function parseDelimited(lines: readonly string[], defaults: InputDefaults, fileName: string): ParsedInput {
  const read = delimitedEntries(lines);
  if (read.problems.length > 0) return { format: read.format, requests: [], locations: [], problems: read.problems };
  return emailList(read.format, read.entries, defaults, fileName);
}

/** Reads an input file; a missing or unreadable one is a usage error naming the option (or argument) and path. */
export async function readInputText(path: string, what?: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : 'unreadable';
    throw new CliError(`cannot read ${what !== undefined ? `${what} ` : ''}'${path}': ${reason}`, EXIT_USAGE);
  }
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
