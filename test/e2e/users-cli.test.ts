/**
 * The real `offboard` CLI, spawned as a process, against a real sandbox over HTTP started in this
 * process. Each spawn costs ~0.5 s, so each test groups the assertions of one invocation.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../local/sandbox/server.js';
import { demoDirectory } from '../../local/sandbox/seed.js';
import { splitCsvLine } from '../../lambdas/core/csv.js';
import { runCli, type CliRun } from '../support/cli.js';

/** Sandbox ids are standard base64: `+` and `/` must not act as regex syntax. */
const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

const API_KEY = 'e2e-cli-key';

let sandbox: Sandbox;
let workDir: string;

function cli(args: string[], env: Record<string, string | undefined> = {}, terminalInput?: string): Promise<CliRun> {
  const arize = { ARIZE_API_KEY: API_KEY, ARIZE_API_HOST: '127.0.0.1', ARIZE_API_SCHEME: 'http', ARIZE_API_PORT: String(sandbox.port) };
  return runCli(args, { env: { ...arize, ...env }, ...(terminalInput !== undefined ? { terminalInput } : {}) });
}

function activeEmails(): Set<string> {
  return new Set(sandbox.store.users().filter((u) => !u.deleted).map((u) => u.email.toLowerCase()));
}

/** Rows of the CLI's CSV output (CRLF-terminated lines). */
function parseCsv(text: string): string[][] {
  return text.split('\r\n').slice(0, -1).map(splitCsvLine);
}

const demo = demoDirectory();
const keyOwner = demo[0]!;
const invitedUser = demo.find((u) => u.email === 'leann@example.com')!;
const activePasswordUser = demo.find((u) => u.email === 'grace.kim@example.com')!;

beforeAll(async () => {
  sandbox = await startSandbox({ seed: demo, apiKey: API_KEY });
  workDir = await mkdtemp(join(tmpdir(), 'offboard-users-cli-'));
});

afterAll(async () => {
  await sandbox.close();
  await rm(workDir, { recursive: true, force: true });
});

beforeEach(() => {
  sandbox.faults.clear();
  sandbox.counters.reset();
});

