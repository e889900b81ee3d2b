/**
 * Runs the real `offboard` CLI as a child process, for the end-to-end tests and the bench.
 * Asynchronous on purpose: a sandbox started in the calling process answers from its event loop
 * while the CLI runs, so a synchronous spawn would deadlock.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { CLI_BUNDLE } from '../../scripts/build-cli.js';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
/** What `npm ci` installs as the `offboard` bin (built by the `prepare` script and the suite's global setup). */
export const CLI_ENTRY = CLI_BUNDLE;

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliRunOptions {
  /** Default: the repository root. */
  cwd?: string;
  /** Added to the parent's environment; an undefined value removes the variable. */
  env?: Record<string, string | undefined>;
  /** Another build of the CLI (e.g. an esbuild bundle). Default: dist/offboard.js. */
  entry?: string;
  /**
   * Typed into a real pseudo-terminal (util-linux `script`; stdout and stderr arrive merged on stdout).
   * Without it stdin is an empty pipe, i.e. not a terminal.
   */
  terminalInput?: string;
}

export function runCli(args: readonly string[], options: CliRunOptions = {}): Promise<CliRun> {
  return spawnCli(args, options).done;
}

export interface CliProcess {
  child: ChildProcess;
  done: Promise<CliRun>;
  /** stdout and stderr so far, interleaved as they arrived (what an operator's terminal shows). */
  output(): string;
  /** The exit code (null when a signal ended it). */
  exited: Promise<number | null>;
}

/** The CLI as a running process: for tests that signal it (e.g. SIGKILL mid-wait) before it exits. */
export function spawnCli(args: readonly string[], options: CliRunOptions = {}): CliProcess {
  const entry = options.entry ?? CLI_ENTRY;
  // ARIZE_* from the developer's shell must never point a test at a real Arize.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('ARIZE_')));
  const merged: Record<string, string | undefined> = { ...inherited, ...options.env };
  const shellQuote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;
  const [command, commandArgs] =
    options.terminalInput === undefined
      ? [process.execPath, [entry, ...args]]
      : ['script', ['-qec', [process.execPath, entry, ...args].map(shellQuote).join(' '), '/dev/null']];
  const child = spawn(command, commandArgs, {
    cwd: options.cwd ?? REPO_ROOT,
    // An undefined value would reach the child as the string "undefined": drop it instead.
    env: Object.fromEntries(Object.entries(merged).filter(([, value]) => value !== undefined)),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.end(options.terminalInput);
  let stdout = '';
  let stderr = '';
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => ((stdout += chunk), (output += chunk)));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => ((stderr += chunk), (output += chunk)));
  const done = new Promise<CliRun>((finish, fail) => {
    child.on('error', fail);
    child.on('close', (code) => finish({ code, stdout, stderr }));
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, done, output: () => output, exited };
}
