/** Exit codes: defined once, mapped from errors only in cli/main.ts; `loop-station help exit-codes` prints them. */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  unreachable: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The policy, as `loop-station help exit-codes` and the README state it. */
export const EXIT_CODES_HELP = `Exit codes (the same for every command):
  0  done: the command did what it was asked (submit --wait, watch and demo: the loop ended, by a
     budget, a stop, its goal or an answer)
  1  failed: the command ran and the outcome is a failure: a loop failed or was terminated, or ended
     with stop reason failed or protocol_violation (submit --wait, watch, demo), a loop refused a
     message, validate found errors, a loop of that id already runs, server status is not ready,
     a doctor check failed or submit's setup checks did
  2  usage: what the command was given is wrong; nothing was started or changed: an unknown command
     or option, a bad option value, a loop spec that does not validate or cannot be read, a missing
     folder, a malformed address, a TLS file that cannot be read, an unknown profile, a file that
     exists where --force is needed
  3  unreachable: no Temporal server answers at the address: connection refused, unknown host, no
     answer in time (start one with \`loop-station dev\` or pass --address)
Errors go to stderr as \`loop-station: <what>: <problem>\` followed by a \`fix:\` line; data goes to stdout.`;

/** The fix for a namespace without the loop search attributes (a start there fails). */
export const REGISTER_ATTRIBUTES_FIX = [
  '  fix: register the loop search attributes once per namespace (`loop-station dev` does it for its own server):',
  '       temporal operator search-attribute create --namespace <namespace> --name LoopName --type Keyword ' +
    '--name LoopPhase --type Keyword --name LoopSession --type Int --name LoopBest --type Double',
].join('\n');

/** A command's failure with the code the process should exit with (changesets style). */
export class ExitError extends Error {
  override readonly name = 'ExitError';
  constructor(
    readonly code: ExitCode,
    message: string,
  ) {
    super(message);
  }
}

export class UsageError extends ExitError {
  constructor(message: string) {
    super(ExitCode.usage, message);
  }
}

export type UnreachableKind = 'refused' | 'unknown-host' | 'timeout' | 'other';

export class TemporalUnreachableError extends ExitError {
  constructor(
    readonly address: string,
    readonly namespace: string,
    detail: string,
    readonly kind: UnreachableKind = 'other',
  ) {
    const fix =
      kind === 'unknown-host'
        ? ['  fix: check the host name in --address (or TEMPORAL_ADDRESS, or the profile in use)']
        : [
            '  fix: start a local server and worker with `npx loop-station dev`,',
            '       or point at your cluster with --address host:port (and --namespace, --api-key or TLS flags),',
            '       or set TEMPORAL_ADDRESS / a TEMPORAL_PROFILE.',
          ];
    super(
      ExitCode.unreachable,
      [`cannot reach Temporal at ${address} (namespace ${namespace}): ${detail}`, ...fix].join('\n'),
    );
  }
}
