/**
 * Look-alike addresses through the paths a user runs: the queue → start handler → synthesised workflow →
 * dynalite → sandbox over HTTP (fast-check over generated look-alikes), and the spawned `offboard` CLI.
 * The rule (core/email.ts): only an ASCII-case variant of the stored email is a match; an input with
 * invisible, bidi-control or compatibility characters is REJECTED with its reason, never NOT_FOUND.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeEmail, sameEmail } from '../../lambdas/core/email.js';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime/index.js';
import { startSandbox, type Sandbox, type SeedUser } from '../../local/sandbox/server.js';
import { runCli } from '../support/cli.js';
import { useLocalRuntimeHarness } from '../support/local-runtime.js';
import { asciiCaseArb, lookAlikeArb } from '../support/look-alikes.js';

const harness = useLocalRuntimeHarness();
const SLOW = 240_000;

const LOCALS = ['kate', 'asa', 'ann', 'fiona', 'åsa'];
/** Stored look-alike accounts next to the real ones: KELVIN SIGN, ANGSTROM SIGN, a ligature, a fullwidth letter. */
const STORED_LOOK_ALIKES = ['\u212Aate', '\u212Bsa', '\uFB01ona', '\uFF41nn'];
const RUNS = 8;
const domain = (run: number) => `d${run}.example`;

function directory(): SeedUser[] {
  const users: SeedUser[] = [{ email: 'owner@admin.example' } as SeedUser];
  for (let run = 0; run < RUNS; run++) {
    for (const local of [...LOCALS, ...STORED_LOOK_ALIKES]) users.push({ email: `${local}@${domain(run)}` } as SeedUser);
  }
  return users;
}

describe('look-alike emails through the queue and the workflow (property)', () => {
  it('deletes only ASCII-case matches; look-alikes are REJECTED with a reason while the rest proceeds', async () => {
    const rt: LocalRuntime = harness.track(
      await startLocalRuntime({ inMemory: true, waitTimeScale: 0, definition: harness.definition(), arize: { mode: 'sandbox', seed: directory() } }),
    );
    const store = rt.sandbox!.store;
    let run = 0;
    const pickArb = fc.constantFrom(...LOCALS);
    const requestArb = fc.tuple(
      fc.uniqueArray(pickArb, { maxLength: 3 }).chain((locals): fc.Arbitrary<string[]> => (locals.length === 0 ? fc.constant<string[]>([]) : fc.tuple(...locals.map((l) => asciiCaseArb(l))))),
      fc.array(pickArb.chain((local) => lookAlikeArb(local)), { minLength: 1, maxLength: 2 }),
      fc.nat(),
    );
    await fc.assert(
      fc.asyncProperty(requestArb, async ([cleanLocals, lookAlikeLocals, shuffle]) => {
        const d = domain(run);
        const requestId = `look-alike-${run}`;
        run += 1;
        const clean = cleanLocals.map((local) => `${local}@${d}`);
        const lookAlikes = [...new Set(lookAlikeLocals.map((l) => `${l.email}@${d}`))];
        const emails = [...clean, ...lookAlikes];
        // Put the look-alikes anywhere in the list.
        emails.sort((a, b) => ((a.length * 31 + shuffle) % 7) - ((b.length * 31 + shuffle) % 7));
        const before = store.users().filter((u) => !u.deleted && u.email.endsWith(`@${d}`));

        await rt.submitRaw(JSON.stringify({ requestId, type: 'employee.terminated', emails, source: 'cli' }));
        await rt.drain({ timeoutMs: 60_000 });

        const expected = new Set(before.filter((u) => clean.some((c) => sameEmail(c, u.email))).map((u) => u.id));
        const deletedNow = new Set(store.users().filter((u) => u.deleted && u.email.endsWith(`@${d}`)).map((u) => u.id));
        expect(deletedNow).toEqual(expected);
        for (const stored of STORED_LOOK_ALIKES) expect(store.find(`${stored}@${d}`)?.deleted).toBe(false);

        for (const lookAlike of lookAlikes) {
          const history = await rt.ledger.historyOfEmail(lookAlike);
          expect(history.map((o) => o.status)).toEqual(['REJECTED']);
          const reason = history[0]?.status === 'REJECTED' ? history[0].reason : '';
          expect(reason).toMatch(/(U\+[0-9A-F]{4}|NFKC)/);
        }
        if (clean.length > 0) {
          // The other leavers of the same request ran; the request needs a human for its rejected addresses.
          const outcomes = await rt.ledger.outcomesOfRequest(requestId);
          expect(outcomes.filter((o) => o.status === 'REJECTED').map((o) => o.email).sort()).toEqual(lookAlikes.map(normalizeEmail).sort());
          expect(outcomes.filter((o) => o.status === 'DELETED')).toHaveLength(expected.size);
          expect(outcomes.some((o) => o.status === 'NOT_FOUND')).toBe(false);
          expect((await rt.ledger.getRequestState(requestId))?.status).toBe('COMPLETED_WITH_FAILURES');
        }
      }),
      { numRuns: RUNS },
    );
  }, SLOW);
});

