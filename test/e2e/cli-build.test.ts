/**
 * The shipped CLI (dist/offboard.js, what `npm ci` builds and `npx offboard` runs): its version and the shell
 * completion it prints, exercised in a real bash.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLED_PACKAGES, CLI_BUNDLE, CLI_NODE_FLAGS, DIST_DIR } from '../../scripts/build-cli.js';
import { REPO_ROOT, runCli } from '../support/cli.js';

const packageJson = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };
let dir: string;
let script: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offboard-completion-'));
  const printed = await runCli(['completion', 'bash']);
  expect(printed.code).toBe(0);
  script = join(dir, 'offboard.bash');
  writeFileSync(script, printed.stdout);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What bash offers after `words` with the cursor on the last one (an empty string: a new word). */
function complete(...words: string[]): string[] {
  const array = ['offboard', ...words].map((word) => `'${word}'`).join(' ');
  const result = spawnSync('bash', ['-c', `source '${script}'; COMP_WORDS=(${array}); COMP_CWORD=${words.length}; _offboard_complete; printf '%s\\n' "\${COMPREPLY[@]}"`], {
    encoding: 'utf8',
  });
  expect(result.stderr).toBe('');
  return result.stdout.split('\n').filter((line) => line !== '');
}

describe('the built offboard CLI', () => {
  it('is the package bin and prints the package version', async () => {
    expect(packageJson.bin.offboard).toBe('dist/offboard.js');
    const run = await runCli(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(packageJson.version);
  });

  it('runs as an executable through its shebang, which carries the Node flags it ships with', () => {
    expect(readFileSync(CLI_BUNDLE, 'utf8').split('\n')[0]).toBe(`#!/usr/bin/env -S node ${CLI_NODE_FLAGS.join(' ')}`);
    // env -S splits the flags from `node`; without it the kernel would look for an interpreter named "node --max-…".
    const run = spawnSync(CLI_BUNDLE, ['--version'], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe(packageJson.version);
  });

  it('carries zod inside, without the locales it never uses, and imports every other package from node_modules', () => {
    const chunks = readdirSync(DIST_DIR)
      .filter((file) => file.endsWith('.js'))
      .map((file) => readFileSync(join(DIST_DIR, file), 'utf8'));
    const packagesImported = new Set(
      chunks.flatMap((chunk) => [...chunk.matchAll(/\b(?:from|import)\s*\(?\s*"((?:@[^/"]+\/)?[^./"][^/"]*)[^"]*"/g)].map((match) => match[1] ?? '')),
    );
    expect([...BUNDLED_PACKAGES]).toEqual(['zod']);
    expect(packagesImported.has('zod'), 'no chunk loads zod from node_modules').toBe(false);
    expect(packagesImported).toContain('commander');
    expect(packagesImported).toContain('@aws-sdk/client-dynamodb');
    // esbuild marks each bundled module with its path; `import { z } from 'zod'` kept zod's whole namespace, 40 locales included.
    expect(chunks.some((chunk) => chunk.includes('// node_modules/zod/v4/classic/schemas.js'))).toBe(true);
    expect(chunks.some((chunk) => chunk.includes('node_modules/zod/v4/locales/fr.js'))).toBe(false);
  });

  it('bash completion completes command names, subcommands and options', () => {
    expect(complete('')).toEqual(expect.arrayContaining(['users', 'run', 'status', 'approve', 'serve', 'completion', '--version']));
    expect(complete('st')).toEqual(['start', 'status']);
    expect(complete('us')).toEqual(['users']);
    expect(complete('users', 'de')).toEqual(['delete']);
    expect(complete('users', 'delete', '--emails')).toEqual(['--emails-file']);
    expect(complete('users', 'delete', '--email', 'a@x.com', '--i')).toEqual(['--id', '--ids-file', '--include-protected']);
    expect(complete('run', '--data-dir', 'x', '--con')).toEqual(['--confirm']);
    expect(complete('nonsense', '')).toEqual([]);
  });

  it('prints a zsh script and refuses an unknown shell with a usage error', async () => {
    const zsh = await runCli(['completion', 'zsh']);
    expect(zsh.code).toBe(0);
    expect(zsh.stdout).toContain('bashcompinit');
    expect(zsh.stdout).toContain('complete -o default -F _offboard_complete offboard');
    const fish = await runCli(['completion', 'fish']);
    expect(fish.code).toBe(2);
    expect(fish.stderr).toContain('fish');
  });
});
