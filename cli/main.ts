import { type Command, CommanderError } from 'commander';
import { ExitCode, ExitError, REGISTER_ATTRIBUTES_FIX } from './exit-codes.js';
import { buildProgram, usageErrorText } from './program.js';

/**
 * The `loop-station` command: parses argv, runs one command, maps what it throws to an exit code
 * (`loop-station help exit-codes`). The only place that ends the process.
 */

/** Errors of modules outside cli/ that are usage errors by nature (checked by name: no import needed). */
const USAGE_ERRORS = new Set(['ConnectionOptionError']);

/** `loop-station approve`: the deepest command the words of argv name, for the fix line of a usage error. */
function commandPath(program: Command, argv: readonly string[]): string {
  const path = ['loop-station'];
  let at: Command = program;
  for (const word of argv.slice(2)) {
    const next = at.commands.find((c) => c.name() === word);
    if (!next) break;
    path.push(word);
    at = next;
  }
  return path.join(' ');
}

function exitCodeOf(error: unknown, program: Command, argv: readonly string[]): { code: ExitCode; message: string } {
  if (error instanceof CommanderError) {
    if (['commander.helpDisplayed', 'commander.version'].includes(error.code))
      return { code: ExitCode.ok, message: '' };
    // A group without its subcommand (`loop-station server`): commander printed its help.
    if (error.code === 'commander.help')
      return { code: error.exitCode === 0 ? ExitCode.ok : ExitCode.usage, message: '' };
    return { code: ExitCode.usage, message: usageErrorText(error.message, commandPath(program, argv)) };
  }
  if (error instanceof ExitError) return { code: error.code, message: error.message };
  if (error instanceof Error && USAGE_ERRORS.has(error.name)) return { code: ExitCode.usage, message: error.message };
  const message = serverErrorText(error);
  // A lost connection mid-command: gRPC UNAVAILABLE (14).
  if (error && typeof error === 'object' && 'code' in error && (error as { code: unknown }).code === 14) {
    return {
      code: ExitCode.unreachable,
      message: `${message}\n  fix: is the Temporal server running? \`loop-station dev\` starts one`,
    };
  }
  const debug = process.env.LOOP_STATION_DEBUG && error instanceof Error;
  return { code: ExitCode.failed, message: debug ? (error.stack ?? message) : message };
}

/**
 * The SDK's ServiceError says only "Failed to start Workflow"; the server's reason is in its cause.
 * A namespace without the loop search attributes is the usual one on a cluster of one's own.
 */
function serverErrorText(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error; e instanceof Error && parts.length < 4; e = e.cause) {
    if (!parts.some((p) => p.includes(e instanceof Error ? e.message : ''))) parts.push(e.message);
  }
  const text = parts.join(': ') || String(error);
  // The server's words differ by call (`Namespace 'x' not found`, `Namespace x is not found.`).
  const namespace = /Namespace '?([^'\s:]+)'? (?:is )?not found|Namespace not found: '?([^'\s]+)'?/i.exec(text);
  if (namespace)
    return (
      `namespace ${namespace[1] ?? namespace[2]} does not exist on this server\n` +
      '  fix: give the namespace loops run in with --namespace (or TEMPORAL_NAMESPACE); `loop-station dev` ' +
      "serves `default`, and `temporal operator namespace list` lists a cluster's"
    );
  const missing = /no mapping defined for search attribute (\w+)/.exec(text);
  if (!missing) return text;
  return `${text}\n${REGISTER_ATTRIBUTES_FIX}`;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    const { code, message } = exitCodeOf(error, program, argv);
    if (message) process.stderr.write(`loop-station: ${message}\n`);
    process.exitCode = code;
  }
  // Lingering handles (gRPC channels, timers of the SDK) must not keep a finished command alive;
  // exit only once stdout has drained, so piped data is never cut.
  process.stdout.write('', () => process.exit(process.exitCode ?? 0));
}

await main(process.argv);
