import type { AgentFailure, AgentFailureKind, AgentRunResult } from '../../protocol/schemas/agent-result.js';
import { installHint, type AgentCliName } from './cli-versions.js';

/**
 * Failure classes of agent runs (docs/architecture.md#agent-failures): the codes every adapter
 * uses, and the fix a person applies for each `needs_human` one. The adapters decide the class from
 * the CLI's structured output (codex-events.ts, claude-events.ts); the workflow acts on the kind.
 */

export const failure = (
  kind: AgentFailureKind,
  code: string,
  message: string,
  fix: string | null = null,
): AgentFailure => ({
  kind,
  code,
  message: oneLine(message),
  fix,
});

/** The first line of a message, bounded: a failure's message is one line for status cards and the ledger. */
export function oneLine(text: string, max = 400): string {
  const line = text.trim().split('\n')[0] ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** What a sandbox's refusal looks like in a tool command's output (Codex: a write under `-s read-only`). */
export const SANDBOX_DENIAL = /Read-only file system|Operation not permitted/;

/** What the process's exit looked like: the facts the classifiers read besides the event stream. */
export interface ExitFacts {
  exitCode: number | null;
  signal: string | null;
  /** The tail of stderr (argument errors are printed there, before any event). */
  stderr: string;
}

/** The `needs_human` fixes that depend on the CLI only. */
export const cliFixes = (cli: AgentCliName) => {
  const name = cli === 'codex' ? 'Codex CLI' : 'Claude Code';
  return {
    cliArguments: `the installed ${name} does not take the arguments the adapter passes (a flag changed between versions): install the version loop-station is tested with, \`${installHint(cli)}\`, or set command: to that binary in the spec`,
    notInstalled: `install ${name} with \`${installHint(cli)}\`, or set command: to the binary in the spec`,
    modelNotFound: `the model does not exist or this account may not use it: set model: in the spec to a model the account can use`,
  };
};

/**
 * The failure of a run that ended without any stream verdict to read: the launcher's own outcomes
 * (output flood, spawn failure). Timeouts and cancels are not failures to classify: the workflow
 * handles them as today; a stall is classified where it is detected.
 */
export function launcherFailure(result: Pick<AgentRunResult, 'status' | 'reason'>): AgentFailure | null {
  switch (result.status) {
    case 'output_limit':
      return failure('agent', 'output_limit', result.reason ?? 'output limit exceeded');
    case 'spawn_failed':
      return failure(
        'needs_human',
        'spawn_failed',
        result.reason ?? 'could not start',
        'check that the agent command exists and the worker may run it',
      );
    default:
      return null;
  }
}
