/**
 * Every command in register.ts's map has a module, each command of it one options schema, and that schema says
 * the same as the command's `--help`: the same options, each rejecting an invalid value with a message naming it.
 */
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { describeOptionsError, optionName } from '../../local/cli/options.js';
import { COMMAND_MODULES, registerCommands, type CommandModule } from '../../local/cli/register.js';

/** Commands by their words ('users delete'), as the operator types them. */
function commandsOf(command: Command, prefix = ''): Map<string, Command> {
  const found = new Map<string, Command>();
  for (const sub of command.commands) {
    const words = `${prefix}${sub.name()}`;
    found.set(words, sub);
    for (const [name, nested] of commandsOf(sub, `${words} `)) found.set(name, nested);
  }
  return found;
}

async function loadAll(): Promise<Map<string, CommandModule>> {
  return new Map(await Promise.all(Object.entries(COMMAND_MODULES).map(async ([name, load]) => [name, await load()] as const)));
}

describe('the CLI command map', () => {
  it('has one module per command; each command with options has one schema listing exactly its options', async () => {
    const modules = await loadAll();
    const program = new Command('offboard');
    await registerCommands(program, ['node', 'offboard']);
    const registered = commandsOf(program);
    expect([...modules.keys()].sort()).toEqual([...registered.keys()].filter((words) => !words.includes(' ')).sort());

    const schemas = new Map([...modules.values()].flatMap((module) => Object.entries(module.optionsSchemas)));
    for (const [words, command] of registered) {
      const declared = [...new Set(command.options.map((option) => option.attributeName()))].sort();
      const schema = schemas.get(words);
      if (schema === undefined) {
        // Only a pure group (e.g. `evidence`, whose commands carry the options) may have none.
        expect(declared, words).toEqual([]);
        expect(command.commands.length, words).toBeGreaterThan(0);
        continue;
      }
      expect(Object.keys(schema.shape).sort(), `options of ${words} vs its schema`).toEqual(declared);
    }
  });

  it('covers every `users` subcommand, each with its own schema matching its --help', async () => {
    const program = new Command('offboard');
    await registerCommands(program, ['node', 'offboard', 'users']);
    const subcommands = [...commandsOf(program).keys()].filter((words) => words.startsWith('users ')).sort();
    expect(subcommands).toEqual(
      ['users create', 'users delete', 'users get', 'users list', 'users resend-invitation', 'users reset-password', 'users update'],
    );
    const loadUsers = COMMAND_MODULES.users;
    if (loadUsers === undefined) throw new Error('no users module in register.ts');
    const { optionsSchemas } = await loadUsers();
    for (const words of subcommands) {
      const command = commandsOf(program).get(words);
      expect(optionsSchemas[words], words).toBeDefined();
      const declared = [...new Set(command?.options.map((option) => option.attributeName()))].sort();
      expect(Object.keys(optionsSchemas[words]?.shape ?? {}).sort(), words).toEqual(declared);
    }
  });

  it('every schema refuses an unknown option and an invalid value, naming the option', async () => {
    const modules = await loadAll();
    for (const module of modules.values()) {
      for (const [words, schema] of Object.entries(module.optionsSchemas)) {
        const unknown = schema.safeParse({ notAnOption: true });
        expect(unknown.success, words).toBe(false);
        if (!unknown.success) expect(describeOptionsError(unknown.error), words).toContain('unknown option --not-an-option');
        for (const key of Object.keys(schema.shape)) {
          const invalid = schema.safeParse({ [key]: { not: 'a value' } });
          expect(invalid.success, `${words} ${key}`).toBe(false);
          if (!invalid.success) expect(describeOptionsError(invalid.error), `${words} ${key}`).toContain(`invalid value for ${optionName(key)}`);
        }
      }
    }
  });
});
