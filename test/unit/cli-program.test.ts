import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, test } from 'vitest';
import { CONNECTION_HEADING, defineCommand, opt } from '../../cli/declare.js';
import { EXIT_CODES_HELP } from '../../cli/exit-codes.js';
import { buildProgram, usageErrorText } from '../../cli/program.js';

/** The command tree as declared: help, --json, examples and completion, without running a command. */

const program = buildProgram();
const leaves = (cmd: Command, path: string[] = []): { path: string; cmd: Command }[] =>
  cmd.commands.flatMap((c) =>
    c.commands.length ? leaves(c, [...path, c.name()]) : [{ path: [...path, c.name()].join(' '), cmd: c }],
  );
const commands = leaves(program).filter((c) => c.path !== 'help');
const longs = (cmd: Command) => cmd.options.map((o) => o.long);

describe('the declarations', () => {
  test('every command has examples in its help', () => {
    const without = commands.filter(({ cmd }) => !/\nExamples:\n {2}\$ .*loop-station /.test(helpOf(cmd)));
    expect(without.map((c) => c.path)).toEqual([]);
  });

  test('every command that prints data takes --json; only worker and completion print none', () => {
    expect(commands.filter(({ cmd }) => !longs(cmd).includes('--json')).map((c) => c.path)).toEqual([
      'worker',
      'completion',
    ]);
  });

  test("the connection options come under one heading, after the command's own options", () => {
    const connecting = commands.filter(({ cmd }) => longs(cmd).includes('--address'));
    expect(connecting.map((c) => c.path).sort()).toEqual(
      [
        'approve',
        'deny',
        'doctor',
        'extend',
        'fork',
        'list',
        'pause',
        'redirect',
        'report',
        'resume',
        'server status',
        'status',
        'stop',
        'submit',
        'ui',
        'watch',
        'worker',
      ].sort(),
    );
    for (const { cmd } of connecting) {
      const help = helpOf(cmd);
      const heading = help.indexOf(`\n${CONNECTION_HEADING}\n`);
      expect(heading).toBeGreaterThan(help.indexOf('\nOptions:\n'));
      for (const flag of ['--address', '--namespace', '--api-key', '--profile', '--tls-ca-path']) {
        expect(help.indexOf(`  ${flag} `)).toBeGreaterThan(heading);
      }
    }
  });

  test("a declared key that is not commander's name for the flag fails when the program is built", () => {
    const wrong = defineCommand({
      name: 'x',
      summary: 'x',
      args: {},
      options: { uiport: opt.int('--ui-port <n>', 'port') },
      connection: false,
      json: false,
      examples: [],
      run: async () => undefined,
    });
    expect(() => wrong.attach(buildProgram())).toThrow(
      'cli: option --ui-port <n> of x is declared as "uiport"; commander names it "uiPort"',
    );
  });

  test("commander's errors read as the CLI's: what, problem, and the fix naming the command's help", () => {
    expect(
      usageErrorText(
        "error: option '--session <n>' argument 'seven' is invalid. must be a positive whole number",
        'loop-station approve',
      ),
    ).toBe(
      '--session seven: must be a positive whole number\n  fix: see `loop-station approve --help` for its options and examples',
    );
    expect(usageErrorText("error: unknown command 'explode'", 'loop-station')).toBe(
      "unknown command 'explode'\n  fix: see `loop-station --help` for its commands",
    );
  });

  test('the README states the exit codes as `help exit-codes` does', async () => {
    const readme = await readFile(join(import.meta.dirname, '../../README.md'), 'utf8');
    for (const [code, word] of [...EXIT_CODES_HELP.matchAll(/^ {2}(\d) {2}(\w+):/gm)].map((m) => [m[1], m[2]])) {
      expect(readme).toMatch(new RegExp(`\\| ${code} \\| ${word} \\|`));
    }
  });
});

function helpOf(cmd: Command): string {
  let text = '';
  cmd.configureOutput({ writeOut: (s) => (text += s) });
  cmd.outputHelp();
  return text;
}
