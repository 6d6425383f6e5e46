/** Local errors of server/: each names what went wrong, where, and the command or flag that fixes it. */

/** Where a Temporal CLI binary was looked for, in lookup order. */
export const BinarySource = {
  env: 'env',
  path: 'path',
  cache: 'cache',
  sdkDownload: 'sdk-download',
  build: 'build',
} as const;
export type BinarySource = (typeof BinarySource)[keyof typeof BinarySource];

/** One place the binary was looked for and why it was not taken. */
export interface BinaryAttempt {
  readonly source: BinarySource;
  /** A path, or the command that was run. */
  readonly target: string;
  readonly reason: string;
}

export class TemporalBinaryNotFoundError extends Error {
  override readonly name = 'TemporalBinaryNotFoundError';
  constructor(
    readonly version: string,
    readonly attempts: readonly BinaryAttempt[],
  ) {
    const lines = attempts.map((a) => `  - ${a.source} (${a.target}): ${a.reason}`);
    super(
      [
        `no usable Temporal CLI ${version} found; tried:`,
        ...lines,
        'fix: one of',
        `  - set LOOP_STATION_TEMPORAL_BIN=/path/to/temporal (a Temporal CLI ${version} or newer)`,
        '  - run the command again where the SDK download can reach the internet',
        `  - install Go 1.25 or newer (\`go version\`), then run the command again: it builds the CLI once (~3 min)`,
        '  - skip the local server and point at an existing cluster with `--address host:7233`',
      ].join('\n'),
    );
  }
}

/** The gRPC or UI port of the dev server is taken by another process. */
export class DevServerPortInUseError extends Error {
  override readonly name = 'DevServerPortInUseError';
  constructor(
    readonly port: number,
    readonly flag: '--port' | '--ui-port',
  ) {
    super(
      `Temporal dev server: port ${port} is already in use` +
        `\n  fix: stop the process listening on ${port} (\`ss -ltnp 'sport = :${port}'\`) or pass \`${flag} <free port>\``,
    );
  }
}

/** The dev server process ended before it became healthy. */
export class DevServerExitedError extends Error {
  override readonly name = 'DevServerExitedError';
  constructor(
    readonly exitCode: number | null,
    readonly signal: string | null,
    /** The last lines it printed. */
    readonly output: string,
  ) {
    const how = signal === null ? `exit code ${String(exitCode)}` : `signal ${signal}`;
    super(
      `Temporal dev server exited during startup (${how})` +
        lastOutput(output, ' without output') +
        '\n  fix: read the output above; rerun with the server log level at info for more detail',
    );
  }
}

/** The dev server stayed alive but never answered the health check in time. */
export class DevServerStartTimeoutError extends Error {
  override readonly name = 'DevServerStartTimeoutError';
  constructor(
    readonly address: string,
    readonly deadlineMs: number,
    readonly output: string,
  ) {
    super(
      `Temporal dev server at ${address} was not healthy within ${deadlineMs} ms` +
        lastOutput(output, '') +
        '\n  fix: the machine may be overloaded; raise the start deadline, or check the output above',
    );
  }
}

/** Another dev server still runs on the same database file: two servers on one file corrupt it. */
export class DevServerDbInUseError extends Error {
  override readonly name = 'DevServerDbInUseError';
  constructor(
    readonly dbFile: string,
    readonly pid: number,
    /** The address that server announced, when it wrote one. */
    readonly address: string | undefined,
  ) {
    super(
      `Temporal dev server database ${dbFile} is in use by process ${pid}` +
        (address === undefined ? '' : ` (serving ${address})`) +
        `\n  fix: use that server, stop it (\`kill ${pid}\`), or pass another database file`,
    );
  }
}

/** A `temporal …` command failed. */
export class TemporalCommandError extends Error {
  override readonly name = 'TemporalCommandError';
  constructor(
    readonly command: string,
    readonly exitCode: number | undefined,
    readonly output: string,
  ) {
    super(
      `\`${command}\` failed (${exitCode === undefined ? 'did not run' : `exit code ${exitCode}`})` +
        (output === '' ? '' : `:\n${indent(output)}`),
    );
  }
}

/** A search attribute we need exists on the namespace with another type; types cannot be changed. */
export class SearchAttributeConflictError extends Error {
  override readonly name = 'SearchAttributeConflictError';
  constructor(
    readonly namespace: string,
    readonly attribute: string,
    readonly existingType: string,
    readonly wantedType: string,
    options?: ErrorOptions,
  ) {
    super(
      `namespace ${namespace}: search attribute ${attribute} already exists with type ${existingType}, loop-station needs ${wantedType}` +
        `\n  fix: use another namespace (\`--namespace\`), or on a dev server delete its database file and start again`,
      options,
    );
  }
}

function lastOutput(output: string, ifEmpty: string): string {
  return output === '' ? ifEmpty : `; its last output:\n${indent(output)}`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}
