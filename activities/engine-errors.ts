/**
 * Local errors of the engine's activities, with structured fields (sdk-typescript style). They cross
 * Temporal as ApplicationFailures whose `type` is the class name; non-retryable ones are listed in
 * protocol/failure-types.ts.
 */

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
