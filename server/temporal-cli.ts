import { execa } from 'execa';
import { TemporalCommandError } from './errors.js';

export interface CommandResult {
  /** undefined when the program could not be started at all (missing, not executable) or timed out. */
  readonly exitCode: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
  /** Why it did not run or was cut short: `ENOENT`, `timed out after 10000 ms`. */
  readonly failure: string | undefined;
}

export interface RunOptions {
  /** The whole environment of the child. @default process.env */
  readonly env?: NodeJS.ProcessEnv | undefined;
  /** @default 30_000 */
  readonly timeoutMs?: number;
}

/** Runs a program to completion and returns its output; never throws for a failed run. */
export async function runCommand(
  file: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<CommandResult> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const result = await execa(file, args, {
    env: options.env ?? process.env,
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    timeout: timeoutMs,
    forceKillAfterDelay: 2_000,
  });
  const failure = result.timedOut
    ? `timed out after ${timeoutMs} ms`
    : result.exitCode === undefined
      ? (result.code ?? result.shortMessage)
      : undefined;
  return {
    exitCode: result.timedOut ? undefined : result.exitCode,
    stdout: result.stdout,
    stderr: result.stderr,
    failure,
  };
}

/** Flags that keep a command on the given address, whatever TEMPORAL_* variables or profiles the user has. */
export const ISOLATED_CLIENT_FLAGS = ['--disable-config-file', '--disable-config-env', '--color', 'never'] as const;

/** Runs `temporal <args>`; throws TemporalCommandError when it does not exit 0. */
export async function runTemporal(
  binary: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<CommandResult> {
  const result = await runCommand(binary, args, options);
  if (result.exitCode !== 0) {
    const output = [result.failure, result.stderr.trim(), result.stdout.trim()].filter(Boolean).join('\n');
    throw new TemporalCommandError(['temporal', ...args].join(' '), result.exitCode, output);
  }
  return result;
}

/** One health probe: true when the frontend at `address` answers SERVING. */
export async function isServing(binary: string, address: string): Promise<boolean> {
  const result = await runCommand(
    binary,
    ['operator', 'cluster', 'health', '--address', address, '--client-connect-timeout', '2s', ...ISOLATED_CLIENT_FLAGS],
    { timeoutMs: 5_000 },
  );
  return result.exitCode === 0 && result.stdout.includes('SERVING');
}
