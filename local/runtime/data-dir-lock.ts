/**
 * One process per persisted data dir, enforced by an inter-process lock (proper-lockfile: an atomic mkdir of
 * `<dataDir>/runtime.lock`, its mtime refreshed while held). runtime.json only advertises the endpoints; the lock
 * is what decides, so two commands started together cannot both open the LevelDB store (the loser used to die
 * with dynalite's "Database is closed").
 *
 * A holder killed with SIGKILL leaves the lock behind; it is stale once its mtime is older than STALE_MS. The
 * owner's pid is kept beside the lock: a dead owner is waited out (at most about STALE_MS), a live one is
 * reported at once (RuntimeInUseError) so the caller can connect to it instead.
 */
import { accessSync, constants, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import lockfile from 'proper-lockfile';
import { isProcessAlive } from './runtime-file.js';

export const LOCK_DIR_NAME = 'runtime.lock';
const STALE_MS = 5_000;
const UPDATE_MS = 1_000;
/** How long a dead owner's lock is waited for: its staleness plus a margin for a loaded machine. */
const DEAD_OWNER_WAIT_MS = STALE_MS * 2 + 2_000;

/** The data dir cannot be used at all (read-only, no permission, not a directory): exit 2, never a stack trace. */
export class DataDirError extends Error {
  override readonly name = 'DataDirError';
}

export class RuntimeInUseError extends Error {
  override readonly name = 'RuntimeInUseError';
  constructor(
    readonly dataDir: string,
    readonly pid: number | undefined,
  ) {
    super(
      `data dir ${dataDir} is in use by ${pid === undefined ? 'another process' : `process ${pid}`}; ` +
        'connect to it (connectOrStartLocalRuntime) or stop it first',
    );
  }
}

const EXPLANATIONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOTDIR: 'a path component is not a directory',
  EEXIST: 'exists and is not a directory',
  ENOSPC: 'no space left on the device',
};

function unusable(dataDir: string, error: unknown): DataDirError {
  const code = (error as NodeJS.ErrnoException).code ?? 'unknown';
  return new DataDirError(
    `data dir ${dataDir} cannot be used: ${EXPLANATIONS[code] ?? 'error'} (${code}); ` +
      'choose a writable directory with --data-dir or fix its permissions',
  );
}

/** Creates the dir and checks it is a writable directory; DataDirError otherwise. */
export function ensureUsableDataDir(dataDir: string): void {
  try {
    mkdirSync(dataDir, { recursive: true });
    if (!statSync(dataDir).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    accessSync(dataDir, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (error) {
    throw unusable(dataDir, error);
  }
}

/** Beside the lock, not in it: proper-lockfile removes a stale lock with rmdir, which needs it empty. */
const ownerPath = (lockPath: string) => `${lockPath}.owner`;

function ownerPid(lockPath: string): number | undefined {
  try {
    const pid = Number(readFileSync(ownerPath(lockPath), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export interface DataDirLock {
  release(): Promise<void>;
}

/**
 * Takes the data dir's lock. `onCompromised` is told if the lock could not be refreshed in time (e.g. the event
 * loop blocked for longer than the staleness): the holder keeps running, but another process may take over.
 */
export async function lockDataDir(
  dataDir: string,
  options: { log?: (line: string) => void; waitForDeadOwnerMs?: number } = {},
): Promise<DataDirLock> {
  ensureUsableDataDir(dataDir);
  const lockPath = join(dataDir, LOCK_DIR_NAME);
  const deadline = Date.now() + (options.waitForDeadOwnerMs ?? DEAD_OWNER_WAIT_MS);
  let told = false;
  for (;;) {
    // A live owner is never "stale", however long its event loop was blocked (synthesis on a loaded machine can
    // exceed STALE_MS): proper-lockfile would take such a lock over, so it is not even asked.
    const holder = existsSync(lockPath) ? ownerPid(lockPath) : undefined;
    if (holder !== undefined && isProcessAlive(holder)) throw new RuntimeInUseError(dataDir, holder);
    try {
      const release = await lockfile.lock(dataDir, {
        lockfilePath: lockPath,
        realpath: false,
        stale: STALE_MS,
        update: UPDATE_MS,
        retries: 0,
        onCompromised: (error) => options.log?.(`warn: the lock on ${dataDir} was lost (${error.message}); another process may open it`),
      });
      writeFileSync(ownerPath(lockPath), `${process.pid}\n`);
      return { release: () => release().catch(() => undefined) };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ELOCKED') throw unusable(dataDir, error);
      const pid = ownerPid(lockPath);
      if (pid !== undefined && isProcessAlive(pid)) throw new RuntimeInUseError(dataDir, pid);
      // No owner yet (it is between mkdir and writing its pid) or a dead one: wait for it to write or go stale.
      if (Date.now() >= deadline) throw new RuntimeInUseError(dataDir, pid);
      if (!told && pid !== undefined) {
        told = true;
        options.log?.(`waiting for the lock of stopped process ${pid} on ${dataDir} to expire (at most ${Math.ceil(STALE_MS / 1000)} s)`);
      }
      await sleep(250);
    }
  }
}
