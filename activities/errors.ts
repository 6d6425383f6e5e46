// Errors activities throw on purpose; the class name is the failure type (non-retryable: protocol/failure-types.ts).

// The path errors live with the checks that throw them, which the dashboard (a client) uses too.
export { PathEscapeError, RootNotAllowedError } from '../server/loop-roots.js';

/**
 * A flag the engine is about to write already exists with other bytes. Not a wait for a human: the
 * fix would be to remove a flag, which the protocol forbids, so the loop fails and a fork goes on
 * (an executor's own flags are adopted before it comes to this: protocol/agent-flags.ts).
 */
export class FlagCollisionError extends Error {
  override readonly name = 'FlagCollisionError';
  readonly code = 'FLAG_COLLISION';
  constructor(
    readonly root: string,
    readonly path: string,
  ) {
    super(
      `${path}: FLAG_COLLISION: the flag exists with other bytes and its status does not repeat (under ${root}); flags are never rewritten, so the loop fails here: stop the second writer of this flag, then continue from the last closed session with \`loop-station fork <loop> --from-session N\``,
    );
  }
}

export class FileReadError extends Error {
  override readonly name = 'FileReadError';
  constructor(
    readonly root: string,
    readonly path: string,
    cause: unknown,
  ) {
    super(
      `${path}: cannot be read: ${cause instanceof Error ? cause.message : String(cause)} (loop root ${root}); make it a readable regular file, then resume`,
      { cause },
    );
  }
}

export class WorkspaceSymlinkError extends Error {
  override readonly name = 'WorkspaceSymlinkError';
  constructor(
    readonly root: string,
    readonly path: string,
  ) {
    super(
      `${path}: a symlink in the workspace or protected files (under ${root}); code variants copy bytes, so replace it with the file it points to`,
    );
  }
}

export class RootInUseError extends Error {
  override readonly name = 'RootInUseError';
  constructor(
    readonly root: string,
    readonly workflowId: string,
  ) {
    super(
      `${root}/loop_station/contract.json: this root already holds loop ${workflowId}; choose a new root, or fork that loop with \`loop-station fork\``,
    );
  }
}

/** A protected pattern that protects nothing, or a file both pattern lists claim (docs/patterns.md): no frame is locked. */
export class FramePatternError extends Error {
  override readonly name = 'FramePatternError';
  constructor(
    readonly root: string,
    readonly problems: readonly string[],
    fix: string,
  ) {
    super(`${problems.join('\n')}\n  fix: ${fix}`);
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
