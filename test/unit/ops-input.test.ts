import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { redriveRequests, type RedriveItem } from '../../lambdas/core/audit.js';
import { approvalRequestId } from '../../lambdas/core/approval.js';
import { parseOlderThan, parseSince } from '../../local/cli/options.js';
import { submitRequestId } from '../../local/cli/submit-command.js';
import { splitCsvLine } from '../../lambdas/core/csv.js';
import { emailListRequestId, parseRequestsFile } from '../../local/cli/ops-input.js';
import { applySafety } from '../../local/cli/ops-shared.js';
import { readEventLines } from '../../local/cli/start-command.js';
import { rejectionIdFor } from '../../lambdas/core/rejection.js';
import { requestsFromMessage } from '../../lambdas/core/intake.js';
import { expectedRequestIds } from '../../local/runtime/queue.js';
import { writeRuntimeInfo } from '../../local/runtime/runtime-file.js';
import { CliError } from '../../local/cli/errors.js';

const request = (id: string, emails: string[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({ requestId: id, type: 'employee.terminated', emails, ...extra });

describe('parseRequestsFile: NDJSON', () => {
  it('parses one request per line, skipping blank lines', () => {
    const text = `${request('a-1', ['Ann@Example.com'])}\n\n${request('a-2', ['bo@example.com'], { dryRun: true })}\n`;
    const parsed = parseRequestsFile(text, 'events.ndjson');
    expect(parsed.format).toBe('ndjson');
    expect(parsed.problems).toEqual([]);
    expect(parsed.requests.map((r) => [r.requestId, r.emails, r.dryRun, r.source])).toEqual([
      ['a-1', ['ann@example.com'], false, 'cli'],
      ['a-2', ['bo@example.com'], true, 'cli'],
    ]);
  });

  it('reports every invalid line with its number and the offending field', () => {
    const text = [
      request('ok-1', ['ann@example.com']),
      '{not json',
      request('bad-2', ['not-an-email']),
      '',
      JSON.stringify({ requestId: 'bad-3', type: 'employee.hired', emails: ['x@example.com'] }),
    ].join('\n');
    const parsed = parseRequestsFile(text, 'events.ndjson');
    expect(parsed.requests.map((r) => r.requestId)).toEqual(['ok-1']);
    expect(parsed.problems.map((p) => p.line)).toEqual([2, 3, 5]);
    expect(parsed.problems[0]?.message).toBe('not valid JSON');
    expect(parsed.problems[1]?.message).toContain('emails.0');
    expect(parsed.problems[2]?.message).toContain('type');
    expect(parsed.problems[2]?.location).toBe('line 5');
  });

  it('a requestId repeated with other content is a conflict naming the line; the same content is sent once', () => {
    const text = [
      request('a-1', ['ann@example.com', 'bob@example.com']),
      request('a-2', ['cy@example.com']),
      request('a-1', ['BOB@example.com', 'ann@example.com'], { reason: 'same request, resent' }),
      request('a-1', ['dee@example.com']),
    ].join('\n');
    const parsed = parseRequestsFile(text, 'events.ndjson');
    expect(parsed.requests.map((r) => [r.requestId, r.emails])).toEqual([
      ['a-1', ['ann@example.com', 'bob@example.com']],
      ['a-2', ['cy@example.com']],
    ]);
    expect(parsed.locations).toEqual(['line 1', 'line 2']);
    expect(parsed.problems).toEqual([
      expect.objectContaining({ line: 4, location: 'line 4', conflict: true, message: expect.stringContaining("conflicting request id: 'a-1'") as unknown }),
    ]);
    expect(parsed.problems[0]?.message).toContain('line 1 uses it');
  });

  it('--dry-run forces dryRun on requests written in the file', () => {
    const parsed = parseRequestsFile(request('a-1', ['ann@example.com'], { dryRun: false }), 'x.ndjson', { dryRun: true });
    expect(parsed.requests[0]?.dryRun).toBe(true);
  });
});

describe('parseRequestsFile: JSON', () => {
  it('accepts an array of requests and names invalid items by index', () => {
    const text = `[${request('j-1', ['ann@example.com'])}, {"requestId": "j-2", "type": "employee.terminated", "emails": []}]`;
    const parsed = parseRequestsFile(text, 'x.json');
    expect(parsed.format).toBe('json');
    expect(parsed.requests.map((r) => r.requestId)).toEqual(['j-1']);
    expect(parsed.problems).toEqual([{ location: 'item 1', message: 'emails: emails must contain at least one address' }]);
  });

  it('accepts a single request object spread over several lines', () => {
    const text = JSON.stringify({ requestId: 'one', type: 'employee.terminated', emails: ['a@example.com'] }, null, 2);
    const parsed = parseRequestsFile(text, 'x.json');
    expect(parsed.format).toBe('json');
    expect(parsed.requests.map((r) => r.requestId)).toEqual(['one']);
  });

  it('an array of strings is an email list', () => {
    const parsed = parseRequestsFile('["a@example.com", "B@example.com", "a@example.com"]', 'people.json');
    expect(parsed.requests).toHaveLength(1);
    expect(parsed.requests[0]?.emails).toEqual(['a@example.com', 'b@example.com']);
  });

  it('splits a request above 1,000 emails into parts like intake does', () => {
    const emails = Array.from({ length: 1500 }, (_, i) => `u${i}@example.com`);
    const parsed = parseRequestsFile(JSON.stringify({ requestId: 'big', type: 'employee.terminated', emails }), 'big.json');
    expect(parsed.requests.map((r) => [r.requestId, r.emails.length])).toEqual([
      ['big.p1of2', 1000],
      ['big.p2of2', 500],
    ]);
  });
});

describe('parseRequestsFile: CSV and plain lists', () => {
  it('reads the email column of a CSV with a header, wherever it is', () => {
    const text = 'name,"Email",team\r\n"Lee, Ann",ann@example.com,ml\r\nBo,bo@example.com,infra\r\n';
    const parsed = parseRequestsFile(text, 'leavers.csv', { reason: 'Q3 leavers' });
    expect(parsed.format).toBe('csv');
    expect(parsed.problems).toEqual([]);
    expect(parsed.requests).toHaveLength(1);
    expect(parsed.requests[0]).toMatchObject({ emails: ['ann@example.com', 'bo@example.com'], reason: 'Q3 leavers', source: 'cli', type: 'employee.terminated' });
    expect(parsed.requests[0]?.requestId).toMatch(/^cli-leavers-[0-9a-f]{12}$/);
  });

  it('a plain list skips comments and blank lines and reports bad lines by number', () => {
    const text = '# leavers\nann@example.com\n\nnot an email\nbo@example.com\n@example.com\n';
    const parsed = parseRequestsFile(text, 'list.txt');
    expect(parsed.format).toBe('list');
    expect(parsed.problems.map((p) => [p.line, p.message])).toEqual([
      [4, "not a valid email address: 'not an email'"],
      [6, "not a valid email address: '@example.com'"],
    ]);
    expect(parsed.requests[0]?.emails).toEqual(['ann@example.com', 'bo@example.com']);
  });

  it('a CSV without an email column is refused, naming the header line', () => {
    const parsed = parseRequestsFile('name,team\nAnn,ml\n', 'x.csv');
    expect(parsed.requests).toEqual([]);
    expect(parsed.problems).toEqual([{ line: 1, location: 'line 1', message: 'a CSV file needs a header row with an "email" column' }]);
  });

  it('more than 1,000 emails become parts of at most 1,000 under one generated id', () => {
    const text = Array.from({ length: 2001 }, (_, i) => `p${i}@example.com`).join('\n');
    const parsed = parseRequestsFile(text, 'many.txt', { requestId: 'q3' });
    expect(parsed.requests.map((r) => [r.requestId, r.emails.length])).toEqual([
      ['q3.p1of3', 1000],
      ['q3.p2of3', 1000],
      ['q3.p3of3', 1],
    ]);
  });

  it('the generated id depends on the set of emails only: same file again ⇒ same request', () => {
    expect(emailListRequestId('a.csv', ['b@x.com', 'A@x.com'])).toBe(emailListRequestId('a.csv', ['a@x.com', 'b@x.com', 'b@x.com']));
    expect(emailListRequestId('a.csv', ['a@x.com'])).not.toBe(emailListRequestId('a.csv', ['b@x.com']));
    expect(submitRequestId(['B@x.com', 'a@x.com'])).toBe(submitRequestId(['a@x.com', 'b@x.com']));
  });

  it('an empty file is a problem, not an empty run', () => {
    expect(parseRequestsFile('  \n', 'empty.txt').problems).toEqual([{ location: 'file', message: 'the file is empty' }]);
  });

  it('splitCsvLine handles quotes and doubled quotes', () => {
    expect(splitCsvLine('"a, b","say ""hi""", c ')).toEqual(['a, b', 'say "hi"', 'c']);
  });
});

describe('safety against the real Arize', () => {
  const requests = parseRequestsFile('ann@example.com\n', 'x.txt').requests;

  it('with ARIZE_API_KEY and without --confirm every request becomes a dry run, loudly', () => {
    const lines: string[] = [];
    const safe = applySafety(requests, { dataDir: '.offboard' }, (l) => lines.push(l), { ARIZE_API_KEY: 'k', ARIZE_API_HOST: 'api.arize.com' });
    expect(safe.every((r) => r.dryRun)).toBe(true);
    expect(lines.join('\n')).toMatch(/DRY RUN: this talks to the real Arize API at api\.arize\.com/);
    expect(lines.join('\n')).toContain('--confirm');
  });

  it('--stack counts as the real Arize too; --confirm keeps the requests as they are', () => {
    expect(applySafety(requests, { dataDir: '.offboard', stack: 's' }, () => undefined, {}).every((r) => r.dryRun)).toBe(true);
    const confirmed = applySafety(requests, { dataDir: '.offboard', confirm: true }, () => undefined, { ARIZE_API_KEY: 'k' });
    expect(confirmed.every((r) => !r.dryRun)).toBe(true);
  });

  it('a dry run never takes the id the real run will use, so the real run is not swallowed as a duplicate', () => {
    const [forced] = applySafety(requests, { dataDir: '.offboard' }, () => undefined, { ARIZE_API_KEY: 'k' });
    const [confirmed] = applySafety(requests, { dataDir: '.offboard', confirm: true }, () => undefined, { ARIZE_API_KEY: 'k' });
    expect(forced?.requestId).toBe(`${requests[0]?.requestId}.dry-run`);
    expect(confirmed?.requestId).toBe(requests[0]?.requestId);
    const asked = parseRequestsFile('ann@example.com\n', 'x.txt', { dryRun: true }).requests;
    const [rehearsal] = applySafety(asked, { dataDir: '.offboard' }, () => undefined, {});
    expect(rehearsal).toMatchObject({ requestId: `${requests[0]?.requestId}.dry-run`, dryRun: true });
    // Already marked ids are kept as they are.
    expect(applySafety([{ ...asked[0]!, requestId: 'redrive-dry-run-0123' }], { dataDir: '.offboard' }, () => undefined, {})[0]?.requestId).toBe('redrive-dry-run-0123');
  });

  it('the sandbox (no key) needs no confirmation', () => {
    const lines: string[] = [];
    expect(applySafety(requests, { dataDir: '.offboard' }, (l) => lines.push(l), {}).every((r) => !r.dryRun)).toBe(true);
    expect(lines).toEqual([]);
  });

  it('a running runtime on the data dir that talks to the real Arize needs --confirm even without ARIZE_API_KEY here', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'offboard-safety-'));
    const info = {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      dynamoEndpoint: 'http://127.0.0.1:1',
      sqsEndpoint: 'http://127.0.0.1:2',
      queueUrl: 'http://127.0.0.1:2/000000000000/intake',
      dlqUrl: 'http://127.0.0.1:2/000000000000/dlq',
      tableName: 'ledger',
    };
    try {
      writeRuntimeInfo(dataDir, info);
      const lines: string[] = [];
      expect(applySafety(requests, { dataDir }, (l) => lines.push(l), {}).every((r) => r.dryRun)).toBe(true);
      expect(lines.join('\n')).toMatch(/DRY RUN: this talks to the real Arize API used by the running local runtime/);
      expect(applySafety(requests, { dataDir, confirm: true }, () => undefined, {}).every((r) => !r.dryRun)).toBe(true);

      writeRuntimeInfo(dataDir, { ...info, sandboxUrl: 'http://127.0.0.1:3', sandboxApiKey: 'sandbox-demo-key' });
      expect(applySafety(requests, { dataDir }, () => undefined, {}).every((r) => !r.dryRun)).toBe(true);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('helpers', () => {
  it('parseSince accepts durations and ISO times, and names --since when wrong', () => {
    const now = new Date('2025-01-02T00:00:00Z');
    expect(parseSince('24h', now)).toBe('2025-01-01T00:00:00.000Z');
    expect(parseSince('30m', now)).toBe('2025-01-01T23:30:00.000Z');
    expect(parseSince('2024-12-31T12:00:00Z', now)).toBe('2024-12-31T12:00:00.000Z');
    expect(() => parseSince('yesterday', now)).toThrow(CliError);
    expect(() => parseSince('yesterday', now)).toThrow(/--since/);
  });

  it('redrive requests carry source "redrive" and the distinct failed emails, under an id that depends only on the failures', () => {
    const failed = (failedRequestId: string, email: string): RedriveItem => ({
      failedRequestId,
      email,
      errorClass: 'HTTP_503',
      attempt: 3,
      failedAt: '2025-01-01T00:00:00.000Z',
    });
    const items = [failed('r1', 'b@example.com'), failed('r2', 'a@example.com'), failed('r3', 'a@example.com')];
    const requests = redriveRequests(items);
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ source: 'redrive', emails: ['a@example.com', 'b@example.com'], dryRun: false });
    expect(requests[0]?.requestId).toMatch(/^redrive-[0-9a-f]{16}$/);
    expect(items.map((i) => i.newRequestId)).toEqual([requests[0]?.requestId, requests[0]?.requestId, requests[0]?.requestId]);
    // Deterministic: same failures in another order ⇒ same id (no date in it); other failures ⇒ another id.
    expect(redriveRequests([...items].reverse())[0]?.requestId).toBe(requests[0]?.requestId);
    expect(redriveRequests(items.slice(1))[0]?.requestId).not.toBe(requests[0]?.requestId);
    const rehearsal = redriveRequests(items, { dryRun: true });
    expect(rehearsal[0]).toMatchObject({ dryRun: true, emails: ['a@example.com', 'b@example.com'] });
    expect(rehearsal[0]?.requestId).toMatch(/^redrive-dry-run-[0-9a-f]{16}$/);
    expect(redriveRequests([])).toEqual([]);
    expect(approvalRequestId('hr-9')).toBe('hr-9.approved');
  });

  it('--older-than: 0 or a duration, in minutes; anything else is a usage error naming the flag', () => {
    expect(parseOlderThan('0')).toBe(0);
    expect(parseOlderThan('30m')).toBe(30);
    expect(parseOlderThan('24h')).toBe(1440);
    expect(parseOlderThan('7d')).toBe(10_080);
    expect(parseOlderThan('90s')).toBe(1.5);
    for (const bad of ['', '15', '-1h', 'soon', '1w']) {
      expect(() => parseOlderThan(bad)).toThrow(CliError);
      expect(() => parseOlderThan(bad)).toThrow(/--older-than/);
    }
  });

  it('the demo file reader keys each line by its request ids, or its rejection id when invalid', () => {
    const bad = JSON.stringify({ requestId: 'x', type: 'employee.hired', emails: ['a@example.com'] });
    const lines = readEventLines(`${request('d-1', ['a@example.com'])}\n\n${bad}\n`);
    expect(lines.map((l) => [l.line, l.valid, l.ledgerIds])).toEqual([
      [1, true, ['d-1']],
      [3, false, [rejectionIdFor(bad)]],
    ]);
  });

  it('keys a line with a look-alike email as the start use case does: the rest proceeds under its request id', () => {
    // KELVIN SIGN: the start use case takes this email out (recorded REJECTED) and starts the request for the rest.
    const body = request('d-2', ['\u212Aate@example.com', 'b@example.com']);
    const [line] = readEventLines(body);
    expect(line).toMatchObject({ valid: true, ledgerIds: ['d-2'] });
    // The start use case parses every queue message with this same function (one rule, core/intake.ts).
    const parsed = requestsFromMessage(body);
    expect(parsed.ok && parsed.requests.map((r) => [r.requestId, r.emails])).toEqual([['d-2', ['b@example.com']]]);
    expect(parsed.ok && parsed.rejectedEmails.length).toBe(1);
    expect(expectedRequestIds(JSON.parse(body) as Parameters<typeof expectedRequestIds>[0])).toEqual(['d-2']);
  });
});
