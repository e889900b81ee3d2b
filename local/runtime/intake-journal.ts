/**
 * `offboard serve`'s intake journal: an accepted event is durable before its 202. Each validated request is
 * written to `<dataDir>/intake/<requestId>.json` (temp file, fsync, rename, fsync of the folder) and only then
 * handed to the in-memory queue; the entry is removed once the start handler has the request in the ledger.
 * A restart queues every entry still there (accepted, not started). Replays are harmless: request ids are
 * deterministic and the start handler acknowledges a request it already has as a duplicate.
 * In AWS there is no journal: SQS is the durable buffer.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { RequestQueue } from '../../lambdas/adapters/queue.js';
import { parseRequest, type OffboardingRequest } from '../../lambdas/core/request.js';

export const INTAKE_DIR_NAME = 'intake';
const SUFFIX = '.json';

export interface JournalEntry {
  requestId: string;
  request: OffboardingRequest;
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export class IntakeJournal {
  readonly dir: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, INTAKE_DIR_NAME);
    mkdirSync(this.dir, { recursive: true });
  }

  private path(requestId: string): string {
    return join(this.dir, `${encodeURIComponent(requestId)}${SUFFIX}`);
  }

  /** Returns once every request is on disk (file and folder entry fsynced). */
  record(requests: readonly OffboardingRequest[]): void {
    for (const request of requests) {
      const target = this.path(request.requestId);
      const temporary = `${target}.${process.pid}.tmp`;
      const fd = openSync(temporary, 'w', 0o600);
      try {
        writeSync(fd, JSON.stringify(request));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temporary, target);
    }
    if (requests.length > 0) fsyncPath(this.dir);
  }

  /** The request is in the ledger: its entry is no longer needed. */
  settle(requestId: string): void {
    rmSync(this.path(requestId), { force: true });
  }

  /** Entries still on disk, oldest name order; unreadable ones are reported, not guessed. */
  pending(): { entries: JournalEntry[]; invalid: string[] } {
    const entries: JournalEntry[] = [];
    const invalid: string[] = [];
    for (const name of readdirSync(this.dir).sort()) {
      const path = join(this.dir, name);
      if (name.endsWith('.tmp')) {
        // Written by a process killed before the rename: its event was never answered 202.
        rmSync(path, { force: true });
        continue;
      }
      if (!name.endsWith(SUFFIX)) continue;
      let parsed: ReturnType<typeof parseRequest>;
      try {
        parsed = parseRequest(JSON.parse(readFileSync(path, 'utf8')));
      } catch {
        parsed = { ok: false, reason: 'not JSON' };
      }
      if (parsed.ok) entries.push({ requestId: parsed.value.requestId, request: parsed.value });
      else invalid.push(name);
    }
    return { entries, invalid };
  }
}

/** A queue whose `send` returns only after the requests are in the journal, then on the queue. */
export function journaledQueue(journal: IntakeJournal, queue: RequestQueue): RequestQueue {
  return {
    async send(requests) {
      journal.record(requests);
      await queue.send(requests);
    },
  };
}
