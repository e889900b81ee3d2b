/**
 * Shared set-up for tests that start local runtimes: the workflow definition synthesised once per file,
 * and everything opened (runtimes, sandboxes, temp data dirs) closed after each test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll } from 'vitest';
import { loadLocalConfig, loadWorkflowDefinition, type WorkflowDefinition } from '../../local/runtime/index.js';

export interface LocalRuntimeHarness {
  /** Available from beforeAll on. */
  definition(): WorkflowDefinition;
  /** Closed after the current test. */
  track<T extends { close(): Promise<void> }>(service: T): T;
  /** A fresh data dir, removed after the current test. */
  tempDir(prefix: string): string;
}

export function useLocalRuntimeHarness(): LocalRuntimeHarness {
  let definition: WorkflowDefinition | undefined;
  const open: { close(): Promise<void> }[] = [];
  const tempDirs: string[] = [];

  beforeAll(async () => {
    definition = await loadWorkflowDefinition({ config: loadLocalConfig({}) });
  }, 180_000);

  afterEach(async () => {
    await Promise.all(open.splice(0).map((service) => service.close()));
    for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  return {
    definition() {
      if (!definition) throw new Error('the workflow definition is loaded in beforeAll');
      return definition;
    },
    track(service) {
      open.push(service);
      return service;
    },
    tempDir(prefix) {
      const dir = mkdtempSync(join(tmpdir(), prefix));
      tempDirs.push(dir);
      return dir;
    },
  };
}