describe('look-alike emails through the offboard CLI', () => {
  let sandbox: Sandbox;
  let workDir: string;
  const KEY = 'look-alike-key';
  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'offboard-look-alike-'));
    sandbox = await startSandbox({
      apiKey: KEY,
      seed: [{ email: 'owner@admin.example' }, { email: 'kate@x.com' }, { email: 'åsa@x.com' }, { email: '\u212Aate@y.com' }, { email: 'ann@x.com' }] as SeedUser[],
    });
  });
  afterAll(async () => {
    await sandbox.close();
    await rm(workDir, { recursive: true, force: true });
  });
  const env = () => ({ ARIZE_API_KEY: KEY, ARIZE_API_HOST: '127.0.0.1', ARIZE_API_SCHEME: 'http', ARIZE_API_PORT: String(sandbox.port) });

  it('offboard submit --email \\u212Aate@x.com: refused with the reason (exit 2), kate survives', async () => {
    const run = await runCli(['submit', '--email', '\u212Aate@x.com', '--confirm', '--data-dir', join(workDir, 'submit')], { env: env() });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('U+212A');
    expect(run.stderr).toContain('nothing was enqueued');
    expect(sandbox.store.find('kate@x.com')?.deleted).toBe(false);
    expect(sandbox.counters.byRoute.delete ?? 0).toBe(0);
  }, SLOW);

  it('offboard run: a file line naming a look-alike is refused with line and reason; a request for kate@ never deletes \\u212Aate@', async () => {
    const bad = join(workDir, 'bad.ndjson');
    await writeFile(bad, `${JSON.stringify({ requestId: 'hr-k1', type: 'employee.terminated', emails: ['ann@x.com', '\u212Bsa@x.com'] })}\n`);
    const refused = await runCli(['run', bad, '--confirm', '--data-dir', join(workDir, 'run')], { env: env() });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/bad.ndjson: file: emails\.1: contains the compatibility character U\+212B/);
    expect(sandbox.store.find('åsa@x.com')?.deleted).toBe(false);
    expect(sandbox.store.find('ann@x.com')?.deleted).toBe(false);

    const good = join(workDir, 'good.ndjson');
    await writeFile(good, `${JSON.stringify({ requestId: 'hr-k2', type: 'employee.terminated', emails: ['KATE@y.com', 'kate@x.com'] })}\n`);
    const done = await runCli(['run', good, '--confirm', '--data-dir', join(workDir, 'run'), '-o', 'json'], { env: env() });
    expect(done.code).toBe(0);
    const report = JSON.parse(done.stdout) as { outcomes: { email: string; status: string }[] };
    expect(report.outcomes.map((o) => [o.email, o.status]).sort()).toEqual([
      ['kate@x.com', 'DELETED'],
      ['kate@y.com', 'NOT_FOUND'],
    ]);
    expect(sandbox.store.find('\u212Aate@y.com')?.deleted).toBe(false);
  }, SLOW);

  it('offboard users get/delete refuse a look-alike with its reason and touch nothing', async () => {
    const calls = sandbox.counters.total;
    const get = await runCli(['users', 'get', 'ann\u200B@x.com'], { env: env() });
    expect(get.code).toBe(2);
    expect(get.stderr).toContain('U+200B');
    const del = await runCli(['users', 'delete', '--email', '\u202Eann@x.com', '--yes'], { env: env() });
    expect(del.code).toBe(2);
    expect(del.stderr).toContain('U+202E');
    expect(del.stderr).toContain('nothing was deleted');
    expect(sandbox.counters.total).toBe(calls);
    expect(sandbox.store.find('ann@x.com')?.deleted).toBe(false);
  }, SLOW);
});
