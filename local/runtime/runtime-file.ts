/**
 * `<dataDir>/runtime.json`: how a second process finds the services of the runtime that holds the data dir
 * (LevelDB allows one process per folder, so the second one connects instead of opening the store).
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';

/** Where every local command keeps its ledger, journal and reports unless `--data-dir` says otherwise. */
export const DEFAULT_DATA_DIR = '.offboard';
export const RUNTIME_FILE_NAME = 'runtime.json';

const LocalUrl = z.string().regex(/^https?:\/\/127\.0\.0\.1:\d+(\/.*)?$/, 'must be a http://127.0.0.1:<port> URL');

export const RuntimeInfoSchema = z.object({
  pid: z.number().int().positive(),
  startedAt: z.string(),
  dynamoEndpoint: LocalUrl,
  sqsEndpoint: LocalUrl,
  queueUrl: z.string().min(1),
  dlqUrl: z.string().min(1),
  tableName: z.string().min(3),
  sandboxUrl: LocalUrl.optional(),
  /** The sandbox's fixed demo key (a real Arize key is never written here). */
  sandboxApiKey: z.string().optional(),
  controlUrl: LocalUrl.optional(),
});
export type RuntimeInfo = z.infer<typeof RuntimeInfoSchema>;

export function runtimeFilePath(dataDir: string): string {
  return join(dataDir, RUNTIME_FILE_NAME);
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The running runtime's info, or undefined when there is none (no file, unreadable, or its process is gone). */
export function readRuntimeInfo(dataDir: string): RuntimeInfo | undefined {
  let text: string;
  try {
    text = readFileSync(runtimeFilePath(dataDir), 'utf8');
  } catch {
    return undefined;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = RuntimeInfoSchema.safeParse(json);
  if (!parsed.success) return undefined;
  return isProcessAlive(parsed.data.pid) ? parsed.data : undefined;
}

export function writeRuntimeInfo(dataDir: string, info: RuntimeInfo): void {
  const path = runtimeFilePath(dataDir);
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, path);
}

/** Removes the file only if it is still ours (a later runtime may have replaced a stale one). */
export function removeRuntimeInfo(dataDir: string, pid: number = process.pid): void {
  try {
    const current = JSON.parse(readFileSync(runtimeFilePath(dataDir), 'utf8')) as { pid?: unknown };
    if (current.pid !== pid) return;
  } catch {
    return;
  }
  rmSync(runtimeFilePath(dataDir), { force: true });
}
