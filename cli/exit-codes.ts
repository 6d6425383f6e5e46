/** Exit codes (docs/architecture.md#cli): defined once, mapped from errors only in cli/main.ts. */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  unreachable: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

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

export class TemporalUnreachableError extends ExitError {
  constructor(
    readonly address: string,
    readonly namespace: string,
    detail: string,
  ) {
    super(
      ExitCode.unreachable,
      [
        `cannot reach Temporal at ${address} (namespace ${namespace}): ${detail}`,
        '  fix: start a local server and worker with `npx loop-station dev`,',
        '       or point at your cluster with --address host:port (and --namespace, --api-key or TLS flags),',
        '       or set TEMPORAL_ADDRESS / a TEMPORAL_PROFILE.',
      ].join('\n'),
    );
  }
}
