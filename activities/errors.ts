// Errors activities throw on purpose; the class name is the failure type (non-retryable: protocol/failure-types.ts).

export class PathEscapeError extends Error {
  override readonly name = 'PathEscapeError';
  readonly code = 'PATH_ESCAPE';
  constructor(
    readonly root: string,
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason} (loop root ${root}); use a POSIX path relative to the root, without .., backslashes or symlinks that leave it`);
  }
}

export class RootNotAllowedError extends Error {
  override readonly name = 'RootNotAllowedError';
  constructor(
    readonly root: string,
    readonly allowedRoots: readonly string[],
  ) {
    super(`${root}: not under an allowed output root (${allowedRoots.join(', ') || 'none configured'}); move the loop root there, or start the worker with this root allowed`);
  }
}

export class FlagCollisionError extends Error {
  override readonly name = 'FlagCollisionError';
  readonly code = 'FLAG_COLLISION';
  constructor(
    readonly root: string,
    readonly path: string,
  ) {
    super(`${path}: FLAG_COLLISION: the flag exists with other bytes and its status does not repeat (under ${root}); flags are never rewritten: find the second writer of this flag, then resume`);
  }
}

export class FileReadError extends Error {
  override readonly name = 'FileReadError';
  constructor(
    readonly root: string,
    readonly path: string,
    cause: unknown,
  ) {
    super(`${path}: cannot be read: ${cause instanceof Error ? cause.message : String(cause)} (loop root ${root}); make it a readable regular file, then resume`, { cause });
  }
}

export class WorkspaceSymlinkError extends Error {
  override readonly name = 'WorkspaceSymlinkError';
  constructor(
    readonly root: string,
    readonly path: string,
  ) {
    super(`${path}: a symlink in the workspace or protected files (under ${root}); code variants copy bytes, so replace it with the file it points to`);
  }
}

export class RootInUseError extends Error {
  override readonly name = 'RootInUseError';
  constructor(
    readonly root: string,
    readonly workflowId: string,
  ) {
    super(`${root}/loop_station/contract.json: this root already holds loop ${workflowId}; choose a new root, or fork that loop with \`loop-station fork\``);
  }
}

export class ArtifactGateError extends Error {
  override readonly name = 'ArtifactGateError';
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}; a DONE or READY flag needs its artifact as a non-empty regular file`);
  }
}