describe('offboard users: help and configuration', () => {
  it('documents the environment variables, exit codes and not_found semantics in --help', async () => {
    const run = await cli(['users', 'delete', '--help']);
    expect(run.code).toBe(0);
    for (const text of ['ARIZE_API_KEY', 'ARIZE_API_HOST', 'ARIZE_API_SCHEME', 'ARIZE_API_PORT', 'Exit codes', '--yes', '--emails-file']) {
      expect(run.stdout).toContain(text);
    }
    expect(run.stdout).toMatch(/not_found.*counts as success/);
  });

  it('exits 2 naming ARIZE_API_KEY when it is missing, and makes no call', async () => {
    const run = await cli(['users', 'list'], { ARIZE_API_KEY: '' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('ARIZE_API_KEY');
    expect(run.stdout).toBe('');
    expect(sandbox.counters.total).toBe(0);
  });

  it('exits 2 on an unknown --output value, naming the option', async () => {
    const run = await cli(['users', 'list', '--output', 'xml']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--output');
    expect(run.stderr).toContain('xml');
    expect(sandbox.counters.total).toBe(0);
  });

  it('exits 2 when Arize rejects the API key', async () => {
    const run = await cli(['users', 'list'], { ARIZE_API_KEY: 'not-the-key' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('401');
    expect(run.stderr).not.toContain('not-the-key');
  });
});

describe('offboard users list', () => {
  it('prints aligned columns for people', async () => {
    const run = await cli(['users', 'list', '--email', 'ann@example.com']);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+NAME\s+EMAIL\s+STATUS\s+ROLE\s+IS_DEVELOPER\s+CREATED_AT$/);
    // The list filter is a substring filter: near-duplicates are listed (and only list shows them).
    expect(run.stdout).toContain('joann@example.com');
    expect(run.stdout).toContain('ann@example.com.au');
    const emailColumn = lines[0]!.indexOf('EMAIL');
    for (const line of lines.slice(1)) expect(line.slice(emailColumn)).toMatch(/^\S+@/);
  });

  it('pages with --limit/--cursor in json, then csv continues from the cursor', async () => {
    const first = await cli(['users', 'list', '--limit', '5', '--output', 'json']);
    expect(first.code).toBe(0);
    const page = JSON.parse(first.stdout) as { users: { id: string }[]; pagination: { has_more: boolean; next_cursor?: string } };
    expect(page.users.map((u) => u.id)).toEqual(demo.slice(0, 5).map((u) => u.id));
    expect(page.pagination.has_more).toBe(true);
    expect(typeof page.pagination.next_cursor).toBe('string');

    const second = await cli(['users', 'list', '--limit', '5', '--cursor', page.pagination.next_cursor!, '-o', 'csv']);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/\r\n$/);
    const rows = parseCsv(second.stdout);
    expect(rows[0]).toEqual(['id', 'name', 'email', 'status', 'role', 'is_developer', 'created_at']);
    expect(rows.slice(1).map((r) => r[0])).toEqual(demo.slice(5, 10).map((u) => u.id));
    expect(second.stderr).toContain('--cursor');
  });

  it('quotes csv fields per RFC 4180', async () => {
    sandbox.store.add({ email: 'quoting.case@corp.test', name: 'Lee, Ann "AL"' });
    const run = await cli(['users', 'list', '--email', 'quoting.case@', '--output', 'csv']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('"Lee, Ann ""AL"""');
    expect(parseCsv(run.stdout)[1]?.[1]).toBe('Lee, Ann "AL"');
  });

  it('--all follows every page and repeatable --status filters in any case', async () => {
    const run = await cli(['users', 'list', '--all', '--limit', '3', '--status', 'invited', '--status', 'EXPIRED', '-o', 'json']);
    expect(run.code).toBe(0);
    const body = JSON.parse(run.stdout) as { users: { email: string; status: string }[] };
    const expected = demo.filter((u) => u.status !== 'ACTIVE').map((u) => u.email);
    expect(body.users.map((u) => u.email)).toEqual(expected);
    expect(sandbox.counters.byRoute.list).toBe(Math.ceil(expected.length / 3) + (expected.length % 3 === 0 ? 1 : 0));
  });

  it('rejects a bad --status or --limit with exit 2 before any call', async () => {
    const [status, limit] = await Promise.all([
      cli(['users', 'list', '--status', 'deleted']),
      cli(['users', 'list', '--limit', '500']),
    ]);
    expect(status.code).toBe(2);
    expect(status.stderr).toContain('--status');
    expect(limit.code).toBe(2);
    expect(limit.stderr).toContain('--limit');
    expect(sandbox.counters.total).toBe(0);
  });
});

describe('offboard users get', () => {
  it('gets by id (json) and by email, exact and case-insensitive (table)', async () => {
    const [byId, byEmail] = await Promise.all([
      cli(['users', 'get', invitedUser.id, '-o', 'json']),
      cli(['users', 'get', 'ANN@example.com']),
    ]);
    expect(byId.code).toBe(0);
    expect(JSON.parse(byId.stdout)).toMatchObject({ id: invitedUser.id, email: invitedUser.email, status: 'INVITED' });
    expect(byEmail.code).toBe(0);
    const ann = demo.find((u) => u.email === 'ann@example.com')!;
    expect(byEmail.stdout).toContain(ann.id);
    expect(byEmail.stdout).not.toContain('joann@example.com');
  });

  it('exits 1 with a clear message for an unknown email or id, 2 for an invalid email', async () => {
    const [email, id] = await Promise.all([
      cli(['users', 'get', 'nobody@example.com']),
      cli(['users', 'get', 'no-such-id']),
    ]);
    expect(email.code).toBe(1);
    expect(email.stderr).toContain("no user with email 'nobody@example.com'");
    expect(id.code).toBe(1);
    expect(id.stderr).toContain("no user with id 'no-such-id'");
    sandbox.counters.reset();
    const invalid = await cli(['users', 'get', 'not-an@email']);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('not-an@email');
    expect(sandbox.counters.total).toBe(0);
  });
});

describe('offboard users create / update', () => {
  it('creates with a temporary password, printed once on stdout (json)', async () => {
    const run = await cli([
      'users', 'create', '--name', 'Ada Lovelace', '--email', 'ada.new@corp.test',
      '--role', 'Member', '--invite-mode', 'TEMPORARY_password', '-o', 'json',
    ]);
    expect(run.code).toBe(0);
    const created = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(created).toMatchObject({ email: 'ada.new@corp.test', status: 'INVITED', is_developer: true, created: true });
    expect(created.invite_mode).toBe('TEMPORARY_PASSWORD');
    expect(typeof created.temporary_password).toBe('string');
    expect((created.temporary_password as string).length).toBeGreaterThan(0);
    expect(run.stderr).not.toContain(created.temporary_password as string);
  });

  it('creates an SSO user with --invite-mode none (table), no password line', async () => {
    const run = await cli([
      'users', 'create', '--name', 'Label Bot', '--email', 'label.bot@corp.test',
      '--role', 'annotator', '--invite-mode', 'none', '--developer',
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/label\.bot@corp\.test\s+ACTIVE\s+ANNOTATOR\s+true/);
    expect(run.stdout).not.toContain('Temporary password');
  });

  it('rejects a bad role or email before any call, and exits 1 on a 409 for an active member', async () => {
    const [role, email] = await Promise.all([
      cli(['users', 'create', '--name', 'X', '--email', 'x@corp.test', '--role', 'owner', '--invite-mode', 'none']),
      cli(['users', 'create', '--name', 'X', '--email', 'x@', '--role', 'member', '--invite-mode', 'none']),
    ]);
    expect(role.code).toBe(2);
    expect(role.stderr).toContain('--role');
    expect(email.code).toBe(2);
    expect(email.stderr).toContain('--email');
    expect(sandbox.counters.total).toBe(0);
    const conflict = await cli(['users', 'create', '--name', 'Ann', '--email', 'ann@example.com', '--role', 'member', '--invite-mode', 'email_link']);
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toContain('409');
  });

  it('update refuses an empty update with exit 2 and no call; applies --name/--no-developer (csv)', async () => {
    const target = demo.find((u) => u.email === 'ravi.patel@example.com')!;
    const empty = await cli(['users', 'update', target.id]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('nothing to update');
    expect(sandbox.counters.total).toBe(0);

    const run = await cli(['users', 'update', target.id, '--name', 'Ravi P.', '--no-developer', '-o', 'csv']);
    expect(run.code).toBe(0);
    const rows = parseCsv(run.stdout);
    expect(rows[1]).toEqual([target.id, 'Ravi P.', target.email, 'ACTIVE', 'MEMBER', 'false', target.created_at]);
    expect(sandbox.store.users().find((u) => u.id === target.id)).toMatchObject({ name: 'Ravi P.', is_developer: false });
  });
});

describe('offboard users delete', () => {
  it('refuses without --yes when stdin is not a terminal: exit 2, nothing called', async () => {
    const run = await cli(['users', 'delete', '--email', 'grace.kim@example.com']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--yes');
    expect(sandbox.counters.total).toBe(0);
    expect(activeEmails().has('grace.kim@example.com')).toBe(true);
  });

  it('asks for confirmation on a terminal, showing the count; only "yes" deletes', async () => {
    const keep = sandbox.store.add({ email: 'asked.keep@corp.test' });
    const declined = await cli(['users', 'delete', '--email', 'asked.keep@corp.test', '--id', keep.id], {}, 'no\n');
    expect(declined.code).toBe(2);
    expect(declined.stdout).toContain('About to delete 2 Arize users (1 by id, 1 by email) at http://127.0.0.1:');
    expect(declined.stdout).toContain('nothing was deleted');
    expect(sandbox.counters.byRoute.delete ?? 0).toBe(0);

    sandbox.store.add({ email: 'asked.go@corp.test' });
    const confirmed = await cli(['users', 'delete', '--email', 'asked.go@corp.test'], {}, 'yes\n');
    expect(confirmed.code).toBe(0);
    expect(confirmed.stdout).toContain('About to delete 1 Arize user (0 by id, 1 by email)');
    expect(confirmed.stdout).toMatch(/asked\.go@corp\.test\s+deleted/);
    expect(confirmed.stdout).toContain('Deleting… 0/1'); // progress is drawn on a terminal only
    expect(activeEmails().has('asked.go@corp.test')).toBe(false);
    expect(activeEmails().has('asked.keep@corp.test')).toBe(true);
  });

  it('rejects invalid emails from flags and files before any call, naming each one', async () => {
    const file = join(workDir, 'bad-emails.txt');
    await writeFile(file, '# leavers\nfine@corp.test\n\nnot-an-email\n');
    const run = await cli(['users', 'delete', '--yes', '--email', 'grace.kim@example.com,bad@', '--emails-file', file, '--rate', '0']);
    expect(run.code).toBe(2);
    // Parsing stops at the first bad option value; fix it and the emails are all reported.
    expect(run.stderr).toContain('--rate');
    const again = await cli(['users', 'delete', '--yes', '--email', 'grace.kim@example.com,bad@', '--emails-file', file]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("'bad@' (--email)");
    expect(again.stderr).toContain(`'not-an-email' (--emails-file ${file} line 4)`);
    expect(again.stderr).not.toContain("'fine@corp.test'");
    expect(sandbox.counters.total).toBe(0);
    expect(activeEmails().has('grace.kim@example.com')).toBe(true);
  });

  it('deletes from flags and files (comments, blanks, duplicates, case) and prints the SDK json shape', async () => {
    const one = sandbox.store.add({ email: 'leaver.one@corp.test' });
    const two = sandbox.store.add({ email: 'Leaver.Two@corp.test' });
    const three = sandbox.store.add({ email: 'leaver.three@corp.test' });
    const four = sandbox.store.add({ email: 'leaver.four@corp.test' });
    const nearDuplicates = ['xleaver.one@corp.test', 'leaver.one@corp.test.au', 'leaver.two+x@corp.test'];
    for (const email of nearDuplicates) sandbox.store.add({ email });
    const emailsFile = join(workDir, 'leavers.txt');
    await writeFile(emailsFile, '# HR export 2024-06\n\nleaver.one@corp.test\n  LEAVER.TWO@corp.test  \r\n# ghost below\nghost@corp.test\n');
    const idsFile = join(workDir, 'ids.txt');
    await writeFile(idsFile, `# by id\n${four.id}\n\n`);

    const run = await cli([
      'users', 'delete', '--yes', '--output', 'json', '--concurrency', '3', '--rate', '100',
      '--emails-file', emailsFile, '--email', 'Leaver.One@corp.test', '--id', `${three.id},${three.id}`, '--ids-file', idsFile,
    ]);
    expect(run.code).toBe(0);
    const results = JSON.parse(run.stdout) as Record<string, unknown>[];
    const byKey = new Map(results.map((r) => [String(r.email ?? r.user_id).toLowerCase(), r]));
    expect(results).toHaveLength(5);
    // Duplicates collapse onto the first spelling given (flags before files), as the operator typed it.
    expect(byKey.get('leaver.one@corp.test')).toEqual({ user_id: one.id, email: 'Leaver.One@corp.test', status: 'deleted' });
    expect(byKey.get('leaver.two@corp.test')).toEqual({ user_id: two.id, email: 'LEAVER.TWO@corp.test', status: 'deleted' });
    expect(byKey.get(three.id.toLowerCase())).toEqual({ user_id: three.id, status: 'deleted' });
    expect(byKey.get(four.id.toLowerCase())).toEqual({ user_id: four.id, status: 'deleted' });
    const ghost = byKey.get('ghost@corp.test');
    expect(ghost).toMatchObject({ user_id: '', email: 'ghost@corp.test', status: 'not_found' });
    expect(Object.keys(ghost!).every((k) => ['user_id', 'email', 'status', 'error'].includes(k))).toBe(true);
    expect(run.stderr).toContain('4 deleted, 1 not found, 0 failed');
    expect(run.stderr).not.toContain('Deleting…');

    const remaining = activeEmails();
    for (const email of ['leaver.one@corp.test', 'leaver.two@corp.test', 'leaver.three@corp.test', 'leaver.four@corp.test']) {
      expect(remaining.has(email)).toBe(false);
    }
    for (const email of nearDuplicates) expect(remaining.has(email)).toBe(true);
    expect(sandbox.counters.byRoute.delete).toBe(4);
  });

  it('exits 1 when a deletion fails, still deleting the rest (table)', async () => {
    const doomed = sandbox.store.add({ email: 'doomed@corp.test' });
    const fine = sandbox.store.add({ email: 'fine.leaver@corp.test' });
    sandbox.faults.failUser(doomed.id, 10, 403);
    const run = await cli(['users', 'delete', '--yes', '--id', doomed.id, '--email', 'fine.leaver@corp.test']);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(new RegExp(`${escapeRegExp(doomed.id)}\\s+failed\\s+\\S`));
    expect(run.stdout).toMatch(new RegExp(`${escapeRegExp(fine.id)}\\s+fine\\.leaver@corp\\.test\\s+deleted`));
    expect(run.stdout).toContain('1 deleted, 0 not found, 1 failed');
    expect(run.stderr).toContain('1 deletion failed');
    expect(activeEmails().has('doomed@corp.test')).toBe(true);
  });

  it('prints csv and exits 0 when the only outcome is not_found', async () => {
    const run = await cli(['users', 'delete', '-y', '--email', 'long.gone@corp.test', '-o', 'csv']);
    expect(run.code).toBe(0);
    const rows = parseCsv(run.stdout);
    expect(rows[0]).toEqual(['user_id', 'email', 'status', 'error']);
    expect(rows[1]?.slice(0, 3)).toEqual(['', 'long.gone@corp.test', 'not_found']);
    expect(sandbox.counters.byRoute.delete ?? 0).toBe(0);
  });
});

describe('offboard users resend-invitation / reset-password', () => {
  it('resends an invitation (table) and resets a password (json)', async () => {
    const [resend, reset] = await Promise.all([
      cli(['users', 'resend-invitation', invitedUser.id]),
      cli(['users', 'reset-password', activePasswordUser.id, '-o', 'json']),
    ]);
    expect(resend.code).toBe(0);
    expect(resend.stdout).toContain(`Invitation re-sent to user ${invitedUser.id}`);
    expect(reset.code).toBe(0);
    expect(JSON.parse(reset.stdout)).toEqual({ user_id: activePasswordUser.id, action: 'reset_password', result: 'sent' });
    expect(sandbox.counters.byRoute.resend).toBe(1);
    expect(sandbox.counters.byRoute.reset).toBe(1);
  });

  it('exits 1 with the API explanation when the invitation cannot be resent', async () => {
    const run = await cli(['users', 'resend-invitation', keyOwner.id, '-o', 'csv']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('400');
    expect(run.stdout).toBe('');
  });
});
