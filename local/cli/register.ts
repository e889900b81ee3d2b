import type { Command } from 'commander';
import type * as z from 'zod';

/** What every command module exports to the map below. */
export interface CommandModule {
  register(program: Command): void;
  /**
   * The zod schema each command of the module validates its options with, keyed by the command's words
   * ('run', 'users delete'): one per command, so `--help` and validation cannot drift apart unnoticed.
   */
  optionsSchemas: Readonly<Record<string, z.ZodObject>>;
}

const one = (name: string, module: { register(program: Command): void; optionsSchema: z.ZodObject }): CommandModule => ({
  register: (program) => module.register(program),
  optionsSchemas: { [name]: module.optionsSchema },
});

/**
 * Command → module, in help order. Each module is imported only when needed: some pull in the AWS SDK (hundreds
 * of ms to load), which `offboard users …` and `offboard sandbox` never use.
 */
export const COMMAND_MODULES: Readonly<Record<string, () => Promise<CommandModule>>> = {
  users: async () => (await import('./users-command.js')).usersModule,
  start: async () => one('start', await import('./start-command.js')),
  run: async () => one('run', await import('./run-command.js')),
  submit: async () => one('submit', await import('./submit-command.js')),
  status: async () => one('status', await import('./status-command.js')),
  failures: async () => one('failures', await import('./failures-command.js')),
  redrive: async () => one('redrive', await import('./redrive-command.js')),
  approve: async () => one('approve', await import('./approve-command.js')),
  report: async () => one('report', await import('./report-command.js')),
  evidence: async () => (await import('./evidence-command.js')).evidenceModule,
  pull: async () => one('pull', await import('./pull-command.js')),
  pending: async () => one('pending', await import('./pending-command.js')),
  cancel: async () => one('cancel', await import('./cancel-command.js')),
  sandbox: async () => one('sandbox', await import('./sandbox-command.js')),
  serve: async () => one('serve', await import('./serve-command.js')),
  audit: async () => one('audit', await import('./audit-command.js')),
  // Last: `completion` needs every other command registered to know their words.
  completion: async () => one('completion', await import('./completion-command.js')),
};

const ALIASES: Readonly<Record<string, string>> = { demo: 'start' };

/**
 * Every command registers itself here, so bin/offboard.ts stays an entry point only. When argv names a command,
 * only its module is loaded; anything else (top-level help, `completion`, a typo) loads them all, so commander
 * still lists every command and suggests the right one.
 */
export async function registerCommands(program: Command, argv: readonly string[] = []): Promise<void> {
  const word = argv.slice(2).find((arg) => !arg.startsWith('-'));
  const name = word === undefined ? undefined : (ALIASES[word] ?? word);
  const only = name !== undefined && name !== 'completion' && Object.hasOwn(COMMAND_MODULES, name) ? COMMAND_MODULES[name] : undefined;
  const loaders = only ? [only] : Object.values(COMMAND_MODULES);
  const modules = await Promise.all(loaders.map((load) => load()));
  for (const module of modules) module.register(program);
}
