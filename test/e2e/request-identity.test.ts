/**
 * The identity rule through `offboard run` as a process: a file whose lines share a requestId with different
 * content is refused naming the line; with --skip-invalid the rest runs and the command still fails naming it;
 * a later run reusing the id for new people is refused instead of being merged into (or acknowledged as) the
 * earlier request. Built-in demo sandbox, persisted data dir shared by the runs.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../support/cli.js';
import { useLocalRuntimeHarness } from '../support/local-runtime.js';

const harness = useLocalRuntimeHarness();
let workDir: string;

beforeAll(async () => {
  harness.definition();
  workDir = await mkdtemp(join(tmpdir(), 'offboard-identity-'));
});

afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

const cli = (args: string[]): Promise<CliRun> => runCli(args, { cwd: workDir, env: { NODE_NO_WARNINGS: '1' } });
const line = (requestId: string, emails: string[]) => JSON.stringify({ requestId, type: 'employee.terminated', emails });

interface StatusJson {
  requestId: string;
  state: string;
  outcomes: { email: string; status: string }[];
}

describe('offboard run and reused request ids', () => {
  it('refuses conflicting lines by number, runs the rest only with --skip-invalid (exit 1), and never merges a reused id', async () => {
    const dataDir = join(workDir, 'data');
    const file = join(workDir, 'leavers.ndjson');
    await writeFile(file, [line('hr-100', ['ann@example.com']), line('hr-100', ['marcus.chen@example.com']), line('hr-101', ['nobody@example.com'])].join('\n'));

    const refused = await cli(['run', file, '--data-dir', dataDir, '--output', 'json']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("line 2: conflicting request id: 'hr-100'");
    expect(refused.stderr).toContain('nothing was enqueued');
    expect(refused.stdout).toBe('');

    const partial = await cli(['run', file, '--data-dir', dataDir, '--skip-invalid', '--output', 'json']);
    expect(partial.code, partial.stderr).toBe(1);
    expect(partial.stderr).toMatch(/not offboarded \(conflicting request id\): line 2/);
    const status = async (id: string) => JSON.parse((await cli(['status', id, '--data-dir', dataDir, '--output', 'json'])).stdout) as StatusJson;
    expect(await status('hr-100')).toMatchObject({ state: 'COMPLETED', outcomes: [{ email: 'ann@example.com', status: 'DELETED' }] });
    expect(await status('hr-101')).toMatchObject({ state: 'COMPLETED', outcomes: [{ email: 'nobody@example.com', status: 'NOT_FOUND' }] });
    // The person of the conflicting line was not processed, and was not silently recorded as part of hr-100.
    const marcus = await cli(['status', 'marcus.chen@example.com', '--data-dir', dataDir, '--output', 'json']);
    expect(marcus.code).toBe(1);

    // A later run reusing hr-100 for someone else: refused before anything is sent, hr-100 left as it was.
    const later = join(workDir, 'later.ndjson');
    await writeFile(later, line('hr-100', ['marcus.chen@example.com']));
    const reused = await cli(['run', later, '--data-dir', dataDir]);
    expect(reused.code).toBe(2);
    expect(reused.stderr).toContain("conflicting request id: 'hr-100'");
    expect((await status('hr-100')).outcomes.map((o) => o.email)).toEqual(['ann@example.com']);

    // The same content again (other order and case) is the same request: accepted, exit 0, still one outcome.
    const same = join(workDir, 'same.ndjson');
    await writeFile(same, line('hr-100', ['ANN@example.com']));
    const again = await cli(['run', same, '--data-dir', dataDir]);
    expect(again.code, again.stderr).toBe(0);
    expect((await status('hr-100')).outcomes).toEqual([expect.objectContaining({ email: 'ann@example.com', status: 'DELETED' })]);
  }, 180_000);
});
