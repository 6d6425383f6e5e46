import { Argument, type Command, InvalidArgumentError, Option } from 'commander';
import type { ConnectionFlags } from '../server/connection-options.js';
import { createOutput, type Output } from './output.js';

/**
 * The small declaration language of the CLI: each command and each option is declared once, in
 * cli/commands.ts, with its type; the values a command's `run` receives are typed from that
 * declaration, so there is no second, hand-written options type and no cast per command.
 */

/** One option: commander's flags and help, and how its raw value becomes a typed one. */
export interface OptionSpec<T> {
  readonly flags: string;
  readonly description: string;
  /** Applied to what commander collected (undefined when the option was not given). */
  readonly finish: (raw: unknown) => T;
  readonly configure?: (option: Option) => Option;
}

/** One positional argument. */
export interface ArgSpec<T> {
  readonly description: string;
  readonly required: boolean;
  readonly defaultValue?: string;
  readonly variadic?: boolean;
  readonly finish: (raw: unknown) => T;
}

type Specs<S> = Readonly<Record<string, S>>;
/** The typed values of a record of option or argument specs. */
export type Values<S> = { [K in keyof S]: S[K] extends OptionSpec<infer T> | ArgSpec<infer T> ? T : never };

const asString = (raw: unknown): string | undefined => (typeof raw === 'string' ? raw : undefined);
const asNumber = (raw: unknown): number | undefined => (typeof raw === 'number' ? raw : undefined);

/** A parser for commander that rejects with the rule; the CLI's error text adds the flag and the value. */
const parser =
  <T>(rule: string, parse: (value: string) => T | undefined) =>
  (value: string): T => {
    const parsed = parse(value);
    if (parsed === undefined) throw new InvalidArgumentError(rule);
    return parsed;
  };

const positiveInt = parser('must be a positive whole number', (v) =>
  /^\d+$/.test(v) && Number(v) >= 1 ? Number(v) : undefined,
);
const portNumber = parser('must be a port number, 0 to 65535 (0 picks a free one)', (v) =>
  /^\d+$/.test(v) && Number(v) <= 65535 ? Number(v) : undefined,
);
const positiveNumber = parser('must be a positive number', (v) => {
  const n = Number(v);
  return v.trim() !== '' && Number.isFinite(n) && n > 0 ? n : undefined;
});

/** Option builders. The record key of an option must be commander's name for it (`--ui-port` → uiPort). */
export const opt = {
  /** `--name <value>`: a string, or undefined when not given. */
  text: (flags: string, description: string): OptionSpec<string | undefined> => ({
    flags,
    description,
    finish: asString,
  }),
  /** `--name <value>` with a default shown in help. */
  textOr: (flags: string, description: string, fallback: string, env?: string): OptionSpec<string> => ({
    flags,
    description,
    finish: (raw) => asString(raw) ?? fallback,
    configure: (o) => (env ? o.default(fallback).env(env) : o.default(fallback)),
  }),
  /** A required `--name <value>`. */
  required: (flags: string, description: string): OptionSpec<string> => ({
    flags,
    description,
    finish: (raw) => asString(raw) ?? '',
    configure: (o) => o.makeOptionMandatory(),
  }),
  /** `--name <n>`: a positive whole number, or undefined. */
  int: (flags: string, description: string): OptionSpec<number | undefined> => ({
    flags,
    description,
    finish: asNumber,
    configure: (o) => o.argParser(positiveInt),
  }),
  /** `--name <n>` with a default. */
  intOr: (flags: string, description: string, fallback: number): OptionSpec<number> => ({
    flags,
    description,
    finish: (raw) => asNumber(raw) ?? fallback,
    configure: (o) => o.argParser(positiveInt).default(fallback),
  }),
  /** A required `--name <n>`. */
  requiredInt: (flags: string, description: string): OptionSpec<number> => ({
    flags,
    description,
    finish: (raw) => asNumber(raw) ?? 0,
    configure: (o) => o.argParser(positiveInt).makeOptionMandatory(),
  }),
  /** `--name <port>`: 0 to 65535 (0: any free port), or undefined. */
  port: (flags: string, description: string): OptionSpec<number | undefined> => ({
    flags,
    description,
    finish: asNumber,
    configure: (o) => o.argParser(portNumber),
  }),
  /** `--name <port>` with a default. */
  portOr: (flags: string, description: string, fallback: number): OptionSpec<number> => ({
    flags,
    description,
    finish: (raw) => asNumber(raw) ?? fallback,
    configure: (o) => o.argParser(portNumber).default(fallback),
  }),
  /** `--name <x>`: a positive number (fractions allowed), or undefined. */
  number: (flags: string, description: string): OptionSpec<number | undefined> => ({
    flags,
    description,
    finish: asNumber,
    configure: (o) => o.argParser(positiveNumber),
  }),
  /** `--name`: true when given. */
  flag: (flags: string, description: string): OptionSpec<boolean> => ({
    flags,
    description,
    finish: (raw) => raw === true,
  }),
  /** `--no-name`: false when given (key `name`). */
  negated: (flags: string, description: string): OptionSpec<boolean> => ({
    flags,
    description,
    finish: (raw) => raw !== false,
  }),
  /** `--name <value>`, repeatable: every value given, in order. */
  list: (flags: string, description: string): OptionSpec<string[]> => ({
    flags,
    description,
    finish: (raw) => (Array.isArray(raw) ? raw.filter((v): v is string => typeof v === 'string') : []),
    configure: (o) =>
      o.argParser((value: string, previous: unknown) => [...(Array.isArray(previous) ? previous : []), value]),
  }),
  /** `--name <value>`, one of `choices`, with a default. */
  choice: <const C extends string>(
    flags: string,
    description: string,
    choices: readonly C[],
    fallback: C,
  ): OptionSpec<C> => ({
    flags,
    description,
    finish: (raw) => choices.find((c) => c === raw) ?? fallback,
    configure: (o) => o.choices(choices).default(fallback),
  }),
  /** `--name <value>`, one of `choices`, or undefined. */
  maybeChoice: <const C extends string>(
    flags: string,
    description: string,
    choices: readonly C[],
  ): OptionSpec<C | undefined> => ({
    flags,
    description,
    finish: (raw) => choices.find((c) => c === raw),
    configure: (o) => o.choices(choices),
  }),
  /** A required `--name <value>`, one of `choices`. */
  requiredChoice: <const C extends string>(
    flags: string,
    description: string,
    choices: readonly C[],
  ): OptionSpec<C> => ({
    flags,
    description,
    finish: (raw) => choices.find((c) => c === raw) ?? choices[0]!,
    configure: (o) => o.choices(choices).makeOptionMandatory(),
  }),
};

