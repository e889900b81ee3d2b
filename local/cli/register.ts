import type { Command } from 'commander';
import { registerDemoCommand } from './demo-command.js';
import { registerSandboxCommand } from './sandbox-command.js';
import { registerUsersCommand } from './users-command.js';

/** Every command family registers itself here, so bin/offboard.ts stays an entry point only. */
export function registerCommands(program: Command): void {
  registerUsersCommand(program);
  registerDemoCommand(program);
  registerSandboxCommand(program);
}
