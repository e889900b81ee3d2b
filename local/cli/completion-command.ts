/**
 * `offboard completion bash|zsh` — prints a shell completion script for the commands this CLI registers.
 * The words are taken from the registered commands when the script is printed (not a hand-kept list), so a
 * new command completes once it is registered; re-source the script after upgrading.
 */
import { Argument, type Command } from 'commander';
import * as z from 'zod';
import { parseOptions } from './options.js';

export const COMPLETION_SHELLS = ['bash', 'zsh'] as const;
export type CompletionShell = (typeof COMPLETION_SHELLS)[number];

/** Command name → its subcommands and options ('' = the top level). */
export function completionWords(program: Command): Map<string, string[]> {
  const words = new Map<string, string[]>();
  const optionsOf = (command: Command) => command.options.flatMap((option) => [option.long, option.short].filter((flag): flag is string => flag !== undefined));
  const visible = (command: Command) => command.commands.filter((sub) => sub.name() !== 'help');
  words.set('', [...visible(program).map((command) => command.name()), '--help', ...optionsOf(program)]);
  for (const command of visible(program)) {
    words.set(command.name(), [...visible(command).map((sub) => sub.name()), ...optionsOf(command), '--help']);
    for (const sub of visible(command)) words.set(`${command.name()} ${sub.name()}`, [...optionsOf(sub), '--help']);
  }
  return words;
}

const shellWord = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

/**
 * One shell function for both shells: the key is the command words typed so far (at most two), the candidates
 * the words registered under it. zsh runs it through bashcompinit, which both ship.
 */
export function completionScript(program: Command, shell: CompletionShell): string {
  const name = program.name();
  const cases = [...completionWords(program)]
    .map(([key, candidates]) => `    ${shellWord(key)}) words=${shellWord(candidates.join(' '))} ;;`)
    .join('\n');
  const subcommands = [...completionWords(program).keys()].filter((key) => key.includes(' '));
  const fn = `_${name.replace(/[^A-Za-z0-9_]/g, '_')}_complete`;
  // The first word names the command; a later one extends the key only when it names a subcommand (an option's
  // value such as `--data-dir x` does not).
  const body = `${fn}() {
  local cur key words i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  key=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      -*) ;;
      *) if [ -z "$key" ]; then key="\${COMP_WORDS[i]}"
         else case ${shellWord(`|${subcommands.join('|')}|`)} in *"|$key \${COMP_WORDS[i]}|"*) key="$key \${COMP_WORDS[i]}" ;; esac
         fi ;;
    esac
  done
  case "$key" in
${cases}
    *) words="" ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F ${fn} ${name}
`;
  const header = `# ${name} ${shell} completion: add \`source <(${name} completion ${shell})\` to your ~/.${shell}rc\n`;
  return shell === 'zsh' ? `${header}autoload -U +X bashcompinit && bashcompinit\n${body}` : header + body;
}

/** No options: only the <shell> argument, which commander checks against the choices. */
export const optionsSchema = z.strictObject({});

export function register(program: Command): void {
  program
    .command('completion')
    .description(`print a shell completion script (${COMPLETION_SHELLS.join(' | ')})`)
    .addArgument(new Argument('<shell>').choices(COMPLETION_SHELLS))
    .action((shell: CompletionShell, raw: unknown) => {
      parseOptions(optionsSchema, raw);
      process.stdout.write(completionScript(program, shell));
    });
}