/** Positional argument builders. */
export const arg = {
  required: (description: string): ArgSpec<string> => ({
    description,
    required: true,
    finish: (raw) => asString(raw) ?? '',
  }),
  optional: (description: string, fallback: string): ArgSpec<string> => ({
    description,
    required: false,
    defaultValue: fallback,
    finish: (raw) => asString(raw) ?? fallback,
  }),
  /** Zero or more words. */
  rest: (description: string): ArgSpec<string[]> => ({
    description,
    required: false,
    variadic: true,
    finish: (raw) => (Array.isArray(raw) ? raw.filter((v): v is string => typeof v === 'string') : []),
  }),
};

/** The connection options every command that talks to Temporal takes, shown under one heading. */
export const CONNECTION_HEADING = 'Connection options (or TEMPORAL_* variables and profiles, as the Temporal CLI):';
export const CONNECTION_OPTIONS = {
  address: opt.text(
    '--address <host:port>',
    'Temporal frontend address (env TEMPORAL_ADDRESS; default 127.0.0.1:7233)',
  ),
  namespace: opt.text('--namespace <name>', 'Temporal namespace (env TEMPORAL_NAMESPACE; default "default")'),
  apiKey: opt.text('--api-key <key>', 'API key, e.g. for Temporal Cloud; turns TLS on (env TEMPORAL_API_KEY)'),
  profile: opt.text('--profile <name>', 'profile of the Temporal config file (env TEMPORAL_PROFILE)'),
  tls: opt.flag('--tls', 'connect with TLS'),
  tlsCertPath: opt.text('--tls-cert-path <file>', 'client certificate for mTLS (with --tls-key-path)'),
  tlsKeyPath: opt.text('--tls-key-path <file>', 'client key for mTLS (with --tls-cert-path)'),
  tlsCaPath: opt.text('--tls-ca-path <file>', 'CA certificate that signed the server certificate'),
  tlsServerName: opt.text('--tls-server-name <name>', 'server name to verify the certificate against'),
} satisfies Record<keyof ConnectionFlags, OptionSpec<unknown>>;

export const JSON_OPTION = opt.flag('--json', 'print the result as JSON on stdout (logs stay on stderr)');

type ConnectionValues<C> = C extends true ? Values<typeof CONNECTION_OPTIONS> : unknown;

/** What a command's `run` gets: its arguments and options by name, `json`, and the connection flags if it connects. */
export type Input<A, O, C> = Values<A> & Values<O> & ConnectionValues<C> & { json: boolean };

export interface CommandSpec<
  A extends Specs<ArgSpec<unknown>>,
  O extends Specs<OptionSpec<unknown>>,
  C extends boolean,
