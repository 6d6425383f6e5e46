import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { packagePath } from '../server/package-paths.js';
import { COMMANDS } from './commands.js';
import { EXIT_CODES_HELP, UsageError } from './exit-codes.js';

/** Help topics beyond the commands: `loop-station help <topic>`. */
export const HELP_TOPICS: Record<string, { summary: string; text: string }> = {
  'exit-codes': { summary: 'what each exit code means, for every command', text: EXIT_CODES_HELP },
};

const version = (): string =>
  (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version;

/** commander's own usage errors, in the CLI's `what: problem` + `fix:` form. */
export function usageErrorText(message: string, commandPath: string): string {
  const text = message.replace(/^error: /, '').trim();
  const invalid = /^option '(--[\w-]+)[^']*' argument '(.*)' is invalid\. (.*)$/s.exec(text);
  const body = invalid ? `${invalid[1]} ${invalid[2]}: ${invalid[3]}` : text;
  const what = commandPath === 'loop-station' ? 'its commands' : 'its options and examples';
  return `${body}\n  fix: see \`${commandPath} --help\` for ${what}`;
}

/** The `loop-station` command tree. Declaring it loads no command implementation. */
export function buildProgram(): Command {
  const program = new Command('loop-station')
    .description('Durable improvement loops for coding agents, on Temporal')
    .version(version(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .helpCommand(false)
    .exitOverride()
    .configureOutput({
      outputError: () => undefined, // main() prints commander's errors in the CLI's own form
    });
  for (const command of COMMANDS) command.attach(program);
  program
    .command('help')
    .argument(
      '[topic...]',
      `a command (e.g. \`submit\`, \`server status\`) or a topic: ${Object.keys(HELP_TOPICS).join(', ')}`,
    )
    .summary('help for a command, or a topic such as exit-codes')
    .helpGroup('Setup:')
    .action((words: string[]) => {
      const topic = HELP_TOPICS[words.join(' ')];
      if (topic) return void process.stdout.write(`${topic.text}\n`);
      let target: Command = program;
      for (const word of words) {
        const next = target.commands.find((c) => c.name() === word);
        if (!next) {
          const topics = Object.keys(HELP_TOPICS).join(', ');
          throw new UsageError(
            `help ${words.join(' ')}: no such command or topic\n  fix: run \`loop-station help\`; topics: ${topics}`,
          );
        }
        target = next;
      }
      target.outputHelp();
    });
  program.addHelpText(
    'after',
    `\nTopics:\n  ${Object.entries(HELP_TOPICS)
      .map(([k, t]) => `${k.padEnd(12)} ${t.summary} (loop-station help ${k})`)
      .join('\n  ')}`,
  );
  return program;
}
