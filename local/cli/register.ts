import type { Command } from 'commander';

/** Every command family registers itself here, so bin/offboard.ts stays an entry point only. */
export function registerCommands(program: Command): void {
  void program;
}