> {
  /** The word after `loop-station` (or after its group, e.g. `ensure` in `server ensure`). */
  readonly name: string;
  /** One line, shown in the command list and at the top of its help. */
  readonly summary: string;
  /** Heading the command is listed under in `loop-station --help`. */
  readonly group?: string;
  readonly args: A;
  readonly options: O;
  /** Takes the connection options (and the TEMPORAL_* environment). */
  readonly connection: C;
  /**
   * Probe the address before the command's code (and the SDK) loads, so a server that is not there
   * is said within a second. Only for commands that check nothing of their input before they
   * connect: a bad spec or message must stay a usage error (exit 2) whether a server answers or
   * not. The others probe when they connect (cli/connect.ts). A function decides from the input
   * (a command that waits for a server to come up must not fail at once). @default false
   */
  readonly probe?: boolean | ((input: Record<string, unknown>) => boolean);
  /** Takes --json: the command prints its result through `emit` (cli/output.ts) as JSON instead of text. */
  readonly json: boolean;
  /** Shown after the options in its help, one command line each (`# …` adds a note). */
  readonly examples: readonly string[];
  /** More text after the examples (notes, exit codes of this command). */
  readonly notes?: string;
  /** `command` is commander's, for the rare command that reads the tree (completion). */
  readonly run: (input: Input<A, O, C>, out: Output, command: Command) => Promise<unknown>;
}

/** A declared command, ready to attach to a parent (the program or a group). */
export interface Declared {
  readonly name: string;
  attach(parent: Command): Command;
}

/**
 * Declares a command. The returned object attaches it to commander and, when it runs, hands `run`
 * values typed from the declaration. Each option's record key is checked against commander's name
 * for its flags when the program is built, so a mismatch fails every test that builds it.
 */
export function defineCommand<
  A extends Specs<ArgSpec<unknown>>,
  O extends Specs<OptionSpec<unknown>>,
  C extends boolean,
>(spec: CommandSpec<A, O, C>): Declared {
  const options: [string, OptionSpec<unknown>, string | undefined][] = [
    ...Object.entries(spec.options).map(([k, o]): [string, OptionSpec<unknown>, undefined] => [k, o, undefined]),
    ...(spec.json ? [['json', JSON_OPTION, undefined] as [string, OptionSpec<unknown>, undefined]] : []),
    ...(spec.connection
      ? Object.entries(CONNECTION_OPTIONS).map(([k, o]): [string, OptionSpec<unknown>, string] => [
          k,
          o,
          CONNECTION_HEADING,
        ])
      : []),
  ];
  return {
    name: spec.name,
    attach(parent) {
      const cmd = parent.command(spec.name).summary(spec.summary).description(spec.summary);
      if (spec.group) cmd.helpGroup(spec.group);
      for (const [name, a] of Object.entries(spec.args)) {
        const shown = a.required ? `<${name}${a.variadic ? '...' : ''}>` : `[${name}${a.variadic ? '...' : ''}]`;
        const argument = new Argument(shown, a.description);
        cmd.addArgument(a.defaultValue === undefined ? argument : argument.default(a.defaultValue));
      }
      for (const [key, o, heading] of options) {
        const option = o.configure
          ? o.configure(new Option(o.flags, o.description))
          : new Option(o.flags, o.description);
        if (option.attributeName() !== key) {
          throw new Error(
            `cli: option ${o.flags} of ${spec.name} is declared as "${key}"; ` +
              `commander names it "${option.attributeName()}"`,
          );
        }
        cmd.addOption(heading ? option.helpGroup(heading) : option);
      }
      if (spec.examples.length > 0 || spec.notes) cmd.addHelpText('after', helpFooter(spec.examples, spec.notes));
      cmd.action(async (...params: unknown[]) => {
        const self = params.at(-1) as Command;
        const raw: Record<string, unknown> = self.opts();
        const input: Record<string, unknown> = {};
        Object.keys(spec.args).forEach((name, i) => (input[name] = spec.args[name]!.finish(self.processedArgs[i])));
        for (const [key, o] of options) input[key] = o.finish(raw[key]);
        input.json ??= false;
        const probe = typeof spec.probe === 'function' ? spec.probe(input) : spec.probe === true;
        if (spec.connection && probe) await (await import('./reach.js')).reachable(input);
        // The one place where a declaration's values meet its typed `run`: built key by key above.
        await spec.run(input as Input<A, O, C>, createOutput({ json: input.json === true }), self);
      });
      return cmd;
    },
  };
}

/** A command that only groups others (`server ensure`, `skill install`). */
export function defineGroup(name: string, summary: string, group: string, children: readonly Declared[]): Declared {
  return {
    name,
    attach(parent) {
      const cmd = parent.command(name).summary(summary).description(summary).helpGroup(group).helpCommand(false);
      for (const child of children) child.attach(cmd);
      return cmd;
    },
  };
}

function helpFooter(examples: readonly string[], notes: string | undefined): string {
  const lines = examples.map((e) => (e.startsWith('#') ? `  ${e}` : `  $ ${e}`));
  return [examples.length ? `\nExamples:\n${lines.join('\n')}\n` : '', notes ? `\n${notes}` : ''].join('');
}
