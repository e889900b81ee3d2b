/**
 * `offboard users create` when Arize applied the create but the answer was lost: the CLI says the
 * outcome is unknown, what to check, exits 3, and sends exactly one POST.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../local/sandbox/server.js';
import { runCli } from '../support/cli.js';

let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox({ apiKey: 'e2e-outcome-key' });
});

afterAll(async () => {
  await sandbox.close();
});

describe('offboard users create with a lost answer', () => {
  it('prints a clear outcome-unknown message, exits 3, never repeats the POST; the user exists once', async () => {
    sandbox.faults.dropResponses(1, 'create');
    const run = await runCli(
      ['users', 'create', '--name', 'Ada Lovelace', '--email', 'ada.lost@corp.test', '--role', 'member', '--invite-mode', 'temporary_password'],
      { env: { ARIZE_API_KEY: sandbox.apiKey, ARIZE_API_HOST: '127.0.0.1', ARIZE_API_SCHEME: 'http', ARIZE_API_PORT: String(sandbox.port) } },
    );
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/outcome unknown/);
    expect(run.stderr).toMatch(/may or may not have been created/);
    expect(run.stderr).toContain('offboard users get <email>');
    expect(run.stderr).toContain('reset-password');
    expect(run.stderr).not.toContain('ada.lost@corp.test');
    expect(run.stdout).toBe('');
    expect(sandbox.counters.byRoute.create).toBe(1);
    expect(sandbox.store.users().filter((u) => u.email === 'ada.lost@corp.test')).toHaveLength(1);
  });
});
