import type { Command } from 'commander';

/**
 * Command families, in help order. Each is imported only when needed: some pull in the AWS SDK
 * (hundreds of ms to load), which `offboard users …` and `offboard sandbox` never use.
 */
const FAMILIES: readonly { commands?: readonly string[]; register(program: Command): Promise<void> }[] = [
  { commands: ['users'], register: async (program) => (await import('./users-command.js')).registerUsersCommand(program) },
  { register: async (program) => (await import('./ops-start.js')).registerStartCommand(program) },
  { register: async (program) => (await import('./ops-commands.js')).registerOpsCommands(program) },
  { commands: ['evidence'], register: async (program) => (await import('./evidence-command.js')).registerEvidenceCommand(program) },
  { commands: ['pull'], register: async (program) => (await import('./pull-command.js')).registerPullCommand(program) },
  { commands: ['pending'], register: async (program) => (await import('./pending-command.js')).registerPendingCommand(program) },
  { commands: ['cancel'], register: async (program) => (await import('./cancel-command.js')).registerCancelCommand(program) },
  { commands: ['sandbox'], register: async (program) => (await import('./sandbox-command.js')).registerSandboxCommand(program) },
  { commands: ['serve', 'audit'], register: async (program) => (await import('./webhook-audit-command.js')).registerWebhookAuditCommands(program) },
  // No command list: `completion` needs every other family registered to know their words.
  { register: async (program) => (await import('./completion-command.js')).registerCompletionCommand(program) },
];

/**
 * Every command family registers itself here, so bin/offboard.ts stays an entry point only.
 * When argv names a command of a family that lists its commands, only that family is loaded;
 * anything else (top-level help, another command, a typo) loads them all, so commander still
 * lists every command and suggests the right one.
 */
export async function registerCommands(program: Command, argv: readonly string[] = []): Promise<void> {
  const commandName = argv.slice(2).find((arg) => !arg.startsWith('-'));
  const owner = FAMILIES.find((family) => commandName !== undefined && family.commands?.includes(commandName));
  for (const family of owner ? [owner] : FAMILIES) await family.register(program);
}
